//===- Pipelines.cpp - named pass pipelines of msa ------------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/Passes/Pipelines.h"
#include "msa/Passes/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void msa::buildGraphCleanupPipeline(OpPassManager &pm) {
  pm.addPass(createMsaCanonicalizePass());
  pm.addPass(createCSEPass());
}

void msa::registerPipelines() {
  PassPipelineRegistration<>(
      "msa-graph-cleanup",
      "Canonicalize msa ops and remove common subexpressions",
      buildGraphCleanupPipeline);
}
