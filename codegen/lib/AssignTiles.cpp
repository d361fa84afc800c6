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
      } else {
        tiles.push_back(b.getNamedAttr("block_k", i64(t.blockK)));
      }
      op->setAttr(kTilesAttr, b.getDictionaryAttr(tiles));
    });
  }
};

} // namespace
