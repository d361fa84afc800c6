//===- Weights.cpp - MSA model weights in the MSA-4B layout ---------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/reference/Weights.h"

#include "msa/runtime/Random.h"

#include <cmath>

namespace msa::runtime::ref {

namespace {

/// Calls fn(name, shape, tensor) for every tensor of the layout, in order.
/// One list serves the layout, loading, random init and writing.
template <typename Weights, typename Fn>
void forEachWeight(const ModelConfig &c, Weights &w, Fn fn) {
  const int64_t hd = c.headDim, q = c.numHeads * hd, kv = c.numKvHeads * hd;
  const int64_t h = c.hiddenSize, inter = c.intermediateSize;
  fn("model.embed_tokens.weight", std::vector<int64_t>{c.vocabSize, h},
     w.embedTokens);
  for (int64_t l = 0; l < c.numLayers; ++l) {
    auto &L = w.layers[l];
    const std::string p = "model.layers." + std::to_string(l) + ".";
    fn(p + "input_layernorm.weight", std::vector<int64_t>{h}, L.inputNorm);
    fn(p + "self_attn.q_proj.weight", std::vector<int64_t>{q, h}, L.qProj);
    fn(p + "self_attn.k_proj.weight", std::vector<int64_t>{kv, h}, L.kProj);
    fn(p + "self_attn.v_proj.weight", std::vector<int64_t>{kv, h}, L.vProj);
    fn(p + "self_attn.o_proj.weight", std::vector<int64_t>{h, q}, L.oProj);
    fn(p + "self_attn.q_norm.weight", std::vector<int64_t>{hd}, L.qNorm);
    fn(p + "self_attn.k_norm.weight", std::vector<int64_t>{hd}, L.kNorm);
    if (c.msa.decoupleRouter && c.isRouterLayer(l)) {
      // nn.Sequential wrappers in MSA-4B give the ".0" suffix.
      fn(p + "self_attn.router_q_proj.0.weight", std::vector<int64_t>{q, h},
         L.routerQProj);
      fn(p + "self_attn.router_k_proj.0.weight", std::vector<int64_t>{kv, h},
         L.routerKProj);
    }
    fn(p + "post_attention_layernorm.weight", std::vector<int64_t>{h},
       L.postNorm);
    fn(p + "mlp.gate_proj.weight", std::vector<int64_t>{inter, h}, L.gateProj);
    fn(p + "mlp.up_proj.weight", std::vector<int64_t>{inter, h}, L.upProj);
    fn(p + "mlp.down_proj.weight", std::vector<int64_t>{h, inter}, L.downProj);
  }
  fn("model.norm.weight", std::vector<int64_t>{h}, w.finalNorm);
  if (!c.tieWordEmbeddings)
    fn("lm_head.weight", std::vector<int64_t>{c.vocabSize, h}, w.lmHead);
}

bool isNormWeight(const std::string &name) {
  return name.find("norm.weight") != std::string::npos;
}

} // namespace

std::vector<WeightSpec> checkpointLayout(const ModelConfig &config) {
  ModelWeights w;
  w.layers.resize(static_cast<size_t>(config.numLayers));
  std::vector<WeightSpec> specs;
  forEachWeight(config, w,
                [&](const std::string &name, std::vector<int64_t> shape,
                    std::vector<float> &) {
                  specs.push_back({name, std::move(shape)});
                });
  return specs;
}

StatusOr<ModelWeights> loadWeights(const Checkpoint &checkpoint) {
  const ModelConfig &config = checkpoint.config();
  ModelWeights w;
  w.layers.resize(static_cast<size_t>(config.numLayers));
  Status status;
  forEachWeight(config, w,
                [&](const std::string &name, const std::vector<int64_t> &shape,
                    std::vector<float> &dst) {
                  if (!status.isOk())
                    return;
                  StatusOr<std::vector<float>> t = checkpoint.readF32(name, shape);
                  if (!t.isOk()) {
                    status = t.status();
                    return;
                  }
                  dst = std::move(t).value();
                });
  if (!status.isOk())
    return status;
  return w;
}

ModelWeights randomWeights(const ModelConfig &config, uint64_t seed) {
  ModelWeights w;
  w.layers.resize(static_cast<size_t>(config.numLayers));
  Rng rng(seed);
  auto round = [&](float x) {
    switch (config.dtype) {
    case DType::kBF16:
      return roundToBf16(x);
    case DType::kF16:
      return roundToF16(x);
    default:
      return x;
    }
  };
  forEachWeight(config, w,
                [&](const std::string &name, const std::vector<int64_t> &shape,
                    std::vector<float> &dst) {
                  int64_t n = 1;
                  for (int64_t d : shape)
                    n *= d;
                  dst.resize(static_cast<size_t>(n));
                  // Norm weights near 1 keep activations O(1); projections
                  // use 1/sqrt(fan_in) so every layer matters.
                  bool norm = isNormWeight(name);
                  bool embed = shape.size() == 2 && shape[0] == config.vocabSize;
                  float std = norm ? 0.1f
                              : embed
                                  ? 1.0f
                                  : static_cast<float>(
                                        1.0 / std::sqrt(static_cast<double>(
                                                  shape.back())));
                  for (float &x : dst)
                    x = round((norm ? 1.0f : 0.0f) +
                              std * static_cast<float>(rng.normal()));
                });
  return w;
}

const std::vector<float> *findWeight(const ModelWeights &weights,
                                     const ModelConfig &config,
                                     const std::string &name) {
  const std::vector<float> *found = nullptr;
  forEachWeight(config, weights,
                [&](const std::string &n, const std::vector<int64_t> &,
                    const std::vector<float> &t) {
                  if (n == name)
                    found = &t;
                });
  return found;
}

} // namespace msa::runtime::ref
