//===- GpuEmitters.h - cuda kernel bodies of every msa kernel family -*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// One function per kernel family: given the op (still on tensors, for its
// attributes and static shapes), the gpu.func's memref arguments and a
// builder inside it, emit the body of one thread block and say how the
// kernel is launched (threads, items per block, the work-item grid). The
// launch and the body come from the same function so they cannot disagree.
// Numerics follow the cpu lowering and the reference: f32 arithmetic, bf16
// rounding where the reference rounds.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_CODEGEN_CUDA_GPUEMITTERS_H
#define MSA_CODEGEN_CUDA_GPUEMITTERS_H

#include "GpuEmitter.h"

#include "mlir/IR/Operation.h"
#include "mlir/Support/LogicalResult.h"

namespace msa::codegen::cuda {

/// The memref arguments of one kernel, in op operand and result order.
struct GpuKernelArgs {
  llvm::SmallVector<mlir::Value> operands;
  llvm::SmallVector<mlir::Value> results;
};

/// Emits the kernel for `op` and fills `launch`, or fails with an error on
/// `op` naming what has no cuda lowering.
mlir::LogicalResult emitGpuKernel(mlir::Operation *op, const GpuKernelArgs &args,
                                  GpuEmitter &e, Launch &launch);

// Families, in GpuEmitRowwise.cpp, GpuEmitAttention.cpp, GpuEmitRouting.cpp.
// Each returns failure() without a diagnostic for ops of other families.
mlir::LogicalResult emitGpuRowwise(mlir::Operation *op,
                                   const GpuKernelArgs &args, GpuEmitter &e,
                                   Launch &launch);
mlir::LogicalResult emitGpuAttention(mlir::Operation *op,
                                     const GpuKernelArgs &args, GpuEmitter &e,
                                     Launch &launch);
mlir::LogicalResult emitGpuRouting(mlir::Operation *op,
                                   const GpuKernelArgs &args, GpuEmitter &e,
                                   Launch &launch);

/// The vector width along rows of `len` elements: the op's msa.tiles
/// vector_width if it divides `len`, else 1.
int64_t gpuVectorWidth(mlir::Operation *op, int64_t len);

/// Chunk means of tokens [t0, t0 + count) for head `h` by one warp, lanes
/// across the head dim: `load(t, e0, width)` gives elements [e0, e0 + width)
/// of token t as f32; the means (L2-normalised with `normalize`) are
/// rounded and stored to pooled[h, chunk, :].
void warpPoolChunk(GpuEmitter &e,
                   const std::function<mlir::Value(mlir::Value, mlir::Value,
                                                   int64_t)> &load,
                   mlir::Value pooled, mlir::Value h, mlir::Value chunk,
                   mlir::Value t0, mlir::Value count, int64_t d, int64_t vw,
                   bool normalize);

/// The chunk offset of segment `s` counted from segment `first`: the sum of
/// ceil(len / p) over segments [first, s).
mlir::Value gpuChunkOffsetOf(GpuEmitter &e, mlir::Value segments,
                             mlir::Value first, mlir::Value s, int64_t p);

} // namespace msa::codegen::cuda

#endif // MSA_CODEGEN_CUDA_GPUEMITTERS_H
