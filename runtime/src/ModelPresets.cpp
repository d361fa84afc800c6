//===- ModelPresets.cpp - configurations of generated test models ---------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/ModelPresets.h"

#include "msa/runtime/FileUtil.h"
#include "msa/runtime/Safetensors.h"
#include "msa/runtime/Tokenizer.h"
#include "msa/runtime/reference/Weights.h"

namespace msa::runtime {

namespace {

/// The MSA-4B recipe on a given backbone.
ModelConfig withRecipe(ModelConfig c, std::vector<int64_t> routerLayers,
                       int64_t pool, int64_t k) {
  c.msa.routerLayers = std::move(routerLayers);
  c.msa.poolingKernelSize = pool;
  c.msa.topKDocs = k;
  c.msa.docTopK = k;
  c.msa.decoupleRouter = true;
  c.msa.auxLoss = false;
  c.msa.auxLossMethod = "INFONCE_DECOUPLE";
  c.msa.headReduce = HeadReduce::kMean;
  c.msa.queryReduce = QueryReduce::kMax;
  c.msa.chunkReduce = ChunkReduce::kMax;
  return c;
}

ModelConfig backbone(int64_t vocab, int64_t hidden, int64_t inter,
                     int64_t layers, int64_t heads, int64_t kvHeads,
                     int64_t headDim, double theta) {
  ModelConfig c;
  c.vocabSize = vocab;
  c.hiddenSize = hidden;
  c.intermediateSize = inter;
  c.numLayers = layers;
  c.numHeads = heads;
  c.numKvHeads = kvHeads;
  c.headDim = headDim;
  c.ropeTheta = theta;
  c.rmsNormEps = 1e-6;
  c.maxPositionEmbeddings = 262144;
  c.tieWordEmbeddings = true;
  c.dtype = DType::kBF16;
  // <|im_end|> and <|endoftext|> of the byte tokenizer (ids 258, 256).
  c.eosTokenIds = {258, 256};
  return c;
}

} // namespace

std::vector<std::string> presetNames() {
  return {"tiny", "small", "mid", "msa-4b", "demo"};
}

StatusOr<ModelConfig> presetConfig(const std::string &name) {
  if (name == "tiny") // msa-semantics.md §12
    return withRecipe(backbone(512, 64, 128, 4, 4, 2, 16, 1e4), {2, 3}, 4, 2);
  if (name == "small") // the demo model: P and k as MSA-4B, tiny backbone
    return withRecipe(backbone(512, 128, 384, 4, 4, 2, 32, 1e6), {2, 3}, 64, 4);
  if (name == "demo") // the main job: the lexical router of demoWeights
    return withRecipe(backbone(512, 128, 256, 4, 4, 2, 32, 1e6), {2, 3}, 64, 4);
  if (name == "mid") // the CPU benchmark of issue 4: hidden 512, 8 layers
    return withRecipe(backbone(512, 512, 1536, 8, 8, 2, 64, 1e6),
                      {4, 5, 6, 7}, 64, 16);
  if (name == "msa-4b") {
    ModelConfig c = backbone(151936, 2560, 9728, 36, 32, 8, 128, 5e6);
    std::vector<int64_t> layers;
    for (int64_t l = 18; l < 36; ++l)
      layers.push_back(l);
    return withRecipe(c, layers, 64, 16);
  }
  std::string names;
  for (const std::string &n : presetNames())
    names += (names.empty() ? "" : ", ") + n;
  return invalidArgument("unknown preset '" + name + "' (presets: " + names +
                         ")");
}

const std::vector<std::string> &byteTokenizerSpecials() {
  static const std::vector<std::string> specials{
      "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_end|>",
      "<End-of-Retrieve>"};
  return specials;
}

Status writeRandomCheckpoint(const std::string &dir, const ModelConfig &config,
                             uint64_t seed) {
  return writeCheckpoint(dir, config, ref::randomWeights(config, seed), seed);
}

ref::ModelWeights demoWeights(const ModelConfig &c, uint64_t seed) {
  ref::ModelWeights w = ref::randomWeights(c, seed);
  const int64_t h = c.hiddenSize, d = c.headDim;
  const int64_t rareAxes = h / 2; // dims [h/2, h) hold the rare characters
  auto setEmbedding = [&](int64_t token, const std::vector<float> &v) {
    std::copy(v.begin(), v.end(), w.embedTokens.begin() + token * h);
  };
  // Common tokens live in the first half, rare ones on axes of the second.
  int64_t axis = 0;
  for (int64_t t = 0; t < c.vocabSize; ++t) {
    std::vector<float> v(static_cast<size_t>(h), 0.0f);
    bool rare = t < 256 && ((t >= 'A' && t <= 'Z') || (t >= '0' && t <= '9'));
    if (rare) {
      v[static_cast<size_t>(rareAxes + axis++)] = 1.0f;
    } else {
      for (int64_t i = 0; i < rareAxes; ++i)
        v[static_cast<size_t>(i)] = w.embedTokens[t * h + i];
    }
    setEmbedding(t, v);
  }
  for (int64_t l = 0; l < c.numLayers; ++l) {
    ref::LayerWeights &L = w.layers[l];
    std::fill(L.oProj.begin(), L.oProj.end(), 0.0f);
    std::fill(L.downProj.begin(), L.downProj.end(), 0.0f);
    std::fill(L.inputNorm.begin(), L.inputNorm.end(), 1.0f);
    if (!c.isRouterLayer(l) || !c.msa.decoupleRouter)
      continue;
    // Router head (or KV head) j reads the rare axes [j*d, (j+1)*d) modulo
    // the rare half; query head q pairs with KV head q / G, so both see the
    // same axes.
    std::fill(L.routerQProj.begin(), L.routerQProj.end(), 0.0f);
    std::fill(L.routerKProj.begin(), L.routerKProj.end(), 0.0f);
    const int64_t G = c.numHeads / c.numKvHeads;
    for (int64_t kv = 0; kv < c.numKvHeads; ++kv)
      for (int64_t i = 0; i < d; ++i) {
        int64_t src = rareAxes + (kv * d + i) % rareAxes;
        L.routerKProj[(kv * d + i) * h + src] = 1.0f;
        for (int64_t g = 0; g < G; ++g)
          L.routerQProj[((kv * G + g) * d + i) * h + src] = 1.0f;
      }
  }
  return w;
}

Status writeCheckpoint(const std::string &dir, const ModelConfig &config,
                       const ref::ModelWeights &w, uint64_t seed) {
  MSA_RETURN_IF_ERROR(makeDirectories(dir));
  MSA_RETURN_IF_ERROR(writeFileAtomic(joinPath(dir, "config.json"),
                                      config.toJson().dump(2) + "\n"));
  JsonValue tok = makeByteTokenizerJson(byteTokenizerSpecials());
  MSA_RETURN_IF_ERROR(
      writeFileAtomic(joinPath(dir, "tokenizer.json"), tok.dump(2) + "\n"));
  SafetensorsWriter writer;
  writer.setMetadata("format", "pt");
  writer.setMetadata("generator",
                     "msa-run make-model seed " + std::to_string(seed));
  for (const ref::WeightSpec &spec : ref::checkpointLayout(config)) {
    const std::vector<float> *t = ref::findWeight(w, config, spec.name);
    MSA_RETURN_IF_ERROR(writer.addF32(spec.name, config.dtype, spec.shape, *t));
  }
  return writer.write(joinPath(dir, "model.safetensors"));
}

} // namespace msa::runtime
