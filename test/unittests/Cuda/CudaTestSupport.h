//===- CudaTestSupport.h - helpers of the CUDA HAL tests --------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// GPU tests share one device, opened at first use, and skip themselves with
// the reason when there is no driver or no device, so the same binary runs
// in CPU-only CI and on the GPU machine. Random inputs are drawn afresh each
// run from a seed that failures print (MSA_TEST_SEED=N repeats a run).
//
//===----------------------------------------------------------------------===//

#ifndef MSA_TEST_UNITTESTS_CUDA_CUDATESTSUPPORT_H
#define MSA_TEST_UNITTESTS_CUDA_CUDATESTSUPPORT_H

#include "msa/runtime/Bundle.h"
#include "msa/runtime/cuda/CudaDevice.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace msa::runtime::cudatest {

/// Sets (or, with nullopt, unsets) an environment variable for a scope.
class ScopedEnv {
public:
  ScopedEnv(const char *name, std::optional<std::string> value);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv &) = delete;
  ScopedEnv &operator=(const ScopedEnv &) = delete;

private:
  std::string name_;
  std::optional<std::string> saved_;
};

/// The device GPU tests share (ordinal 0, opened once, kept until exit), or
/// nullptr with the reason in `why`.
CudaDevice *sharedCudaDevice(std::string &why);

/// The seed of this run: $MSA_TEST_SEED, else drawn at random once.
uint64_t testSeed();

/// `n` random bytes.
std::vector<uint8_t> randomBytes(size_t n, std::mt19937_64 &rng);

/// A host tensor of bf16, f16 or f32 holding uniform values in [-1, 1].
Tensor randomFloats(DType dtype, std::vector<int64_t> shape,
                    std::mt19937_64 &rng);

/// A bundle with `manifest` (JSON text) and `sections`; fails the test and
/// returns nullptr if it does not open.
std::unique_ptr<Bundle>
makeBundle(const std::string &manifest,
           const std::vector<std::pair<std::string, std::string>> &sections);

} // namespace msa::runtime::cudatest

/// Declares `CudaDevice *var` for a GPU test, or skips the test.
#define MSA_CUDA_DEVICE_OR_SKIP(var)                                           \
  std::string msaSkipReason_;                                                  \
  ::msa::runtime::CudaDevice *var =                                            \
      ::msa::runtime::cudatest::sharedCudaDevice(msaSkipReason_);              \
  if (!var)                                                                    \
  GTEST_SKIP() << msaSkipReason_

#endif // MSA_TEST_UNITTESTS_CUDA_CUDATESTSUPPORT_H
