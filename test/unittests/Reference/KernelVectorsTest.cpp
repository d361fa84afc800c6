//===- KernelVectorsTest.cpp - spec §12 vectors at the kernel level -------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The test vectors of msa-semantics.md §12 that concern one op: each named
// VectorNN after its number, with expectations computed by hand or by an
// independent formula in this file.
//
//===----------------------------------------------------------------------===//

#include "TestModels.h"

#include "msa/runtime/reference/Distributed.h"
#include "msa/runtime/reference/Kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

using namespace msa::runtime;
using namespace msa::runtime::ref;
using namespace msa::test;

namespace {

Numerics bf16() { return Numerics{DType::kBF16, true}; }
Numerics f32() { return Numerics{DType::kF32, true}; }

/// Independent chunk mean: double sum of tokens [t0, t0 + n) of head h.
std::vector<float> directMean(const std::vector<float> &x, Shape3 s,
                              int64_t t0, int64_t n, int64_t h) {
  std::vector<float> m(static_cast<size_t>(s.dim));
  for (int64_t i = 0; i < s.dim; ++i) {
    double sum = 0.0;
    for (int64_t t = t0; t < t0 + n; ++t)
      sum += x[(t * s.heads + h) * s.dim + i];
    m[i] = roundToBf16(static_cast<float>(sum / static_cast<double>(n)));
  }
  return m;
}

std::vector<float> pooledChunk(const std::vector<float> &pooled, Shape3 s,
                               int64_t chunks, int64_t c, int64_t h) {
  auto b = pooled.begin() + (h * chunks + c) * s.dim;
  return std::vector<float>(b, b + s.dim);
}

//===----------------------------------------------------------------------===//
// Vectors 1 and 2: chunk pooling of short and boundary-length documents.
//===----------------------------------------------------------------------===//

TEST(SpecVectors, Vector01_DocShorterThanChunkPoolsOverItsTrueLength) {
  Rng rng(101);
  const Shape3 s{3, 2, 8};
  std::vector<float> x = randomValues(rng, s.size());
  std::vector<float> pooled = chunkPool(x.data(), s, {0, 3}, 4, false, bf16());
  ASSERT_EQ(pooled.size(), static_cast<size_t>(s.heads * 1 * s.dim));
  EXPECT_EQ(chunkOffsets({0, 3}, 4), (std::vector<int32_t>{0, 1}));
  for (int64_t h = 0; h < s.heads; ++h) {
    // Divided by 3, not by P = 4.
    EXPECT_EQ(pooledChunk(pooled, s, 1, 0, h), directMean(x, s, 0, 3, h));
    std::vector<float> padded = directMean(x, s, 0, 3, h);
    for (float &v : padded)
      v = roundToBf16(v * 3.0f / 4.0f);
    EXPECT_NE(pooledChunk(pooled, s, 1, 0, h), padded);
  }
}

TEST(SpecVectors, Vector02_ChunkBoundaries) {
  Rng rng(102);
  const int64_t P = 4;
  // Documents of n = P, P + 1, 2P and 1 tokens, packed.
  const std::vector<int32_t> seg{0, 4, 9, 17, 18};
  const Shape3 s{18, 2, 8};
  std::vector<float> x = randomValues(rng, s.size());
  EXPECT_EQ(chunkOffsets(seg, P), (std::vector<int32_t>{0, 1, 3, 5, 6}));
  std::vector<float> pooled = chunkPool(x.data(), s, seg, P, false, bf16());
  ASSERT_EQ(pooled.size(), static_cast<size_t>(s.heads * 6 * s.dim));
  // (chunk, first token, count): P+1 splits 4 + 1, 2P splits 4 + 4.
  const int64_t expected[6][3] = {{0, 0, 4},  {1, 4, 4},  {2, 8, 1},
                                  {3, 9, 4},  {4, 13, 4}, {5, 17, 1}};
  for (int64_t h = 0; h < s.heads; ++h)
    for (const auto &e : expected)
      EXPECT_EQ(pooledChunk(pooled, s, 6, e[0], h),
                directMean(x, s, e[1], e[2], h))
          << "chunk " << e[0] << " head " << h;
}

//===----------------------------------------------------------------------===//
// Vector 7 (kernel part): tie rule of top-k.
//===----------------------------------------------------------------------===//

TEST(SpecVectors, Vector07_TiesGoToTheLowerDocumentId) {
  // Docs 1 and 2 tie at the k-th place: the lower id wins.
  EXPECT_EQ(topK({0.5f, 0.7f, 0.7f, 0.1f}, 1), (std::vector<int32_t>{1}));
  EXPECT_EQ(topK({0.9f, 0.3f, 0.3f, 0.3f}, 2), (std::vector<int32_t>{0, 1}));
  // A tie above the boundary: both selected, returned in ascending order.
  EXPECT_EQ(topK({0.2f, 0.9f, 0.9f, 0.1f}, 2), (std::vector<int32_t>{1, 2}));
  // Unselectable scores never make it, even to fill k.
  EXPECT_EQ(topK({kBf16Lowest, 0.1f, -2e9f}, 3), (std::vector<int32_t>{1}));
}

//===----------------------------------------------------------------------===//
// Vector 10: head / query / chunk reductions on a hand-computed table.
//===----------------------------------------------------------------------===//

struct HandTable {
  // 2 tokens x 2 heads (one KV head each) x 3 chunks, head dim 1, so each
  // score is a product: s[t][h][c] = q[t][h] * k[h][c].
  std::vector<float> q{1, 2, 3, -1};          // [t][h]
  std::vector<float> k{1, 2, -1, 2, 0, 1};    // [h][c]
  std::vector<uint8_t> mask{1, 1};
  std::vector<int32_t> docOffsets{0, 2, 3};   // doc 0: chunks 0-1, doc 1: 2

  std::vector<float> scores(HeadReduce h, QueryReduce q2) const {
    RouteParams p;
    p.headReduce = h;
    p.queryReduce = q2;
    p.normalize = false;
    p.scale = false;
    return routeScores(q.data(), {2, 2, 1}, k.data(), 2, 3, mask, p, f32());
  }
};

TEST(SpecVectors, Vector10_HeadQueryChunkReductions) {
  HandTable t;
  // Per token, head mean: t0 [2.5, 1, 0.5], t1 [0.5, 3, -2];
  //            head max:  t0 [4, 2, 2],     t1 [3, 6, -1].
  using V = std::vector<float>;
  EXPECT_EQ(t.scores(HeadReduce::kMean, QueryReduce::kMax), (V{2.5f, 3, 0.5f}));
  EXPECT_EQ(t.scores(HeadReduce::kMean, QueryReduce::kMean),
            (V{1.5f, 2, -0.75f}));
  EXPECT_EQ(t.scores(HeadReduce::kMean, QueryReduce::kLast), (V{0.5f, 3, -2}));
  EXPECT_EQ(t.scores(HeadReduce::kMax, QueryReduce::kMax), (V{4, 6, 2}));
  EXPECT_EQ(t.scores(HeadReduce::kMax, QueryReduce::kMean), (V{3.5f, 4, 0.5f}));

  V chunk = t.scores(HeadReduce::kMean, QueryReduce::kMax);
  EXPECT_EQ(docReduce(chunk, t.docOffsets, ChunkReduce::kMax, f32()),
            (V{3, 0.5f}));
  EXPECT_EQ(docReduce(chunk, t.docOffsets, ChunkReduce::kMean, f32()),
            (V{2.75f, 0.5f}));
  EXPECT_EQ(topK(docReduce(chunk, t.docOffsets, ChunkReduce::kMax, f32()), 1),
            (std::vector<int32_t>{0}));
}

TEST(SpecVectors, Vector10_MaskedTokensDoNotRoute) {
  HandTable t;
  t.mask = {0, 1}; // only token 1 routes
  EXPECT_EQ(t.scores(HeadReduce::kMean, QueryReduce::kMax),
            (std::vector<float>{0.5f, 3, -2}));
  EXPECT_EQ(t.scores(HeadReduce::kMean, QueryReduce::kMean),
            (std::vector<float>{0.5f, 3, -2}));
  t.mask = {1, 0}; // "last" means the last routing token, not the last slot
  EXPECT_EQ(t.scores(HeadReduce::kMean, QueryReduce::kLast),
            (std::vector<float>{2.5f, 1, 0.5f}));
  t.mask = {0, 0};
  for (float s : t.scores(HeadReduce::kMean, QueryReduce::kMax))
    EXPECT_EQ(s, kBf16Lowest);
}

//===----------------------------------------------------------------------===//
// Vector 11 (kernel part): NORM and SCALE applied to the routing query.
//===----------------------------------------------------------------------===//

TEST(SpecVectors, Vector11_NormAndScaleOfTheRoutingQuery) {
  // One token, one head, head dim 2, one chunk with key [1, 0].
  std::vector<float> q{3, 4}, k{1, 0};
  std::vector<uint8_t> mask{1};
  auto score = [&](bool normalize, bool scale) {
    RouteParams p;
    p.normalize = normalize;
    p.scale = scale;
    return routeScores(q.data(), {1, 1, 2}, k.data(), 1, 1, mask, p, f32())[0];
  };
  EXPECT_FLOAT_EQ(score(false, false), 3.0f);
  EXPECT_FLOAT_EQ(score(true, false), 0.6f);                   // cosine
  EXPECT_FLOAT_EQ(score(false, true), 3.0f / std::sqrt(2.0f)); // dot / sqrt(d)
  EXPECT_FLOAT_EQ(score(true, true), 0.6f / std::sqrt(2.0f));
}

//===----------------------------------------------------------------------===//
// Vector 12: causal alignment of stage-2 attention against a dense mask.
//===----------------------------------------------------------------------===//

/// Dense attention with an explicit [T][L] mask, written independently of
/// the reference kernels: keys token-major [L][Hk][d].
std::vector<float> denseMasked(const std::vector<float> &q, Shape3 qs,
                               const std::vector<float> &k,
                               const std::vector<float> &v, int64_t keys,
                               int64_t kvHeads,
                               const std::vector<std::vector<bool>> &mask) {
  std::vector<float> out(static_cast<size_t>(qs.size()), 0.0f);
  const int64_t d = qs.dim, g = qs.heads / kvHeads;
  for (int64_t i = 0; i < qs.tokens; ++i)
    for (int64_t h = 0; h < qs.heads; ++h) {
      std::vector<double> logits;
      std::vector<int64_t> js;
      for (int64_t j = 0; j < keys; ++j) {
        if (!mask[i][j])
          continue;
        double dot = 0.0;
        for (int64_t x = 0; x < d; ++x)
          dot += static_cast<double>(q[(i * qs.heads + h) * d + x]) *
                 k[(j * kvHeads + h / g) * d + x];
        logits.push_back(dot / std::sqrt(static_cast<double>(d)));
        js.push_back(j);
      }
      double mx = *std::max_element(logits.begin(), logits.end());
      double z = 0.0;
      for (double &l : logits)
        z += (l = std::exp(l - mx));
      for (int64_t x = 0; x < d; ++x) {
        double acc = 0.0;
        for (size_t n = 0; n < js.size(); ++n)
          acc += logits[n] / z * v[(js[n] * kvHeads + h / g) * d + x];
        out[(i * qs.heads + h) * d + x] = static_cast<float>(acc);
      }
    }
  return out;
}

TEST(SpecVectors, Vector12_Stage2CausalAlignment) {
  Rng rng(112);
  const int64_t T = 3, Q = 5, hk = 2, d = 16;
  const Shape3 qs{Q, 4, d};
  for (int64_t chunks : {0, 6}) {
    std::vector<float> q = randomValues(rng, qs.size(), 1.0f, DType::kF32);
    std::vector<float> tk = randomValues(rng, T * hk * d, 1.0f, DType::kF32);
    std::vector<float> tv = randomValues(rng, T * hk * d, 1.0f, DType::kF32);
    std::vector<float> mk = randomValues(rng, hk * chunks * d, 1.0f, DType::kF32);
    std::vector<float> mv = randomValues(rng, hk * chunks * d, 1.0f, DType::kF32);
    std::vector<float> lk = randomValues(rng, Q * hk * d, 1.0f, DType::kF32);
    std::vector<float> lv = randomValues(rng, Q * hk * d, 1.0f, DType::kF32);
    std::vector<float> out(static_cast<size_t>(qs.size()));
    sparseAttention(q.data(), qs, tk.data(), tv.data(), T, mk.data(), mv.data(),
                    chunks, lk.data(), lv.data(), Q,
                    std::vector<uint8_t>(Q, 1), hk, CausalMode::kBottomRight,
                    1.0 / std::sqrt(16.0), f32(), out.data());

    // Dense layout [tpl; chunks; query]; query i sees key j iff
    // j <= i + T + n (§4.2).
    const int64_t L = T + chunks + Q;
    std::vector<float> k, v;
    k.insert(k.end(), tk.begin(), tk.end());
    v.insert(v.end(), tv.begin(), tv.end());
    for (int64_t c = 0; c < chunks; ++c)
      for (int64_t g = 0; g < hk; ++g) {
        k.insert(k.end(), mk.begin() + (g * chunks + c) * d,
                 mk.begin() + (g * chunks + c + 1) * d);
        v.insert(v.end(), mv.begin() + (g * chunks + c) * d,
                 mv.begin() + (g * chunks + c + 1) * d);
      }
    k.insert(k.end(), lk.begin(), lk.end());
    v.insert(v.end(), lv.begin(), lv.end());
    std::vector<std::vector<bool>> mask(Q, std::vector<bool>(L));
    for (int64_t i = 0; i < Q; ++i)
      for (int64_t j = 0; j < L; ++j)
        mask[i][j] = j <= i + T + chunks;
    std::vector<float> want = denseMasked(q, qs, k, v, L, hk, mask);
    EXPECT_LT(relativeError(out, want), 1e-6) << chunks << " chunks";
  }
}

//===----------------------------------------------------------------------===//
// Vector 15: Memory Parallel selections equal one shard's.
//===----------------------------------------------------------------------===//

TEST(SpecVectors, Vector15_GreedyBalancedPartition) {
  // Chunk counts 5, 1, 1, 3, 2 over 2 shards: 0 -> r0 (5), 1 -> r1 (1),
  // 2 -> r1 (2), 3 -> r1 (5), 4 -> tie 5/5 -> r0.
  EXPECT_EQ(assignShards({5, 1, 1, 3, 2}, 2),
            (std::vector<int32_t>{0, 1, 1, 1, 0}));
  EXPECT_EQ(assignShards({1, 1, 1}, 3), (std::vector<int32_t>{0, 1, 2}));
}

TEST(SpecVectors, Vector15_ShardedTopKEqualsSingleShard) {
  Rng rng(115);
  for (int trial = 0; trial < 200; ++trial) {
    const int64_t docs = rng.uniformInt(0, 12), k = rng.uniformInt(1, 5);
    std::vector<float> scores;
    std::vector<int64_t> chunks;
    for (int64_t j = 0; j < docs; ++j) {
      // Few distinct bf16 values, so ties across shards are common.
      scores.push_back(roundToBf16(static_cast<float>(rng.uniformInt(-3, 3)) *
                                   0.25f));
      chunks.push_back(rng.uniformInt(1, 4));
    }
    if (docs > 0 && trial % 5 == 0)
      scores[0] = kBf16Lowest; // a row with an unroutable document
    std::vector<int32_t> single = topK(scores, k);
    for (int64_t world : {1, 2, 3}) {
      // Shards with fewer than k - 1 documents (the reference's crash) are
      // common here: 12 docs over 3 shards with k up to 5.
      std::vector<int32_t> shard = assignShards(chunks, world);
      EXPECT_EQ(distributedTopK(scores, shard, world, k), single)
          << "world " << world << " trial " << trial;
    }
  }
}

//===----------------------------------------------------------------------===//
// Vector 16: scoring tiles give the scores of one big tile.
//===----------------------------------------------------------------------===//

TEST(SpecVectors, Vector16_ScoringTiles) {
  // Docs of 2, 3, 1, 2, 1, 1 chunks; tiles of 4 with the merge threshold
  // scaled down from 1024: slices close after doc 1 (5 chunks) and doc 4
  // (4 chunks); the remainder, doc 5 with 1 chunk, stands alone when the
  // threshold is 1 ...
  std::vector<int32_t> off{0, 2, 5, 6, 8, 9, 10};
  EXPECT_EQ(scoringSlices(off, 4, 1),
            (std::vector<std::pair<int32_t, int32_t>>{{0, 2}, {2, 5}, {5, 6}}));
  // ... and merges into the previous slice when it is below the threshold.
  EXPECT_EQ(scoringSlices(off, 4, 2),
            (std::vector<std::pair<int32_t, int32_t>>{{0, 2}, {2, 6}}));
  // A shard below one tile is one slice.
  EXPECT_EQ(scoringSlices({0, 1, 2}, 4, 3),
            (std::vector<std::pair<int32_t, int32_t>>{{0, 2}}));

  Rng rng(116);
  const int64_t hk = 2, d = 16, C = off.back();
  const Shape3 qs{3, 4, d};
  std::vector<float> q = randomValues(rng, qs.size());
  std::vector<float> keys = randomValues(rng, hk * C * d);
  std::vector<uint8_t> mask{1, 0, 1};
  RouteParams p;
  std::vector<float> whole = docReduce(
      routeScores(q.data(), qs, keys.data(), hk, C, mask, p, bf16()), off,
      ChunkReduce::kMax, bf16());
  std::vector<float> tiled;
  for (auto [first, last] : scoringSlices(off, 4, 1)) {
    const int64_t c0 = off[first], cn = off[last] - c0;
    std::vector<float> tileKeys;
    for (int64_t g = 0; g < hk; ++g)
      tileKeys.insert(tileKeys.end(), keys.begin() + (g * C + c0) * d,
                      keys.begin() + (g * C + c0 + cn) * d);
    std::vector<int32_t> tileOff;
    for (int32_t j = first; j <= last; ++j)
      tileOff.push_back(off[j] - static_cast<int32_t>(c0));
    std::vector<float> s = docReduce(
        routeScores(q.data(), qs, tileKeys.data(), hk, cn, mask, p, bf16()),
        tileOff, ChunkReduce::kMax, bf16());
    tiled.insert(tiled.end(), s.begin(), s.end());
  }
  EXPECT_EQ(tiled, whole);
}

//===----------------------------------------------------------------------===//
// Vector 17: pooling a 131k-token block, prefix sums vs direct sums.
//===----------------------------------------------------------------------===//

/// ULP distance between two bf16 values.
int64_t bf16Ulps(float a, float b) {
  auto ordered = [](float f) {
    int32_t i = static_cast<int16_t>(floatToBf16(f));
    return i < 0 ? static_cast<int32_t>(0x8000) - i : i + 0x8000;
  };
  return std::abs(static_cast<int64_t>(ordered(a)) - ordered(b));
}

TEST(SpecVectors, Vector17_LongBlockPrefixSumPooling) {
  Rng rng(117);
  const int64_t P = 64, dim = 4;
  // Documents of varied length filling a 131,072-token block.
  std::vector<int32_t> seg{0};
  while (seg.back() < 131072)
    seg.push_back(std::min<int32_t>(
        131072, seg.back() + static_cast<int32_t>(rng.uniformInt(1, 700))));
  const Shape3 s{131072, 1, dim};
  std::vector<float> x = randomValues(rng, s.size());
  Numerics nx{DType::kBF16, /*f64Accumulate=*/false}; // direct f32 sums
  std::vector<float> direct = chunkPool(x.data(), s, seg, P, false, nx);

  // The reference's method: one inclusive f32 cumsum over the whole block,
  // chunk sums as differences (§3.4).
  std::vector<float> cum(static_cast<size_t>(s.size()));
  for (int64_t i = 0; i < dim; ++i) {
    float acc = 0.0f;
    for (int64_t t = 0; t < s.tokens; ++t)
      cum[t * dim + i] = (acc += x[t * dim + i]);
  }
  std::vector<int32_t> off = chunkOffsets(seg, P);
  int64_t maxUlps = 0;
  for (size_t j = 0; j + 1 < seg.size(); ++j)
    for (int64_t c = 0; seg[j] + c * P < seg[j + 1]; ++c) {
      int64_t t0 = seg[j] + c * P, t1 = std::min<int64_t>(t0 + P, seg[j + 1]);
      for (int64_t i = 0; i < dim; ++i) {
        float hi = cum[(t1 - 1) * dim + i];
        float lo = t0 == 0 ? 0.0f : cum[(t0 - 1) * dim + i];
        float viaPrefix = roundToBf16((hi - lo) / static_cast<float>(t1 - t0));
        maxUlps = std::max(
            maxUlps, bf16Ulps(viaPrefix, direct[(off[j] + c) * dim + i]));
      }
    }
  // The spec expects about one bf16 ulp; far more means a pooling bug.
  RecordProperty("max_bf16_ulps", static_cast<int>(maxUlps));
  EXPECT_LE(maxUlps, 2);
}

//===----------------------------------------------------------------------===//
// Vector 20: size accounting for MSA-4B shapes.
//===----------------------------------------------------------------------===//

TEST(SpecVectors, Vector20_BankSizeAccounting) {
  ModelConfig c = tinyConfig();
  c.numLayers = 36;
  c.numHeads = 32;
  c.numKvHeads = 8;
  c.headDim = 128;
  c.msa.routerLayers.clear();
  for (int64_t l = 18; l < 36; ++l)
    c.msa.routerLayers.push_back(l);
  c.msa.poolingKernelSize = 64;
  c.msa.decoupleRouter = true;
  Rng rng(120);
  int64_t chunks = 0;
  for (int i = 0; i < 50; ++i)
    chunks += (rng.uniformInt(1, 5000) + 63) / 64;
  BankBytes b = bankBytes(c, chunks);
  EXPECT_EQ(b.total(), 3LL * 18 * 8 * 128 * 2 * chunks);
  EXPECT_EQ(b.routerKeys * 2, b.content); // the 576 / 1152 split
  // Per memory token with full chunks: 1728 B, 576 of them router keys.
  EXPECT_EQ(bankBytes(c, 1).total() / 64, 1728);
  EXPECT_EQ(bankBytes(c, 1).routerKeys / 64, 576);
  // 100M tokens: 172.8e9 bytes (spec §10.1).
  EXPECT_EQ(bankBytes(c, 100000000 / 64).total(), 172800000000LL);
  // Without router keys (no INFONCE, not decoupled) only K̄, V̄ are kept.
  c.msa.decoupleRouter = false;
  EXPECT_EQ(bankBytes(c, chunks).routerKeys, 0);
}

} // namespace
