//===- CublasLtTest.cpp - the cuBLASLt GEMM provider ----------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// GPU tests (skipped without a driver, a device or cuBLASLt): c = a bᵀ
// against a double-precision host GEMM of the same (rounded) inputs, for
// bf16, f16 and f32 and awkward shapes (M = 1, N = 1, odd K, row slices at
// any alignment), outputs poisoned with NaN first; the plan cache; K = 0;
// and the argument errors, which match GemmProvider's.
//
//===----------------------------------------------------------------------===//

#include "CudaTestSupport.h"

#include "msa/runtime/cuda/CublasLt.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

using namespace msa::runtime;
using namespace msa::runtime::cudatest;

namespace {

/// The shared GEMM provider, or nullptr with the reason.
CublasLtGemm *sharedGemm(CudaDevice &device, std::string &why) {
  static CublasLtGemm *gemm = nullptr;
  static std::string reason;
  static bool tried = false;
  if (!tried) {
    tried = true;
    StatusOr<std::unique_ptr<CublasLtGemm>> g = CublasLtGemm::create(device);
    if (g.isOk())
      gemm = g->release(); // Freed with the process, after the device.
    else
      reason = "no cuBLASLt to test: " + g.status().message();
  }
  why = reason;
  return gemm;
}

#define MSA_GEMM_OR_SKIP(device, var)                                          \
  MSA_CUDA_DEVICE_OR_SKIP(device);                                             \
  std::string gemmSkipReason_;                                                 \
  CublasLtGemm *var = sharedGemm(*device, gemmSkipReason_);                    \
  if (!var)                                                                    \
  GTEST_SKIP() << gemmSkipReason_

/// The largest relative error (‖out − ref‖ / ‖ref‖) allowed for an output
/// type: a few roundings of bf16 (2^-8) or f16 (2^-11), and for f32 the
/// accumulation error over K ≤ 2560.
double tolerance(DType out) {
  switch (out) {
  case DType::kBF16:
    return 1e-2;
  case DType::kF16:
    return 2e-3;
  default:
    return 1e-5;
  }
}

/// a bᵀ in double from the host tensors' exact values.
std::vector<double> referenceGemm(const Tensor &a, const Tensor &b) {
  const int64_t m = a.shape[0], k = a.shape[1], n = b.shape[0];
  std::vector<float> af = toF32(a), bf = toF32(b);
  std::vector<double> c(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      const float *ai = &af[i * k], *bj = &bf[j * k];
      for (int64_t x = 0; x < k; ++x)
        s += static_cast<double>(ai[x]) * bj[x];
      c[i * n + j] = s;
    }
  return c;
}

double relativeError(const Tensor &out, const std::vector<double> &ref) {
  std::vector<float> got = toF32(out);
  double diff = 0, norm = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    double d = static_cast<double>(got[i]) - ref[i];
    diff += d * d;
    norm += ref[i] * ref[i];
  }
  return std::sqrt(diff) / std::sqrt(norm);
}

/// Runs one GEMM on device copies of `a` and `b` (host) and checks it;
/// returns the relative error.
double checkGemm(CudaDevice &device, CublasLtGemm &gemm, const Tensor &a,
                 const Tensor &b, const Tensor &deviceA, const Tensor &deviceB,
                 DType outType) {
  const int64_t m = a.shape[0], n = b.shape[0];
  const double failed = std::numeric_limits<double>::infinity();
  StatusOr<Tensor> c = device.allocate(outType, {m, n});
  EXPECT_TRUE(c.isOk()) << c.status().message();
  if (!c.isOk())
    return failed;
  // All-ones bytes are NaN in every float type.
  EXPECT_TRUE(device.memsetAsync(*c, 0xff).isOk());
  Status s = gemm.run(deviceA, deviceB, *c);
  EXPECT_TRUE(s.isOk()) << s.message();
  StatusOr<Tensor> out = device.download(*c);
  EXPECT_TRUE(out.isOk()) << out.status().message();
  if (!s.isOk() || !out.isOk())
    return failed;
  double err = relativeError(*out, referenceGemm(a, b));
  EXPECT_LT(err, tolerance(outType))
      << a.describe() << " x " << b.describe() << "^T -> " << c->describe();
  return err;
}

struct Shape {
  int64_t m, n, k;
};

TEST(CublasLt, MatchesDoublePrecisionReference) {
  MSA_GEMM_OR_SKIP(device, gemm);
  std::mt19937_64 rng(testSeed());
  SCOPED_TRACE("MSA_TEST_SEED=" + std::to_string(testSeed()));
  const Shape shapes[] = {{1, 1, 64},       {1, 4096, 2560}, {37, 1, 64},
                          {37, 4096, 2560}, {37, 257, 1000}, {64, 1000, 128},
                          {37, 513, 77},    {3, 3, 3}};
  const std::pair<DType, DType> types[] = {{DType::kBF16, DType::kBF16},
                                           {DType::kF16, DType::kF16},
                                           {DType::kF32, DType::kF32},
                                           {DType::kBF16, DType::kF32},
                                           {DType::kF16, DType::kF32}};
  for (const auto &[in, out] : types) {
    double worst = 0;
    for (const Shape &s : shapes) {
      Tensor a = randomFloats(in, {s.m, s.k}, rng);
      Tensor b = randomFloats(in, {s.n, s.k}, rng);
      StatusOr<Tensor> da = device->upload(a), db = device->upload(b);
      ASSERT_TRUE(da.isOk() && db.isOk());
      worst = std::max(worst, checkGemm(*device, *gemm, a, b, *da, *db, out));
    }
    std::printf("[ gemm     ] %s x %s -> %s: worst relative error %.3g "
                "(limit %.0e)\n",
                mlirTypeName(in), mlirTypeName(in), mlirTypeName(out), worst,
                tolerance(out));
  }
}

TEST(CublasLt, RowSlicesAtAnyAlignment) {
  MSA_GEMM_OR_SKIP(device, gemm);
  std::mt19937_64 rng(testSeed());
  SCOPED_TRACE("MSA_TEST_SEED=" + std::to_string(testSeed()));
  // Rows start 2 (K = 65, bf16), 16 (K = 72) or 128 bytes (K = 64) apart.
  for (int64_t k : {65, 72, 64}) {
    Tensor bigA = randomFloats(DType::kBF16, {41, k}, rng);
    Tensor bigB = randomFloats(DType::kBF16, {300, k}, rng);
    StatusOr<Tensor> da = device->upload(bigA), db = device->upload(bigB);
    ASSERT_TRUE(da.isOk() && db.isOk());
    for (int64_t first : {1, 3}) {
      SCOPED_TRACE("K " + std::to_string(k) + ", rows from " +
                   std::to_string(first));
      checkGemm(*device, *gemm, bigA.rows(first, 37), bigB.rows(first, 257),
                da->rows(first, 37), db->rows(first, 257), DType::kBF16);
    }
  }
}

TEST(CublasLt, PlansAreCachedPerShape) {
  MSA_GEMM_OR_SKIP(device, gemm);
  std::mt19937_64 rng(testSeed());
  auto run = [&](int64_t m, int64_t n, int64_t k) {
    StatusOr<Tensor> a =
        device->upload(randomFloats(DType::kBF16, {m, k}, rng));
    StatusOr<Tensor> b =
        device->upload(randomFloats(DType::kBF16, {n, k}, rng));
    StatusOr<Tensor> c = device->allocate(DType::kBF16, {m, n});
    ASSERT_TRUE(a.isOk() && b.isOk() && c.isOk());
    ASSERT_TRUE(gemm->run(*a, *b, *c).isOk());
  };
  run(17, 384, 256);
  const size_t plans = gemm->cachedPlans();
  run(17, 384, 256);
  run(17, 384, 256);
  EXPECT_EQ(gemm->cachedPlans(), plans);
  run(18, 384, 256);
  EXPECT_EQ(gemm->cachedPlans(), plans + 1);
  EXPECT_TRUE(device->synchronize().isOk());
}

TEST(CublasLt, EmptySumsAndEmptyOutputs) {
  MSA_GEMM_OR_SKIP(device, gemm);
  StatusOr<Tensor> a = device->allocate(DType::kF16, {5, 0});
  StatusOr<Tensor> b = device->allocate(DType::kF16, {7, 0});
  StatusOr<Tensor> c = device->allocate(DType::kF32, {5, 7});
  ASSERT_TRUE(a.isOk() && b.isOk() && c.isOk());
  ASSERT_TRUE(device->memsetAsync(*c, 0xff).isOk());
  ASSERT_TRUE(gemm->run(*a, *b, *c).isOk());
  StatusOr<Tensor> out = device->download(*c);
  ASSERT_TRUE(out.isOk());
  for (int64_t i = 0; i < out->numel(); ++i)
    EXPECT_EQ(out->as<float>()[i], 0.0f) << i;

  StatusOr<Tensor> a0 = device->allocate(DType::kF16, {0, 8});
  StatusOr<Tensor> b0 = device->allocate(DType::kF16, {7, 8});
  StatusOr<Tensor> c0 = device->allocate(DType::kF16, {0, 7});
  ASSERT_TRUE(a0.isOk() && b0.isOk() && c0.isOk());
  EXPECT_TRUE(gemm->run(*a0, *b0, *c0).isOk());
}

TEST(CublasLt, ArgumentErrors) {
  MSA_GEMM_OR_SKIP(device, gemm);
  auto dev = [&](DType t, std::vector<int64_t> shape) {
    StatusOr<Tensor> x = device->allocate(t, std::move(shape));
    EXPECT_TRUE(x.isOk());
    return x.isOk() ? *x : Tensor();
  };
  Tensor a = dev(DType::kBF16, {4, 8}), b = dev(DType::kBF16, {6, 8});
  Tensor c = dev(DType::kBF16, {4, 6});
  Tensor rank1 = dev(DType::kBF16, {8});
  EXPECT_EQ(gemm->run(rank1, b, c).message(),
            "gemm: expected rank-2 operands, got bf16[8] x bf16[6, 8] -> "
            "bf16[4, 6]");
  Tensor wrongK = dev(DType::kBF16, {6, 9});
  EXPECT_EQ(gemm->run(a, wrongK, c).message(),
            "gemm: shapes do not fit: bf16[4, 8] x bf16[6, 9]^T -> "
            "bf16[4, 6]");
  Tensor host = Tensor::allocate(DType::kBF16, {6, 8});
  EXPECT_EQ(gemm->run(a, host, c).message(),
            "gemm: b is bf16[6, 8] on the host; cuBLASLt needs cuda tensors");
  Tensor f16 = dev(DType::kF16, {6, 8});
  EXPECT_EQ(gemm->run(a, f16, c).message(),
            "gemm: a is bf16[4, 8] and b is f16[6, 8]; cuBLASLt needs one "
            "element type for both");
  Tensor ints = dev(DType::kI32, {4, 6});
  EXPECT_EQ(gemm->run(a, b, ints).message(),
            "gemm: c is i32[4, 6], expected bf16, f16 or f32");
}

} // namespace
