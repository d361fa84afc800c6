//===- MsaCanonicalize.cpp - canonicalization patterns of the msa ops -----===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Rewrites that make equivalent IR look the same, so later passes match one
// form: consecutive global positions become a start index, and reducing
// one-chunk documents is the identity.
//
//===----------------------------------------------------------------------===//

#include "msa/Dialect/MsaOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace msa;

namespace {

/// Reads a constant rank-1 i32 tensor, or nothing.
std::optional<SmallVector<int64_t>> constantVector(Value v) {
  DenseIntElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)) || attr.getType().getRank() != 1)
    return std::nullopt;
  SmallVector<int64_t> values;
  for (const APInt &x : attr.getValues<APInt>())
    values.push_back(x.getSExtValue());
  return values;
}

/// `global` RoPE with per-token positions c, c+1, ..., c+T-1 is `global` RoPE
/// with the start index c: the form the attention prologue fusion expects.
struct RopeConsecutivePositionsToStart : OpRewritePattern<RopeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RopeOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getMode() != RopeMode::Global)
      return rewriter.notifyMatchFailure(op, "document mode");
    std::optional<SmallVector<int64_t>> pos = constantVector(op.getPositions());
    if (!pos || pos->empty())
      return rewriter.notifyMatchFailure(op, "positions not a constant vector");
    for (size_t i = 1; i < pos->size(); ++i)
      if ((*pos)[i] != (*pos)[0] + static_cast<int64_t>(i))
        return rewriter.notifyMatchFailure(op, "positions not consecutive");

    auto scalarType = RankedTensorType::get({}, rewriter.getI32Type());
    Value start = arith::ConstantOp::create(
        rewriter, op.getLoc(),
        DenseIntElementsAttr::get(scalarType,
                                  static_cast<int32_t>((*pos)[0])));
    rewriter.modifyOpInPlace(
        op, [&] { op.getPositionsMutable().assign(start); });
    return success();
  }
};

/// When every document has exactly one chunk, the document scores are the
/// chunk scores whatever the reduction.
struct DocReduceOfSingleChunks : OpRewritePattern<DocReduceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DocReduceOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<SmallVector<int64_t>> offsets =
        constantVector(op.getChunkOffsets());
    if (!offsets)
      return rewriter.notifyMatchFailure(op, "offsets not constant");
    for (auto [i, v] : llvm::enumerate(*offsets))
      if (v != static_cast<int64_t>(i))
        return rewriter.notifyMatchFailure(op, "a document has != 1 chunk");
    // Scores of a static length other than the document count contradict
    // the offsets; that is a runtime error, not something to rewrite.
    int64_t scoresLen = op.getScores().getType().getDimSize(0);
    if (!ShapedType::isDynamic(scoresLen) &&
        scoresLen != static_cast<int64_t>(offsets->size()) - 1)
      return rewriter.notifyMatchFailure(op, "scores length != documents");

    Value scores = op.getScores();
    if (scores.getType() != op.getType())
      scores = tensor::CastOp::create(rewriter, op.getLoc(), op.getType(),
                                      scores);
    rewriter.replaceOp(op, scores);
    return success();
  }
};

} // namespace

void RopeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                         MLIRContext *context) {
  results.add<RopeConsecutivePositionsToStart>(context);
}

void DocReduceOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                              MLIRContext *context) {
  results.add<DocReduceOfSingleChunks>(context);
}
