//===- FuseAssembly.cpp - read selected chunks by index in attention ------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/Passes/Passes.h"

#include "msa/Dialect/MsaOps.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace msa {
#define GEN_PASS_DEF_MSAFUSEASSEMBLYPASS
#include "msa/Passes/Passes.h.inc"
} // namespace msa

using namespace mlir;
using namespace msa;

namespace {

/// Both memory operands gathered with one selection.
struct GatherPair {
  GatherChunksOp key, value;
};

std::optional<GatherPair> matchGathers(Value memKey, Value memValue) {
  if (!memKey)
    return std::nullopt;
  auto k = memKey.getDefiningOp<GatherChunksOp>();
  auto v = memValue.getDefiningOp<GatherChunksOp>();
  if (!k || !v || !k.getResult().hasOneUse() || !v.getResult().hasOneUse())
    return std::nullopt;
  if (k.getIndices() != v.getIndices() || k.getCount() != v.getCount() ||
      k.getChunkOffsets() != v.getChunkOffsets())
    return std::nullopt;
  return GatherPair{k, v};
}

struct FuseGathersIntoSparse : OpRewritePattern<SparseAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SparseAttentionOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<GatherPair> g =
        matchGathers(op.getMemoryKey(), op.getMemoryValue());
    if (!g)
      return rewriter.notifyMatchFailure(op, "memory not two fusible gathers");
    rewriter.replaceOpWithNewOp<MemoryAttentionOp>(
        op, op.getType(), op.getQuery(), op.getTemplateKey(),
        op.getTemplateValue(), g->key.getSource(), g->value.getSource(),
        g->key.getChunkOffsets(), g->key.getIndices(), g->key.getCount(),
        op.getLocalKey(), op.getLocalValue(), op.getLocalValid(), Value(),
        Value(), Value(), /*positions=*/Value(), op.getCausalAttr(),
        op.getScaleAttr(), FloatAttr(), IntegerAttr(), IntegerAttr());
    return success();
  }
};

/// The same for a memory_attention that attends gathered memory whole
/// (what msa-fuse-rope makes of a sparse_attention it fused first).
struct FuseGathersIntoMemory : OpRewritePattern<MemoryAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MemoryAttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getIndices())
      return rewriter.notifyMatchFailure(op, "already reads by index");
    std::optional<GatherPair> g =
        matchGathers(op.getMemoryKey(), op.getMemoryValue());
    if (!g)
      return rewriter.notifyMatchFailure(op, "memory not two fusible gathers");
    rewriter.replaceOpWithNewOp<MemoryAttentionOp>(
        op, op.getType(), op.getQuery(), op.getTemplateKey(),
        op.getTemplateValue(), g->key.getSource(), g->value.getSource(),
        g->key.getChunkOffsets(), g->key.getIndices(), g->key.getCount(),
        op.getLocalKey(), op.getLocalValue(), op.getLocalValid(),
        op.getAppendKey(), op.getAppendValue(), op.getAppendValid(),
        op.getPositions(), op.getCausalAttr(), op.getScaleAttr(),
        op.getRopeThetaAttr(), op.getTemplateLenAttr(), op.getKCfgAttr());
    return success();
  }
};

/// The two parts of a row-wise concatenation, if `v` is one.
std::optional<std::pair<Value, Value>> concatParts(Value v) {
  auto concat = v.getDefiningOp<tensor::ConcatOp>();
  // Other users (the validity concat is shared by every layer) keep the
  // concatenation alive only if they need it.
  if (!concat || concat.getDim() != 0 || concat.getInputs().size() != 2)
    return std::nullopt;
  return std::make_pair(concat.getInputs()[0], concat.getInputs()[1]);
}

/// True if the key, value and validity concatenations provably split at
/// different rows (their parts are then not one cache and one step).
bool splitsDiffer(std::pair<Value, Value> k, std::pair<Value, Value> v,
                  std::pair<Value, Value> valid) {
  auto rows = [](Value x) {
    return cast<ShapedType>(x.getType()).getDimSize(0);
  };
  auto differ = [&](Value a, Value b) {
    return !ShapedType::isDynamic(rows(a)) && !ShapedType::isDynamic(rows(b)) &&
           rows(a) != rows(b);
  };
  return differ(k.first, v.first) || differ(k.first, valid.first) ||
         differ(k.second, v.second) || differ(k.second, valid.second);
}

/// Keys, values and validity each as (cache, step): the local operands of an
/// attention op that are concatenations splitting at the same row.
struct LocalSplit {
  std::pair<Value, Value> key, value, valid;
};

template <typename OpTy>
FailureOr<LocalSplit> splitLocal(OpTy op, PatternRewriter &rewriter) {
  auto k = concatParts(op.getLocalKey());
  auto v = concatParts(op.getLocalValue());
  auto valid = concatParts(op.getLocalValid());
  if (!k || !v || !valid)
    return rewriter.notifyMatchFailure(op, "local keys not concatenations");
  if (splitsDiffer(*k, *v, *valid))
    return rewriter.notifyMatchFailure(op, "concatenations split differently");
  return LocalSplit{*k, *v, *valid};
}

/// local = concat(cache, new) for keys, values and validity -> local =
/// cache, append = new: a decode step attends to its KV cache and its own
/// tokens without copying the cache.
struct FuseConcatIntoAppend : OpRewritePattern<MemoryAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MemoryAttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getAppendKey())
      return rewriter.notifyMatchFailure(op, "already appends");
    FailureOr<LocalSplit> split = splitLocal(op, rewriter);
    if (failed(split))
      return failure();
    auto [k, v, valid] = *split;
    rewriter.replaceOpWithNewOp<MemoryAttentionOp>(
        op, op.getType(), op.getQuery(), op.getTemplateKey(),
        op.getTemplateValue(), op.getMemoryKey(), op.getMemoryValue(),
        op.getChunkOffsets(), op.getIndices(), op.getCount(), k.first, v.first,
        valid.first, k.second, v.second, valid.second, op.getPositions(),
        op.getCausalAttr(), op.getScaleAttr(), op.getRopeThetaAttr(),
        op.getTemplateLenAttr(), op.getKCfgAttr());
    return success();
  }
};

/// The same for a sparse_attention nothing else turned into a
/// memory_attention (no gathered memory, no RoPE prologue).
struct FuseConcatIntoSparse : OpRewritePattern<SparseAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SparseAttentionOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<LocalSplit> split = splitLocal(op, rewriter);
    if (failed(split))
      return failure();
    auto [k, v, valid] = *split;
    rewriter.replaceOpWithNewOp<MemoryAttentionOp>(
        op, op.getType(), op.getQuery(), op.getTemplateKey(),
        op.getTemplateValue(), op.getMemoryKey(), op.getMemoryValue(), Value(),
        Value(), Value(), k.first, v.first, valid.first, k.second, v.second,
        valid.second, Value(), op.getCausalAttr(), op.getScaleAttr(),
        FloatAttr(), IntegerAttr(), IntegerAttr());
    return success();
  }
};

struct MsaFuseAssemblyPass
    : msa::impl::MsaFuseAssemblyPassBase<MsaFuseAssemblyPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseGathersIntoSparse, FuseGathersIntoMemory,
                 FuseConcatIntoAppend, FuseConcatIntoSparse>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
