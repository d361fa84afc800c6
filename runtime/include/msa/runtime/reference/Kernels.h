//===- Kernels.h - the reference implementation of every MSA op -*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Plain loops, one function per graph-level op of the msa dialect, with the
// math of msa-semantics.md. These are the oracle for every compiled kernel
// and the pieces ReferenceModel is built from. Values are held in f32;
// `Numerics` says where they are rounded to the model's dtype (exactly where
// the PyTorch reference rounds its bf16 tensors) and whether sums accumulate
// in f64 (default) or f32.
//
// Layouts: token-major [tokens][heads][head_dim] for activations and caches;
// head-major [kv_heads][chunks][head_dim] for pooled memory.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_REFERENCE_KERNELS_H
#define MSA_RUNTIME_REFERENCE_KERNELS_H

#include "msa/runtime/DType.h"
#include "msa/runtime/ModelConfig.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace msa::runtime::ref {

/// Where values are rounded and how sums accumulate.
struct Numerics {
  DType storage = DType::kBF16; ///< kBF16, kF16 or kF32 (no rounding).
  bool f64Accumulate = true;

  float round(float x) const {
    switch (storage) {
    case DType::kBF16:
      return roundToBf16(x);
    case DType::kF16:
      return roundToF16(x);
    default:
      return x;
    }
  }
  /// Sum of a[i] * b[i] in the accumulation precision, as a double.
  double dot(const float *a, const float *b, int64_t n) const;
};

/// Describes a [tokens][heads][head_dim] tensor.
struct Shape3 {
  int64_t tokens, heads, dim;
  int64_t size() const { return tokens * heads * dim; }
};

/// Positions of document-wise RoPE: token t of segment s sits at
/// t - segments[s]; tokens outside every segment get -1 (not rotated).
std::vector<int64_t> documentPositions(const std::vector<int32_t> &segments,
                                       int64_t tokens);

/// RMSNorm over rows of `width`: round(w * round(x * rsqrt(mean(x^2)+eps))).
void rmsNorm(const float *x, int64_t rows, int64_t width, const float *w,
             double eps, const Numerics &nx, float *out);

/// y[r][o] = round(sum_i x[r][i] * w[o][i]) with w in [out][in] layout.
void linear(const float *x, int64_t rows, int64_t in, const float *w,
            int64_t out, const Numerics &nx, float *y);

/// out = round(round(silu(gate)) * up), elementwise.
void swiglu(const float *gate, const float *up, int64_t n, const Numerics &nx,
            float *out);

/// HF RoPE frequencies: inv_freq[i] = 1 / theta^(2i/d), in f32.
std::vector<float> ropeInvFreq(int64_t headDim, double theta);

/// In-place rotate-half RoPE of x [tokens][heads][dim] at `positions`
/// (negative: left alone). cos/sin are rounded, then each product and the
/// sum (PyTorch bf16 semantics).
void rope(float *x, Shape3 s, const int64_t *positions, double theta,
          const Numerics &nx);

/// Softmax attention of q [T][Hq][d] over k, v [L][Hk][d] (GQA: head h reads
/// KV head h / (Hq / Hk)) where `visible(i, j)` says whether query i sees
/// key j. A query that sees nothing outputs 0. out: [T][Hq][d].
template <typename Visible>
void attention(const float *q, Shape3 qs, const float *k, const float *v,
               int64_t keys, int64_t kvHeads, double scale, Visible visible,
               const Numerics &nx, float *out);

/// msa.doc_attention: causal attention inside each segment.
void docAttention(const float *q, Shape3 qs, const float *k, const float *v,
                  int64_t kvHeads, const std::vector<int32_t> &segments,
                  double scale, const Numerics &nx, float *out);

/// msa.chunk_offsets: first chunk of each segment, plus the total at the end.
std::vector<int32_t> chunkOffsets(const std::vector<int32_t> &segments,
                                  int64_t chunkSize);

/// msa.chunk_pool: f32 means of the chunks of each segment of x
/// [tokens][heads][dim], rounded; with `normalize` each (chunk, head) vector
/// is then divided by max(||v||, 1e-12) and rounded. Returns head-major
/// [heads][chunks][dim].
std::vector<float> chunkPool(const float *x, Shape3 s,
                             const std::vector<int32_t> &segments,
                             int64_t chunkSize, bool normalize,
                             const Numerics &nx);

/// Routing flags and reductions of spec §4.3.
struct RouteParams {
  HeadReduce headReduce = HeadReduce::kMean;
  QueryReduce queryReduce = QueryReduce::kMax;
  bool normalize = false;
  bool scale = true;
};

/// msa.route_scores: one score per chunk of keys [Hk][C][dim] for the
/// routing-query tokens of q [T][Hq][dim] (mask[t] != 0). With no routing
/// token every chunk scores kBf16Lowest.
std::vector<float> routeScores(const float *q, Shape3 qs, const float *keys,
                               int64_t kvHeads, int64_t chunks,
                               const std::vector<uint8_t> &mask,
                               const RouteParams &p, const Numerics &nx);

/// msa.doc_reduce: per document, max or mean of its chunk scores.
std::vector<float> docReduce(const std::vector<float> &chunkScores,
                             const std::vector<int32_t> &chunkOffsets,
                             ChunkReduce method, const Numerics &nx);

/// Scores at or below this are never selected (spec §4.4).
inline constexpr float kUnselectableScore = -1e9f;

/// msa.topk: the min(k, N) best documents (ties to the lower id; scores <=
/// -1e9 never), returned in ascending id order.
std::vector<int32_t> topK(const std::vector<float> &docScores, int64_t k);

/// msa.gather_chunks: all chunks of the selected documents, in the given
/// order, from head-major src [heads][chunks][dim] into [heads][n][dim].
std::vector<float> gatherChunks(const float *src, int64_t heads,
                                int64_t chunks, int64_t dim,
                                const std::vector<int32_t> &chunkOffsets,
                                const std::vector<int32_t> &selected);

/// How local keys are masked in msa.sparse_attention.
enum class CausalMode { kBottomRight, kBlock };

/// msa.sparse_attention: q [T][Hq][d] over [template (token-major);
/// memory (head-major, `memChunks` may be 0); local (token-major, masked by
/// localValid and `causal`)]. out: [T][Hq][d].
void sparseAttention(const float *q, Shape3 qs, const float *tplK,
                     const float *tplV, int64_t tplLen, const float *memK,
                     const float *memV, int64_t memChunks, const float *localK,
                     const float *localV, int64_t localLen,
                     const std::vector<uint8_t> &localValid, int64_t kvHeads,
                     CausalMode causal, double scale, const Numerics &nx,
                     float *out);

//===----------------------------------------------------------------------===//
// Template definitions
//===----------------------------------------------------------------------===//

template <typename Visible>
void attention(const float *q, Shape3 qs, const float *k, const float *v,
               int64_t keys, int64_t kvHeads, double scale, Visible visible,
               const Numerics &nx, float *out) {
  const int64_t d = qs.dim, group = qs.heads / kvHeads;
  std::vector<double> w(static_cast<size_t>(keys));
  std::vector<double> acc(static_cast<size_t>(d));
  for (int64_t i = 0; i < qs.tokens; ++i) {
    for (int64_t h = 0; h < qs.heads; ++h) {
      const float *qv = q + (i * qs.heads + h) * d;
      const int64_t g = h / group;
      double maxLogit = -1e300;
      bool any = false;
      for (int64_t j = 0; j < keys; ++j) {
        if (!visible(i, j)) {
          w[j] = -1.0;
          continue;
        }
        double logit = nx.dot(qv, k + (j * kvHeads + g) * d, d) * scale;
        w[j] = logit;
        maxLogit = any ? std::max(maxLogit, logit) : logit;
        any = true;
      }
      float *o = out + (i * qs.heads + h) * d;
      if (!any) {
        for (int64_t x = 0; x < d; ++x)
          o[x] = 0.0f;
        continue;
      }
      double denom = 0.0;
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t j = 0; j < keys; ++j) {
        if (!visible(i, j))
          continue;
        double p = std::exp(w[j] - maxLogit);
        denom += p;
        const float *vv = v + (j * kvHeads + g) * d;
        for (int64_t x = 0; x < d; ++x)
          acc[x] += p * static_cast<double>(vv[x]);
      }
      for (int64_t x = 0; x < d; ++x)
        o[x] = nx.round(static_cast<float>(acc[x] / denom));
    }
  }
}

} // namespace msa::runtime::ref

#endif // MSA_RUNTIME_REFERENCE_KERNELS_H
