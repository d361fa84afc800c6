//===- Pipelines.h - named pass pipelines of msa ----------------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_PASSES_PIPELINES_H
#define MSA_PASSES_PIPELINES_H

#include "mlir/Pass/PassManager.h"

namespace msa {

/// Graph-level cleanup: msa canonicalization, then CSE. Run by the importer
/// and available to msa-opt as `--msa-graph-cleanup`.
void buildGraphCleanupPipeline(mlir::OpPassManager &pm);

/// Registers every pipeline above with the global pass registry.
void registerPipelines();

} // namespace msa

#endif // MSA_PASSES_PIPELINES_H
