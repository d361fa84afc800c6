//===- CpuTarget.cpp - from lowered kernels to a shared object ------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/Codegen/CpuTarget.h"

#include "msa/Codegen/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Dialect/Affine/Transforms/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;

namespace msa::codegen {

std::string resolveCpuName(const CpuTargetOptions &options) {
  return options.cpu == "native" ? llvm::sys::getHostCPUName().str()
                                 : options.cpu;
}

void buildCpuLowerToLlvmPipeline(OpPassManager &pm) {
  pm.addPass(createMsaLowerKernelsToLoopsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // bf16 conversions become integer arithmetic: no dependence on the host
  // compiler runtime's __truncsfbf2 or on AVX512-BF16.
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(affine::createAffineExpandIndexOpsPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

namespace {

llvm::TargetMachine *targetMachine(const CpuTargetOptions &options,
                                   std::string &error) {
  static bool initialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)initialized;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(llvm::Triple(options.triple), error);
  if (!target)
    return nullptr;
  std::string cpu = resolveCpuName(options);
  std::string features;
  if (options.cpu == "native") {
    llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
    for (auto &f : host)
      features += (features.empty() ? "" : ",") +
                  std::string(f.second ? "+" : "-") + f.first().str();
  }
  llvm::TargetOptions to;
  return target->createTargetMachine(llvm::Triple(options.triple), cpu,
                                     features, to, llvm::Reloc::PIC_,
                                     std::nullopt,
                                     llvm::CodeGenOptLevel::Aggressive);
}

/// The compiler-runtime routine x86 code generation calls to round f32 to
/// bf16 when the CPU has no conversion instruction. GCC before 13 ships no
/// __truncsfbf2, so each kernel library carries its own (hidden, round to
/// nearest even, NaN kept quiet) and never depends on the host's runtime.
void addTruncSfBf2(llvm::Module &module) {
  if (module.getFunction("__truncsfbf2"))
    return;
  llvm::LLVMContext &ctx = module.getContext();
  llvm::Type *f32 = llvm::Type::getFloatTy(ctx);
  llvm::Type *bf16 = llvm::Type::getBFloatTy(ctx);
  llvm::Type *i32 = llvm::Type::getInt32Ty(ctx);
  llvm::Type *i16 = llvm::Type::getInt16Ty(ctx);
  auto *fn = llvm::Function::Create(llvm::FunctionType::get(bf16, {f32}, false),
                                    llvm::GlobalValue::ExternalLinkage,
                                    "__truncsfbf2", module);
  fn->setVisibility(llvm::GlobalValue::HiddenVisibility);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", fn));
  llvm::Value *x = fn->getArg(0);
  llvm::Value *bits = b.CreateBitCast(x, i32);
  llvm::Value *lsb = b.CreateAnd(b.CreateLShr(bits, 16), 1);
  llvm::Value *rounded =
      b.CreateLShr(b.CreateAdd(bits, b.CreateAdd(lsb, b.getInt32(0x7fff))), 16);
  llvm::Value *quiet = b.CreateOr(b.CreateLShr(bits, 16), 0x40);
  llvm::Value *isNan = b.CreateFCmpUNO(x, x);
  llvm::Value *r = b.CreateSelect(isNan, quiet, rounded);
  b.CreateRet(b.CreateBitCast(b.CreateTrunc(r, i16), bf16));
}

} // namespace

FailureOr<std::unique_ptr<llvm::Module>>
translateToLlvmIr(ModuleOp module, llvm::LLVMContext &context,
                  const CpuTargetOptions &options) {
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  module->getContext()->appendDialectRegistry(registry);
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, context, "msa_kernels");
  if (!llvmModule)
    return module.emitError("translation to LLVM IR failed");
  std::string error;
  std::unique_ptr<llvm::TargetMachine> tm(targetMachine(options, error));
  if (!tm)
    return module.emitError("no LLVM target for '")
           << options.triple << "': " << error;
  llvmModule->setTargetTriple(llvm::Triple(options.triple));
  llvmModule->setDataLayout(tm->createDataLayout());
  auto optimize =
      makeOptimizingTransformer(options.optLevel, /*sizeLevel=*/0, tm.get());
  if (llvm::Error err = optimize(llvmModule.get())) {
    std::string msg = llvm::toString(std::move(err));
    return module.emitError("LLVM optimisation failed: ") << msg;
  }
  addTruncSfBf2(*llvmModule);
  return llvmModule;
}

FailureOr<std::string> emitMachineCode(llvm::Module &module,
                                       const CpuTargetOptions &options,
                                       bool assembly) {
  std::string error;
  std::unique_ptr<llvm::TargetMachine> tm(targetMachine(options, error));
  if (!tm)
    return failure();
  llvm::SmallString<0> out;
  llvm::raw_svector_ostream os(out);
  llvm::legacy::PassManager pm;
  if (tm->addPassesToEmitFile(pm, os, nullptr,
                              assembly ? llvm::CodeGenFileType::AssemblyFile
                                       : llvm::CodeGenFileType::ObjectFile))
    return failure();
  pm.run(module);
  return std::string(out.str());
}

FailureOr<std::vector<uint8_t>>
linkSharedObject(const std::string &object, const CpuTargetOptions &options,
                 std::string &error) {
  llvm::ErrorOr<std::string> driver =
      llvm::sys::findProgramByName(options.linker);
  if (!driver) {
    error = "cannot find the linker driver '" + options.linker + "' on PATH";
    return failure();
  }
  llvm::SmallString<128> objPath, soPath;
  int fd;
  if (llvm::sys::fs::createTemporaryFile("msa-kernels", "o", fd, objPath) ||
      llvm::sys::fs::createTemporaryFile("msa-kernels", "so", soPath)) {
    error = "cannot create temporary files";
    return failure();
  }
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << object;
  }
  // The kernels call libm (exp, cos, sin, pow) and malloc; the runtime
  // process provides both.
  llvm::SmallVector<llvm::StringRef> args{*driver, "-shared", "-o", soPath,
                                          objPath, "-lm"};
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(*driver, args, std::nullopt, {}, 0, 0,
                                     &message);
  std::vector<uint8_t> bytes;
  if (rc == 0) {
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> so =
        llvm::MemoryBuffer::getFile(soPath, /*IsText=*/false);
    if (so)
      bytes.assign((*so)->getBufferStart(), (*so)->getBufferEnd());
    else
      error = "cannot read the linked shared object";
  } else {
    error = options.linker + " -shared failed (exit " + std::to_string(rc) +
            ")" + (message.empty() ? "" : ": " + message);
  }
  llvm::sys::fs::remove(objPath);
  llvm::sys::fs::remove(soPath);
  if (bytes.empty())
    return failure();
  return bytes;
}

} // namespace msa::codegen
