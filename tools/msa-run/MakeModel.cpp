//===- MakeModel.cpp - msa-run make-model ---------------------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Writes a real checkpoint directory for any small config from a seed:
// config.json with the msa_config block, model.safetensors in the MSA-4B
// tensor layout, and a byte-level tokenizer.json. The directory appears
// whole or not at all (written beside it, then renamed).
//
//===----------------------------------------------------------------------===//

#include "Args.h"
#include "Commands.h"

#include "msa/runtime/FileUtil.h"
#include "msa/runtime/ModelPresets.h"
#include "msa/runtime/Safetensors.h"
#include "msa/runtime/Tokenizer.h"
#include "msa/runtime/reference/Weights.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <unistd.h>

namespace msa::tools {

using namespace msa::runtime;

namespace {

const std::vector<FlagSpec> kFlags = {
    {"output", "DIR", "checkpoint directory to create (also -o)"},
    {"preset", "NAME", "tiny | small | mid | msa-4b | demo (default tiny)"},
    {"seed", "N", "random seed of the weights (default 0)"},
    {"dtype", "T", "bf16 | f16 | f32 (default bf16)"},
    {"force", "", "replace DIR if it exists"},
    {"hidden", "N", "hidden size"},
    {"intermediate", "N", "MLP width"},
    {"layers", "N", "number of layers"},
    {"heads", "N", "query heads"},
    {"kv-heads", "N", "key/value heads"},
    {"head-dim", "N", "head dimension"},
    {"vocab", "N", "vocabulary size (at least 261 for the byte tokenizer)"},
    {"theta", "X", "RoPE theta"},
    {"router-layers", "LIST", "\"all\" or comma-separated layer indices"},
    {"pool", "P", "chunk length (pooling_kernel_size)"},
    {"top-k", "K", "documents selected per router layer (doc_top_k)"},
    {"aux-loss-method", "M", "INFONCE | INFONCE_DECOUPLE | ... (routing math)"},
    {"decouple-router", "BOOL", "separate router projections (default true)"},
    {"tie-embeddings", "BOOL", "lm_head shares the embedding (default true)"},
    {"head-reduce", "R", "mean | max"},
    {"query-reduce", "R", "max | mean | last"},
    {"chunk-reduce", "R", "max | mean"},
    {"help", "", "show this help"},
};

/// Applies the override flags to the preset through its config.json, so
/// the same validation as for a loaded checkpoint applies.
StatusOr<ModelConfig> buildConfig(const Args &args) {
  MSA_ASSIGN_OR_RETURN(ModelConfig base,
                       presetConfig(args.get("preset").value_or("tiny")));
  JsonValue json = base.toJson();
  JsonValue &msaJson = *json.find("msa_config");
  struct IntFlag {
    const char *flag, *key;
    bool inMsa;
  };
  for (IntFlag f : {IntFlag{"hidden", "hidden_size", false},
                    {"intermediate", "intermediate_size", false},
                    {"layers", "num_hidden_layers", false},
                    {"heads", "num_attention_heads", false},
                    {"kv-heads", "num_key_value_heads", false},
                    {"head-dim", "head_dim", false},
                    {"vocab", "vocab_size", false},
                    {"pool", "pooling_kernel_size", true},
                    {"top-k", "doc_top_k", true}}) {
    if (!args.has(f.flag))
      continue;
    MSA_ASSIGN_OR_RETURN(int64_t v, args.integer(f.flag, 0, 1, 1LL << 40));
    (f.inMsa ? msaJson : json).set(f.key, v);
    if (std::string(f.key) == "doc_top_k")
      msaJson.set("top_k_docs", v);
  }
  if (args.has("theta")) {
    MSA_ASSIGN_OR_RETURN(double t, args.number("theta", 0.0));
    json.set("rope_theta", t);
  }
  if (std::optional<std::string> d = args.get("dtype")) {
    const char *names[][2] = {{"bf16", "bfloat16"},
                              {"f16", "float16"},
                              {"f32", "float32"}};
    bool found = false;
    for (auto &n : names)
      if (*d == n[0]) {
        json.set("torch_dtype", n[1]);
        found = true;
      }
    if (!found)
      return invalidArgument("make-model: --dtype must be bf16, f16 or f32, "
                             "got '" + *d + "'");
  }
  for (auto [flag, key] :
       {std::pair<const char *, const char *>{"router-layers",
                                              "router_layer_idx"},
        {"aux-loss-method", "aux_loss_method"},
        {"head-reduce", "head_reduce_method"},
        {"query-reduce", "query_reduce_method"},
        {"chunk-reduce", "chunk_reduce_method"}})
    if (std::optional<std::string> v = args.get(flag))
      msaJson.set(key, *v);
  if (args.has("tie-embeddings")) {
    MSA_ASSIGN_OR_RETURN(bool b, args.boolean("tie-embeddings", true));
    json.set("tie_word_embeddings", b);
  }
  if (args.has("decouple-router")) {
    MSA_ASSIGN_OR_RETURN(bool b, args.boolean("decouple-router", true));
    msaJson.set("decouple_router", b);
  }
  if (args.has("layers") && !args.has("router-layers"))
    return invalidArgument(
        "make-model: --layers changes the depth; give --router-layers too");
  if (args.has("heads") && !args.has("head-dim")) {
    // Keep the preset's head dim unless asked otherwise.
  }
  return ModelConfig::fromJson(json, "make-model flags");
}

} // namespace

int runMakeModel(int argc, char **argv) {
  // -o is the one short flag, as in every compiler driver.
  std::vector<char *> argvCopy(argv, argv + argc);
  for (char *&a : argvCopy)
    if (std::string(a) == "-o")
      a = const_cast<char *>("--output");
  StatusOr<Args> parsed =
      Args::parse("make-model", kFlags, argc, argvCopy.data(), 2);
  if (!parsed.isOk())
    return fail(parsed.status());
  const Args &args = *parsed;
  if (args.has("help")) {
    std::printf("usage: msa-run make-model -o DIR [flags]\n\n%s",
                Args::usage(kFlags).c_str());
    return 0;
  }
  StatusOr<std::string> dir = args.required("output");
  if (!dir.isOk())
    return fail(dir.status());
  StatusOr<ModelConfig> config = buildConfig(args);
  if (!config.isOk())
    return fail(config.status());
  if (config->vocabSize < 256 + static_cast<int64_t>(byteTokenizerSpecials().size()))
    return fail(invalidArgument("make-model: --vocab must be at least " +
                                std::to_string(256 + byteTokenizerSpecials().size()) +
                                " for the byte tokenizer"));
  StatusOr<int64_t> seed = args.integer("seed", 0, 0, INT64_MAX);
  if (!seed.isOk())
    return fail(seed.status());
  StatusOr<bool> force = args.boolean("force", false);
  if (!force.isOk())
    return fail(force.status());
  if (fileExists(*dir) && !*force)
    return fail(invalidArgument(*dir + ": already exists (pass --force to "
                                       "replace it)"));

  // Build beside the target, then swap it in: never a half-written model.
  std::string tmp = *dir + ".tmp." + std::to_string(getpid());
  std::string preset = args.get("preset").value_or("tiny");
  Status s = preset == "demo"
                 ? writeCheckpoint(tmp, *config,
                                   demoWeights(*config, static_cast<uint64_t>(*seed)),
                                   static_cast<uint64_t>(*seed))
                 : writeRandomCheckpoint(tmp, *config,
                                         static_cast<uint64_t>(*seed));
  if (s.isOk() && fileExists(*dir))
    s = removeTree(*dir);
  if (s.isOk() && std::rename(tmp.c_str(), dir->c_str()) != 0)
    s = ioError(*dir + ": cannot rename the new checkpoint into place");
  if (!s.isOk()) {
    (void)removeTree(tmp);
    return fail(s);
  }
  std::printf("wrote %s: %lld layers, hidden %lld, router layers %s, P=%lld, "
              "k=%lld, %s\n",
              dir->c_str(), static_cast<long long>(config->numLayers),
              static_cast<long long>(config->hiddenSize),
              config->toJson().find("msa_config")->find("router_layer_idx")
                  ->asString().c_str(),
              static_cast<long long>(config->msa.poolingKernelSize),
              static_cast<long long>(config->msa.docTopK),
              dtypeName(config->dtype));
  return 0;
}

} // namespace msa::tools
