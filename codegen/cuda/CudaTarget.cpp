//===- CudaTarget.cpp - from gpu kernels to PTX and cubin -----------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/Codegen/CudaTarget.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"

#include <cstdlib>

using namespace mlir;

namespace msa::codegen {

std::string ptxArchOf(const std::string &chip) {
  return chip == "sm_90" ? "sm_90a" : chip;
}

void buildCudaLowerToNvvmPipeline(OpPassManager &pm,
                                  const CudaTargetOptions &options) {
  GpuNVVMAttachTargetOptions target;
  target.chip = ptxArchOf(options.chip);
  // PTX ISA 8.0 is the first with wgmma and fence.proxy.async.
  target.features = "+ptx80";
  target.optLevel = options.optLevel;
  pm.addPass(createGpuNVVMAttachTarget(target));
  OpPassManager &gm = pm.nest<gpu::GPUModuleOp>();
  gm.addPass(createCanonicalizerPass());
  gm.addPass(createCSEPass());
  gm.addPass(createSCFToControlFlowPass());
  // fma and the other math ops as LLVM intrinsics before the NVVM patterns
  // would send them to libdevice.
  gm.addPass(createConvertMathToLLVMPass());
  gm.addPass(memref::createExpandStridedMetadataPass());
  gm.addPass(createLowerAffinePass());
  gm.addPass(createConvertGpuOpsToNVVMOps());
  gm.addPass(createCanonicalizerPass());
  gm.addPass(createCSEPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

FailureOr<std::string> serializeToPtx(ModuleOp module,
                                      const CudaTargetOptions &options) {
  (void)options;
  PassManager pm(module.getContext());
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = "isa";
  pm.addPass(createGpuModuleToBinaryPass(binary));
  if (failed(pm.run(module)))
    return failure();
  for (auto bin : module.getOps<gpu::BinaryOp>()) {
    if (bin.getName() != "msa_kernels")
      continue;
    for (Attribute a : bin.getObjects())
      if (auto object = dyn_cast<gpu::ObjectAttr>(a))
        return object.getObject().getValue().str();
  }
  return module.emitError() << "no PTX was produced for @msa_kernels";
}

std::string findPtxas(const std::string &requested) {
  if (!requested.empty())
    return requested;
  std::vector<std::string> candidates;
  if (const char *home = std::getenv("CUDA_HOME"))
    candidates.push_back(std::string(home) + "/bin/ptxas");
  candidates.push_back("/usr/local/cuda/bin/ptxas");
  for (const std::string &c : candidates)
    if (llvm::sys::fs::can_execute(c))
      return c;
  if (llvm::ErrorOr<std::string> p = llvm::sys::findProgramByName("ptxas"))
    return *p;
  return "";
}

FailureOr<std::vector<uint8_t>>
assembleCubin(const std::string &ptx, const std::string &ptxas,
              const CudaTargetOptions &options, std::string &error,
              std::string &log) {
  llvm::SmallString<128> in, out, err;
  auto cleanup = [&] {
    for (const auto &p : {in, out, err})
      if (!p.empty())
        llvm::sys::fs::remove(p);
  };
  if (llvm::sys::fs::createTemporaryFile("msa-kernels", "ptx", in) ||
      llvm::sys::fs::createTemporaryFile("msa-kernels", "cubin", out) ||
      llvm::sys::fs::createTemporaryFile("msa-ptxas", "log", err)) {
    cleanup();
    error = "cannot create temporary files for ptxas";
    return failure();
  }
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(in, ec);
    if (ec) {
      cleanup();
      error = "cannot write " + in.str().str() + ": " + ec.message();
      return failure();
    }
    os << ptx;
  }
  std::string arch = "-arch=" + ptxArchOf(options.chip);
  std::string opt = "-O" + std::to_string(options.optLevel);
  llvm::SmallVector<llvm::StringRef> argv{ptxas, arch, opt, "-v", in, "-o",
                                          out};
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, err.str(),
                                                err.str()};
  std::string execError;
  int rc = llvm::sys::ExecuteAndWait(ptxas, argv, std::nullopt, redirects, 0, 0,
                                     &execError);
  if (auto buf = llvm::MemoryBuffer::getFile(err))
    log = (*buf)->getBuffer().str();
  if (rc != 0) {
    std::string first = log.substr(0, log.find('\n'));
    error = ptxas + " failed" +
            (!execError.empty() ? ": " + execError
                                : (first.empty() ? "" : ": " + first));
    cleanup();
    return failure();
  }
  auto buf = llvm::MemoryBuffer::getFile(out, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (!buf) {
    error = "cannot read the cubin ptxas wrote";
    cleanup();
    return failure();
  }
  std::vector<uint8_t> bytes((*buf)->getBufferStart(), (*buf)->getBufferEnd());
  cleanup();
  return bytes;
}

} // namespace msa::codegen
