//===- ModelConfigTest.cpp - config.json and msa_config parsing -----------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Corpus.h"
#include "msa/runtime/ModelConfig.h"
#include "msa/runtime/ModelPresets.h"

#include <gtest/gtest.h>

using namespace msa::runtime;

namespace {

/// The config.json of MSA-4B as the released recipe writes it.
const char *kMsa4bConfig = R"({
  "architectures": ["MSAForCausalLM"], "model_type": "qwen3",
  "vocab_size": 151936, "hidden_size": 2560, "intermediate_size": 9728,
  "num_hidden_layers": 36, "num_attention_heads": 32,
  "num_key_value_heads": 8, "head_dim": 128, "rope_theta": 5000000,
  "rms_norm_eps": 1e-06, "max_position_embeddings": 262144,
  "hidden_act": "silu", "attention_bias": false, "rope_scaling": null,
  "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "eos_token_id": 151645, "bos_token_id": 151643,
  "msa_config": {
    "router_layer_idx": "18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35",
    "top_k_docs": 16, "pooling_kernel_size": 64, "decouple_router": true,
    "aux_loss": false, "aux_loss_method": "INFONCE_DECOUPLE",
    "infonce_loss_temp": 0.1, "head_reduce_method": "mean",
    "query_reduce_method": "max", "chunk_reduce_method": "max",
    "decouple_pooling_mode": "mean", "rewrite_position": true,
    "lmloss_weigth": 1.0, "auxloss_weight": 0.1, "recloss_weight": 0.0,
    "ansloss_weight": 1.0}
})";

StatusOr<ModelConfig> parse(const std::string &text) {
  StatusOr<JsonValue> json = JsonValue::parse(text);
  EXPECT_TRUE(json.isOk()) << json.status().message();
  return ModelConfig::fromJson(*json, "config.json");
}

std::string errorOf(const std::string &text) {
  StatusOr<ModelConfig> c = parse(text);
  return c.isOk() ? "ok" : c.status().message();
}

/// kMsa4bConfig with `from` replaced by `to`.
std::string edited(const std::string &from, const std::string &to) {
  std::string s = kMsa4bConfig;
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

TEST(ModelConfig, ParsesTheMsa4bRecipe) {
  StatusOr<ModelConfig> c = parse(kMsa4bConfig);
  ASSERT_TRUE(c.isOk()) << c.status().message();
  EXPECT_EQ(c->numLayers, 36);
  EXPECT_EQ(c->groupSize(), 4);
  EXPECT_EQ(c->numRouterLayers(), 18);
  EXPECT_TRUE(c->isRouterLayer(18));
  EXPECT_FALSE(c->isRouterLayer(17));
  EXPECT_EQ(c->routerIndex(35), 17);
  // Inference k is doc_top_k (absent -> 16), not top_k_docs.
  EXPECT_EQ(c->msa.docTopK, 16);
  EXPECT_EQ(c->msa.poolingKernelSize, 64);
  EXPECT_EQ(c->msa.headReduce, HeadReduce::kMean);
  // INFONCE_DECOUPLE: raw dot products scaled by 1/sqrt(d), K̄ᴿ kept.
  EXPECT_FALSE(c->routingNormalize());
  EXPECT_TRUE(c->routingScale());
  EXPECT_TRUE(c->hasRouterKeys());
  EXPECT_EQ(c->eosTokenIds, (std::vector<int64_t>{151645}));
}

TEST(ModelConfig, RoundTripsThroughToJson) {
  for (const std::string &name : presetNames()) {
    StatusOr<ModelConfig> p = presetConfig(name);
    ASSERT_TRUE(p.isOk());
    StatusOr<ModelConfig> back = ModelConfig::fromJson(p->toJson(), name);
    ASSERT_TRUE(back.isOk()) << back.status().message();
    EXPECT_EQ(back->toJson().dump(), p->toJson().dump()) << name;
  }
}

TEST(ModelConfig, RouterLayerForms) {
  StatusOr<ModelConfig> all =
      parse(edited("\"18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35\"",
                   "\"all\""));
  ASSERT_TRUE(all.isOk());
  EXPECT_EQ(all->numRouterLayers(), 36);
  StatusOr<ModelConfig> arr =
      parse(edited("\"18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35\"",
                   "[35, 3]"));
  ASSERT_TRUE(arr.isOk());
  EXPECT_EQ(arr->msa.routerLayers, (std::vector<int64_t>{3, 35}));
}

TEST(ModelConfig, ErrorsNameTheKey) {
  EXPECT_EQ(errorOf(edited("\"hidden_size\": 2560", "\"hidden_size\": \"big\"")),
            "config.json: key 'hidden_size' must be a positive integer, got "
            "\"big\"");
  EXPECT_EQ(errorOf(edited("\"num_key_value_heads\": 8",
                           "\"num_key_value_heads\": 7")),
            "config.json: num_attention_heads (32) must be a multiple of "
            "num_key_value_heads (7)");
  EXPECT_EQ(errorOf(edited("\"head_dim\": 128", "\"head_dim\": 127")),
            "config.json: head_dim must be even for RoPE, got 127");
  EXPECT_EQ(
      errorOf(edited("\"18,19,", "\"18,40,19,")),
      "config.json: key 'msa_config.router_layer_idx' names layer 40 of a "
      "36-layer model");
  EXPECT_EQ(errorOf(edited("\"18,19,", "\"18,x,")),
            "config.json: key 'msa_config.router_layer_idx' must be \"all\" or "
            "a comma-separated list of layers, got "
            "\"18,x,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35\"");
  EXPECT_EQ(errorOf(edited("\"INFONCE_DECOUPLE\"", "\"COSINE\"")),
            "config.json: key 'msa_config.aux_loss_method' must be one of "
            "\"INFONCE\", \"INFONCE_FOCAL\", \"BCE\", \"INFONCE_DECOUPLE\", "
            "\"INFONCE_DECOUPLE_FOCAL\", got \"COSINE\"");
  EXPECT_EQ(errorOf(edited("\"pooling_kernel_size\": 64",
                           "\"pooling_kernel_size\": 0")),
            "config.json: key 'msa_config.pooling_kernel_size' must be a "
            "positive integer, got 0");
  EXPECT_EQ(errorOf(edited("\"hidden_act\": \"silu\"", "\"hidden_act\": \"gelu\"")),
            "config.json: key 'hidden_act' must be \"silu\" (Qwen3), got "
            "\"gelu\"");
  EXPECT_EQ(errorOf(edited("\"rope_scaling\": null",
                           "\"rope_scaling\": {\"type\": \"yarn\"}")),
            "config.json: key 'rope_scaling' is set ({\"type\":\"yarn\"}); "
            "only default RoPE is implemented");
  EXPECT_EQ(errorOf("{\"vocab_size\": 10}"),
            "config.json: key 'hidden_size' is missing");
  EXPECT_EQ(errorOf(edited("\"msa_config\": {", "\"not_msa\": {")),
            "config.json: key 'msa_config' is missing (not an MSA model?)");
}

TEST(ModelConfig, RoutingFlagMatrix) {
  ModelConfig c = *presetConfig("tiny");
  c.msa.auxLossMethod = "INFONCE";
  c.msa.decoupleRouter = true;
  EXPECT_TRUE(c.routingNormalize());
  EXPECT_FALSE(c.routingScale());
  c.msa.decoupleRouter = false;
  EXPECT_TRUE(c.routingScale());
  EXPECT_TRUE(c.hasRouterKeys());
  // Training-only variants of INFONCE do not normalise at inference.
  c.msa.auxLossMethod = "INFONCE_FOCAL";
  EXPECT_FALSE(c.routingNormalize());
  EXPECT_FALSE(c.hasRouterKeys());
}

TEST(Corpus, JsonlAndPlainText) {
  StatusOr<std::vector<Document>> docs = parseJsonlCorpus(
      "{\"id\": \"a\", \"text\": \"first\"}\n\n{\"id\": 7, \"text\": \"x\\ny\"}\n"
      "{\"text\": \"no id\"}\n",
      "c.jsonl");
  ASSERT_TRUE(docs.isOk()) << docs.status().message();
  ASSERT_EQ(docs->size(), 3u);
  EXPECT_EQ((*docs)[1].id, "7");
  EXPECT_EQ((*docs)[1].text, "x\ny");
  EXPECT_EQ((*docs)[2].id, "");

  EXPECT_EQ(parseJsonlCorpus("{\"text\": 1}\n", "c.jsonl").status().message(),
            "c.jsonl:1: expected a JSON object with a string 'text'");
  EXPECT_EQ(parseJsonlCorpus("\n{\"text\": \"a\"}\n{oops}\n", "c.jsonl")
                .status()
                .message()
                .substr(0, 10),
            "c.jsonl:3:");

  std::vector<Document> plain =
      splitPlainTextCorpus("para one\nstill one\n\n\n  para two  \n\n");
  ASSERT_EQ(plain.size(), 2u);
  EXPECT_EQ(plain[0].text, "para one\nstill one");
  EXPECT_EQ(plain[1].text, "para two");
  EXPECT_TRUE(splitPlainTextCorpus("\n \n").empty());
}

} // namespace
