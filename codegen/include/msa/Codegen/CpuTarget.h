//===- CpuTarget.h - from lowered kernels to a shared object ----*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The cpu target after msa-lower-kernels-to-loops: the upstream conversions
// to the LLVM dialect, translation to LLVM IR, optimisation and object
// emission with an LLVM TargetMachine, and the link into the shared object
// a cpu bundle carries (ArtifactFormat.h: kernels exported with the MLIR C
// interface).
//
//===----------------------------------------------------------------------===//

#ifndef MSA_CODEGEN_CPUTARGET_H
#define MSA_CODEGEN_CPUTARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

#include <memory>
#include <string>
#include <vector>

namespace msa::codegen {

struct CpuTargetOptions {
  /// LLVM CPU name; "native" means this machine's.
  std::string cpu = "x86-64-v3";
  std::string triple = "x86_64-unknown-linux-gnu";
  unsigned optLevel = 3;
  /// C compiler driver that links the shared object.
  std::string linker = "cc";
};

/// The CPU name `options.cpu` stands for ("native" resolved).
std::string resolveCpuName(const CpuTargetOptions &options);

/// Outlined kernels (msa.kernel functions) to loops, then to the LLVM
/// dialect. Entry functions must be gone (plans extracted) first.
void buildCpuLowerToLlvmPipeline(mlir::OpPassManager &pm);

/// Translates an LLVM-dialect module to LLVM IR optimised for the target.
mlir::FailureOr<std::unique_ptr<llvm::Module>>
translateToLlvmIr(mlir::ModuleOp module, llvm::LLVMContext &context,
                  const CpuTargetOptions &options);

/// Machine code for `module`: an ELF object, or assembly text.
mlir::FailureOr<std::string> emitMachineCode(llvm::Module &module,
                                             const CpuTargetOptions &options,
                                             bool assembly);

/// Links an object file into a shared object with the target's C driver.
/// `error` says why on failure.
mlir::FailureOr<std::vector<uint8_t>>
linkSharedObject(const std::string &object, const CpuTargetOptions &options,
                 std::string &error);

} // namespace msa::codegen

#endif // MSA_CODEGEN_CPUTARGET_H
