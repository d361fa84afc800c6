//===- AssignTiles.cpp - msa.tiles from the KernelConfig table ------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/Codegen/Passes.h"

#include "msa/Codegen/KernelConfig.h"
#include "msa/Codegen/KernelInterface.h"

namespace msa {
#define GEN_PASS_DEF_MSAASSIGNTILESPASS
#include "msa/Codegen/Passes.h.inc"
} // namespace msa

using namespace mlir;
using namespace msa::codegen;

namespace {

/// The msa.tiles keys the kernel lowerings read; an override names one.
constexpr llvm::StringLiteral kTileKeys[] = {
    "vector_width", "block_k",      "threads",        "rows_per_block",
    "block_m",      "block_n",      "tensor_cores",   "token_tile",
    "staged_columns", "pass_tiles", "wgmma", "sub_keys", "unrolled_staging",
    "key_splits", "stages"};

/// Overrides per op name ("encode_docs" -> {threads: 256}), parsed from
/// op:key=value[,key=value...][;op:...].
using Overrides = llvm::StringMap<llvm::SmallVector<std::pair<std::string, int64_t>>>;

FailureOr<Overrides> parseOverrides(StringRef text, Operation *anchor) {
  Overrides out;
  SmallVector<StringRef> groups;
  text.split(groups, ';', -1, /*KeepEmpty=*/false);
  for (StringRef group : groups) {
    auto [op, list] = group.trim().split(':');
    if (op.empty() || list.empty())
      return anchor->emitError() << "msa-assign-tiles: override '" << group
                                 << "' is not op:key=value[,key=value...]";
    SmallVector<StringRef> items;
    list.split(items, ',', -1, /*KeepEmpty=*/false);
    for (StringRef item : items) {
      auto [key, value] = item.trim().split('=');
      int64_t v;
      if (!llvm::is_contained(kTileKeys, key) || value.getAsInteger(10, v) ||
          v < 0)
        return anchor->emitError()
               << "msa-assign-tiles: override '" << item << "' of " << op
               << " is not key=value with a tile key and a non-negative "
                  "integer";
      out[op.trim()].push_back({key.str(), v});
    }
  }
  return out;
}

struct MsaAssignTilesPass
    : msa::impl::MsaAssignTilesPassBase<MsaAssignTilesPass> {
  using Base::Base;

  void runOnOperation() override {
    TargetInfo info;
    if (!TargetInfo::parse(target, cpu, info)) {
      getOperation().emitError()
          << "msa-assign-tiles: target '" << target
          << "' has no tile table (targets: cpu, cuda:sm_90)";
      return signalPassFailure();
    }
    FailureOr<Overrides> overridden =
        parseOverrides(overrides, getOperation());
    if (failed(overridden))
      return signalPassFailure();
    Builder b(&getContext());
    bool cuda = info.kind == TargetInfo::Kind::kCuda;
    getOperation().walk([&](Operation *op) {
      if (!isKernelOp(op) || op->hasAttr(kTilesAttr))
        return;
      auto [family, inner] = tileFamilyOf(op);
      KernelTiles t =
          chooseTiles(info, family, inner, tensorCoreGroupOf(op));
      auto i64 = [&](int64_t v) { return b.getI64IntegerAttr(v); };
      SmallVector<NamedAttribute> tiles{
          b.getNamedAttr("vector_width", i64(t.vectorWidth))};
      if (cuda) {
        tiles.push_back(b.getNamedAttr("threads", i64(t.threads)));
        tiles.push_back(b.getNamedAttr("rows_per_block", i64(t.rowsPerBlock)));
        tiles.push_back(b.getNamedAttr("block_m", i64(t.blockM)));
        tiles.push_back(b.getNamedAttr("block_n", i64(t.blockN)));
        if (t.tensorCores)
          tiles.push_back(b.getNamedAttr("tensor_cores", i64(1)));
        if (t.warpgroupMma)
          tiles.push_back(b.getNamedAttr("wgmma", i64(1)));
        if (t.ringStages > 0)
          tiles.push_back(b.getNamedAttr("stages", i64(t.ringStages)));
        if (t.keySplits > 1)
          tiles.push_back(b.getNamedAttr("key_splits", i64(t.keySplits)));
      } else {
        tiles.push_back(b.getNamedAttr("block_k", i64(t.blockK)));
      }
      auto it = overridden->find(op->getName().stripDialect());
      if (it != overridden->end())
        for (const auto &[key, value] : it->second) {
          llvm::erase_if(tiles, [&](NamedAttribute a) {
            return a.getName() == key;
          });
          tiles.push_back(b.getNamedAttr(key, i64(value)));
        }
      op->setAttr(kTilesAttr, b.getDictionaryAttr(tiles));
    });
  }
};

} // namespace
