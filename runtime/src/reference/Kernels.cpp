//===- Kernels.cpp - the reference implementation of every MSA op ---------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Each function follows its spec section line by line; rounding calls mark
// the points where PyTorch materialises a bf16 tensor.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/reference/Kernels.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>

namespace msa::runtime::ref {

double Numerics::dot(const float *a, const float *b, int64_t n) const {
  if (f64Accumulate) {
    double acc = 0.0;
    for (int64_t i = 0; i < n; ++i)
      acc += static_cast<double>(a[i]) * static_cast<double>(b[i]);
    return acc;
  }
  float acc = 0.0f;
  for (int64_t i = 0; i < n; ++i)
    acc += a[i] * b[i];
  return acc;
}

namespace {

/// Sum of squares in the accumulation precision.
double sumSquares(const float *x, int64_t n, const Numerics &nx) {
  return nx.dot(x, x, n);
}

/// Segment index of every token, -1 outside the segments.
std::vector<int64_t> segmentOf(const std::vector<int32_t> &segments,
                               int64_t tokens) {
  std::vector<int64_t> seg(static_cast<size_t>(tokens), -1);
  for (size_t s = 0; s + 1 < segments.size(); ++s)
    for (int64_t t = segments[s]; t < segments[s + 1] && t < tokens; ++t)
      seg[t] = static_cast<int64_t>(s);
  return seg;
}

} // namespace

std::vector<int64_t> documentPositions(const std::vector<int32_t> &segments,
                                       int64_t tokens) {
  std::vector<int64_t> pos(static_cast<size_t>(tokens), -1);
  for (size_t s = 0; s + 1 < segments.size(); ++s)
    for (int64_t t = segments[s]; t < segments[s + 1] && t < tokens; ++t)
      pos[t] = t - segments[s];
  return pos;
}

void rmsNorm(const float *x, int64_t rows, int64_t width, const float *w,
             double eps, const Numerics &nx, float *out) {
  for (int64_t r = 0; r < rows; ++r) {
    const float *xr = x + r * width;
    // HF Qwen3RMSNorm: variance and rsqrt in f32, normalised value cast to
    // the model dtype, then multiplied by the weight in that dtype.
    float variance =
        static_cast<float>(sumSquares(xr, width, nx) / static_cast<double>(width));
    float inv = 1.0f / std::sqrt(variance + static_cast<float>(eps));
    for (int64_t i = 0; i < width; ++i)
      out[r * width + i] = nx.round(w[i] * nx.round(xr[i] * inv));
  }
}

void linear(const float *x, int64_t rows, int64_t in, const float *w,
            int64_t out, const Numerics &nx, float *y) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o)
      y[r * out + o] =
          nx.round(static_cast<float>(nx.dot(x + r * in, w + o * in, in)));
}

void swiglu(const float *gate, const float *up, int64_t n, const Numerics &nx,
            float *out) {
  for (int64_t i = 0; i < n; ++i) {
    float g = gate[i];
    float silu = nx.round(g / (1.0f + std::exp(-g)));
    out[i] = nx.round(silu * up[i]);
  }
}

std::vector<float> ropeInvFreq(int64_t headDim, double theta) {
  std::vector<float> inv(static_cast<size_t>(headDim / 2));
  for (int64_t i = 0; i < headDim / 2; ++i) {
    float exponent = static_cast<float>(2 * i) / static_cast<float>(headDim);
    inv[i] = 1.0f / std::pow(static_cast<float>(theta), exponent);
  }
  return inv;
}

void rope(float *x, Shape3 s, const int64_t *positions, double theta,
          const Numerics &nx) {
  const int64_t half = s.dim / 2;
  std::vector<float> inv = ropeInvFreq(s.dim, theta);
  std::vector<float> cosv(static_cast<size_t>(half)), sinv(cosv.size());
  for (int64_t t = 0; t < s.tokens; ++t) {
    if (positions[t] < 0)
      continue;
    for (int64_t i = 0; i < half; ++i) {
      float angle = static_cast<float>(positions[t]) * inv[i];
      cosv[i] = nx.round(std::cos(angle));
      sinv[i] = nx.round(std::sin(angle));
    }
    for (int64_t h = 0; h < s.heads; ++h) {
      float *v = x + (t * s.heads + h) * s.dim;
      for (int64_t i = 0; i < half; ++i) {
        float a = v[i], b = v[i + half];
        // x' = x cos + rotate_half(x) sin, rotate_half([a, b]) = [-b, a].
        v[i] = nx.round(nx.round(a * cosv[i]) + nx.round(-b * sinv[i]));
        v[i + half] = nx.round(nx.round(b * cosv[i]) + nx.round(a * sinv[i]));
      }
    }
  }
}

void docAttention(const float *q, Shape3 qs, const float *k, const float *v,
                  int64_t kvHeads, const std::vector<int32_t> &segments,
                  double scale, const Numerics &nx, float *out) {
  std::vector<int64_t> seg = segmentOf(segments, qs.tokens);
  attention(
      q, qs, k, v, qs.tokens, kvHeads, scale,
      [&](int64_t i, int64_t j) {
        return seg[i] >= 0 && seg[j] == seg[i] && j <= i;
      },
      nx, out);
}

std::vector<int32_t> chunkOffsets(const std::vector<int32_t> &segments,
                                  int64_t chunkSize) {
  std::vector<int32_t> off{0};
  for (size_t s = 0; s + 1 < segments.size(); ++s) {
    int64_t n = segments[s + 1] - segments[s];
    off.push_back(off.back() +
                  static_cast<int32_t>((n + chunkSize - 1) / chunkSize));
  }
  return off;
}

std::vector<float> chunkPool(const float *x, Shape3 s,
                             const std::vector<int32_t> &segments,
                             int64_t chunkSize, bool normalize,
                             const Numerics &nx) {
  std::vector<int32_t> off = chunkOffsets(segments, chunkSize);
  const int64_t chunks = off.back();
  std::vector<float> out(static_cast<size_t>(s.heads * chunks * s.dim));
  std::vector<double> sum(static_cast<size_t>(s.dim));
  for (size_t seg = 0; seg + 1 < segments.size(); ++seg) {
    const int64_t begin = segments[seg], n = segments[seg + 1] - begin;
    for (int64_t c = 0; c * chunkSize < n; ++c) {
      const int64_t t0 = begin + c * chunkSize;
      const int64_t count = std::min(chunkSize, n - c * chunkSize);
      const int64_t chunk = off[seg] + c;
      for (int64_t h = 0; h < s.heads; ++h) {
        std::fill(sum.begin(), sum.end(), 0.0);
        for (int64_t t = t0; t < t0 + count; ++t) {
          const float *xv = x + (t * s.heads + h) * s.dim;
          for (int64_t i = 0; i < s.dim; ++i) {
            if (nx.f64Accumulate)
              sum[i] += xv[i];
            else
              sum[i] = static_cast<float>(sum[i]) + xv[i];
          }
        }
        float *o = out.data() + (h * chunks + chunk) * s.dim;
        // Divided by the true count: a partial last chunk is not padded.
        for (int64_t i = 0; i < s.dim; ++i)
          o[i] = nx.round(static_cast<float>(sum[i]) / static_cast<float>(count));
        if (normalize) {
          float norm = nx.round(static_cast<float>(std::sqrt(sumSquares(o, s.dim, nx))));
          float denom = std::max(norm, 1e-12f);
          for (int64_t i = 0; i < s.dim; ++i)
            o[i] = nx.round(o[i] / denom);
        }
      }
    }
  }
  return out;
}

std::vector<float> routeScores(const float *q, Shape3 qs, const float *keys,
                               int64_t kvHeads, int64_t chunks,
                               const std::vector<uint8_t> &mask,
                               const RouteParams &p, const Numerics &nx) {
  const int64_t d = qs.dim, group = qs.heads / kvHeads;
  std::vector<int64_t> routing;
  for (int64_t t = 0; t < qs.tokens; ++t)
    if (mask[t])
      routing.push_back(t);
  std::vector<float> result(static_cast<size_t>(chunks), kBf16Lowest);
  if (routing.empty())
    return result;

  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
  // Routing query vectors after the optional NORM and SCALE steps.
  std::vector<float> qr(routing.size() * qs.heads * d);
  for (size_t r = 0; r < routing.size(); ++r) {
    for (int64_t h = 0; h < qs.heads; ++h) {
      const float *src = q + (routing[r] * qs.heads + h) * d;
      float *dst = qr.data() + (r * qs.heads + h) * d;
      std::copy(src, src + d, dst);
      if (p.normalize) {
        float norm = nx.round(static_cast<float>(std::sqrt(sumSquares(dst, d, nx))));
        float denom = std::max(norm, 1e-12f);
        for (int64_t i = 0; i < d; ++i)
          dst[i] = nx.round(dst[i] / denom);
      }
      if (p.scale)
        for (int64_t i = 0; i < d; ++i)
          dst[i] = nx.round(dst[i] * scale);
    }
  }

  std::vector<float> perToken(routing.size());
  for (int64_t c = 0; c < chunks; ++c) {
    for (size_t r = 0; r < routing.size(); ++r) {
      double headSum = 0.0;
      float headMax = 0.0f;
      for (int64_t h = 0; h < qs.heads; ++h) {
        const float *key = keys + ((h / group) * chunks + c) * d;
        float s = nx.round(static_cast<float>(
            nx.dot(qr.data() + (r * qs.heads + h) * d, key, d)));
        headSum += s;
        headMax = h == 0 ? s : std::max(headMax, s);
      }
      perToken[r] = p.headReduce == HeadReduce::kMean
                        ? nx.round(static_cast<float>(
                              headSum / static_cast<double>(qs.heads)))
                        : headMax;
    }
    float reduced = 0.0f;
    switch (p.queryReduce) {
    case QueryReduce::kMax:
      reduced = *std::max_element(perToken.begin(), perToken.end());
      break;
    case QueryReduce::kMean: {
      double sum = 0.0;
      for (float v : perToken)
        sum += v;
      reduced = nx.round(static_cast<float>(sum / perToken.size()));
      break;
    }
    case QueryReduce::kLast:
      reduced = perToken.back();
      break;
    }
    result[c] = reduced;
  }
  return result;
}

std::vector<float> docReduce(const std::vector<float> &chunkScores,
                             const std::vector<int32_t> &chunkOffsets,
                             ChunkReduce method, const Numerics &nx) {
  std::vector<float> docs;
  for (size_t j = 0; j + 1 < chunkOffsets.size(); ++j) {
    const int32_t b = chunkOffsets[j], e = chunkOffsets[j + 1];
    if (b == e) {
      docs.push_back(kBf16Lowest);
      continue;
    }
    if (method == ChunkReduce::kMax) {
      docs.push_back(*std::max_element(chunkScores.begin() + b,
                                       chunkScores.begin() + e));
    } else {
      double sum = 0.0;
      for (int32_t c = b; c < e; ++c)
        sum += chunkScores[c];
      docs.push_back(nx.round(static_cast<float>(sum / (e - b))));
    }
  }
  return docs;
}

std::vector<int32_t> topK(const std::vector<float> &docScores, int64_t k) {
  std::vector<int32_t> order;
  for (size_t j = 0; j < docScores.size(); ++j)
    if (docScores[j] > kUnselectableScore)
      order.push_back(static_cast<int32_t>(j));
  // Ties go to the lower document id: a deterministic choice where the
  // reference's torch.topk is not (docs/semantics-decisions.md).
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return docScores[a] > docScores[b];
  });
  if (static_cast<int64_t>(order.size()) > k)
    order.resize(static_cast<size_t>(k));
  std::sort(order.begin(), order.end());
  return order;
}

std::vector<float> gatherChunks(const float *src, int64_t heads,
                                int64_t chunks, int64_t dim,
                                const std::vector<int32_t> &chunkOffsets,
                                const std::vector<int32_t> &selected) {
  int64_t n = 0;
  for (int32_t doc : selected)
    n += chunkOffsets[doc + 1] - chunkOffsets[doc];
  std::vector<float> out(static_cast<size_t>(heads * n * dim));
  for (int64_t h = 0; h < heads; ++h) {
    int64_t dst = 0;
    for (int32_t doc : selected)
      for (int32_t c = chunkOffsets[doc]; c < chunkOffsets[doc + 1]; ++c, ++dst)
        std::copy(src + (h * chunks + c) * dim, src + (h * chunks + c + 1) * dim,
                  out.data() + (h * n + dst) * dim);
  }
  return out;
}

void sparseAttention(const float *q, Shape3 qs, const float *tplK,
                     const float *tplV, int64_t tplLen, const float *memK,
                     const float *memV, int64_t memChunks, const float *localK,
                     const float *localV, int64_t localLen,
                     const std::vector<uint8_t> &localValid, int64_t kvHeads,
                     CausalMode causal, double scale, const Numerics &nx,
                     float *out) {
  // Assemble [template; memory; local] token-major. The compiled kernels
  // read the parts in place; the oracle copies for clarity.
  const int64_t d = qs.dim, total = tplLen + memChunks + localLen;
  std::vector<float> k(static_cast<size_t>(total * kvHeads * d));
  std::vector<float> v(k.size());
  std::copy(tplK, tplK + tplLen * kvHeads * d, k.begin());
  std::copy(tplV, tplV + tplLen * kvHeads * d, v.begin());
  for (int64_t c = 0; c < memChunks; ++c)
    for (int64_t g = 0; g < kvHeads; ++g)
      for (int64_t i = 0; i < d; ++i) {
        k[((tplLen + c) * kvHeads + g) * d + i] = memK[(g * memChunks + c) * d + i];
        v[((tplLen + c) * kvHeads + g) * d + i] = memV[(g * memChunks + c) * d + i];
      }
  const int64_t localBase = (tplLen + memChunks) * kvHeads * d;
  std::copy(localK, localK + localLen * kvHeads * d, k.begin() + localBase);
  std::copy(localV, localV + localLen * kvHeads * d, v.begin() + localBase);

  const int64_t prefix = tplLen + memChunks;
  attention(
      q, qs, k.data(), v.data(), total, kvHeads, scale,
      [&](int64_t i, int64_t j) {
        if (j < prefix)
          return true;
        int64_t jl = j - prefix;
        if (!localValid[jl])
          return false;
        return causal == CausalMode::kBlock || jl <= localLen - qs.tokens + i;
      },
      nx, out);
}

} // namespace msa::runtime::ref
