//===- Emitters.h - cpu loop nests of every msa kernel family ---*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// One function per kernel op: given the op (still on tensors, for its
// attributes and static shapes), the memref arguments and a builder inside
// the kernel function, emit the loops that compute the op over the work
// items [begin, end). Rows are vectorised along their last dimension with
// the op's msa.tiles vector_width.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_CODEGEN_CPU_EMITTERS_H
#define MSA_CODEGEN_CPU_EMITTERS_H

#include "common/EmitUtils.h"

#include "mlir/IR/Operation.h"
#include "mlir/Support/LogicalResult.h"

namespace msa::codegen::cpu {

/// Emits the kernel for `op`, or fails with an error on `op` naming what
/// has no cpu lowering.
mlir::LogicalResult emitKernel(mlir::Operation *op, const KernelArgs &args,
                               Emitter &e);

// Families, in EmitRowwise.cpp, EmitAttention.cpp and EmitRouting.cpp.
mlir::LogicalResult emitRowwise(mlir::Operation *op, const KernelArgs &args,
                                Emitter &e);
mlir::LogicalResult emitAttention(mlir::Operation *op, const KernelArgs &args,
                                  Emitter &e);
mlir::LogicalResult emitRouting(mlir::Operation *op, const KernelArgs &args,
                                Emitter &e);

/// The vector width to use along rows of `len` elements: the op's
/// msa.tiles vector_width if it divides `len`, else 1.
int64_t rowVectorWidth(mlir::Operation *op, int64_t len);

/// RoPE of one token: fills `cosv`/`sinv` ([half] f32 scratch) for position
/// `pos` (index) with the reference's f32 frequencies and rounding.
void ropeTables(Emitter &e, mlir::Value pos, int64_t headDim, double theta,
                mlir::Type storage, mlir::Value cosv, mlir::Value sinv);

/// Rotates the head vector at src[prefix..., 0:d] into dst[prefix..., 0:d]
/// (src may equal dst) with the tables of ropeTables.
void ropeRotate(Emitter &e, mlir::Value src, mlir::ValueRange srcPrefix,
                mlir::Value dst, mlir::ValueRange dstPrefix, int64_t headDim,
                int64_t width, mlir::Type storage, mlir::Value cosv,
                mlir::Value sinv);

} // namespace msa::codegen::cpu

#endif // MSA_CODEGEN_CPU_EMITTERS_H
