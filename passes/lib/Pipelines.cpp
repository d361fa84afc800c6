//===- Pipelines.cpp - named pass pipelines of msa ------------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/Passes/Pipelines.h"
#include "msa/Passes/Passes.h"

#include "msa/Codegen/KernelConfig.h"
#include "msa/Codegen/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void msa::buildGraphCleanupPipeline(OpPassManager &pm) {
  pm.addPass(createMsaCanonicalizePass());
  pm.addPass(createCSEPass());
}

namespace {

/// The routing kernel's candidate blocks: the option, or the tile table's.
int64_t routeBlocksFor(const msa::PipelineOptions &options) {
  if (options.routeBlocks > 0)
    return options.routeBlocks;
  msa::codegen::TargetInfo info;
  if (!msa::codegen::TargetInfo::parse(options.target, options.cpu, info))
    info = msa::codegen::TargetInfo::cpu(options.cpu);
  return msa::codegen::chooseTiles(info, msa::codegen::KernelFamily::kRoute, 0)
      .routeBlocks;
}

} // namespace

void msa::buildFusionPipeline(OpPassManager &pm,
                              const PipelineOptions &options) {
  buildGraphCleanupPipeline(pm);
  pm.addPass(createMsaFuseRopePass());
  pm.addPass(createMsaFusePoolingPass());
  pm.addPass(createMsaFuseAssemblyPass());
  MsaFuseRoutingPassOptions routing;
  routing.blocks = routeBlocksFor(options);
  pm.addPass(createMsaFuseRoutingPass(routing));
  pm.addPass(createMsaFormKernelsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

bool msa::buildGraphToKernelsPipeline(OpPassManager &pm,
                                      const PipelineOptions &options) {
  msa::codegen::TargetInfo info;
  if (!msa::codegen::TargetInfo::parse(options.target, options.cpu, info))
    return false;
  buildFusionPipeline(pm, options);
  MsaAssignTilesPassOptions tiles;
  tiles.target = options.target;
  tiles.cpu = options.cpu;
  tiles.overrides = options.tileOverrides;
  pm.addPass(createMsaAssignTilesPass(tiles));
  pm.addPass(createMsaOutlineKernelsPass());
  return true;
}

void msa::registerPipelines() {
  PassPipelineRegistration<>(
      "msa-cpu-graph-to-kernels",
      "Fuse msa graph IR and outline its kernels for the cpu target",
      [](OpPassManager &pm) {
        buildGraphToKernelsPipeline(pm, PipelineOptions());
      });
  PassPipelineRegistration<>(
      "msa-cuda-graph-to-kernels",
      "Fuse msa graph IR and outline its kernels for cuda:sm_90",
      [](OpPassManager &pm) {
        PipelineOptions options;
        options.target = "cuda:sm_90";
        buildGraphToKernelsPipeline(pm, options);
      });
  PassPipelineRegistration<>(
      "msa-graph-cleanup",
      "Canonicalize msa ops and remove common subexpressions",
      buildGraphCleanupPipeline);
}
