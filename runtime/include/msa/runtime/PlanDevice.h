//===- PlanDevice.h - where a plan's steps run ------------------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The HAL of design.md §6 as the plan interpreter sees it: memory for
// buffers, moving tensors to and from the device, kernel launches and
// GEMMs. The cpu device runs kernels over the thread pool and GEMMs through
// the GEMM provider; the cuda device queues them on one stream (kernels
// from the bundle's module, GEMMs through cuBLASLt) and waits only when a
// result goes back to the host.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_PLANDEVICE_H
#define MSA_RUNTIME_PLANDEVICE_H

#include "msa/runtime/Bundle.h"
#include "msa/runtime/Status.h"
#include "msa/runtime/Tensor.h"
#include "msa/runtime/ThreadPool.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace msa::runtime {

class PlanDevice {
public:
  virtual ~PlanDevice() = default;

  /// "cpu" or "cuda".
  virtual const char *name() const = 0;
  /// The GEMM provider's name ("openblas", "cublaslt", ...).
  virtual const char *gemmName() const = 0;

  /// Uninitialised memory for a buffer on this device.
  virtual StatusOr<Tensor> allocate(DType dtype, std::vector<int64_t> shape) = 0;
  /// `t` where this device's kernels read it: itself if it is there, else a
  /// copy.
  virtual StatusOr<Tensor> place(const Tensor &t) = 0;
  /// `t` readable on the host, after the work queued before it.
  virtual StatusOr<Tensor> toHost(const Tensor &t) = 0;
  /// Copies `src` (here or on the host) into `dst` (here, the same byte
  /// size), in order with queued work; host memory may be reused once it
  /// returns.
  virtual Status copyInto(const Tensor &src, Tensor &dst) = 0;

  /// Kernel `index` of the bundle on `args` (operands then results).
  virtual Status launch(size_t index, const std::vector<const Tensor *> &args) = 0;
  /// Queues `work` (a launch or a GEMM) after the queued work and returns
  /// the seconds it ran: what profiling records per plan step. Here host
  /// time around `work` and a synchronize; a device with a clock of its
  /// own times it there.
  virtual StatusOr<double> timed(const std::function<Status()> &work);
  /// c = a bᵀ with f32 accumulation; `weight` says b is a weight, which
  /// the provider may keep converted.
  virtual Status gemm(const Tensor &a, const Tensor &b, Tensor &c,
                      bool weight) = 0;
  /// Waits for queued work and reports its faults.
  virtual Status synchronize() = 0;

  /// This device's memory bandwidth as a large copy measures it, bytes read
  /// plus bytes written per second: the floor benchmarks compare with.
  virtual StatusOr<double> copyBandwidth() = 0;
};

/// Runs `bundle`'s cpu kernels over `pool`.
StatusOr<std::unique_ptr<PlanDevice>>
makeCpuPlanDevice(const Bundle &bundle, ThreadPool &pool, bool builtinGemm);

/// Runs `bundle`'s cuda kernels on CUDA device `ordinal`: the driver is
/// loaded with dlopen, so this fails with Unavailable on a machine without
/// one.
StatusOr<std::unique_ptr<PlanDevice>> makeCudaPlanDevice(const Bundle &bundle,
                                                         int ordinal = 0);

} // namespace msa::runtime

#endif // MSA_RUNTIME_PLANDEVICE_H
