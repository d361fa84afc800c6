//===- CudaTarget.h - from gpu kernels to PTX and cubin ---------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The cuda target after msa-lower-kernels-to-gpu: the upstream conversions
// of the gpu.module to NVVM, PTX through LLVM's NVPTX backend (no CUDA
// toolkit needed), and a cubin through the toolkit's ptxas when one is
// found. A cuda bundle carries both (ArtifactFormat.h).
//
//===----------------------------------------------------------------------===//

#ifndef MSA_CODEGEN_CUDATARGET_H
#define MSA_CODEGEN_CUDATARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

#include <cstdint>
#include <string>
#include <vector>

namespace msa::codegen {

struct CudaTargetOptions {
  /// The chip ("sm_90").
  std::string chip = "sm_90";
  unsigned optLevel = 3;
};

/// The PTX target and ptxas architecture of `chip`: sm_90 kernels use
/// Hopper's arch-specific instructions (wgmma), so they are built for
/// sm_90a, which every sm_90 card (H100, H200) runs and no other; the
/// bundle still names the chip.
std::string ptxArchOf(const std::string &chip);

/// The gpu.module of outlined kernels to the LLVM dialect with NVVM ops.
/// Entry and kernel func.funcs must be gone (plans extracted) first.
void buildCudaLowerToNvvmPipeline(mlir::OpPassManager &pm,
                                  const CudaTargetOptions &options);

/// The PTX of the (NVVM-lowered) gpu.module @msa_kernels of `module`.
mlir::FailureOr<std::string> serializeToPtx(mlir::ModuleOp module,
                                            const CudaTargetOptions &options);

/// The ptxas to use: `requested` if not empty, else $CUDA_HOME/bin/ptxas,
/// /usr/local/cuda/bin/ptxas or ptxas on PATH; empty if none exists.
std::string findPtxas(const std::string &requested);

/// Assembles PTX into a cubin for `options.chip` with `ptxas`; `error` says
/// why on failure, `log` gets ptxas's resource report.
mlir::FailureOr<std::vector<uint8_t>>
assembleCubin(const std::string &ptx, const std::string &ptxas,
              const CudaTargetOptions &options, std::string &error,
              std::string &log);

} // namespace msa::codegen

#endif // MSA_CODEGEN_CUDATARGET_H
