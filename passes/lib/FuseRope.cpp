//===- FuseRope.cpp - fuse RoPE into attention prologues ------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/Passes/Passes.h"

#include "msa/Dialect/MsaOps.h"

#include "mlir/IR/Dominance.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace msa {
#define GEN_PASS_DEF_MSAFUSEROPEPASS
#include "msa/Passes/Passes.h.inc"
} // namespace msa

using namespace mlir;
using namespace msa;

namespace {

/// doc_attention(rope(q), rope(k), v) over the ropes' own segments ->
/// encode_docs with a RoPE prologue.
struct FuseDocumentRope : OpRewritePattern<DocAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DocAttentionOp op,
                                PatternRewriter &rewriter) const override {
    auto q = op.getQuery().getDefiningOp<RopeOp>();
    auto k = op.getKey().getDefiningOp<RopeOp>();
    if (!q || !k)
      return rewriter.notifyMatchFailure(op, "query or key not rotated");
    if (q.getMode() != RopeMode::Document || k.getMode() != RopeMode::Document)
      return rewriter.notifyMatchFailure(op, "not document-wise RoPE");
    // Positions must restart exactly at the attention's segments.
    if (q.getPositions() != op.getSegments() ||
        k.getPositions() != op.getSegments())
      return rewriter.notifyMatchFailure(op, "RoPE over other segments");
    if (q.getTheta() != k.getTheta())
      return rewriter.notifyMatchFailure(op, "different thetas");
    if (!q.getResult().hasOneUse())
      return rewriter.notifyMatchFailure(op, "rotated queries used elsewhere");

    // The kernel takes the attention's place: rotated keys it returns can
    // only serve users after it.
    DominanceInfo dom;
    for (Operation *user : k.getResult().getUsers())
      if (user != op && !dom.properlyDominates(op.getOperation(), user))
        return rewriter.notifyMatchFailure(
            op, "rotated keys used before attention");

    bool keyUsedElsewhere = !k.getResult().hasOneUse();
    SmallVector<Type> types{op.getType()};
    if (keyUsedElsewhere)
      types.push_back(k.getType());
    auto fused = EncodeDocsOp::create(
        rewriter, op.getLoc(), types, q.getInput(), k.getInput(),
        op.getValue(), op.getSegments(), /*router_key=*/Value(),
        op.getScaleAttr(), q.getThetaAttr(), /*chunk_size=*/IntegerAttr(),
        /*first_pooled_segment=*/IntegerAttr(), /*normalize_router=*/false,
        /*emit_rotated_key=*/keyUsedElsewhere);
    if (keyUsedElsewhere)
      rewriter.replaceAllUsesExcept(k.getResult(), fused.getRotatedKey(), op);
    rewriter.replaceOp(op, fused.getResult());
    return success();
  }
};

/// The rope of a query rotated in global mode, if it can move into the
/// attention that is its only user.
RopeOp globalQueryRope(Value query) {
  auto rope = query.getDefiningOp<RopeOp>();
  if (!rope || rope.getMode() != RopeMode::Global ||
      !rope.getResult().hasOneUse())
    return nullptr;
  return rope;
}

/// sparse_attention(rope_global(q), ...) -> memory_attention with a RoPE
/// prologue (memory, if any, attended whole).
struct FuseGlobalRopeIntoSparse : OpRewritePattern<SparseAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SparseAttentionOp op,
                                PatternRewriter &rewriter) const override {
    RopeOp rope = globalQueryRope(op.getQuery());
    if (!rope)
      return rewriter.notifyMatchFailure(op, "no fusible global rope");
    rewriter.replaceOpWithNewOp<MemoryAttentionOp>(
        op, op.getType(), rope.getInput(), op.getTemplateKey(),
        op.getTemplateValue(), op.getMemoryKey(), op.getMemoryValue(),
        Value(), Value(), Value(), op.getLocalKey(), op.getLocalValue(),
        op.getLocalValid(), Value(), Value(), Value(), rope.getPositions(),
        op.getCausalAttr(),
        op.getScaleAttr(), rope.getThetaAttr(), rope.getTemplateLenAttr(),
        rope.getKCfgAttr());
    return success();
  }
};

/// memory_attention(rope_global(q), ...) without a prologue -> with one.
struct FuseGlobalRopeIntoMemory : OpRewritePattern<MemoryAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MemoryAttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getPositions())
      return rewriter.notifyMatchFailure(op, "already rotates its queries");
    RopeOp rope = globalQueryRope(op.getQuery());
    if (!rope)
      return rewriter.notifyMatchFailure(op, "no fusible global rope");
    rewriter.replaceOpWithNewOp<MemoryAttentionOp>(
        op, op.getType(), rope.getInput(), op.getTemplateKey(),
        op.getTemplateValue(), op.getMemoryKey(), op.getMemoryValue(),
        op.getChunkOffsets(), op.getIndices(), op.getCount(), op.getLocalKey(),
        op.getLocalValue(), op.getLocalValid(), op.getAppendKey(),
        op.getAppendValue(), op.getAppendValid(), rope.getPositions(),
        op.getCausalAttr(), op.getScaleAttr(), rope.getThetaAttr(),
        rope.getTemplateLenAttr(), rope.getKCfgAttr());
    return success();
  }
};

struct MsaFuseRopePass : msa::impl::MsaFuseRopePassBase<MsaFuseRopePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseDocumentRope, FuseGlobalRopeIntoSparse,
                 FuseGlobalRopeIntoMemory>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
