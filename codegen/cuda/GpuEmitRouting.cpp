//===- GpuEmitRouting.cpp - cuda kernels of the routing ops ---------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// route_topk: a block per candidate block of documents. The routing queries
// are prepared (NORM, SCALE, rounded) once per block into shared memory;
// each warp then takes whole documents, streams their chunks' keys once
// (the head dim across the lanes, every KV head of a chunk in registers),
// reduces heads, tokens and chunks as the reference does and keeps the
// warp's best k documents spread over its lanes. The warps' lists merge in
// shared memory into the block's k candidates. topk_merge (and topk): one
// block picks the k best candidates in k block-wide arg-max rounds. The
// unfused route_scores (a warp per chunk) and doc_reduce (a thread per
// document) of hand-written IR share these pieces.
//
// Queries beyond what shared memory holds (more routing tokens than
// token_tile) are prepared again for every chunk from global memory: slow,
// but exact.
//
//===----------------------------------------------------------------------===//

#include "GpuRouting.h"

#include "msa/Codegen/HardwareLimits.h"
#include "msa/Codegen/KernelInterface.h"
#include "msa/Dialect/MsaOps.h"

#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir;

namespace msa::codegen::cuda {

/// The better of two candidates: higher score, then lower id; id < 0 is
/// never better.
Value better(GpuEmitter &e, Value s, Value id, Value os, Value oid) {
  Value valid = e.cmpi(Pred::sge, id, e.i32(0));
  Value otherInvalid = e.cmpi(Pred::slt, oid, e.i32(0));
  Value higher = e.cmpf(FPred::OGT, s, os);
  Value tieLower =
      e.andI(e.cmpf(FPred::OEQ, s, os), e.cmpi(Pred::slt, id, oid));
  return e.andI(valid, e.orI(otherInvalid, e.orI(higher, tieLower)));
}

/// The warp's best (score, id) of every lane's candidate, in every lane.
std::pair<Value, Value> warpBest(GpuEmitter &e, Value s, Value id) {
  for (int64_t o = kWarpSize / 2; o > 0; o /= 2) {
    Value os = e.shuffleXor(s, o), oid = e.shuffleXor(id, o);
    Value take = better(e, os, oid, s, id);
    s = e.select(take, os, s);
    id = e.select(take, oid, id);
  }
  return {s, id};
}

/// Whether (s, id) comes after (ps, pid) in (score desc, id asc) order.
Value after(GpuEmitter &e, Value s, Value id, Value ps, Value pid) {
  return e.orI(e.cmpf(FPred::OLT, s, ps),
               e.andI(e.cmpf(FPred::OEQ, s, ps), e.cmpi(Pred::sgt, id, pid)));
}

/// The document score from the sum or max of its chunks (spec §4.3 step
/// 7); `count` chunks, `storage` the rounding type.
Value finishDocScore(GpuEmitter &e, Value acc, Value count, bool mean,
                     Type storage) {
  if (!mean)
    return acc;
  // The mean of lowest-finite scores stays the lowest finite value (the
  // f32 sum would overflow); no chunks (0 / 0) scores it too.
  return e.max(e.round(e.div(acc, e.indexToF32(count)), storage),
               e.f32(kLowest));
}

SmallVector<Value> insertDocument(GpuEmitter &e, ValueRange top, Value score,
                                  Value doc, int64_t k) {
  Value lane = e.laneId();
  Value laneI32 = e.indexToI32(lane);
  Value kI32 = e.i32(k);
  Value holdsEntry = e.cmpi(Pred::slt, laneI32, kI32);
  Value ahead = e.andI(holdsEntry, e.cmpf(FPred::OGE, top[0], score));
  Value pos = e.warpSum(e.select(ahead, e.f32(1.0), e.f32(0.0)));
  Value posI = arith::FPToSIOp::create(e.b, e.loc, e.b.getI32Type(), pos);
  Value prevLane = e.select(e.cmpi(Pred::sgt, laneI32, e.i32(0)),
                            e.subi(lane, e.index(1)), e.index(0));
  Value upS = e.shuffleIdx(top[0], prevLane);
  Value upI = e.shuffleIdx(top[1], prevLane);
  Value docI32 = e.indexToI32(doc);
  Value here = e.cmpi(Pred::eq, laneI32, posI);
  Value below = e.cmpi(Pred::sgt, laneI32, posI);
  Value newS = e.select(here, score, e.select(below, upS, top[0]));
  Value newI = e.select(here, docI32, e.select(below, upI, top[1]));
  Value inserted = e.cmpi(Pred::slt, posI, kI32);
  return {e.select(inserted, newS, top[0]), e.select(inserted, newI, top[1])};
}

void mergeWarpLists(GpuEmitter &e, ValueRange list, int64_t k, Value listS,
                    Value listI, Value candS, Value candI, Value blk) {
  Value zero = e.index(0);
  Value w = e.warpId(), lane = e.laneId();
  memref::StoreOp::create(e.b, e.loc, list[0], listS, ValueRange{w, lane});
  memref::StoreOp::create(e.b, e.loc, list[1], listI, ValueRange{w, lane});
  e.barrier();
  // Warp 0 merges the warps' lists: k rounds of arg-max after the last pick.
  e.ifThen(e.cmpi(Pred::eq, w, zero), [&] {
    e.loop(zero, e.index(k), 1, {e.f32(INFINITY), e.i32(-1)},
           [&](Value round, ValueRange prev) -> SmallVector<Value> {
             Value bs = e.f32(-INFINITY), bi = e.i32(-1);
             for (int64_t m = 0; m < e.warps(); ++m) {
               Value s = memref::LoadOp::create(e.b, e.loc, listS,
                                                ValueRange{e.index(m), lane});
               Value id = memref::LoadOp::create(e.b, e.loc, listI,
                                                 ValueRange{e.index(m), lane});
               Value take = e.andI(after(e, s, id, prev[0], prev[1]),
                                   better(e, s, id, bs, bi));
               bs = e.select(take, s, bs);
               bi = e.select(take, id, bi);
             }
             auto [s, id] = warpBest(e, bs, bi);
             Value found = e.cmpi(Pred::sge, id, e.i32(0));
             e.ifThen(e.cmpi(Pred::eq, lane, zero), [&] {
               e.store(e.select(found, s, e.f32(-INFINITY)), candS,
                       {blk, round});
               memref::StoreOp::create(e.b, e.loc, id, candI,
                                       ValueRange{blk, round});
             });
             return {e.select(found, s, prev[0]),
                     e.select(found, id, prev[1])};
           });
  });
}

namespace {

/// Shared memory for prepared routing queries (bytes): 20 tokens of MSA-4B
/// queries (32 heads x 128 x bf16), one block per SM with the merge's
/// lists, under sm_90's 227 KiB.
constexpr int64_t kQueryTileBytes = 160 * 1024;
/// Most routing tokens staged, whatever the head sizes.
constexpr int64_t kMaxStagedTokens = 256;

/// What a routing kernel's block shares: the routing queries prepared once
/// into shared memory (as many tokens as token_tile allows) and the score
/// of a chunk (spec §4.3 steps 3-6) computed by one warp.
struct ChunkScorer {
  GpuEmitter &e;
  Route r;
  Value q, keys, mask, qp, staged, tokens;

  static FailureOr<ChunkScorer> create(Operation *op, GpuEmitter &e, Value q,
                                       Value keys, Value mask,
                                       HeadReduce head, QueryReduce query,
                                       bool normalize, bool scale) {
    int64_t hq = staticDim(q, 1), hk = staticDim(keys, 0), d = staticDim(q, 2);
    if (ShapedType::isDynamic(hq) || ShapedType::isDynamic(hk) ||
        ShapedType::isDynamic(d))
      return op->emitOpError()
             << "needs static heads and head dim for the cuda lowering";
    FailureOr<LaneSplit> split = LaneSplit::of(op, d);
    if (failed(split))
      return failure();
    Route r{e, *split, hq, hk, d, head, query, normalize, scale,
            elementTypeOf(q)};
    Type storage = elementTypeOf(q);
    int64_t rowBytes =
        hq * d * static_cast<int64_t>(storage.getIntOrFloatBitWidth() / 8);
    // Routing queries are questions: more than kMaxStagedTokens is rare,
    // and staging room for them would cost small models' occupancy.
    int64_t tokenTile = tileOf(
        op, "token_tile",
        std::clamp<int64_t>(kQueryTileBytes / rowBytes, 1, kMaxStagedTokens));
    ChunkScorer cs{e, r, q, keys, mask, Value(), Value(), Value()};
    cs.qp = e.shared({tokenTile, hq, d}, r.storage);
    cs.tokens = e.dim(q, 0);
    cs.staged = e.mini(cs.tokens, e.index(tokenTile));
    // Prepared queries of the first token_tile tokens, a warp per (t, h).
    e.loop(e.warpId(), e.muli(cs.staged, e.index(hq)), e.warps(),
           [&](Value u) {
             Value t = e.divi(u, e.index(hq)), h = e.remi(u, e.index(hq));
             cs.r.storeSlots(cs.r.prepare(cs.r.slots(q, {t, h})), cs.qp,
                             {t, h});
           });
    e.barrier();
    return cs;
  }

  SmallVector<Value> queryOf(Value t, int64_t h) {
    Value hI = e.index(h);
    SmallVector<Type> types(
        r.split.slots,
        r.split.width == 1
            ? e.f32Type()
            : Type(VectorType::get({r.split.width}, e.f32Type())));
    return e.ifThenElse(
        e.cmpi(Pred::ult, t, staged), types,
        [&]() -> SmallVector<Value> { return r.slots(qp, {t, hI}); },
        [&]() -> SmallVector<Value> { return r.prepare(r.slots(q, {t, hI})); });
  }

  /// The chunk score of chunk `c`: the token reduction over masked routing
  /// tokens of the head-reduced scores.
  Value score(Value c) {
    Value zero = e.index(0), one = e.index(1);
    SmallVector<SmallVector<Value>> kv;
    for (int64_t g = 0; g < r.hk; ++g)
      kv.push_back(r.slots(keys, {e.index(g), c}));
    Value init = r.query == QueryReduce::Mean ? e.f32(0.0) : e.f32(kLowest);
    SmallVector<Value> st = e.loop(
        zero, tokens, 1, {init, e.f32(0.0), zero},
        [&](Value t, ValueRange it) -> SmallVector<Value> {
          return e.ifThenElse(
              e.loadBool(mask, {t}),
              {e.f32Type(), e.f32Type(), e.b.getIndexType()},
              [&]() -> SmallVector<Value> {
                Value s = r.tokenScore(
                    [&](int64_t h) { return queryOf(t, h); }, kv);
                switch (r.query) {
                case QueryReduce::Max:
                  return {e.max(it[0], s), it[1], it[2]};
                case QueryReduce::Mean:
                  return {it[0], e.add(it[1], s), e.addi(it[2], one)};
                case QueryReduce::Last:
                  return {s, it[1], e.addi(it[2], one)};
                }
                return {it[0], it[1], it[2]};
              },
              [&]() -> SmallVector<Value> {
                return {it[0], it[1], it[2]};
              });
        });
    if (r.query != QueryReduce::Mean)
      return st[0];
    Value any = e.cmpi(Pred::sgt, st[2], zero);
    Value mean = e.round(
        e.div(st[1], e.indexToF32(e.select(any, st[2], one))), r.storage);
    return e.select(any, mean, e.f32(kLowest));
  }
};


LogicalResult emitRouteTopK(RouteTopKOp op, const GpuKernelArgs &a,
                            GpuEmitter &e, Launch &launch) {
  Value q = a.operands[0], keys = a.operands[1], mask = a.operands[2];
  Value coff = a.operands[3];
  Value candS = a.results[0], candI = a.results[1];
  int64_t k = op.getKAttr().getInt();
  if (k > kWarpSize)
    return op.emitOpError() << "k = " << k
                            << " exceeds the 32 candidates a warp keeps "
                               "(cuda lowering)";
  int64_t warps = e.warps();
  // The lists outlive either body's tiles, so they come first.
  Value listS = e.shared({warps, kWarpSize}, e.f32Type());
  Value listI = e.shared({warps, kWarpSize}, e.b.getI32Type());
  Value one = e.index(1);
  Value blk = e.blockIdx();

  // The CUDA-core body: each warp takes whole documents of the block's
  // [N b / B, N (b + 1) / B) and scores their chunks one by one.
  auto cudaCores = [&]() -> FailureOr<SmallVector<Value>> {
    FailureOr<ChunkScorer> scorer = ChunkScorer::create(
        op, e, q, keys, mask, op.getHeadReduce(), op.getQueryReduce(),
        op.getNormalize(), op.getScale());
    if (failed(scorer))
      return failure();
    Type storage = scorer->r.storage;
    Value blocks = e.dim(candS, 0);
    Value docs = e.subi(e.dim(coff, 0), one);
    Value first = e.divi(e.muli(docs, blk), blocks);
    Value last = e.divi(e.muli(docs, e.addi(blk, one)), blocks);
    bool meanChunks = op.getChunkReduce() == ChunkReduce::Mean;
    return e.loop(
        e.addi(first, e.warpId()), last, warps,
        {e.f32(-INFINITY), e.i32(-1)},
        [&](Value j, ValueRange top) -> SmallVector<Value> {
          Value c0 = e.loadIndex(coff, {j});
          Value c1 = e.loadIndex(coff, {e.addi(j, one)});
          SmallVector<Value> acc = e.loop(
              c0, c1, 1, {meanChunks ? e.f32(0.0) : e.f32(kLowest)},
              [&](Value c, ValueRange it) -> SmallVector<Value> {
                Value s = scorer->score(c);
                return {meanChunks ? e.add(it[0], s) : e.max(it[0], s)};
              });
          Value score =
              finishDocScore(e, acc[0], e.subi(c1, c0), meanChunks, storage);
          return insertDocument(e, top, score, j, k);
        });
  };

  SmallVector<Value> list;
  bool fallbackFailed = false;
  FailureOr<bool> tensorCores = emitRouteTopKTensorCore(
      op, a, e,
      [&]() -> SmallVector<Value> {
        FailureOr<SmallVector<Value>> l = cudaCores();
        if (succeeded(l))
          return *l;
        fallbackFailed = true;
        return {e.f32(-INFINITY), e.i32(-1)};
      },
      list);
  if (failed(tensorCores) || fallbackFailed)
    return failure();
  if (!*tensorCores) {
    FailureOr<SmallVector<Value>> l = cudaCores();
    if (failed(l))
      return failure();
    list = *l;
  }
  mergeWarpLists(e, list, k, listS, listI, candS, candI, blk);
  launch.threads = e.threads();
  launch.itemsPerBlock = 1;
  launch.grid = {{static_cast<int64_t>(a.operands.size()), 0, 0, 1}};
  return success();
}

/// route_scores: a warp per chunk, blocks of warps() chunks.
LogicalResult emitRouteScores(RouteScoresOp op, const GpuKernelArgs &a,
                              GpuEmitter &e, Launch &launch) {
  Value out = a.results[0];
  FailureOr<ChunkScorer> scorer = ChunkScorer::create(
      op, e, a.operands[0], a.operands[1], a.operands[2], op.getHeadReduce(),
      op.getQueryReduce(), op.getNormalize(), op.getScale());
  if (failed(scorer))
    return failure();
  Value c = e.addi(e.muli(e.blockIdx(), e.index(e.warps())), e.warpId());
  e.ifThen(e.cmpi(Pred::ult, c, e.dim(a.operands[1], 1)), [&] {
    Value s = scorer->score(c);
    e.ifThen(e.cmpi(Pred::eq, e.laneId(), e.index(0)),
             [&] { e.store(s, out, {c}); });
  });
  launch.threads = e.threads();
  launch.itemsPerBlock = e.warps();
  launch.grid = {{1, 1, 0, 1}};
  return success();
}

/// doc_reduce: a thread per document.
LogicalResult emitDocReduce(DocReduceOp op, const GpuKernelArgs &a,
                            GpuEmitter &e, Launch &launch) {
  Value scores = a.operands[0], coff = a.operands[1], out = a.results[0];
  Type storage = elementTypeOf(scores);
  bool mean = op.getMethod() == ChunkReduce::Mean;
  Value one = e.index(1);
  Value j = e.addi(e.muli(e.blockIdx(), e.index(e.threads())), e.threadIdx());
  e.ifThen(e.cmpi(Pred::ult, j, e.subi(e.dim(coff, 0), one)), [&] {
    Value c0 = e.loadIndex(coff, {j});
    Value c1 = e.loadIndex(coff, {e.addi(j, one)});
    SmallVector<Value> acc = e.loop(
        c0, c1, 1, {mean ? e.f32(0.0) : e.f32(kLowest)},
        [&](Value c, ValueRange it) -> SmallVector<Value> {
          Value s = e.load(scores, {c});
          return {mean ? e.add(it[0], s) : e.max(it[0], s)};
        });
    Value s = finishDocScore(e, acc[0], e.subi(c1, c0), mean, storage);
    // A document without chunks scores the lowest value.
    s = e.select(e.cmpi(Pred::eq, c0, c1), e.f32(kLowest), s);
    e.store(s, out, {j});
  });
  launch.threads = e.threads();
  launch.itemsPerBlock = e.threads();
  launch.grid = {{1, 0, -1, 1}};
  return success();
}

/// One block selects the best k of `n` candidates (scoreOf(c), idOf(c) as
/// i32; id < 0 or score <= -1e9 never), ties to the lower id, in k
/// block-wide arg-max rounds; writes ascending ids to `indices` (padded
/// -1), their scores to `scores` if given (padded with the lowest value)
/// and the count.
void blockTopK(GpuEmitter &e, Value n, int64_t k,
               const std::function<Value(Value)> &scoreOf,
               const std::function<Value(Value)> &idOf, Value indices,
               Value selScores, Value count) {
  int64_t warps = e.warps();
  Value warpS = e.shared({warps}, e.f32Type());
  Value warpI = e.shared({warps}, e.b.getI32Type());
  Value picksS = e.shared({k}, e.f32Type());
  Value picksI = e.shared({k}, e.b.getI32Type());
  Value zero = e.index(0), one = e.index(1);
  Value tid = e.threadIdx(), lane = e.laneId(), w = e.warpId();

  // Each round picks the best valid candidate after the previous pick in
  // (score desc, id asc) order (ids are unique).
  SmallVector<Value> done = e.loop(
      zero, e.index(k), 1, {e.f32(INFINITY), e.i32(-1), zero},
      [&](Value, ValueRange prev) -> SmallVector<Value> {
        SmallVector<Value> mine = e.loop(
            tid, n, e.threads(), {e.f32(-INFINITY), e.i32(-1)},
            [&](Value c, ValueRange best) -> SmallVector<Value> {
              Value s = scoreOf(c), id = idOf(c);
              Value valid = e.andI(e.cmpi(Pred::sge, id, e.i32(0)),
                                   e.cmpf(FPred::OGT, s, e.f32(kUnselectable)));
              Value take = e.andI(
                  valid, e.andI(after(e, s, id, prev[0], prev[1]),
                                better(e, s, id, best[0], best[1])));
              return {e.select(take, s, best[0]), e.select(take, id, best[1])};
            });
        auto [ws, wi] = warpBest(e, mine[0], mine[1]);
        e.ifThen(e.cmpi(Pred::eq, lane, zero), [&] {
          memref::StoreOp::create(e.b, e.loc, ws, warpS, ValueRange{w});
          memref::StoreOp::create(e.b, e.loc, wi, warpI, ValueRange{w});
        });
        e.barrier();
        // Every warp reduces the warps' bests the same way, so every
        // thread knows the pick without another broadcast.
        Value inWarps = e.cmpi(Pred::ult, lane, e.index(warps));
        Value l = e.select(inWarps, lane, zero);
        Value cs = e.select(
            inWarps, memref::LoadOp::create(e.b, e.loc, warpS, ValueRange{l}),
            e.f32(-INFINITY));
        Value ci = e.select(
            inWarps, memref::LoadOp::create(e.b, e.loc, warpI, ValueRange{l}),
            e.i32(-1));
        auto [ps, pi] = warpBest(e, cs, ci);
        Value found = e.cmpi(Pred::sge, pi, e.i32(0));
        e.ifThen(e.andI(found, e.cmpi(Pred::eq, tid, zero)), [&] {
          memref::StoreOp::create(e.b, e.loc, ps, picksS, ValueRange{prev[2]});
          memref::StoreOp::create(e.b, e.loc, pi, picksI, ValueRange{prev[2]});
        });
        // The next round overwrites warpS/warpI only after every warp read
        // them.
        e.barrier();
        return {e.select(found, ps, prev[0]), e.select(found, pi, prev[1]),
                e.select(found, e.addi(prev[2], one), prev[2])};
      });
  Value selected = done[2];
  e.barrier();
  // Thread 0: ascending id order (the order chunks are assembled in, §4.5)
  // by insertion sort of the at most k picks, then the padded outputs.
  e.ifThen(e.cmpi(Pred::eq, tid, zero), [&] {
    e.loop(one, selected, 1, [&](Value ii) {
      Value key = memref::LoadOp::create(e.b, e.loc, picksI, ValueRange{ii});
      Value keyS = memref::LoadOp::create(e.b, e.loc, picksS, ValueRange{ii});
      SmallVector<Value> st = e.loop(
          zero, ii, 1, {ii, e.i1(false)},
          [&](Value rr, ValueRange it) -> SmallVector<Value> {
            Value j = e.subi(e.subi(ii, rr), one);
            Value cur =
                memref::LoadOp::create(e.b, e.loc, picksI, ValueRange{j});
            Value shift = e.andI(e.notI(it[1]), e.cmpi(Pred::sgt, cur, key));
            e.ifThen(shift, [&] {
              Value next = e.addi(j, one);
              memref::StoreOp::create(e.b, e.loc, cur, picksI,
                                      ValueRange{next});
              Value curS =
                  memref::LoadOp::create(e.b, e.loc, picksS, ValueRange{j});
              memref::StoreOp::create(e.b, e.loc, curS, picksS,
                                      ValueRange{next});
            });
            return {e.select(shift, j, it[0]), e.orI(it[1], e.notI(shift))};
          });
      memref::StoreOp::create(e.b, e.loc, key, picksI, ValueRange{st[0]});
      memref::StoreOp::create(e.b, e.loc, keyS, picksS, ValueRange{st[0]});
    });
    e.loop(zero, e.index(k), 1, [&](Value ii) {
      Value have = e.cmpi(Pred::slt, ii, selected);
      Value safe = e.select(have, ii, zero);
      Value id = e.select(
          have, memref::LoadOp::create(e.b, e.loc, picksI, ValueRange{safe}),
          e.i32(-1));
      memref::StoreOp::create(e.b, e.loc, id, indices, ValueRange{ii});
      if (selScores) {
        Value s = e.select(
            have, memref::LoadOp::create(e.b, e.loc, picksS, ValueRange{safe}),
            e.f32(kLowest));
        e.store(s, selScores, {ii});
      }
    });
    memref::StoreOp::create(e.b, e.loc, e.indexToI32(selected), count,
                            ValueRange{});
  });
}

LogicalResult emitTopKMerge(TopKMergeOp op, const GpuKernelArgs &a,
                            GpuEmitter &e, Launch &launch) {
  Value scores = a.operands[0], ids = a.operands[1];
  Value perRow = e.dim(scores, 1);
  Value n = e.muli(e.dim(scores, 0), perRow);
  blockTopK(
      e, n, op.getKAttr().getInt(),
      [&](Value c) {
        return e.load(scores, {e.divi(c, perRow), e.remi(c, perRow)});
      },
      [&](Value c) -> Value {
        return memref::LoadOp::create(
            e.b, e.loc, ids,
            ValueRange{e.divi(c, perRow), e.remi(c, perRow)});
      },
      a.results[0], a.results[1], a.results[2]);
  launch.threads = e.threads();
  launch.itemsPerBlock = 1;
  return success();
}

LogicalResult emitTopK(TopKOp op, const GpuKernelArgs &a, GpuEmitter &e,
                       Launch &launch) {
  Value scores = a.operands[0];
  blockTopK(
      e, e.dim(scores, 0), op.getKAttr().getInt(),
      [&](Value c) { return e.load(scores, {c}); },
      [&](Value c) { return e.indexToI32(c); }, a.results[0], Value(),
      a.results[1]);
  launch.threads = e.threads();
  launch.itemsPerBlock = 1;
  return success();
}

} // namespace

LogicalResult emitGpuRouting(Operation *op, const GpuKernelArgs &args,
                             GpuEmitter &e, Launch &launch) {
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case<RouteTopKOp>(
          [&](auto o) { return emitRouteTopK(o, args, e, launch); })
      .Case<TopKMergeOp>(
          [&](auto o) { return emitTopKMerge(o, args, e, launch); })
      .Case<RouteScoresOp>(
          [&](auto o) { return emitRouteScores(o, args, e, launch); })
      .Case<DocReduceOp>(
          [&](auto o) { return emitDocReduce(o, args, e, launch); })
      .Case<TopKOp>([&](auto o) { return emitTopK(o, args, e, launch); })
      .Default([](Operation *) { return failure(); });
}

} // namespace msa::codegen::cuda
