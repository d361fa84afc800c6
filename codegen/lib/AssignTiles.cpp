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
    if (target != "cpu") {
      getOperation().emitError()
          << "msa-assign-tiles: target '" << target
          << "' has no tile table yet (targets: cpu)";
      return signalPassFailure();
    }
    TargetInfo info = TargetInfo::cpu(cpu);
    Builder b(&getContext());
    getOperation().walk([&](Operation *op) {
      if (!isKernelOp(op) || op->hasAttr(kTilesAttr))
        return;
      auto [family, inner] = tileFamilyOf(op);
      KernelTiles t = chooseTiles(info, family, inner);
      SmallVector<NamedAttribute> tiles{
          b.getNamedAttr("vector_width", b.getI64IntegerAttr(t.vectorWidth)),
          b.getNamedAttr("block_k", b.getI64IntegerAttr(t.blockK))};
      op->setAttr(kTilesAttr, b.getDictionaryAttr(tiles));
    });
  }
};

} // namespace
