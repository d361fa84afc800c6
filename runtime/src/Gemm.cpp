//===- Gemm.cpp - the GEMM provider of the cpu backend --------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Gemm.h"

#include <algorithm>
#include <cstring>

#ifdef MSA_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace msa::runtime {

GemmProvider::GemmProvider(ThreadPool &pool, bool forceFallback)
    : pool_(pool) {
#ifdef MSA_HAVE_OPENBLAS
  kind_ = forceFallback ? Kind::kFallback : Kind::kBlas;
#else
  (void)forceFallback;
  kind_ = Kind::kFallback;
#endif
}

const char *GemmProvider::name() const {
  return kind_ == Kind::kBlas ? "openblas-sgemm" : "msa-blocked-f32";
}

const float *GemmProvider::asF32(const Tensor &t, std::vector<float> &scratch,
                                 bool cache) {
  if (t.dtype == DType::kF32)
    return t.as<float>();
  if (cache) {
    std::lock_guard<std::mutex> lock(cacheMutex_);
    auto it = cache_.find(t.data);
    if (it != cache_.end() &&
        it->second.size() == static_cast<size_t>(t.numel()))
      return it->second.data();
  }
  std::vector<float> converted = toF32(t);
  if (!cache) {
    scratch = std::move(converted);
    return scratch.data();
  }
  std::lock_guard<std::mutex> lock(cacheMutex_);
  std::vector<float> &slot = cache_[t.data];
  slot = std::move(converted);
  return slot.data();
}

namespace {

/// c = a bᵀ over rows [r0, r1): 4 output columns at a time so each loaded
/// row of a feeds four accumulators.
void blockedRows(const float *a, const float *b, float *c, int64_t r0,
                 int64_t r1, int64_t n, int64_t k) {
  for (int64_t i = r0; i < r1; ++i) {
    const float *ai = a + i * k;
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) {
      const float *b0 = b + j * k, *b1 = b0 + k, *b2 = b1 + k, *b3 = b2 + k;
      float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (int64_t x = 0; x < k; ++x) {
        float v = ai[x];
        s0 += v * b0[x];
        s1 += v * b1[x];
        s2 += v * b2[x];
        s3 += v * b3[x];
      }
      c[i * n + j] = s0;
      c[i * n + j + 1] = s1;
      c[i * n + j + 2] = s2;
      c[i * n + j + 3] = s3;
    }
    for (; j < n; ++j) {
      const float *bj = b + j * k;
      float s = 0;
      for (int64_t x = 0; x < k; ++x)
        s += ai[x] * bj[x];
      c[i * n + j] = s;
    }
  }
}

} // namespace

Status checkGemmShapes(const Tensor &a, const Tensor &b, const Tensor &c) {
  if (a.shape.size() != 2 || b.shape.size() != 2 || c.shape.size() != 2)
    return invalidArgument("gemm: expected rank-2 operands, got " +
                           a.describe() + " x " + b.describe() + " -> " +
                           c.describe());
  if (b.shape[1] != a.shape[1] || c.shape[0] != a.shape[0] ||
      c.shape[1] != b.shape[0])
    return invalidArgument("gemm: shapes do not fit: " + a.describe() + " x " +
                           b.describe() + "^T -> " + c.describe());
  return Status::ok();
}

Status GemmProvider::run(const Tensor &a, const Tensor &b, Tensor &c,
                         bool cacheB) {
  MSA_RETURN_IF_ERROR(checkGemmShapes(a, b, c));
  const int64_t m = a.shape[0], k = a.shape[1], n = b.shape[0];
  if (m == 0 || n == 0)
    return Status::ok();
  std::vector<float> aScratch, bScratch;
  const float *af = asF32(a, aScratch, /*cache=*/false);
  const float *bf = asF32(b, bScratch, cacheB);
  std::vector<float> cScratch;
  float *cf = c.dtype == DType::kF32
                  ? c.as<float>()
                  : (cScratch.resize(static_cast<size_t>(m * n)), cScratch.data());
#ifdef MSA_HAVE_OPENBLAS
  if (kind_ == Kind::kBlas) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
                static_cast<int>(m), static_cast<int>(n), static_cast<int>(k),
                1.0f, af, static_cast<int>(k), bf, static_cast<int>(k), 0.0f,
                cf, static_cast<int>(n));
  } else
#endif
  {
    pool_.parallelFor(m, [&](int64_t r0, int64_t r1) {
      blockedRows(af, bf, cf, r0, r1, n, k);
    });
  }
  if (c.dtype != DType::kF32)
    for (int64_t i = 0; i < m * n; ++i)
      c.setF32(i, cf[i]);
  return Status::ok();
}

} // namespace msa::runtime
