//===- LowerKernelsToGpu.cpp - cuda lowering of outlined kernels ----------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/Codegen/Passes.h"

#include "GpuEmitters.h"

#include "msa/Codegen/HardwareLimits.h"
#include "msa/Codegen/KernelInterface.h"
#include "msa/Dialect/MsaOps.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"

namespace msa {
#define GEN_PASS_DEF_MSALOWERKERNELSTOGPUPASS
#include "msa/Codegen/Passes.h.inc"
} // namespace msa

using namespace mlir;
using namespace msa;
using namespace msa::codegen;
using namespace msa::codegen::cuda;

namespace msa::codegen::cuda {

LogicalResult emitGpuKernel(Operation *op, const GpuKernelArgs &args,
                            GpuEmitter &e, Launch &launch) {
  if (succeeded(emitGpuRowwise(op, args, e, launch)) ||
      succeeded(emitGpuAttention(op, args, e, launch)) ||
      succeeded(emitGpuRouting(op, args, e, launch)))
    return success();
  if (!isa<RmsNormOp, SwiGluOp, EmbeddingOp, RopeOp, ChunkOffsetsOp,
           ChunkPoolOp, EncodeDocsOp, MemoryAttentionOp, RouteTopKOp,
           TopKMergeOp, RouteScoresOp, DocReduceOp, TopKOp, arith::AddFOp,
           arith::SubFOp, arith::MulFOp>(op))
    return op->emitOpError()
           << "has no cuda kernel lowering (run msa-form-kernels and the "
              "fusion passes first)";
  return failure(); // the emitter reported why
}

} // namespace msa::codegen::cuda

namespace {

/// The kernel op of an outlined function: the op reading the arguments'
/// to_tensor values.
Operation *findKernelOp(func::FuncOp fn) {
  Operation *found = nullptr;
  fn.walk([&](Operation *op) {
    if (!isa<bufferization::ToTensorOp,
             bufferization::MaterializeInDestinationOp, func::ReturnOp>(op) &&
        op->getParentOp() == fn.getOperation())
      found = op;
  });
  return found;
}

/// The function argument a kernel op's operand or result buffer is.
FailureOr<unsigned> argumentOf(Value buffer, Operation *op) {
  auto arg = dyn_cast<BlockArgument>(buffer);
  if (!arg)
    return op->emitOpError() << "reads or writes a buffer that is not a "
                                "kernel argument";
  return arg.getArgNumber();
}

struct MsaLowerKernelsToGpuPass
    : msa::impl::MsaLowerKernelsToGpuPassBase<MsaLowerKernelsToGpuPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    OpBuilder b(ctx);
    gpu::GPUModuleOp gpuModule;
    for (auto m : module.getOps<gpu::GPUModuleOp>())
      if (m.getName() == "msa_kernels")
        gpuModule = m;

    for (auto fn : module.getOps<func::FuncOp>()) {
      if (!fn->hasAttr("msa.kernel") || fn->hasAttr("msa.launch"))
        continue;
      Operation *op = findKernelOp(fn);
      if (!op) {
        fn.emitError() << "kernel function without a kernel op";
        return signalPassFailure();
      }
      if (!gpuModule) {
        module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                        UnitAttr::get(ctx));
        b.setInsertionPointToEnd(module.getBody());
        gpuModule = gpu::GPUModuleOp::create(b, module.getLoc(), "msa_kernels");
      }

      // The gpu.func takes the kernel's buffers; the work-item range of the
      // cpu calling convention has no meaning on the GPU.
      unsigned numBuffers = fn.getNumArguments() - 2;
      SmallVector<Type> inputs(fn.getArgumentTypes().take_front(numBuffers));
      int64_t threads = tileOf(op, "threads", 0);
      if (threads <= 0 || threads % kWarpSize != 0 || threads > 1024) {
        op->emitOpError() << "needs cuda tiles (msa.tiles threads a multiple "
                             "of 32 up to 1024; run msa-assign-tiles "
                             "target=cuda:sm_90)";
        return signalPassFailure();
      }
      b.setInsertionPointToEnd(gpuModule.getBody());
      auto gfn = gpu::GPUFuncOp::create(b, fn.getLoc(), fn.getSymName(),
                                        FunctionType::get(ctx, inputs, {}));
      gfn->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), UnitAttr::get(ctx));
      gfn.setKnownBlockSizeAttr(DenseI32ArrayAttr::get(
          ctx, {static_cast<int32_t>(threads), 1, 1}));
      Block &entry = gfn.getBody().front();
      b.setInsertionPointToEnd(&entry);
      auto ret = gpu::ReturnOp::create(b, fn.getLoc());
      b.setInsertionPoint(ret);

      GpuKernelArgs args;
      for (Value operand : op->getOperands()) {
        auto t = operand.getDefiningOp<bufferization::ToTensorOp>();
        if (!t) {
          op->emitOpError() << "operand is not a kernel argument";
          return signalPassFailure();
        }
        FailureOr<unsigned> n = argumentOf(t.getBuffer(), op);
        if (failed(n))
          return signalPassFailure();
        args.operands.push_back(entry.getArgument(*n));
      }
      for (Value result : op->getResults())
        for (Operation *user : result.getUsers())
          if (auto m =
                  dyn_cast<bufferization::MaterializeInDestinationOp>(user)) {
            FailureOr<unsigned> n = argumentOf(m.getDest(), op);
            if (failed(n))
              return signalPassFailure();
            args.results.push_back(entry.getArgument(*n));
          }
      if (args.results.size() != op->getNumResults()) {
        op->emitOpError() << "results are not all written to kernel arguments";
        return signalPassFailure();
      }

      GpuEmitter e(b, op->getLoc(), gpuModule, threads);
      Launch launch;
      launch.threads = threads;
      if (failed(emitGpuKernel(op, args, e, launch)))
        return signalPassFailure();
      if (e.sharedBytes() > kSm90MaxSmemPerBlockBytes) {
        op->emitOpError() << "needs " << e.sharedBytes()
                          << " bytes of shared memory, more than the "
                          << kSm90MaxSmemPerBlockBytes << " of sm_90";
        return signalPassFailure();
      }

      SmallVector<NamedAttribute> l{
          b.getNamedAttr("threads", b.getI64IntegerAttr(launch.threads)),
          b.getNamedAttr("items_per_block",
                         b.getI64IntegerAttr(launch.itemsPerBlock)),
          b.getNamedAttr("shared_bytes", b.getI64IntegerAttr(e.sharedBytes()))};
      fn->setAttr("msa.launch", b.getDictionaryAttr(l));
      SmallVector<Attribute> grid;
      for (const Launch::Term &t : launch.grid)
        grid.push_back(t.div == 1 ? b.getDenseI64ArrayAttr({t.arg, t.dim, t.add})
                                  : b.getDenseI64ArrayAttr(
                                        {t.arg, t.dim, t.add, t.div}));
      fn->setAttr("msa.grid", b.getArrayAttr(grid));
    }
  }
};

} // namespace
