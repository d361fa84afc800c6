//===- LowerKernelsToLoops.cpp - cpu lowering of outlined kernels ---------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/Codegen/Passes.h"

#include "Emitters.h"

#include "msa/Dialect/MsaOps.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "llvm/ADT/TypeSwitch.h"

namespace msa {
#define GEN_PASS_DEF_MSALOWERKERNELSTOLOOPSPASS
#include "msa/Codegen/Passes.h.inc"
} // namespace msa

using namespace mlir;
using namespace msa;
using namespace msa::codegen;
using namespace msa::codegen::cpu;

namespace msa::codegen::cpu {

LogicalResult emitKernel(Operation *op, const KernelArgs &args, Emitter &e) {
  if (succeeded(emitRowwise(op, args, e)) ||
      succeeded(emitAttention(op, args, e)) ||
      succeeded(emitRouting(op, args, e)))
    return success();
  if (!isa<RmsNormOp, SwiGluOp, EmbeddingOp, RopeOp, ChunkOffsetsOp,
           ChunkPoolOp, EncodeDocsOp, MemoryAttentionOp, RouteTopKOp,
           TopKMergeOp, RouteScoresOp, DocReduceOp, TopKOp, arith::AddFOp,
           arith::SubFOp, arith::MulFOp>(op))
    return op->emitOpError() << "has no cpu kernel lowering (run "
                                "msa-form-kernels and the fusion passes first)";
  return failure(); // the emitter reported why
}

} // namespace msa::codegen::cpu

namespace {

/// The kernel op of an outlined function: the op reading the arguments'
/// to_tensor values.
Operation *findKernelOp(func::FuncOp fn) {
  Operation *found = nullptr;
  fn.walk([&](Operation *op) {
    if (!isa<bufferization::ToTensorOp, bufferization::MaterializeInDestinationOp,
             func::ReturnOp>(op) &&
        op->getParentOp() == fn.getOperation())
      found = op;
  });
  return found;
}

struct MsaLowerKernelsToLoopsPass
    : msa::impl::MsaLowerKernelsToLoopsPassBase<MsaLowerKernelsToLoopsPass> {
  void runOnOperation() override {
    for (auto fn : llvm::make_early_inc_range(
             getOperation().getOps<func::FuncOp>())) {
      if (!fn->hasAttr("msa.kernel"))
        continue;
      Operation *op = findKernelOp(fn);
      if (!op)
        continue; // already lowered
      Block &body = fn.getBody().front();
      KernelArgs args;
      for (Value operand : op->getOperands()) {
        auto t = operand.getDefiningOp<bufferization::ToTensorOp>();
        if (!t) {
          op->emitOpError() << "operand is not a kernel argument";
          return signalPassFailure();
        }
        args.operands.push_back(t.getBuffer());
      }
      SmallVector<Operation *> materialize;
      for (Value result : op->getResults())
        for (Operation *user : result.getUsers())
          if (auto m = dyn_cast<bufferization::MaterializeInDestinationOp>(user)) {
            args.results.push_back(m.getDest());
            materialize.push_back(m);
          }
      if (args.results.size() != op->getNumResults()) {
        op->emitOpError() << "results are not all written to kernel arguments";
        return signalPassFailure();
      }
      unsigned n = body.getNumArguments();
      args.begin = body.getArgument(n - 2);
      args.end = body.getArgument(n - 1);

      OpBuilder b(op);
      Emitter e(b, op->getLoc());
      if (failed(emitKernel(op, args, e)))
        return signalPassFailure();
      for (Operation *m : materialize)
        m->erase();
      SmallVector<Operation *> toTensors;
      for (Value operand : op->getOperands())
        toTensors.push_back(operand.getDefiningOp());
      op->erase();
      for (Operation *t : toTensors)
        if (t->use_empty())
          t->erase();
    }
  }
};

} // namespace
