//===- FusePooling.cpp - fuse chunk pooling into the encode epilogue ------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/Passes/Passes.h"

#include "msa/Dialect/MsaOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace msa {
#define GEN_PASS_DEF_MSAFUSEPOOLINGPASS
#include "msa/Passes/Passes.h.inc"
} // namespace msa

using namespace mlir;
using namespace msa;

namespace {

/// If `pool` is `segs` or `segs[o:]` (a unit-stride slice from a static
/// offset to the end), returns o.
std::optional<int64_t> suffixOffset(Value pool, Value segs) {
  if (pool == segs)
    return 0;
  auto slice = pool.getDefiningOp<tensor::ExtractSliceOp>();
  if (!slice || slice.getSource() != segs || !slice.hasUnitStride())
    return std::nullopt;
  std::optional<int64_t> offset = getConstantIntValue(slice.getMixedOffsets()[0]);
  if (!offset)
    return std::nullopt;
  // The size must reach the end: static, or dim(segs, 0) - offset.
  OpFoldResult size = slice.getMixedSizes()[0];
  int64_t total = cast<RankedTensorType>(segs.getType()).getDimSize(0);
  if (std::optional<int64_t> s = getConstantIntValue(size))
    return (!ShapedType::isDynamic(total) && *s == total - *offset)
               ? std::optional<int64_t>(*offset)
               : std::nullopt;
  auto sub = dyn_cast<Value>(size).getDefiningOp<arith::SubIOp>();
  if (!sub)
    return std::nullopt;
  auto dim = sub.getLhs().getDefiningOp<tensor::DimOp>();
  std::optional<int64_t> rhs = getConstantIntValue(sub.getRhs());
  std::optional<int64_t> dimIndex = dim ? dim.getConstantIndex() : std::nullopt;
  if (!dim || dim.getSource() != segs || dimIndex != 0 || rhs != *offset)
    return std::nullopt;
  return *offset;
}

/// The chunk_pool user of `v` over `segments` with chunk size `p` (any p if
/// p is 0), optionally requiring no normalisation, other than `exclude`.
ChunkPoolOp findPool(Value v, Value segments, int64_t p, ChunkPoolOp exclude) {
  for (Operation *user : v.getUsers())
    if (auto pool = dyn_cast<ChunkPoolOp>(user))
      if (pool != exclude && pool.getInput() == v &&
          pool.getSegments() == segments &&
          (p == 0 || static_cast<int64_t>(pool.getChunkSize()) == p) &&
          !pool.getNormalize())
        return pool;
  return nullptr;
}

/// Pools of an encode attention's keys and values (and router keys) that
/// can become its epilogue.
struct PoolGroup {
  ChunkPoolOp key, value, router;
  int64_t firstSegment = 0;
};

std::optional<PoolGroup> matchPools(Operation *attention, Value keySource,
                                    Value value, Value segments) {
  if (!keySource)
    return std::nullopt;
  // The fused kernel takes the attention's place, so the pooled results it
  // returns can only serve users after it.
  DominanceInfo dom;
  auto usedAfter = [&](ChunkPoolOp pool) {
    return llvm::all_of(pool->getUsers(), [&](Operation *u) {
      return dom.properlyDominates(attention, u);
    });
  };
  for (Operation *user : keySource.getUsers()) {
    auto kp = dyn_cast<ChunkPoolOp>(user);
    if (!kp || kp.getInput() != keySource || kp.getNormalize() ||
        !usedAfter(kp))
      continue;
    std::optional<int64_t> first = suffixOffset(kp.getSegments(), segments);
    if (!first)
      continue;
    ChunkPoolOp vp = findPool(value, kp.getSegments(),
                              static_cast<int64_t>(kp.getChunkSize()), kp);
    if (!vp || !usedAfter(vp))
      continue;
    PoolGroup g{kp, vp, nullptr, *first};
    // A third pool over the same segments, of a tensor shaped like the keys
    // that exists before the attention runs, is the router-key epilogue.
    // Of several (every layer pools the same segments), the one computed
    // last before the attention: the router keys of its own layer.
    Operation *bestDef = nullptr;
    for (Operation *other : kp.getSegments().getUsers()) {
      auto rp = dyn_cast<ChunkPoolOp>(other);
      if (!rp || rp == kp || rp == vp || rp.getSegments() != kp.getSegments() ||
          rp.getChunkSize() != kp.getChunkSize() ||
          rp.getInput().getType() != keySource.getType() ||
          rp.getInput() == value || rp.getInput() == keySource ||
          !usedAfter(rp))
        continue;
      Operation *def = rp.getInput().getDefiningOp();
      if (def && (def->getBlock() != attention->getBlock() ||
                  !def->isBeforeInBlock(attention)))
        continue;
      if (!g.router || (def && (!bestDef || bestDef->isBeforeInBlock(def)))) {
        g.router = rp;
        bestDef = def;
      }
    }
    return g;
  }
  return std::nullopt;
}

/// Builds the fused encode_docs replacing `base` (an encode_docs or a
/// doc_attention) with the pooling epilogue of `g`.
LogicalResult fuse(Operation *base, EncodeDocsOp encode, PoolGroup g,
                   PatternRewriter &rewriter) {
  Value query, key, value, segments;
  FloatAttr scale, theta;
  Value rotated;
  if (encode) {
    query = encode.getQuery();
    key = encode.getKey();
    value = encode.getValue();
    segments = encode.getSegments();
    scale = encode.getScaleAttr();
    theta = encode.getRopeThetaAttr();
    rotated = encode.getRotatedKey();
  } else {
    auto att = cast<DocAttentionOp>(base);
    query = att.getQuery();
    key = att.getKey();
    value = att.getValue();
    segments = att.getSegments();
    scale = att.getScaleAttr();
  }
  // Still emit rotated keys if something besides the fused pool reads them.
  bool keepRotated = false;
  if (rotated)
    for (Operation *u : rotated.getUsers())
      keepRotated |= u != g.key.getOperation();

  SmallVector<Type> types{base->getResult(0).getType()};
  if (keepRotated)
    types.push_back(rotated.getType());
  types.push_back(g.key.getType());
  types.push_back(g.value.getType());
  if (g.router)
    types.push_back(g.router.getType());
  auto fused = EncodeDocsOp::create(
      rewriter, base->getLoc(), types, query, key, value, segments,
      g.router ? g.router.getInput() : Value(), scale, theta,
      g.key.getChunkSizeAttr(), rewriter.getI64IntegerAttr(g.firstSegment),
      g.router && g.router.getNormalize(), keepRotated);
  rewriter.replaceOp(g.key, fused.getPooledKey());
  rewriter.replaceOp(g.value, fused.getPooledValue());
  if (g.router)
    rewriter.replaceOp(g.router, fused.getPooledRouterKey());
  if (keepRotated)
    rewriter.replaceAllUsesWith(rotated, fused.getRotatedKey());
  rewriter.replaceAllUsesWith(base->getResult(0), fused.getResult());
  rewriter.eraseOp(base);
  return success();
}

struct FusePoolingIntoEncode : OpRewritePattern<EncodeDocsOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(EncodeDocsOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getChunkSizeAttr())
      return rewriter.notifyMatchFailure(op, "already pools");
    // With RoPE in the prologue, K̄ pools the rotated keys; without, the
    // key operand itself.
    Value keySource = op.getRopeThetaAttr() ? op.getRotatedKey() : op.getKey();
    std::optional<PoolGroup> g =
        matchPools(op, keySource, op.getValue(), op.getSegments());
    if (!g)
      return rewriter.notifyMatchFailure(op, "no key and value pools to fuse");
    return fuse(op, op, *g, rewriter);
  }
};

struct FusePoolingIntoDocAttention : OpRewritePattern<DocAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DocAttentionOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<PoolGroup> g =
        matchPools(op, op.getKey(), op.getValue(), op.getSegments());
    if (!g)
      return rewriter.notifyMatchFailure(op, "no key and value pools to fuse");
    return fuse(op, nullptr, *g, rewriter);
  }
};

struct MsaFusePoolingPass
    : msa::impl::MsaFusePoolingPassBase<MsaFusePoolingPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FusePoolingIntoEncode, FusePoolingIntoDocAttention>(
        &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
