//===- TestModels.h - tiny MSA models for the reference tests ---*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The tiny configuration of msa-semantics.md §12 (hidden 64, 4 layers, 4/2
// heads, head dim 16, router layers {2, 3}, P = 4, k = 2) with random
// weights, plus random inputs. Every test draws its own seeded data.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_TEST_UNITTESTS_REFERENCE_TESTMODELS_H
#define MSA_TEST_UNITTESTS_REFERENCE_TESTMODELS_H

#include "msa/runtime/ModelConfig.h"
#include "msa/runtime/Random.h"
#include "msa/runtime/reference/Model.h"

#include <cmath>
#include <vector>

namespace msa::test {

using namespace msa::runtime;

/// The §12 tiny config.
inline ModelConfig tinyConfig(DType dtype = DType::kBF16) {
  ModelConfig c;
  c.vocabSize = 512;
  c.hiddenSize = 64;
  c.intermediateSize = 128;
  c.numLayers = 4;
  c.numHeads = 4;
  c.numKvHeads = 2;
  c.headDim = 16;
  c.maxPositionEmbeddings = 4096;
  c.ropeTheta = 1e4;
  c.rmsNormEps = 1e-6;
  c.tieWordEmbeddings = true;
  c.dtype = dtype;
  c.eosTokenIds = {258};
  c.msa.routerLayers = {2, 3};
  c.msa.topKDocs = 2;
  c.msa.docTopK = 2;
  c.msa.poolingKernelSize = 4;
  c.msa.decoupleRouter = true;
  c.msa.auxLossMethod = "INFONCE_DECOUPLE";
  c.msa.headReduce = HeadReduce::kMean;
  c.msa.queryReduce = QueryReduce::kMax;
  c.msa.chunkReduce = ChunkReduce::kMax;
  return c;
}

/// A tiny model: config, weights and the reference over them.
struct TinyModel {
  ModelConfig config;
  ref::ModelWeights weights;
  ref::ReferenceModel model;
  TinyModel(const ModelConfig &c, uint64_t seed)
      : config(c), weights(ref::randomWeights(c, seed)), model(config, weights) {}
  TinyModel(const ModelConfig &c, uint64_t seed, ref::Numerics nx)
      : config(c), weights(ref::randomWeights(c, seed)),
        model(config, weights, nx) {}
};

inline std::vector<int32_t> randomTokens(Rng &rng, int64_t n,
                                         int64_t vocab = 256) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (int32_t &x : t)
    x = static_cast<int32_t>(rng.uniformInt(0, vocab - 1));
  return t;
}

inline std::vector<float> randomValues(Rng &rng, int64_t n, float stddev = 1.0f,
                                       DType round = DType::kBF16) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float &x : v) {
    x = static_cast<float>(rng.normal()) * stddev;
    if (round == DType::kBF16)
      x = roundToBf16(x);
  }
  return v;
}

/// ||a - b|| / ||b||.
inline double relativeError(const std::vector<float> &a,
                            const std::vector<float> &b) {
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    double d = static_cast<double>(a[i]) - b[i];
    num += d * d;
    den += static_cast<double>(b[i]) * b[i];
  }
  if (a.size() != b.size())
    return INFINITY;
  return den == 0.0 ? std::sqrt(num) : std::sqrt(num / den);
}

/// A query row: `routing` routing-query tokens then `active` tokens of
/// role -1.
inline ref::PromptRow makeRow(Rng &rng, int64_t routing, int64_t active) {
  ref::PromptRow row;
  row.tokens = randomTokens(rng, routing + active);
  row.roles.assign(static_cast<size_t>(routing), 0);
  row.roles.resize(static_cast<size_t>(routing + active), -1);
  return row;
}

} // namespace msa::test

#endif // MSA_TEST_UNITTESTS_REFERENCE_TESTMODELS_H
