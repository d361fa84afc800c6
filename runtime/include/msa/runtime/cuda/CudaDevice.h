//===- CudaDevice.h - one CUDA device: memory, copies, stream ---*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A device opened through the driver API: its primary context (so that
// cuBLASLt, which uses the CUDA runtime, shares it), one non-blocking stream
// on which every copy, kernel and GEMM is ordered, device memory as cuda
// Tensors, pinned host memory, and events for timing.
//
// The plan interpreter allocates and frees buffers at every step, while
// cuMemAlloc is slow and cuMemFree waits for the whole device, so freed
// device blocks are kept in free lists by size class and handed out again.
// Reuse is safe without events because all work is on the one stream: the
// next owner's work is queued after the previous owner's.
//
// MSA_CUDA_SYNC=1 synchronizes after every kernel launch so that a fault is
// reported by the launch that caused it rather than by a later call.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_CUDA_CUDADEVICE_H
#define MSA_RUNTIME_CUDA_CUDADEVICE_H

#include "msa/runtime/Status.h"
#include "msa/runtime/Tensor.h"
#include "msa/runtime/cuda/CudaDriver.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace msa::runtime {

/// What CudaDevice::open read about the device.
struct CudaDeviceProperties {
  int ordinal = 0;
  std::string name;     ///< "NVIDIA H100 80GB HBM3".
  int computeMajor = 0; ///< 9 for sm_90.
  int computeMinor = 0;
  int multiprocessors = 0; ///< SM count.
  size_t totalMemory = 0;  ///< Bytes.
  size_t freeMemory = 0;   ///< Bytes free when the device was opened.
  /// Most shared memory one block may use once it opts in (227 KiB on
  /// sm_90), static and dynamic together.
  int64_t maxSharedPerBlockOptin = 0;
  int driverVersion = 0; ///< 13000 for CUDA 13.0.

  /// "sm_90".
  std::string chip() const;
};

/// Counters of the caching allocator, for tests and `msa-run bench`.
struct CudaAllocatorStats {
  size_t driverAllocations = 0; ///< cuMemAlloc calls that succeeded.
  size_t reuses = 0;            ///< Allocations served from a free list.
  size_t bytesInUse = 0;        ///< Held by live tensors (size classes).
  size_t bytesCached = 0;       ///< Freed, kept for reuse.
};

class CudaDevice;

/// A CUDA event on a device's stream. Destroy events before their device.
class CudaEvent {
public:
  CudaEvent(CudaEvent &&other) noexcept;
  CudaEvent &operator=(CudaEvent &&other) noexcept;
  ~CudaEvent();

  /// Marks the point the stream has reached.
  Status record();
  /// Milliseconds between `start` and `end` (both recorded), waiting for
  /// `end` to be reached.
  static StatusOr<float> elapsedMs(const CudaEvent &start,
                                   const CudaEvent &end);

private:
  friend class CudaDevice;
  CudaEvent(const CudaDevice *device, cuda::CUevent event)
      : device_(device), event_(event) {}
  const CudaDevice *device_ = nullptr;
  cuda::CUevent event_ = nullptr;
};

class CudaDevice {
public:
  /// Initializes the driver and opens device `ordinal`: its primary context,
  /// made current on this thread, and a non-blocking stream. Unavailable()
  /// when there is no driver or no such device.
  static StatusOr<std::unique_ptr<CudaDevice>> open(int ordinal = 0);
  /// Waits for the stream and gives back cached memory; tensors still alive
  /// keep the context until they are freed.
  ~CudaDevice();
  CudaDevice(const CudaDevice &) = delete;
  CudaDevice &operator=(const CudaDevice &) = delete;

  const cuda::CudaDriver &driver() const { return *driver_; }
  const CudaDeviceProperties &properties() const { return properties_; }
  cuda::CUcontext context() const;
  cuda::CUstream stream() const;
  /// Makes the device's context current on the calling thread (every
  /// member function does this itself; other code calling the driver or
  /// cuBLASLt directly from a new thread needs it).
  Status makeCurrent() const;
  /// Bytes free on the device now.
  StatusOr<size_t> freeMemory() const;

  /// Device memory for a tensor of `dtype` and `shape`, uninitialised. Its
  /// `data` is the CUdeviceptr; freeing the last copy of the tensor returns
  /// the block to the cache.
  StatusOr<Tensor> allocate(DType dtype, std::vector<int64_t> shape);
  /// Page-locked host memory (cuMemAllocHost), for copies that overlap.
  StatusOr<Tensor> allocatePinned(DType dtype, std::vector<int64_t> shape);
  /// Frees every cached block (after waiting for the stream).
  Status trim();
  CudaAllocatorStats allocatorStats() const;
  /// The bytes a request of `bytes` takes, the key of its free list: a
  /// multiple of kMinBlockBytes, rounded up to an eighth of the largest
  /// power of two not above `bytes` but to at most kMaxClassStep. A block
  /// wastes at most 12.5% of the request, or less than kMinBlockBytes.
  static size_t sizeClass(size_t bytes);
  /// Smallest block, also the alignment cuMemAlloc guarantees.
  static constexpr size_t kMinBlockBytes = 256;
  /// Largest rounding step: the driver maps large blocks in 2 MiB pages, so
  /// rounding further would waste memory without saving any.
  static constexpr size_t kMaxClassStep = size_t(2) << 20;

  /// A device copy of host tensor `host`; returns once the copy is done.
  StatusOr<Tensor> upload(const Tensor &host);
  /// A host copy of device tensor `device`, after all queued work.
  StatusOr<Tensor> download(const Tensor &device);
  /// Queues a copy of `src` into `dst` (same byte size, at least one on the
  /// device). Host memory must stay alive and unchanged until the stream
  /// passes the copy, and the copy overlaps other work only if it is pinned.
  Status copyAsync(const Tensor &src, Tensor &dst);
  /// Queues setting every byte of device tensor `t` to `value`.
  Status memsetAsync(Tensor &t, uint8_t value);
  /// Waits for the stream; reports any fault of queued work.
  Status synchronize();

  /// A timing event on this device's stream.
  StatusOr<CudaEvent> createEvent();

  /// Whether MSA_CUDA_SYNC=1 was set when the device was opened.
  bool syncAfterLaunch() const { return syncAfterLaunch_; }
  /// Under MSA_CUDA_SYNC=1 waits for the stream and names `kernel` in any
  /// fault; otherwise does nothing. CudaModule::launch (so CudaExecutable)
  /// and CublasLtGemm::run call it after their launches.
  Status checkLaunch(const std::string &kernel);

private:
  struct State;
  CudaDevice() = default;
  Status checkOnDevice(const Tensor &t, const char *what) const;

  const cuda::CudaDriver *driver_ = nullptr;
  CudaDeviceProperties properties_;
  bool syncAfterLaunch_ = false;
  std::shared_ptr<State> state_;
};

} // namespace msa::runtime

#endif // MSA_RUNTIME_CUDA_CUDADEVICE_H
