//===- CudaModule.h - a loaded CUDA module and its kernels ------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A cuda bundle carries its kernels twice (ArtifactFormat.h): as a cubin for
// the chip it was compiled for, which loads at once, and as PTX, which the
// driver compiles for whatever card is present. CudaModule tries the cubin
// first and falls back to the PTX only when the driver says the cubin does
// not fit this card, so a genuine failure (out of memory, say) is not hidden
// behind a slow JIT.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_CUDA_CUDAMODULE_H
#define MSA_RUNTIME_CUDA_CUDAMODULE_H

#include "msa/runtime/ArtifactFormat.h"
#include "msa/runtime/Status.h"
#include "msa/runtime/cuda/CudaDevice.h"
#include "msa/runtime/cuda/CudaDriver.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace msa::runtime {

/// Most blocks in a launch's x dimension (2^31 - 1, every architecture).
inline constexpr int64_t kCudaMaxGridX = 2147483647;
/// Bytes kept of the PTX JIT's error log; its first line goes in errors.
inline constexpr size_t kCudaJitLogBytes = 16 * 1024;

/// A kernel of a CudaModule, owned by it.
class CudaFunction {
public:
  const std::string &name() const { return name_; }
  cuda::CUfunction handle() const { return handle_; }

private:
  friend class CudaModule;
  CudaFunction(std::string name, cuda::CUfunction handle)
      : name_(std::move(name)), handle_(handle),
        sharedLimit_(artifact::kCudaDefaultSharedBytes) {}
  std::string name_;
  cuda::CUfunction handle_;
  /// The dynamic shared memory the kernel may use now; raised on demand.
  std::atomic<int64_t> sharedLimit_;
};

class CudaModule {
public:
  /// Loads a module on `device` from `cubin` (may be empty) or else `ptx`
  /// (may be empty, not both). The cubin is used unless the driver rejects
  /// it as not fitting the card (CUDA_ERROR_NO_BINARY_FOR_GPU,
  /// CUDA_ERROR_INVALID_IMAGE, CUDA_ERROR_INVALID_PTX,
  /// CUDA_ERROR_INVALID_SOURCE, CUDA_ERROR_UNSUPPORTED_PTX_VERSION); then
  /// the PTX is compiled, and a failure names the first line of the JIT
  /// log. Errors start with `name` (the bundle's path).
  static StatusOr<std::unique_ptr<CudaModule>> load(CudaDevice &device,
                                                    const std::string &name,
                                                    std::string_view cubin,
                                                    std::string_view ptx);
  ~CudaModule();
  CudaModule(const CudaModule &) = delete;
  CudaModule &operator=(const CudaModule &) = delete;

  /// Whether the PTX was compiled (the cubin was absent or rejected).
  bool usedPtxJit() const { return usedPtxJit_; }
  /// Why the cubin was rejected ("CUDA_ERROR_NO_BINARY_FOR_GPU"), or empty.
  const std::string &cubinRejection() const { return cubinRejection_; }

  /// The kernel `symbol`, looked up once; notFound() if the module has none.
  StatusOr<CudaFunction *> function(const std::string &symbol);

  /// Launches `fn` on the device's stream with `gridX` blocks (none when
  /// 0) of `blockX` threads and `sharedBytes` of dynamic shared memory,
  /// raising the kernel's limit first above the default 48 KiB. `params`
  /// points at each kernel parameter, as cuLaunchKernel takes them.
  Status launch(CudaFunction &fn, int64_t gridX, int64_t blockX,
                int64_t sharedBytes, void **params);

  CudaDevice &device() const { return device_; }

private:
  CudaModule(CudaDevice &device, std::string name)
      : device_(device), name_(std::move(name)) {}

  CudaDevice &device_;
  std::string name_;
  cuda::CUmodule module_ = nullptr;
  bool usedPtxJit_ = false;
  std::string cubinRejection_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<CudaFunction>> functions_;
};

} // namespace msa::runtime

#endif // MSA_RUNTIME_CUDA_CUDAMODULE_H
