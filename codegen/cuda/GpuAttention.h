//===- GpuAttention.h - pieces shared by the cuda attention kernels -*- C++
//-*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// What the CUDA-core attention kernels (GpuEmitAttention.cpp) and the
// tensor-core encode_docs (GpuEncodeTensorCore.cpp) share: segments of
// packed documents, the reference's RoPE of one element, the key range of
// a query tile and the chunk-pooling epilogue.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_CODEGEN_CUDA_GPUATTENTION_H
#define MSA_CODEGEN_CUDA_GPUATTENTION_H

#include "GpuEmitters.h"

#include "common/EncodeDocsArgs.h"

#include "msa/Dialect/MsaOps.h"

namespace msa::codegen::cuda {

/// Element `el` of the rotated head vector src[t, head, :] at position
/// `pos`: round(round(x_e cos) + round(-+x_partner sin)), the reference's
/// RoPE.
mlir::Value rotatedElement(GpuEmitter &e, mlir::Value src, mlir::Value t,
                           mlir::Value head, mlir::Value el, mlir::Value pos,
                           int64_t d, double theta, mlir::Type storage);

/// The segment of token `t`: (index or -1, start, end, inside).
struct SegmentOf {
  mlir::Value index, start, end, inside;
};
SegmentOf segmentOf(GpuEmitter &e, mlir::Value seg, mlir::Value nSeg,
                    mlir::Value t);

/// The keys the query rows [t0, t0 + bm) attend to: [kLo, kHi) from the
/// document start of the first row inside a document to the end of the
/// last one (kLo = kHi when no row is inside a document).
std::pair<mlir::Value, mlir::Value> tileKeyRange(GpuEmitter &e, mlir::Value seg,
                                                 mlir::Value nSeg,
                                                 mlir::Value tokens,
                                                 mlir::Value t0, int64_t bm);

/// Elements [e0, e0 + w) of a key rotated to position `pos`, as f32: a
/// kernel's faster way to what rotatedElement computes.
using RotatedKeyLoad = std::function<mlir::Value(
    mlir::Value tok, mlir::Value pos, mlir::Value e0, int64_t w)>;

/// Chunk means (K rotated, V, router K) of KV head `g` of the chunks that
/// start in tokens [t0, t0 + bm), a warp per chunk start; nothing without
/// the op's chunk_size. Rotated keys come from `rotated` if given.
void emitEncodePooling(EncodeDocsOp op, const EncodeDocsArgs &args,
                       GpuEmitter &e, mlir::Value g, mlir::Value t0, int64_t bm,
                       const RotatedKeyLoad &rotated = nullptr);

/// encode_docs on the tensor cores (tiles with tensor_cores = 1): a block
/// per (64 packed tokens, KV head); per query head of the group a
/// warpgroup on wgmma (wgmma = 1) or four warps of 16 rows on mma.sync.
mlir::LogicalResult emitEncodeDocsTensorCore(EncodeDocsOp op,
                                             const GpuKernelArgs &a,
                                             GpuEmitter &e, Launch &launch);

} // namespace msa::codegen::cuda

#endif // MSA_CODEGEN_CUDA_GPUATTENTION_H
