//===- FuseRouting.cpp - one streaming kernel for scores and top-k --------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/Passes/Passes.h"

#include "msa/Dialect/MsaOps.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace msa {
#define GEN_PASS_DEF_MSAFUSEROUTINGPASS
#include "msa/Passes/Passes.h.inc"
} // namespace msa

using namespace mlir;
using namespace msa;

namespace {

struct FuseScoresReduceTopK : OpRewritePattern<TopKOp> {
  FuseScoresReduceTopK(MLIRContext *ctx, int64_t blocks)
      : OpRewritePattern(ctx), blocks(blocks) {}

  LogicalResult matchAndRewrite(TopKOp op,
                                PatternRewriter &rewriter) const override {
    auto reduce = op.getScores().getDefiningOp<DocReduceOp>();
    if (!reduce || !reduce.getResult().hasOneUse())
      return rewriter.notifyMatchFailure(op, "document scores used elsewhere");
    auto scores = reduce.getScores().getDefiningOp<RouteScoresOp>();
    if (!scores || !scores.getResult().hasOneUse())
      return rewriter.notifyMatchFailure(op, "chunk scores used elsewhere");

    // Candidates carry document scores in f32: they hold the rounded values
    // exactly and are the precision the merge compares in.
    int64_t k = op.getKAttr().getInt();
    Type f32 = rewriter.getF32Type();
    auto candScores = RankedTensorType::get({blocks, k}, f32);
    auto candIds = RankedTensorType::get({blocks, k}, rewriter.getI32Type());
    auto route = RouteTopKOp::create(
        rewriter, op.getLoc(), candScores, candIds, scores.getQuery(),
        scores.getKeys(), scores.getMask(), reduce.getChunkOffsets(),
        scores.getHeadReduceAttr(), scores.getQueryReduceAttr(),
        reduce.getMethodAttr(), op.getKAttr(), scores.getNormalizeAttr(),
        scores.getScaleAttr());
    auto merge = TopKMergeOp::create(
        rewriter, op.getLoc(), op.getIndices().getType(),
        RankedTensorType::get({k}, f32), op.getCount().getType(),
        route.getCandidateScores(), route.getCandidateIds(), op.getKAttr());
    rewriter.replaceOp(op, {merge.getIndices(), merge.getCount()});
    rewriter.eraseOp(reduce);
    rewriter.eraseOp(scores);
    return success();
  }

  int64_t blocks;
};

struct MsaFuseRoutingPass
    : msa::impl::MsaFuseRoutingPassBase<MsaFuseRoutingPass> {
  using Base::Base;

  void runOnOperation() override {
    if (blocks <= 0) {
      getOperation().emitError() << "msa-fuse-routing: expected blocks to be "
                                    "positive, got "
                                 << static_cast<int64_t>(blocks);
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseScoresReduceTopK>(&getContext(), blocks);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
