//===- CudaPlanDevice.cpp - plans on a CUDA device ------------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/PlanDevice.h"
#include "msa/runtime/cuda/CublasLt.h"
#include "msa/runtime/cuda/CudaDevice.h"
#include "msa/runtime/cuda/CudaExecutable.h"

#include <algorithm>

namespace msa::runtime {

namespace {

class CudaPlanDevice : public PlanDevice {
public:
  const char *name() const override { return "cuda"; }
  const char *gemmName() const override { return gemm_->name(); }

  StatusOr<Tensor> allocate(DType dtype, std::vector<int64_t> shape) override {
    return device_->allocate(dtype, std::move(shape));
  }
  StatusOr<Tensor> place(const Tensor &t) override {
    if (t.placement == Placement::kCuda)
      return t;
    return device_->upload(t);
  }
  StatusOr<Tensor> toHost(const Tensor &t) override {
    if (t.onHost())
      return t;
    return device_->download(t);
  }

  Status copyInto(const Tensor &src, Tensor &dst) override {
    MSA_RETURN_IF_ERROR(device_->copyAsync(src, dst));
    // The caller may free or reuse host memory as soon as this returns.
    return src.onHost() ? device_->synchronize() : Status::ok();
  }

  // CudaModule::launch already honours MSA_CUDA_SYNC per kernel.
  Status launch(size_t index, const std::vector<const Tensor *> &args) override {
    return exe_->launch(index, args);
  }
  // Events around the work: the stream's time from the start event to the
  // work's end. It leaves out the host's wait for the result (several
  // microseconds, as long as a decode kernel) but not the queueing of the
  // work itself: the stream is idle when the start event passes.
  StatusOr<double> timed(const std::function<Status()> &work) override {
    if (!start_) {
      MSA_ASSIGN_OR_RETURN(CudaEvent start, device_->createEvent());
      MSA_ASSIGN_OR_RETURN(CudaEvent end, device_->createEvent());
      start_ = std::make_unique<CudaEvent>(std::move(start));
      end_ = std::make_unique<CudaEvent>(std::move(end));
    }
    MSA_RETURN_IF_ERROR(start_->record());
    MSA_RETURN_IF_ERROR(work());
    MSA_RETURN_IF_ERROR(end_->record());
    MSA_ASSIGN_OR_RETURN(float ms, CudaEvent::elapsedMs(*start_, *end_));
    return static_cast<double>(ms) * 1e-3;
  }
  Status gemm(const Tensor &a, const Tensor &b, Tensor &c, bool) override {
    return gemm_->run(a, b, c);
  }
  Status synchronize() override { return device_->synchronize(); }

  StatusOr<double> copyBandwidth() override {
    // 1 GiB device to device, timed with events after a warm-up: the
    // measured HBM ceiling (read + write) of this card, as METHOD.md asks.
    const int64_t bytes = int64_t(1) << 30;
    MSA_ASSIGN_OR_RETURN(Tensor a, device_->allocate(DType::kI8, {bytes}));
    MSA_ASSIGN_OR_RETURN(Tensor b, device_->allocate(DType::kI8, {bytes}));
    MSA_RETURN_IF_ERROR(device_->memsetAsync(a, 1));
    MSA_RETURN_IF_ERROR(device_->copyAsync(a, b));
    MSA_ASSIGN_OR_RETURN(CudaEvent start, device_->createEvent());
    MSA_ASSIGN_OR_RETURN(CudaEvent end, device_->createEvent());
    double best = 0;
    for (int rep = 0; rep < 5; ++rep) {
      MSA_RETURN_IF_ERROR(start.record());
      MSA_RETURN_IF_ERROR(device_->copyAsync(a, b));
      MSA_RETURN_IF_ERROR(end.record());
      MSA_ASSIGN_OR_RETURN(float ms, CudaEvent::elapsedMs(start, end));
      best = std::max(best, 2.0 * static_cast<double>(bytes) / (ms * 1e-3));
    }
    MSA_RETURN_IF_ERROR(device_->synchronize());
    return best;
  }

  // Declared first so it is destroyed last: the others use its context.
  std::unique_ptr<CudaDevice> device_;
  std::unique_ptr<CudaExecutable> exe_;
  std::unique_ptr<CublasLtGemm> gemm_;
  // timed()'s events, made on first use; destroyed before device_.
  std::unique_ptr<CudaEvent> start_, end_;
};

} // namespace

StatusOr<std::unique_ptr<PlanDevice>> makeCudaPlanDevice(const Bundle &bundle,
                                                         int ordinal) {
  MSA_RETURN_IF_ERROR(bundle.checkTarget("cuda"));
  std::unique_ptr<CudaPlanDevice> d(new CudaPlanDevice());
  MSA_ASSIGN_OR_RETURN(d->device_, CudaDevice::open(ordinal));
  MSA_ASSIGN_OR_RETURN(d->exe_, CudaExecutable::load(bundle, *d->device_));
  MSA_ASSIGN_OR_RETURN(d->gemm_, CublasLtGemm::create(*d->device_));
  return std::unique_ptr<PlanDevice>(std::move(d));
}

} // namespace msa::runtime
