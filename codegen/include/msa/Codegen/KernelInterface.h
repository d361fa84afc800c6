//===- KernelInterface.h - how an msa op runs as a kernel -------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Per kernel family: whether an op is outlined, what its work items are
// (the grid), and which KernelConfig family tiles it. Shared by outlining,
// tile assignment, plan extraction and the lowerings, so they agree.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_CODEGEN_KERNELINTERFACE_H
#define MSA_CODEGEN_KERNELINTERFACE_H

#include "msa/Codegen/KernelConfig.h"

#include "mlir/IR/Operation.h"

#include <optional>

namespace msa::codegen {

/// One factor of a launch's work-item count: dim `dim` of kernel argument
/// `arg`, plus `add`. An empty list means one work item.
struct GridTerm {
  int64_t arg, dim, add;
};

/// True for ops that become kernels (as opposed to GEMMs, views, constants
/// and host-side index arithmetic).
bool isKernelOp(mlir::Operation *op);

/// The work items of `op` as a kernel whose arguments are its operands then
/// its results.
llvm::SmallVector<GridTerm> gridFor(mlir::Operation *op);

/// The tile family of `op` and the length of the rows it vectorises along.
std::pair<KernelFamily, int64_t> tileFamilyOf(mlir::Operation *op);

/// The GQA group of an encode_docs the tensor-core kernel takes (bf16,
/// static heads, head dim 32, 64, 96 or 128, group 1, 2 or 4); 0 for any
/// other op.
int64_t tensorCoreGroupOf(mlir::Operation *op);

/// Name of the discardable tile dictionary on kernel ops.
inline constexpr const char *kTilesAttr = "msa.tiles";
/// Reads one tile from `op`'s msa.tiles, or `fallback`.
int64_t tileOf(mlir::Operation *op, llvm::StringRef name, int64_t fallback);

} // namespace msa::codegen

#endif // MSA_CODEGEN_KERNELINTERFACE_H
