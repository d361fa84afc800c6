//===- Pipelines.h - named pass pipelines of msa ----------------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_PASSES_PIPELINES_H
#define MSA_PASSES_PIPELINES_H

#include "mlir/Pass/PassManager.h"

#include <string>

namespace msa {

/// Graph-level cleanup: msa canonicalization, then CSE. Run by the importer
/// and available to msa-opt as `--msa-graph-cleanup`.
void buildGraphCleanupPipeline(mlir::OpPassManager &pm);

/// Options of the cpu compile pipeline.
struct CpuPipelineOptions {
  /// LLVM CPU name tiles are chosen for.
  std::string cpu = "x86-64-v3";
  /// Candidate blocks of the fused routing kernel.
  int64_t routeBlocks = 64;
};

/// Graph IR to fused kernel-level ops: cleanup, the fusion passes (RoPE,
/// pooling, assembly, routing), kernel formation.
void buildFusionPipeline(mlir::OpPassManager &pm,
                         const CpuPipelineOptions &options);

/// The fusion pipeline, then tiles from KernelConfig and outlining: what
/// plans are extracted from.
void buildCpuGraphToKernelsPipeline(mlir::OpPassManager &pm,
                                    const CpuPipelineOptions &options);

/// Registers every pipeline above with the global pass registry.
void registerPipelines();

} // namespace msa

#endif // MSA_PASSES_PIPELINES_H
