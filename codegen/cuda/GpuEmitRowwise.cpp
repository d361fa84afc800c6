//===- GpuEmitRowwise.cpp - cuda kernels of the row-wise msa ops ----------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// RMSNorm, embedding and RoPE take a warp per row (token) with the row
// across the lanes; SwiGLU and elementwise arithmetic a thread per vector
// of the flattened tensor; chunk pooling a block per segment with a warp
// per (chunk, head); chunk offsets one thread. Rounding follows the cpu
// lowering (codegen/cpu/EmitRowwise.cpp) call for call.
//
//===----------------------------------------------------------------------===//

#include "GpuEmitters.h"

#include "msa/Codegen/HardwareLimits.h"
#include "msa/Codegen/KernelInterface.h"
#include "msa/Dialect/MsaOps.h"

#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;

namespace msa::codegen::cuda {

int64_t gpuVectorWidth(Operation *op, int64_t len) {
  int64_t w = tileOf(op, "vector_width", 1);
  if (ShapedType::isDynamic(len) || w <= 1 || len % w != 0)
    return 1;
  return w;
}

namespace {

/// `m` flattened to one dimension.
Value flat(GpuEmitter &e, Value m) {
  auto t = cast<MemRefType>(m.getType());
  if (t.getRank() == 1)
    return m;
  ReassociationIndices all;
  for (int64_t d = 0; d < t.getRank(); ++d)
    all.push_back(d);
  return memref::CollapseShapeOp::create(e.b, e.loc, m,
                                         ArrayRef<ReassociationIndices>{all});
}

/// The row a warp of this block handles: blockIdx * rowsPerBlock + warp.
Value warpRow(GpuEmitter &e, int64_t rowsPerBlock) {
  return e.addi(e.muli(e.blockIdx(), e.index(rowsPerBlock)), e.warpId());
}

/// Loops a lane over the vectors of a row of `n` elements: lane l takes
/// elements [i, i + vw) for i = l vw, l vw + 32 vw, ...
void laneLoop(GpuEmitter &e, Value n, int64_t vw,
              const std::function<void(Value)> &body) {
  Value first = e.muli(e.laneId(), e.index(vw));
  e.loop(first, n, kWarpSize * vw, body);
}

SmallVector<Value> laneLoop(
    GpuEmitter &e, Value n, int64_t vw, ValueRange init,
    const std::function<SmallVector<Value>(Value, ValueRange)> &body) {
  Value first = e.muli(e.laneId(), e.index(vw));
  return e.loop(first, n, kWarpSize * vw, init, body);
}

LogicalResult emitRmsNorm(RmsNormOp op, const GpuKernelArgs &a, GpuEmitter &e,
                          Launch &launch) {
  int64_t rowsPerBlock = tileOf(op, "rows_per_block", 4);
  Value x = collapseToRows(e, a.operands[0]), w = a.operands[1];
  Value y = collapseToRows(e, a.results[0]);
  Type storage = elementTypeOf(x);
  int64_t vw = gpuVectorWidth(op, staticDim(x, 1));
  Value n = e.dim(x, 1), rows = e.dim(x, 0);
  Value eps = e.f32(op.getEpsilon().convertToDouble());
  Value row = warpRow(e, rowsPerBlock);
  e.ifThen(e.cmpi(Pred::ult, row, rows), [&] {
    SmallVector<Value> acc = laneLoop(
        e, n, vw, {e.splat(e.f32(0), vw)},
        [&](Value i, ValueRange it) -> SmallVector<Value> {
          Value v = e.loadAligned(x, {row, i}, vw);
          return {e.fma(v, v, it[0])};
        });
    // HF Qwen3RMSNorm: variance and rsqrt in f32, then two roundings.
    Value var = e.div(e.warpSum(e.reduceAdd(acc[0])), e.indexToF32(n));
    Value inv = e.div(e.f32(1.0), e.sqrt(e.add(var, eps)));
    Value invV = e.splat(inv, vw);
    laneLoop(e, n, vw, [&](Value i) {
      Value v = e.loadAligned(x, {row, i}, vw);
      Value normed = e.round(e.mul(v, invV), storage);
      e.storeAligned(e.mul(e.loadAligned(w, {i}, vw), normed), y, {row, i});
    });
  });
  launch.itemsPerBlock = rowsPerBlock;
  for (int64_t d = 0; d + 1 < cast<MemRefType>(a.operands[0].getType()).getRank();
       ++d)
    launch.grid.push_back({0, d, 0, 1});
  return success();
}

/// SwiGLU and elementwise arithmetic: a thread per vector of the flattened
/// result.
LogicalResult emitElementwise(Operation *op, const GpuKernelArgs &a,
                              GpuEmitter &e, Launch &launch) {
  auto outType = cast<MemRefType>(a.results[0].getType());
  int64_t vw = gpuVectorWidth(op, outType.getShape().back());
  Value lhs = flat(e, a.operands[0]), rhs = flat(e, a.operands[1]);
  Value out = flat(e, a.results[0]);
  Type storage = elementTypeOf(out);
  Value n = e.dim(out, 0);
  Value i = e.muli(
      e.addi(e.muli(e.blockIdx(), e.index(e.threads())), e.threadIdx()),
      e.index(vw));
  e.ifThen(e.cmpi(Pred::ult, i, n), [&] {
    Value l = e.loadAligned(lhs, {i}, vw), r = e.loadAligned(rhs, {i}, vw);
    Value v;
    if (isa<SwiGluOp>(op)) {
      // round(silu(gate)) * up, silu in f32.
      Value one = e.splat(e.f32(1.0), vw);
      Value silu =
          e.div(l, e.add(one, e.exp(e.sub(e.splat(e.f32(0), vw), l))));
      v = e.mul(e.round(silu, storage), r);
    } else if (isa<arith::AddFOp>(op)) {
      v = e.add(l, r);
    } else if (isa<arith::SubFOp>(op)) {
      v = e.sub(l, r);
    } else {
      v = e.mul(l, r);
    }
    e.storeAligned(v, out, {i});
  });
  launch.itemsPerBlock = e.threads() * vw;
  int64_t resultArg = static_cast<int64_t>(a.operands.size());
  for (int64_t d = 0; d < outType.getRank(); ++d)
    launch.grid.push_back({resultArg, d, 0, 1});
  return success();
}

LogicalResult emitEmbedding(EmbeddingOp op, const GpuKernelArgs &a,
                            GpuEmitter &e, Launch &launch) {
  int64_t rowsPerBlock = tileOf(op, "rows_per_block", 4);
  Value table = a.operands[0], ids = a.operands[1], out = a.results[0];
  int64_t vw = gpuVectorWidth(op, staticDim(out, 1));
  Value n = e.dim(out, 1), vocab = e.dim(table, 0), zero = e.index(0);
  Value nan = e.splat(e.f32(std::nan("")), vw);
  Value t = warpRow(e, rowsPerBlock);
  e.ifThen(e.cmpi(Pred::ult, t, e.dim(ids, 0)), [&] {
    Value idI32 = memref::LoadOp::create(e.b, e.loc, ids, ValueRange{t});
    Value id =
        arith::IndexCastOp::create(e.b, e.loc, e.b.getIndexType(), idI32);
    Value inRange = e.andI(e.cmpi(Pred::sge, idI32, e.i32(0)),
                           e.cmpi(Pred::ult, id, vocab));
    // The runtime validates ids first; an id out of range here still writes
    // NaN, never a neighbour's row.
    Value safe = e.select(inRange, id, zero);
    laneLoop(e, n, vw, [&](Value i) {
      Value v = e.loadAligned(table, {safe, i}, vw);
      Value ok = inRange;
      if (vw > 1)
        ok = vector::BroadcastOp::create(
            e.b, e.loc, VectorType::get({vw}, e.b.getI1Type()), inRange);
      e.storeAligned(e.select(ok, v, nan), out, {t, i});
    });
  });
  launch.itemsPerBlock = rowsPerBlock;
  launch.grid.push_back({1, 0, 0, 1});
  return success();
}

LogicalResult emitRope(RopeOp op, const GpuKernelArgs &a, GpuEmitter &e,
                       Launch &launch) {
  int64_t rowsPerBlock = tileOf(op, "rows_per_block", 4);
  Value x = a.operands[0], positions = a.operands[1], out = a.results[0];
  Type storage = elementTypeOf(x);
  int64_t d = staticDim(x, 2), heads = staticDim(x, 1);
  if (ShapedType::isDynamic(d) || ShapedType::isDynamic(heads))
    return op.emitOpError()
           << "needs static heads and head dim for the cuda lowering";
  int64_t half = d / 2;
  double theta = op.getTheta().convertToDouble();
  bool global = op.getMode() == RopeMode::Global;
  int64_t base = global ? op.getTemplateLenAttr().getInt() +
                              op.getKCfgAttr().getInt()
                        : 0;
  bool perToken = cast<MemRefType>(positions.getType()).getRank() == 1;
  Value t = warpRow(e, rowsPerBlock);
  Value zero = e.index(0), one = e.index(1);
  e.ifThen(e.cmpi(Pred::ult, t, e.dim(x, 0)), [&] {
    Value pos, valid = e.i1(true);
    if (!global) {
      Value nSeg = e.subi(e.dim(positions, 0), one);
      Value s = e.upperSegment(positions, nSeg, t);
      Value sSafe = e.maxi(s, zero);
      Value start = e.loadIndex(positions, {sSafe});
      Value end = e.loadIndex(positions, {e.mini(e.addi(sSafe, one), nSeg)});
      valid = e.andI(e.cmpi(Pred::sge, s, zero), e.cmpi(Pred::slt, t, end));
      pos = e.subi(t, start);
    } else if (perToken) {
      pos = e.addi(e.index(base), e.loadIndex(positions, {t}));
    } else {
      pos = e.addi(e.addi(e.index(base), e.loadIndex(positions, {})), t);
    }
    // Lanes across the frequencies; each lane rotates its pair in every
    // head with one cos/sin.
    laneLoop(e, e.index(half), 1, [&](Value i) {
      Value hi = e.addi(i, e.index(half));
      e.ifThenElse(
          valid, {},
          [&]() -> SmallVector<Value> {
            auto [c, s] = e.ropeCosSin(pos, d, theta, i, storage);
            for (int64_t h = 0; h < heads; ++h) {
              Value hI = e.index(h);
              Value lo = e.load(x, {t, hI, i}), up = e.load(x, {t, hI, hi});
              Value negUp = arith::NegFOp::create(e.b, e.loc, up);
              // x' = x cos + rotate_half(x) sin; every product and the sum
              // rounded (PyTorch bf16).
              Value nLo = e.round(e.add(e.round(e.mul(lo, c), storage),
                                        e.round(e.mul(negUp, s), storage)),
                                  storage);
              Value nUp = e.round(e.add(e.round(e.mul(up, c), storage),
                                        e.round(e.mul(lo, s), storage)),
                                  storage);
              e.store(nLo, out, {t, hI, i});
              e.store(nUp, out, {t, hI, hi});
            }
            return {};
          },
          [&]() -> SmallVector<Value> {
            // Tokens outside every segment are copied unrotated.
            for (int64_t h = 0; h < heads; ++h) {
              Value hI = e.index(h);
              e.store(e.load(x, {t, hI, i}), out, {t, hI, i});
              e.store(e.load(x, {t, hI, hi}), out, {t, hI, hi});
            }
            return {};
          });
    });
  });
  launch.itemsPerBlock = rowsPerBlock;
  launch.grid.push_back({0, 0, 0, 1});
  return success();
}

LogicalResult emitChunkOffsets(ChunkOffsetsOp op, const GpuKernelArgs &a,
                               GpuEmitter &e, Launch &launch) {
  Value seg = a.operands[0], out = a.results[0];
  int64_t p = op.getChunkSizeAttr().getInt();
  // A prefix sum over a few hundred segments: one thread.
  e.ifThen(e.cmpi(Pred::eq, e.threadIdx(), e.index(0)), [&] {
    Value nSeg = e.subi(e.dim(seg, 0), e.index(1));
    memref::StoreOp::create(e.b, e.loc, e.i32(0), out,
                            ValueRange{e.index(0)});
    e.loop(e.index(0), nSeg, 1, {e.index(0)},
           [&](Value s, ValueRange it) -> SmallVector<Value> {
             Value next = e.addi(s, e.index(1));
             Value len =
                 e.subi(e.loadIndex(seg, {next}), e.loadIndex(seg, {s}));
             Value total = e.addi(it[0], e.ceilDiv(len, e.index(p)));
             memref::StoreOp::create(e.b, e.loc, e.indexToI32(total), out,
                                     ValueRange{next});
             return {total};
           });
  });
  launch.itemsPerBlock = 1;
  return success();
}

LogicalResult emitChunkPool(ChunkPoolOp op, const GpuKernelArgs &a,
                            GpuEmitter &e, Launch &launch) {
  Value x = a.operands[0], seg = a.operands[1], out = a.results[0];
  int64_t d = staticDim(x, 2), heads = staticDim(x, 1);
  if (ShapedType::isDynamic(d) || ShapedType::isDynamic(heads))
    return op.emitOpError()
           << "needs static heads and head dim for the cuda lowering";
  int64_t vw = gpuVectorWidth(op, d);
  int64_t p = op.getChunkSizeAttr().getInt();
  Value one = e.index(1);
  // A block per segment; its (chunk, head) pairs spread over the warps.
  Value s = e.blockIdx();
  Value lo = e.loadIndex(seg, {s}), hi = e.loadIndex(seg, {e.addi(s, one)});
  Value chunks = e.ceilDiv(e.subi(hi, lo), e.index(p));
  Value first = gpuChunkOffsetOf(e, seg, e.index(0), s, p);
  Value units = e.muli(chunks, e.index(heads));
  e.loop(e.warpId(), units, e.warps(), [&](Value u) {
    Value c = e.divi(u, e.index(heads)), h = e.remi(u, e.index(heads));
    Value t0 = e.addi(lo, e.muli(c, e.index(p)));
    Value count = e.mini(e.index(p), e.subi(hi, t0));
    warpPoolChunk(
        e,
        [&](Value t, Value e0, int64_t w) {
          return e.loadAligned(x, {t, h, e0}, w);
        },
        out, h, e.addi(first, c), t0, count, d, vw, op.getNormalize());
  });
  launch.threads = e.threads();
  launch.itemsPerBlock = 1;
  launch.grid.push_back({1, 0, -1, 1});
  return success();
}

} // namespace

void warpPoolChunk(GpuEmitter &e,
                   const std::function<Value(Value, Value, int64_t)> &load,
                   Value pooled, Value h, Value chunk, Value t0, Value count,
                   int64_t d, int64_t vw, bool normalize) {
  Type storage = elementTypeOf(pooled);
  Value countF = e.splat(e.indexToF32(count), vw);
  // Pass 1: rounded means, stored; their squares summed for the norm.
  SmallVector<Value> ss = laneLoop(
      e, e.index(d), vw, {e.splat(e.f32(0), vw)},
      [&](Value e0, ValueRange it) -> SmallVector<Value> {
        SmallVector<Value> sum = e.loop(
            t0, e.addi(t0, count), 1, {e.splat(e.f32(0), vw)},
            [&](Value t, ValueRange acc) -> SmallVector<Value> {
              return {e.add(acc[0], load(t, e0, vw))};
            });
        // Divided by the true count: a partial last chunk is not padded.
        Value mean = e.round(e.div(sum[0], countF), storage);
        e.storeAligned(mean, pooled, {h, chunk, e0});
        return {e.fma(mean, mean, it[0])};
      });
  if (!normalize)
    return;
  Value norm = e.round(e.sqrt(e.warpSum(e.reduceAdd(ss[0]))), storage);
  Value denom = e.splat(e.max(norm, e.f32(1e-12)), vw);
  // Pass 2: each lane rescales what it stored itself.
  laneLoop(e, e.index(d), vw, [&](Value e0) {
    Value m = e.loadAligned(pooled, {h, chunk, e0}, vw);
    e.storeAligned(e.round(e.div(m, denom), storage), pooled, {h, chunk, e0});
  });
}

Value gpuChunkOffsetOf(GpuEmitter &e, Value segments, Value first, Value s,
                       int64_t p) {
  SmallVector<Value> r = e.loop(
      first, s, 1, {e.index(0)}, [&](Value j, ValueRange it) -> SmallVector<Value> {
        Value len = e.subi(e.loadIndex(segments, {e.addi(j, e.index(1))}),
                           e.loadIndex(segments, {j}));
        return {e.addi(it[0], e.ceilDiv(len, e.index(p)))};
      });
  return r[0];
}

LogicalResult emitGpuRowwise(Operation *op, const GpuKernelArgs &args,
                             GpuEmitter &e, Launch &launch) {
  launch.threads = e.threads();
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case<RmsNormOp>([&](auto o) { return emitRmsNorm(o, args, e, launch); })
      .Case<SwiGluOp, arith::AddFOp, arith::SubFOp, arith::MulFOp>(
          [&](Operation *o) { return emitElementwise(o, args, e, launch); })
      .Case<EmbeddingOp>(
          [&](auto o) { return emitEmbedding(o, args, e, launch); })
      .Case<RopeOp>([&](auto o) { return emitRope(o, args, e, launch); })
      .Case<ChunkOffsetsOp>(
          [&](auto o) { return emitChunkOffsets(o, args, e, launch); })
      .Case<ChunkPoolOp>(
          [&](auto o) { return emitChunkPool(o, args, e, launch); })
      .Default([](Operation *) { return failure(); });
}

} // namespace msa::codegen::cuda
