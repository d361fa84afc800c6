//===- CpuPlanDevice.cpp - plans on the cpu thread pool -------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Gemm.h"
#include "msa/runtime/PlanDevice.h"
#include "msa/runtime/cpu/CpuExecutable.h"

#include <algorithm>
#include <chrono>
#include <cstring>

namespace msa::runtime {

namespace {

class CpuPlanDevice : public PlanDevice {
public:
  CpuPlanDevice(ThreadPool &pool, bool builtinGemm,
                std::unique_ptr<CpuExecutable> exe)
      : pool_(pool), gemm_(pool, builtinGemm), exe_(std::move(exe)) {}

  const char *name() const override { return "cpu"; }
  const char *gemmName() const override { return gemm_.name(); }

  StatusOr<Tensor> allocate(DType dtype, std::vector<int64_t> shape) override {
    return Tensor::allocate(dtype, std::move(shape));
  }
  StatusOr<Tensor> place(const Tensor &t) override {
    if (!t.onHost())
      return invalidArgument("a " + t.describe() +
                             " tensor in device memory given to the cpu");
    return t;
  }
  StatusOr<Tensor> toHost(const Tensor &t) override { return place(t); }
  Status copyInto(const Tensor &src, Tensor &dst) override {
    if (!src.onHost() || !dst.onHost())
      return invalidArgument("a copy of " + src.describe() + " into " +
                             dst.describe() + " touches device memory");
    if (src.bytes() != dst.bytes())
      return invalidArgument("a copy of " + src.describe() + " into " +
                             dst.describe() + ": sizes differ");
    if (src.bytes() > 0)
      std::memcpy(dst.data, src.data, src.bytes());
    return Status::ok();
  }

  Status launch(size_t index, const std::vector<const Tensor *> &args) override {
    return exe_->launch(index, args, pool_);
  }
  Status gemm(const Tensor &a, const Tensor &b, Tensor &c,
              bool weight) override {
    return gemm_.run(a, b, c, weight);
  }
  Status synchronize() override { return Status::ok(); }

  StatusOr<double> copyBandwidth() override {
    // 256 MiB each way: far beyond the caches; best of three.
    const size_t bytes = size_t(256) << 20;
    std::vector<uint8_t> a(bytes, 1), b(bytes, 2);
    double best = 0;
    for (int rep = 0; rep < 3; ++rep) {
      auto t0 = std::chrono::steady_clock::now();
      int64_t parts = static_cast<int64_t>(pool_.size()) * 4;
      pool_.parallelFor(
          parts,
          [&](int64_t p0, int64_t p1) {
            for (int64_t p = p0; p < p1; ++p) {
              size_t off = bytes / static_cast<size_t>(parts) *
                           static_cast<size_t>(p);
              std::memcpy(b.data() + off, a.data() + off,
                          bytes / static_cast<size_t>(parts));
            }
          },
          1);
      double s = std::chrono::duration<double>(
                     std::chrono::steady_clock::now() - t0)
                     .count();
      best = std::max(best, 2.0 * static_cast<double>(bytes) / s);
    }
    return best;
  }

private:
  ThreadPool &pool_;
  GemmProvider gemm_;
  std::unique_ptr<CpuExecutable> exe_;
};

} // namespace

StatusOr<std::unique_ptr<PlanDevice>>
makeCpuPlanDevice(const Bundle &bundle, ThreadPool &pool, bool builtinGemm) {
  MSA_ASSIGN_OR_RETURN(std::unique_ptr<CpuExecutable> exe,
                       CpuExecutable::load(bundle));
  return std::unique_ptr<PlanDevice>(
      new CpuPlanDevice(pool, builtinGemm, std::move(exe)));
}

} // namespace msa::runtime
