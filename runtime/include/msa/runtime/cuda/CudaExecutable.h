//===- CudaExecutable.h - the kernels of a cuda bundle, loaded --*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The cuda counterpart of CpuExecutable: loads a cuda bundle's module
// (cubin, or PTX where the cubin does not fit the card), resolves every
// kernel the manifest names, and launches kernels on the device's stream
// with the CUDA kernel ABI of ArtifactFormat.h. Packing the parameters and
// sizing the grid need no GPU (packCudaLaunch), so CPU-only CI tests them.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_CUDA_CUDAEXECUTABLE_H
#define MSA_RUNTIME_CUDA_CUDAEXECUTABLE_H

#include "msa/runtime/Bundle.h"
#include "msa/runtime/Tensor.h"
#include "msa/runtime/cuda/CudaDevice.h"
#include "msa/runtime/cuda/CudaModule.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace msa::runtime {

/// Everything one launch needs: the kernel parameters and the launch shape.
struct CudaLaunchParams {
  /// The kernel's parameters, 8 bytes each: per argument its memref
  /// descriptor flattened (allocated, aligned, offset 0, sizes, row-major
  /// strides), operands then results.
  std::vector<int64_t> fields;
  /// Work items (product of the grid terms' factors); no launch when 0.
  int64_t items = 0;
  int64_t gridX = 0; ///< ceil(items / items_per_block).
  int64_t blockX = 0;
  int64_t sharedBytes = 0;

  /// One pointer per field, as cuLaunchKernel takes them; valid while this
  /// object is alive and `fields` unchanged.
  std::vector<void *> kernelParams();
};

/// Checks `args` against kernel `k` (count, placement, dtype, rank, static
/// dimensions) and packs its launch. Errors name the kernel and argument,
/// as CpuExecutable::launch's do.
StatusOr<CudaLaunchParams>
packCudaLaunch(const KernelSpec &k, const std::vector<const Tensor *> &args);

class CudaExecutable {
public:
  /// Loads `bundle`'s cuda module on `device` and resolves every kernel
  /// symbol; errors name the bundle and, for a missing symbol, the kernel.
  /// `bundle` and `device` must outlive the executable.
  static StatusOr<std::unique_ptr<CudaExecutable>> load(const Bundle &bundle,
                                                        CudaDevice &device);

  /// Queues kernel `kernelIndex` on `args` (cuda tensors: operands then
  /// results, the manifest's order) over all its work items.
  Status launch(size_t kernelIndex,
                const std::vector<const Tensor *> &args) const;

  /// Whether the PTX was compiled because the cubin did not fit the card.
  bool usedPtxJit() const { return module_->usedPtxJit(); }
  CudaModule &module() const { return *module_; }
  CudaDevice &device() const { return *device_; }

private:
  CudaExecutable() = default;
  const Bundle *bundle_ = nullptr;
  CudaDevice *device_ = nullptr;
  std::unique_ptr<CudaModule> module_;
  std::vector<CudaFunction *> functions_;
};

} // namespace msa::runtime

#endif // MSA_RUNTIME_CUDA_CUDAEXECUTABLE_H
