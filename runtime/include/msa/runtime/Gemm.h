//===- Gemm.h - the GEMM provider of the cpu backend ------------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Plans run every projection as `c = a bᵀ` with b in the checkpoint's
// [out, in] layout, f32 accumulation and c rounded to its dtype
// (design.md §2). On the CPU the work goes to OpenBLAS's sgemm when the
// build found it (bench/RESULTS.md has the measurement that chose it) and to
// a blocked, threaded fallback otherwise. b's f32 copy is made once per
// weight and cached.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_GEMM_H
#define MSA_RUNTIME_GEMM_H

#include "msa/runtime/Status.h"
#include "msa/runtime/Tensor.h"
#include "msa/runtime/ThreadPool.h"

#include <map>
#include <mutex>

namespace msa::runtime {

/// The GEMM contract's shape check: a [M, K], b [N, K], c [M, N], every
/// operand of rank 2; one line naming the shapes otherwise.
Status checkGemmShapes(const Tensor &a, const Tensor &b, const Tensor &c);

class GemmProvider {
public:
  enum class Kind { kBlas, kFallback };

  /// The best provider of this build; `forceFallback` picks the loops.
  explicit GemmProvider(ThreadPool &pool, bool forceFallback = false);

  Kind kind() const { return kind_; }
  const char *name() const;

  /// c[M, N] = a[M, K] b[N, K]ᵀ. a, b, c may be bf16, f16 or f32; shapes
  /// are checked. `cacheB` keeps b's f32 copy for later calls (weights).
  Status run(const Tensor &a, const Tensor &b, Tensor &c, bool cacheB = true);

private:
  const float *asF32(const Tensor &t, std::vector<float> &scratch, bool cache);

  ThreadPool &pool_;
  Kind kind_;
  std::mutex cacheMutex_;
  std::map<const void *, std::vector<float>> cache_;
};

} // namespace msa::runtime

#endif // MSA_RUNTIME_GEMM_H
