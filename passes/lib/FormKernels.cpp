//===- FormKernels.cpp - unfused attention ops to their kernel form -------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/Passes/Passes.h"

#include "msa/Dialect/MsaOps.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace msa {
#define GEN_PASS_DEF_MSAFORMKERNELSPASS
#include "msa/Passes/Passes.h.inc"
} // namespace msa

using namespace mlir;
using namespace msa;

namespace {

struct DocAttentionToEncode : OpRewritePattern<DocAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DocAttentionOp op,
                                PatternRewriter &rewriter) const override {
    auto encode = EncodeDocsOp::create(
        rewriter, op.getLoc(), TypeRange{op.getType()}, op.getQuery(),
        op.getKey(), op.getValue(), op.getSegments(), Value(),
        op.getScaleAttr(), FloatAttr(), IntegerAttr(), IntegerAttr(), false,
        false);
    rewriter.replaceOp(op, encode.getResult());
    return success();
  }
};

struct SparseToMemoryAttention : OpRewritePattern<SparseAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SparseAttentionOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<MemoryAttentionOp>(
        op, op.getType(), op.getQuery(), op.getTemplateKey(),
        op.getTemplateValue(), op.getMemoryKey(), op.getMemoryValue(), Value(),
        Value(), Value(), op.getLocalKey(), op.getLocalValue(),
        op.getLocalValid(), Value(), Value(), Value(), Value(),
        op.getCausalAttr(), op.getScaleAttr(),
        FloatAttr(), IntegerAttr(), IntegerAttr());
    return success();
  }
};

struct MsaFormKernelsPass
    : msa::impl::MsaFormKernelsPassBase<MsaFormKernelsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<DocAttentionToEncode, SparseToMemoryAttention>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
