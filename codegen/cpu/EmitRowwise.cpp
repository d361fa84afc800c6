//===- EmitRowwise.cpp - cpu loops of the row-wise msa kernels ------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// RMSNorm, SwiGLU, elementwise arithmetic, embedding, RoPE, chunk offsets
// and chunk pooling: one row (token, or segment) per work item, vectors
// along the row. Rounding follows the reference kernels
// (runtime/src/reference/Kernels.cpp) call for call.
//
//===----------------------------------------------------------------------===//

#include "Emitters.h"

#include "msa/Codegen/KernelInterface.h"
#include "msa/Dialect/MsaOps.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace msa::codegen::cpu {

int64_t rowVectorWidth(Operation *op, int64_t len) {
  int64_t w = tileOf(op, "vector_width", 1);
  if (ShapedType::isDynamic(len) || w <= 1 || len % w != 0)
    return 1;
  return w;
}

namespace {

using Pred = arith::CmpIPredicate;

LogicalResult emitRmsNorm(RmsNormOp op, const KernelArgs &a, Emitter &e) {
  Value x = collapseToRows(e, a.operands[0]), w = a.operands[1];
  Value y = collapseToRows(e, a.results[0]);
  Type storage = elementTypeOf(x);
  int64_t width = staticDim(x, 1);
  int64_t vw = rowVectorWidth(op, width);
  Value n = e.dim(x, 1), zero = e.index(0);
  Value eps = e.f32(op.getEpsilon().convertToDouble());
  Value widthF = e.indexToF32(n);
  e.loop(a.begin, a.end, 1, [&](Value row) {
    SmallVector<Value> acc = e.loop(
        zero, n, vw, {e.splat(e.f32(0), vw)},
        [&](Value i, ValueRange it) -> SmallVector<Value> {
          Value v = e.load(x, {row, i}, vw);
          return {e.fma(v, v, it[0])};
        });
    // HF Qwen3RMSNorm: variance and rsqrt in f32, then two roundings.
    Value var = e.div(e.reduceAdd(acc[0]), widthF);
    Value inv = e.div(e.f32(1.0), e.sqrt(e.add(var, eps)));
    Value invV = e.splat(inv, vw);
    e.loop(zero, n, vw, [&](Value i) {
      Value v = e.load(x, {row, i}, vw);
      Value normed = e.round(e.mul(v, invV), storage);
      e.store(e.mul(e.load(w, {i}, vw), normed), y, {row, i});
    });
  });
  return success();
}

/// `m` viewed as [dim 0, rest]: the work items of SwiGLU and elementwise
/// kernels are the first dimension (gridFor in KernelInterface.cpp) at any
/// rank, so the trailing dims form one row (a 1-D memref: rows of one).
Value byFirstDim(Emitter &e, Value m) {
  auto t = cast<MemRefType>(m.getType());
  if (t.getRank() == 2)
    return m;
  if (t.getRank() == 1)
    return memref::ExpandShapeOp::create(
        e.b, e.loc, MemRefType::get({t.getDimSize(0), 1}, t.getElementType()),
        m, ArrayRef<ReassociationIndices>{{0, 1}},
        ArrayRef<OpFoldResult>{t.isDynamicDim(0)
                                   ? OpFoldResult(e.dim(m, 0))
                                   : OpFoldResult(e.b.getIndexAttr(
                                         t.getDimSize(0))),
                               e.b.getIndexAttr(1)});
  ReassociationIndices rest;
  for (int64_t d = 1; d < t.getRank(); ++d)
    rest.push_back(d);
  return memref::CollapseShapeOp::create(
      e.b, e.loc, m, ArrayRef<ReassociationIndices>{{0}, rest});
}

/// SwiGLU and elementwise arithmetic over [dim 0, rest].
LogicalResult emitElementwise(Operation *op, const KernelArgs &a, Emitter &e) {
  Value lhs = byFirstDim(e, a.operands[0]), rhs = byFirstDim(e, a.operands[1]);
  Value out = byFirstDim(e, a.results[0]);
  Type storage = elementTypeOf(out);
  int64_t vw = rowVectorWidth(op, staticDim(out, 1));
  Value n = e.dim(out, 1), zero = e.index(0);
  e.loop(a.begin, a.end, 1, [&](Value row) {
    e.loop(zero, n, vw, [&](Value i) {
      Value l = e.load(lhs, {row, i}, vw), r = e.load(rhs, {row, i}, vw);
      Value v;
      if (isa<SwiGluOp>(op)) {
        // round(silu(gate)) * up, silu in f32.
        Value one = e.splat(e.f32(1.0), vw);
        Value silu = e.div(l, e.add(one, e.exp(e.sub(e.splat(e.f32(0), vw), l))));
        v = e.mul(e.round(silu, storage), r);
      } else if (isa<arith::AddFOp>(op)) {
        v = e.add(l, r);
      } else if (isa<arith::SubFOp>(op)) {
        v = e.sub(l, r);
      } else {
        v = e.mul(l, r);
      }
      e.store(v, out, {row, i});
    });
  });
  return success();
}

LogicalResult emitEmbedding(EmbeddingOp op, const KernelArgs &a, Emitter &e) {
  Value table = a.operands[0], ids = a.operands[1], out = a.results[0];
  int64_t vw = rowVectorWidth(op, staticDim(out, 1));
  Value n = e.dim(out, 1), vocab = e.dim(table, 0), zero = e.index(0);
  Value nan = e.splat(e.f32(std::nan("")), vw);
  e.loop(a.begin, a.end, 1, [&](Value t) {
    Value idI32 = memref::LoadOp::create(e.b, e.loc, ids, ValueRange{t});
    Value id = arith::IndexCastOp::create(e.b, e.loc, e.b.getIndexType(), idI32);
    Value nonNegative = e.cmpi(Pred::sge, idI32, e.i32(0));
    Value inRange = arith::AndIOp::create(
        e.b, e.loc, nonNegative, e.cmpi(Pred::ult, id, vocab));
    // The runtime validates ids first; an id out of range here still writes
    // NaN, never a neighbour's row.
    Value safe = e.select(inRange, id, zero);
    e.loop(zero, n, vw, [&](Value i) {
      Value v = e.load(table, {safe, i}, vw);
      Value bad = e.splat(inRange, vw);
      if (vw > 1)
        bad = vector::BroadcastOp::create(
            e.b, e.loc, VectorType::get({vw}, e.b.getI1Type()), inRange);
      e.store(e.select(bad, v, nan), out, {t, i});
    });
  });
  return success();
}

/// The segment index of token `t` (linear scan; segments are few).
Value segmentStart(Emitter &e, Value segments, Value t) {
  Value nSeg = e.subi(e.dim(segments, 0), e.index(1));
  Value none = e.index(-1);
  SmallVector<Value> r = e.loop(
      e.index(0), nSeg, 1, {none},
      [&](Value s, ValueRange it) -> SmallVector<Value> {
        Value lo = e.loadIndex(segments, {s});
        Value hi = e.loadIndex(segments, {e.addi(s, e.index(1))});
        Value inside = arith::AndIOp::create(e.b, e.loc,
                                             e.cmpi(Pred::sge, t, lo),
                                             e.cmpi(Pred::slt, t, hi));
        return {e.select(inside, lo, it[0])};
      });
  return r[0];
}

LogicalResult emitRope(RopeOp op, const KernelArgs &a, Emitter &e) {
  Value x = a.operands[0], positions = a.operands[1], out = a.results[0];
  Type storage = elementTypeOf(x);
  int64_t d = staticDim(x, 2);
  if (ShapedType::isDynamic(d))
    return op.emitOpError() << "needs a static head dim for the cpu lowering";
  int64_t half = d / 2;
  int64_t vw = rowVectorWidth(op, half);
  double theta = op.getTheta().convertToDouble();
  Value heads = e.dim(x, 1), zero = e.index(0);
  Value cosv = e.stackBuffer({half}, e.f32Type()), sinv = e.stackBuffer({half}, e.f32Type());
  bool global = op.getMode() == RopeMode::Global;
  int64_t base = global ? op.getTemplateLenAttr().getInt() +
                              op.getKCfgAttr().getInt()
                        : 0;
  bool perToken = cast<MemRefType>(positions.getType()).getRank() == 1;
  e.loop(a.begin, a.end, 1, [&](Value t) {
    Value pos;
    Value valid = arith::ConstantIntOp::create(e.b, e.loc, 1, 1);
    if (!global) {
      Value start = segmentStart(e, positions, t);
      valid = e.cmpi(Pred::sge, start, zero);
      pos = e.subi(t, start);
    } else if (perToken) {
      pos = e.addi(e.index(base), e.loadIndex(positions, {t}));
    } else {
      pos = e.addi(e.addi(e.index(base), e.loadIndex(positions, {})), t);
    }
    e.ifThenElse(
        valid, {},
        [&]() -> SmallVector<Value> {
          ropeTables(e, pos, d, theta, storage, cosv, sinv);
          e.loop(zero, heads, 1, [&](Value h) {
            ropeRotate(e, x, {t, h}, out, {t, h}, d, vw, storage, cosv, sinv);
          });
          return {};
        },
        [&]() -> SmallVector<Value> {
          // Tokens outside every segment are not rotated (copied).
          e.loop(zero, heads, 1, [&](Value h) {
            e.loop(zero, e.index(d), vw, [&](Value i) {
              e.store(e.load(x, {t, h, i}, vw), out, {t, h, i});
            });
          });
          return {};
        });
  });
  return success();
}

LogicalResult emitChunkOffsets(ChunkOffsetsOp op, const KernelArgs &a,
                               Emitter &e) {
  Value seg = a.operands[0], out = a.results[0];
  Value p = e.index(op.getChunkSizeAttr().getInt());
  Value nSeg = e.subi(e.dim(seg, 0), e.index(1));
  memref::StoreOp::create(e.b, e.loc, e.i32(0), out, ValueRange{e.index(0)});
  e.loop(e.index(0), nSeg, 1, {e.index(0)},
         [&](Value s, ValueRange it) -> SmallVector<Value> {
           Value next = e.addi(s, e.index(1));
           Value len = e.subi(e.loadIndex(seg, {next}), e.loadIndex(seg, {s}));
           Value total = e.addi(it[0], e.ceilDiv(len, p));
           memref::StoreOp::create(e.b, e.loc, e.indexToI32(total), out,
                                   ValueRange{next});
           return {total};
         });
  return success();
}

} // namespace

void ropeTables(Emitter &e, Value pos, int64_t headDim, double theta,
                Type storage, Value cosv, Value sinv) {
  // inv_freq_i = 1 / theta^(2i / d) with f32 operands, as HF computes it.
  Value thetaF = e.f32(static_cast<float>(theta));
  Value dF = e.f32(static_cast<float>(headDim));
  Value posF = e.indexToF32(pos);
  e.loop(e.index(0), e.index(headDim / 2), 1, [&](Value i) {
    Value twoI = e.indexToF32(e.muli(i, e.index(2)));
    Value inv = e.div(e.f32(1.0),
                      math::PowFOp::create(e.b, e.loc, thetaF, e.div(twoI, dF)));
    Value angle = e.mul(posF, inv);
    memref::StoreOp::create(e.b, e.loc,
                            e.round(math::CosOp::create(e.b, e.loc, angle),
                                    storage),
                            cosv, ValueRange{i});
    memref::StoreOp::create(e.b, e.loc,
                            e.round(math::SinOp::create(e.b, e.loc, angle),
                                    storage),
                            sinv, ValueRange{i});
  });
}

void ropeRotate(Emitter &e, Value src, ValueRange srcPrefix, Value dst,
                ValueRange dstPrefix, int64_t headDim, int64_t width,
                Type storage, Value cosv, Value sinv) {
  int64_t half = headDim / 2;
  Value halfI = e.index(half);
  e.loop(e.index(0), halfI, width, [&](Value i) {
    auto at = [&](ValueRange prefix, Value j) {
      SmallVector<Value> idx(prefix);
      idx.push_back(j);
      return idx;
    };
    Value hi = e.addi(i, halfI);
    Value a = e.load(src, at(srcPrefix, i), width);
    Value b = e.load(src, at(srcPrefix, hi), width);
    Value c = e.load(cosv, {i}, width), s = e.load(sinv, {i}, width);
    Value negB = arith::NegFOp::create(e.b, e.loc, b);
    // x' = x cos + rotate_half(x) sin, rotate_half([a, b]) = [-b, a]; every
    // product and the sum rounded (PyTorch bf16).
    Value lo = e.round(e.add(e.round(e.mul(a, c), storage),
                             e.round(e.mul(negB, s), storage)),
                       storage);
    Value up = e.round(e.add(e.round(e.mul(b, c), storage),
                             e.round(e.mul(a, s), storage)),
                       storage);
    e.store(lo, dst, at(dstPrefix, i));
    e.store(up, dst, at(dstPrefix, hi));
  });
}

/// Chunk means of tokens [t0, t0 + count) of `x` [T][H][d] (token t at row
/// t - base) for every head, written to pooled [H][chunk][d];
/// L2-normalised with `normalize`.
void poolChunk(Emitter &e, Value x, Value pooled, Value chunk, Value t0,
               Value count, int64_t d, int64_t vw, bool normalize,
               Value base) {
  Type storage = elementTypeOf(pooled);
  Value heads = e.dim(x, 1), zero = e.index(0);
  Value countF = e.indexToF32(count);
  int64_t nv = d / vw;
  e.loop(zero, heads, 1, [&](Value h) {
    SmallVector<Value> init(nv, e.splat(e.f32(0), vw));
    SmallVector<Value> sums = e.loop(
        t0, e.addi(t0, count), 1, init,
        [&](Value t, ValueRange it) -> SmallVector<Value> {
          SmallVector<Value> next;
          for (int64_t v = 0; v < nv; ++v)
            next.push_back(e.add(
                it[v], e.load(x, {e.subi(t, base), h, e.index(v * vw)}, vw)));
          return next;
        });
    // Divided by the true count: a partial last chunk is not padded.
    SmallVector<Value> means;
    for (Value s : sums)
      means.push_back(e.round(e.div(s, e.splat(countF, vw)), storage));
    if (normalize) {
      Value ss = e.splat(e.f32(0), vw);
      for (Value m : means)
        ss = e.fma(m, m, ss);
      Value norm = e.round(e.sqrt(e.reduceAdd(ss)), storage);
      Value denom = e.splat(e.max(norm, e.f32(1e-12)), vw);
      for (Value &m : means)
        m = e.round(e.div(m, denom), storage);
    }
    for (int64_t v = 0; v < nv; ++v)
      e.store(means[v], pooled, {h, chunk, e.index(v * vw)});
  });
}

/// The chunk offset of segment `s` of `segments` counted from segment
/// `first`: the sum of ceil(len / P) over segments [first, s).
Value chunkOffsetOf(Emitter &e, Value segments, Value first, Value s,
                    Value p) {
  SmallVector<Value> r =
      e.loop(first, s, 1, {e.index(0)},
             [&](Value j, ValueRange it) -> SmallVector<Value> {
               Value len = e.subi(e.loadIndex(segments, {e.addi(j, e.index(1))}),
                                  e.loadIndex(segments, {j}));
               return {e.addi(it[0], e.ceilDiv(len, p))};
             });
  return r[0];
}

/// Pools the tokens [a, b) of `x` (token t at row t - base) into `pooled`
/// starting at chunk `firstChunk`.
void poolSegment(Emitter &e, Value x, Value pooled, Value a, Value b,
                 Value firstChunk, int64_t p, int64_t d, int64_t vw,
                 bool normalize, Value base) {
  Value pI = e.index(p);
  Value chunks = e.ceilDiv(e.subi(b, a), pI);
  e.loop(e.index(0), chunks, 1, [&](Value c) {
    Value t0 = e.addi(a, e.muli(c, pI));
    Value count = e.mini(pI, e.subi(b, t0));
    poolChunk(e, x, pooled, e.addi(firstChunk, c), t0, count, d, vw,
              normalize, base);
  });
}

namespace {

LogicalResult emitChunkPool(ChunkPoolOp op, const KernelArgs &a, Emitter &e) {
  Value x = a.operands[0], seg = a.operands[1], out = a.results[0];
  int64_t d = staticDim(x, 2);
  if (ShapedType::isDynamic(d))
    return op.emitOpError() << "needs a static head dim for the cpu lowering";
  int64_t vw = rowVectorWidth(op, d);
  Value p = e.index(op.getChunkSizeAttr().getInt());
  e.loop(a.begin, a.end, 1, [&](Value s) {
    Value first = chunkOffsetOf(e, seg, e.index(0), s, p);
    poolSegment(e, x, out, e.loadIndex(seg, {s}),
                e.loadIndex(seg, {e.addi(s, e.index(1))}), first,
                op.getChunkSizeAttr().getInt(), d, vw, op.getNormalize(),
                e.index(0));
  });
  return success();
}

} // namespace

LogicalResult emitRowwise(Operation *op, const KernelArgs &args, Emitter &e) {
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case<RmsNormOp>([&](auto o) { return emitRmsNorm(o, args, e); })
      .Case<SwiGluOp, arith::AddFOp, arith::SubFOp, arith::MulFOp>(
          [&](Operation *o) { return emitElementwise(o, args, e); })
      .Case<EmbeddingOp>([&](auto o) { return emitEmbedding(o, args, e); })
      .Case<RopeOp>([&](auto o) { return emitRope(o, args, e); })
      .Case<ChunkOffsetsOp>([&](auto o) { return emitChunkOffsets(o, args, e); })
      .Case<ChunkPoolOp>([&](auto o) { return emitChunkPool(o, args, e); })
      .Default([](Operation *) { return failure(); });
}

} // namespace msa::codegen::cpu
