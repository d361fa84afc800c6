//===- EmitRouting.cpp - cpu loops of the routing kernels -----------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// route_topk streams a block of documents' chunk keys once: for each chunk
// it scores every routing token and head (spec §4.3, rounding as the
// reference), reduces heads, tokens and chunks, and keeps the block's best
// k documents in a small sorted array; topk_merge picks the final k. The
// unfused route_scores / doc_reduce / topk lower to the same pieces.
//
//===----------------------------------------------------------------------===//

#include "Emitters.h"

#include "msa/Codegen/KernelInterface.h"
#include "msa/Dialect/MsaOps.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace msa::codegen::cpu {

namespace {

using Pred = arith::CmpIPredicate;
using FPred = arith::CmpFPredicate;


struct RouteShape {
  int64_t hq, hk, d, vw;
  HeadReduce head;
  QueryReduce query;
  bool normalize, scale;
  Type storage;
};

/// Routing queries after NORM and SCALE, into an f32 scratch [T][Hq][d].
Value prepareQueries(Emitter &e, Value q, const RouteShape &r) {
  Value tokens = e.dim(q, 0), zero = e.index(0);
  Value out = e.alloc({ShapedType::kDynamic, r.hq, r.d}, {tokens}, e.f32Type());
  int64_t nv = r.d / r.vw;
  Value scale = e.splat(
      e.f32(static_cast<float>(1.0 / std::sqrt(static_cast<double>(r.d)))),
      r.vw);
  e.loop(zero, tokens, 1, [&](Value t) {
    e.loop(zero, e.index(r.hq), 1, [&](Value h) {
      SmallVector<Value> v;
      for (int64_t i = 0; i < nv; ++i)
        v.push_back(e.load(q, {t, h, e.index(i * r.vw)}, r.vw));
      if (r.normalize) {
        Value ss = e.splat(e.f32(0), r.vw);
        for (Value x : v)
          ss = e.fma(x, x, ss);
        Value norm = e.round(e.sqrt(e.reduceAdd(ss)), r.storage);
        Value denom = e.splat(e.max(norm, e.f32(1e-12)), r.vw);
        for (Value &x : v)
          x = e.round(e.div(x, denom), r.storage);
      }
      if (r.scale)
        for (Value &x : v)
          x = e.round(e.mul(x, scale), r.storage);
      for (int64_t i = 0; i < nv; ++i)
        e.store(v[i], out, {t, h, e.index(i * r.vw)});
    });
  });
  return out;
}

/// The score of chunk `c` (spec §4.3 steps 3-6) from prepared queries.
Value chunkScore(Emitter &e, Value qr, Value mask, Value keys, Value c,
                 const RouteShape &r) {
  Value tokens = e.dim(qr, 0), zero = e.index(0);
  int64_t nv = r.d / r.vw, group = r.hq / r.hk;
  // State: reduced value, sum, count of routing tokens.
  Value init = r.query == QueryReduce::Mean ? e.f32(0) : e.f32(kLowest);
  SmallVector<Value> st = e.loop(
      zero, tokens, 1, {init, e.f32(0), e.index(0)},
      [&](Value t, ValueRange it) -> SmallVector<Value> {
        return e.ifThenElse(
            e.loadBool(mask, {t}),
            {e.f32Type(), e.f32Type(), e.b.getIndexType()},
            [&]() -> SmallVector<Value> {
              Value headAcc = r.head == HeadReduce::Mean ? e.f32(0)
                                                          : e.f32(kLowest);
              for (int64_t h = 0; h < r.hq; ++h) {
                Value g = e.index(h / group), hI = e.index(h);
                Value dot = e.splat(e.f32(0), r.vw);
                for (int64_t i = 0; i < nv; ++i) {
                  Value off = e.index(i * r.vw);
                  dot = e.fma(e.load(qr, {t, hI, off}, r.vw),
                              e.load(keys, {g, c, off}, r.vw), dot);
                }
                Value s = e.round(e.reduceAdd(dot), r.storage);
                headAcc = r.head == HeadReduce::Mean ? e.add(headAcc, s)
                                                      : e.max(headAcc, s);
              }
              if (r.head == HeadReduce::Mean)
                headAcc = e.round(
                    e.div(headAcc, e.f32(static_cast<double>(r.hq))),
                    r.storage);
              switch (r.query) {
              case QueryReduce::Max:
                return {e.max(it[0], headAcc), it[1], it[2]};
              case QueryReduce::Mean:
                return {it[0], e.add(it[1], headAcc),
                        e.addi(it[2], e.index(1))};
              case QueryReduce::Last:
                return {headAcc, it[1], e.addi(it[2], e.index(1))};
              }
              return {it[0], it[1], it[2]};
            },
            [&]() -> SmallVector<Value> { return {it[0], it[1], it[2]}; });
      });
  if (r.query != QueryReduce::Mean)
    return st[0];
  Value any = e.cmpi(Pred::sgt, st[2], zero);
  Value mean = e.round(e.div(st[1], e.indexToF32(e.select(
                                        any, st[2], e.index(1)))),
                       r.storage);
  return e.select(any, mean, e.f32(kLowest));
}

/// The document score of chunks [c0, c1) (spec §4.3 step 7).
Value docScore(Emitter &e, Value c0, Value c1, ChunkReduce method,
               Type storage, const std::function<Value(Value)> &chunk) {
  bool mean = method == ChunkReduce::Mean;
  SmallVector<Value> st =
      e.loop(c0, c1, 1, {mean ? e.f32(0) : e.f32(kLowest)},
             [&](Value c, ValueRange it) -> SmallVector<Value> {
               Value s = chunk(c);
               return {mean ? e.add(it[0], s) : e.max(it[0], s)};
             });
  if (!mean)
    return st[0];
  // The mean of lowest-finite scores (no routing token) is the lowest
  // finite value, as the reference's f64 sum gives; the f32 sum overflows
  // to -inf. A document without chunks (0 / 0) scores it too.
  return e.max(e.round(e.div(st[0], e.indexToF32(e.subi(c1, c0))), storage),
               e.f32(kLowest));
}

/// Inserts (score, id) into the sorted arrays topS/topI of length k if it
/// beats the last entry; equal scores keep the earlier (lower) id first.
void insertTopK(Emitter &e, Value topS, Value topI, int64_t k, Value score,
                Value id) {
  Value last = e.index(k - 1);
  e.ifThen(e.cmpf(FPred::OGT, score, e.load(topS, {last})), [&] {
    Value falseV = arith::ConstantIntOp::create(e.b, e.loc, 0, 1);
    SmallVector<Value> st = e.loop(
        e.index(0), last, 1, {last, falseV},
        [&](Value r, ValueRange it) -> SmallVector<Value> {
          Value rr = e.subi(last, r);
          Value prevIdx = e.subi(rr, e.index(1));
          Value prev = e.load(topS, {prevIdx});
          Value notDone = arith::XOrIOp::create(
              e.b, e.loc, it[1], arith::ConstantIntOp::create(e.b, e.loc, 1, 1));
          Value shift = arith::AndIOp::create(
              e.b, e.loc, notDone, e.cmpf(FPred::OLT, prev, score));
          e.ifThen(shift, [&] {
            memref::StoreOp::create(e.b, e.loc, prev, topS, ValueRange{rr});
            Value prevId = memref::LoadOp::create(e.b, e.loc, topI,
                                                  ValueRange{prevIdx});
            memref::StoreOp::create(e.b, e.loc, prevId, topI, ValueRange{rr});
          });
          Value pos = e.select(shift, prevIdx, it[0]);
          Value done = arith::OrIOp::create(
              e.b, e.loc, it[1],
              arith::XOrIOp::create(
                  e.b, e.loc, shift,
                  arith::ConstantIntOp::create(e.b, e.loc, 1, 1)));
          return {pos, done};
        });
    memref::StoreOp::create(e.b, e.loc, score, topS, ValueRange{st[0]});
    memref::StoreOp::create(e.b, e.loc, e.indexToI32(id), topI,
                            ValueRange{st[0]});
  });
}

/// Selects the best k of `n` candidates (score(c), id(c); id < 0 or score
/// <= -1e9 never), ties to the lower id; writes ascending ids to
/// `indices` (padded -1), their scores to `scores` (if given, padded with
/// the lowest value) and the count.
void selectTopK(Emitter &e, Value n, int64_t k,
                const std::function<Value(Value)> &scoreOf,
                const std::function<Value(Value)> &idOf, Value indices,
                Value scores, Value count) {
  Value zero = e.index(0), one = e.index(1);
  Value selS = e.stackBuffer({k}, e.f32Type());
  Value selI = e.stackBuffer({k}, e.b.getIndexType());
  // Each pass takes the best candidate strictly after the previous pick in
  // (score desc, id asc) order; ids are unique, so nothing repeats.
  SmallVector<Value> outer = e.loop(
      zero, e.index(k), 1, {e.f32(std::numeric_limits<float>::infinity()),
                            e.index(-1), zero},
      [&](Value, ValueRange prev) -> SmallVector<Value> {
        SmallVector<Value> best = e.loop(
            zero, n, 1, {e.f32(kLowest), e.index(-1)},
            [&](Value c, ValueRange it) -> SmallVector<Value> {
              Value s = scoreOf(c), id = idOf(c);
              Value valid = arith::AndIOp::create(
                  e.b, e.loc, e.cmpi(Pred::sge, id, zero),
                  e.cmpf(FPred::OGT, s, e.f32(kUnselectable)));
              Value afterPrev = arith::OrIOp::create(
                  e.b, e.loc, e.cmpf(FPred::OLT, s, prev[0]),
                  arith::AndIOp::create(e.b, e.loc,
                                        e.cmpf(FPred::OEQ, s, prev[0]),
                                        e.cmpi(Pred::sgt, id, prev[1])));
              Value better = arith::OrIOp::create(
                  e.b, e.loc, e.cmpi(Pred::slt, it[1], zero),
                  arith::OrIOp::create(
                      e.b, e.loc, e.cmpf(FPred::OGT, s, it[0]),
                      arith::AndIOp::create(e.b, e.loc,
                                            e.cmpf(FPred::OEQ, s, it[0]),
                                            e.cmpi(Pred::slt, id, it[1]))));
              Value take = arith::AndIOp::create(
                  e.b, e.loc, valid,
                  arith::AndIOp::create(e.b, e.loc, afterPrev, better));
              return {e.select(take, s, it[0]), e.select(take, id, it[1])};
            });
        Value found = e.cmpi(Pred::sge, best[1], zero);
        e.ifThen(found, [&] {
          memref::StoreOp::create(e.b, e.loc, best[0], selS, ValueRange{prev[2]});
          memref::StoreOp::create(e.b, e.loc, best[1], selI, ValueRange{prev[2]});
        });
        return {e.select(found, best[0], prev[0]),
                e.select(found, best[1], prev[1]),
                e.select(found, e.addi(prev[2], one), prev[2])};
      });
  Value selected = outer[2];
  // Ascending document order (the order chunks are assembled in, §4.5):
  // insertion sort of the at most k picks.
  e.loop(one, selected, 1, [&](Value i) {
    Value key = memref::LoadOp::create(e.b, e.loc, selI, ValueRange{i});
    Value keyS = memref::LoadOp::create(e.b, e.loc, selS, ValueRange{i});
    SmallVector<Value> st = e.loop(
        zero, i, 1, {i, arith::ConstantIntOp::create(e.b, e.loc, 0, 1)},
        [&](Value r, ValueRange it) -> SmallVector<Value> {
          Value j = e.subi(e.subi(i, r), one);
          Value cur = memref::LoadOp::create(e.b, e.loc, selI, ValueRange{j});
          Value notDone = arith::XOrIOp::create(
              e.b, e.loc, it[1], arith::ConstantIntOp::create(e.b, e.loc, 1, 1));
          Value shift = arith::AndIOp::create(e.b, e.loc, notDone,
                                              e.cmpi(Pred::sgt, cur, key));
          e.ifThen(shift, [&] {
            Value next = e.addi(j, one);
            memref::StoreOp::create(e.b, e.loc, cur, selI, ValueRange{next});
            Value curS = memref::LoadOp::create(e.b, e.loc, selS, ValueRange{j});
            memref::StoreOp::create(e.b, e.loc, curS, selS, ValueRange{next});
          });
          Value done = arith::OrIOp::create(
              e.b, e.loc, it[1],
              arith::XOrIOp::create(
                  e.b, e.loc, shift,
                  arith::ConstantIntOp::create(e.b, e.loc, 1, 1)));
          return {e.select(shift, j, it[0]), done};
        });
    memref::StoreOp::create(e.b, e.loc, key, selI, ValueRange{st[0]});
    memref::StoreOp::create(e.b, e.loc, keyS, selS, ValueRange{st[0]});
  });
  e.loop(zero, e.index(k), 1, [&](Value i) {
    Value have = e.cmpi(Pred::slt, i, selected);
    Value id = e.select(have,
                        memref::LoadOp::create(e.b, e.loc, selI, ValueRange{i}),
                        e.index(-1));
    memref::StoreOp::create(e.b, e.loc, e.indexToI32(id), indices,
                            ValueRange{i});
    if (scores) {
      Value s = e.select(have,
                         memref::LoadOp::create(e.b, e.loc, selS, ValueRange{i}),
                         e.f32(kLowest));
      e.store(s, scores, {i});
    }
  });
  memref::StoreOp::create(e.b, e.loc, e.indexToI32(selected), count,
                          ValueRange{});
}

RouteShape shapeOf(Operation *op, Value q, Value keys, HeadReduce head,
                   QueryReduce query, bool normalize, bool scale) {
  RouteShape r;
  r.hq = staticDim(q, 1);
  r.hk = staticDim(keys, 0);
  r.d = staticDim(q, 2);
  r.vw = rowVectorWidth(op, r.d);
  r.head = head;
  r.query = query;
  r.normalize = normalize;
  r.scale = scale;
  r.storage = elementTypeOf(q);
  return r;
}

LogicalResult checkStatic(Operation *op, const RouteShape &r) {
  if (ShapedType::isDynamic(r.hq) || ShapedType::isDynamic(r.hk) ||
      ShapedType::isDynamic(r.d))
    return op->emitOpError()
           << "needs static heads and head dim for the cpu lowering";
  return success();
}

LogicalResult emitRouteTopK(RouteTopKOp op, const KernelArgs &a, Emitter &e) {
  Value q = a.operands[0], keys = a.operands[1], mask = a.operands[2];
  Value coff = a.operands[3];
  Value candS = a.results[0], candI = a.results[1];
  RouteShape r = shapeOf(op, q, keys, op.getHeadReduce(), op.getQueryReduce(),
                         op.getNormalize(), op.getScale());
  if (failed(checkStatic(op, r)))
    return failure();
  int64_t k = op.getKAttr().getInt();
  Value zero = e.index(0), one = e.index(1);
  Value blocks = e.dim(candS, 0);
  Value docs = e.subi(e.dim(coff, 0), one);
  Value topS = e.stackBuffer({k}, e.f32Type());
  Value topI = e.stackBuffer({k}, e.b.getI32Type());
  // Queries are prepared once per call; a call covers a range of blocks.
  Value qr = prepareQueries(e, q, r);
  e.loop(a.begin, a.end, 1, [&](Value blk) {
    e.loop(zero, e.index(k), 1, [&](Value i) {
      memref::StoreOp::create(e.b, e.loc, e.f32(-INFINITY), topS, ValueRange{i});
      memref::StoreOp::create(e.b, e.loc, e.i32(-1), topI, ValueRange{i});
    });
    // This block's documents: [N b / B, N (b + 1) / B).
    Value first = e.divi(e.muli(docs, blk), blocks);
    Value last = e.divi(e.muli(docs, e.addi(blk, one)), blocks);
    e.loop(first, last, 1, [&](Value j) {
      Value c0 = e.loadIndex(coff, {j});
      Value c1 = e.loadIndex(coff, {e.addi(j, one)});
      Value s = docScore(e, c0, c1, op.getChunkReduce(), r.storage,
                         [&](Value c) { return chunkScore(e, qr, mask, keys, c, r); });
      insertTopK(e, topS, topI, k, s, j);
    });
    e.loop(zero, e.index(k), 1, [&](Value i) {
      Value s = memref::LoadOp::create(e.b, e.loc, topS, ValueRange{i});
      e.store(s, candS, {blk, i});
      Value id = memref::LoadOp::create(e.b, e.loc, topI, ValueRange{i});
      memref::StoreOp::create(e.b, e.loc, id, candI, ValueRange{blk, i});
    });
  });
  e.dealloc(qr);
  return success();
}

LogicalResult emitTopKMerge(TopKMergeOp op, const KernelArgs &a, Emitter &e) {
  Value scores = a.operands[0], ids = a.operands[1];
  Value perRow = e.dim(scores, 1);
  Value n = e.muli(e.dim(scores, 0), perRow);
  selectTopK(
      e, n, op.getKAttr().getInt(),
      [&](Value c) {
        return e.load(scores, {e.divi(c, perRow), e.remi(c, perRow)});
      },
      [&](Value c) {
        return e.loadIndex(ids, {e.divi(c, perRow), e.remi(c, perRow)});
      },
      a.results[0], a.results[1], a.results[2]);
  return success();
}

LogicalResult emitRouteScores(RouteScoresOp op, const KernelArgs &a,
                              Emitter &e) {
  Value q = a.operands[0], keys = a.operands[1], mask = a.operands[2];
  RouteShape r = shapeOf(op, q, keys, op.getHeadReduce(), op.getQueryReduce(),
                         op.getNormalize(), op.getScale());
  if (failed(checkStatic(op, r)))
    return failure();
  // Queries are prepared once per call; a call covers a range of chunks.
  Value qr = prepareQueries(e, q, r);
  e.loop(a.begin, a.end, 1, [&](Value c) {
    e.store(chunkScore(e, qr, mask, keys, c, r), a.results[0], {c});
  });
  e.dealloc(qr);
  return success();
}

LogicalResult emitDocReduce(DocReduceOp op, const KernelArgs &a, Emitter &e) {
  Value scores = a.operands[0], coff = a.operands[1];
  Type storage = elementTypeOf(scores);
  e.loop(a.begin, a.end, 1, [&](Value j) {
    Value c0 = e.loadIndex(coff, {j});
    Value c1 = e.loadIndex(coff, {e.addi(j, e.index(1))});
    Value s = docScore(e, c0, c1, op.getMethod(), storage,
                       [&](Value c) { return e.load(scores, {c}); });
    // A document without chunks scores the lowest value.
    s = e.select(e.cmpi(Pred::eq, c0, c1), e.f32(kLowest), s);
    e.store(s, a.results[0], {j});
  });
  return success();
}

LogicalResult emitTopK(TopKOp op, const KernelArgs &a, Emitter &e) {
  Value scores = a.operands[0];
  selectTopK(
      e, e.dim(scores, 0), op.getKAttr().getInt(),
      [&](Value c) { return e.load(scores, {c}); }, [&](Value c) { return c; },
      a.results[0], Value(), a.results[1]);
  return success();
}

} // namespace

LogicalResult emitRouting(Operation *op, const KernelArgs &args, Emitter &e) {
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case<RouteTopKOp>([&](auto o) { return emitRouteTopK(o, args, e); })
      .Case<TopKMergeOp>([&](auto o) { return emitTopKMerge(o, args, e); })
      .Case<RouteScoresOp>([&](auto o) { return emitRouteScores(o, args, e); })
      .Case<DocReduceOp>([&](auto o) { return emitDocReduce(o, args, e); })
      .Case<TopKOp>([&](auto o) { return emitTopK(o, args, e); })
      .Default([](Operation *) { return failure(); });
}

} // namespace msa::codegen::cpu
