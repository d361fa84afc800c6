//===- KernelInterface.cpp - how an msa op runs as a kernel ---------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/Codegen/KernelInterface.h"

#include "msa/Dialect/MsaOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace msa::codegen {

namespace {

int64_t lastDim(Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  return t.getRank() ? t.getShape().back() : 1;
}

} // namespace

bool isKernelOp(Operation *op) {
  if (isa<LinearOp, DispatchOp>(op))
    return false;
  if (isa<MsaDialect>(op->getDialect()))
    return true;
  // Residual adds and other elementwise math on tensors.
  if (isa<arith::AddFOp, arith::SubFOp, arith::MulFOp>(op))
    return isa<RankedTensorType>(op->getResult(0).getType());
  return false;
}

SmallVector<GridTerm> gridFor(Operation *op) {
  const int64_t results = op->getNumOperands();
  return llvm::TypeSwitch<Operation *, SmallVector<GridTerm>>(op)
      .Case<RmsNormOp>([](RmsNormOp o) {
        // One item per row: every dim but the last.
        SmallVector<GridTerm> g;
        for (int64_t d = 0; d + 1 < o.getInput().getType().getRank(); ++d)
          g.push_back({0, d, 0});
        return g;
      })
      .Case<SwiGluOp, arith::AddFOp, arith::SubFOp, arith::MulFOp, RopeOp>(
          [](Operation *) { return SmallVector<GridTerm>{{0, 0, 0}}; })
      .Case<EmbeddingOp>(
          [](EmbeddingOp) { return SmallVector<GridTerm>{{1, 0, 0}}; })
      // One item per segment plus one for the tokens outside them.
      .Case<EncodeDocsOp, DocAttentionOp>(
          [](Operation *) { return SmallVector<GridTerm>{{3, 0, 0}}; })
      .Case<ChunkPoolOp, DocReduceOp>(
          [](Operation *) { return SmallVector<GridTerm>{{1, 0, -1}}; })
      .Case<RouteScoresOp>(
          [](RouteScoresOp) { return SmallVector<GridTerm>{{1, 1, 0}}; })
      .Case<RouteTopKOp>([&](RouteTopKOp) {
        return SmallVector<GridTerm>{{results, 0, 0}};
      })
      .Case<MemoryAttentionOp, SparseAttentionOp>([](Operation *) {
        return SmallVector<GridTerm>{{0, 0, 0}, {0, 1, 0}};
      })
      .Default([](Operation *) { return SmallVector<GridTerm>{}; });
}

std::pair<KernelFamily, int64_t> tileFamilyOf(Operation *op) {
  return llvm::TypeSwitch<Operation *, std::pair<KernelFamily, int64_t>>(op)
      .Case<EncodeDocsOp, DocAttentionOp>([](Operation *o) {
        return std::make_pair(KernelFamily::kEncodeAttention,
                              lastDim(o->getOperand(0)));
      })
      .Case<MemoryAttentionOp, SparseAttentionOp>([](Operation *o) {
        return std::make_pair(KernelFamily::kMemoryAttention,
                              lastDim(o->getOperand(0)));
      })
      .Case<RouteTopKOp, RouteScoresOp>([](Operation *o) {
        return std::make_pair(KernelFamily::kRoute, lastDim(o->getOperand(0)));
      })
      .Default([](Operation *o) {
        int64_t inner = o->getNumOperands() ? lastDim(o->getOperand(0)) : 1;
        return std::make_pair(KernelFamily::kRowwise, inner);
      });
}

int64_t tensorCoreGroupOf(Operation *op) {
  auto enc = dyn_cast<EncodeDocsOp>(op);
  if (!enc)
    return 0;
  auto q = dyn_cast<ShapedType>(enc.getQuery().getType());
  auto k = dyn_cast<ShapedType>(enc.getKey().getType());
  if (!q || !k || q.getRank() != 3 || k.getRank() != 3 ||
      !q.getElementType().isBF16())
    return 0;
  int64_t hq = q.getDimSize(1), hk = k.getDimSize(1), d = q.getDimSize(2);
  if (ShapedType::isDynamic(hq) || ShapedType::isDynamic(hk) ||
      ShapedType::isDynamic(d) || hk <= 0 || hq % hk != 0)
    return 0;
  int64_t group = hq / hk;
  if (d % 32 != 0 || d > 128 || (group != 1 && group != 2 && group != 4))
    return 0;
  return group;
}

int64_t tileOf(Operation *op, StringRef name, int64_t fallback) {
  auto tiles = op->getAttrOfType<DictionaryAttr>(kTilesAttr);
  if (!tiles)
    return fallback;
  auto v = tiles.getAs<IntegerAttr>(name);
  return v ? v.getInt() : fallback;
}

} // namespace msa::codegen
