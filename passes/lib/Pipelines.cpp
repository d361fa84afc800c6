//===- Pipelines.cpp - named pass pipelines of msa ------------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/Passes/Pipelines.h"
#include "msa/Passes/Passes.h"

#include "msa/Codegen/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void msa::buildGraphCleanupPipeline(OpPassManager &pm) {
  pm.addPass(createMsaCanonicalizePass());
  pm.addPass(createCSEPass());
}

void msa::buildFusionPipeline(OpPassManager &pm,
                              const CpuPipelineOptions &options) {
  buildGraphCleanupPipeline(pm);
  pm.addPass(createMsaFuseRopePass());
  pm.addPass(createMsaFusePoolingPass());
  pm.addPass(createMsaFuseAssemblyPass());
  MsaFuseRoutingPassOptions routing;
  routing.blocks = options.routeBlocks;
  pm.addPass(createMsaFuseRoutingPass(routing));
  pm.addPass(createMsaFormKernelsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void msa::buildCpuGraphToKernelsPipeline(OpPassManager &pm,
                                         const CpuPipelineOptions &options) {
  buildFusionPipeline(pm, options);
  MsaAssignTilesPassOptions tiles;
  tiles.target = "cpu";
  tiles.cpu = options.cpu;
  pm.addPass(createMsaAssignTilesPass(tiles));
  pm.addPass(createMsaOutlineKernelsPass());
}

void msa::registerPipelines() {
  PassPipelineRegistration<>(
      "msa-cpu-graph-to-kernels",
      "Fuse msa graph IR and outline its kernels for the cpu target",
      [](OpPassManager &pm) {
        buildCpuGraphToKernelsPipeline(pm, CpuPipelineOptions());
      });
  PassPipelineRegistration<>(
      "msa-graph-cleanup",
      "Canonicalize msa ops and remove common subexpressions",
      buildGraphCleanupPipeline);
}
