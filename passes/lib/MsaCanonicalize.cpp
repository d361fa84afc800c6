//===- MsaCanonicalize.cpp - fold and canonicalize msa ops only -----------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/Passes/Passes.h"

#include "msa/Dialect/MsaDialect.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace msa {
#define GEN_PASS_DEF_MSACANONICALIZEPASS
#include "msa/Passes/Passes.h.inc"
} // namespace msa

using namespace mlir;

namespace {

/// Counts the rewrites the driver makes, for the pass statistic.
struct RewriteCounter : RewriterBase::Listener {
  uint64_t count = 0;
  void notifyOperationModified(Operation *) override { ++count; }
  void notifyOperationReplaced(Operation *, ValueRange) override { ++count; }
};

struct MsaCanonicalizePass
    : msa::impl::MsaCanonicalizePassBase<MsaCanonicalizePass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    ctx->getLoadedDialect<msa::MsaDialect>()->getCanonicalizationPatterns(
        patterns);
    for (RegisteredOperationName op : ctx->getRegisteredOperations())
      if (op.getDialectNamespace() == msa::MsaDialect::getDialectNamespace())
        op.getCanonicalizationPatterns(patterns, ctx);

    RewriteCounter counter;
    GreedyRewriteConfig config;
    config.setListener(&counter);
    // Only msa ops are folded: other dialects' ops are left as written.
    FrozenRewritePatternSet frozen(std::move(patterns));
    SmallVector<Operation *> msaOps;
    getOperation()->walk([&](Operation *op) {
      if (isa<msa::MsaDialect>(op->getDialect()))
        msaOps.push_back(op);
    });
    config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
    if (failed(applyOpPatternsGreedily(msaOps, frozen, config)))
      return signalPassFailure();
    numRewrites += counter.count;
  }
};

} // namespace
