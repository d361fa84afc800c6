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

/// Options of the compile pipelines.
struct PipelineOptions {
  /// "cpu" or "cuda:sm_90".
  std::string target = "cpu";
  /// LLVM CPU name cpu tiles are chosen for.
  std::string cpu = "x86-64-v3";
  /// Candidate blocks of the fused routing kernel; 0 takes the target's
  /// from KernelConfig.
  int64_t routeBlocks = 0;
  /// Tiles instead of the table's (msa-assign-tiles overrides), for
  /// experiments: op:key=value[,key=value...][;op:...].
  std::string tileOverrides;
};

/// Graph IR to fused kernel-level ops: cleanup, the fusion passes (RoPE,
/// pooling, assembly, routing), kernel formation.
void buildFusionPipeline(mlir::OpPassManager &pm,
                         const PipelineOptions &options);

/// The fusion pipeline, then tiles from KernelConfig for the target and
/// outlining: what plans are extracted from and the target lowerings start
/// from. Fails (returns false) for an unknown target.
bool buildGraphToKernelsPipeline(mlir::OpPassManager &pm,
                                 const PipelineOptions &options);

/// Registers every pipeline above with the global pass registry.
void registerPipelines();

} // namespace msa

#endif // MSA_PASSES_PIPELINES_H
