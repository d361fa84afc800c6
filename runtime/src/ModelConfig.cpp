//===- ModelConfig.cpp - the HF config.json of an MSA model ---------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/ModelConfig.h"

#include "msa/runtime/FileUtil.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace msa::runtime {

const char *headReduceName(HeadReduce r) {
  return r == HeadReduce::kMean ? "mean" : "max";
}
const char *queryReduceName(QueryReduce r) {
  switch (r) {
  case QueryReduce::kMax:
    return "max";
  case QueryReduce::kMean:
    return "mean";
  case QueryReduce::kLast:
    return "last";
  }
  return "?";
}
const char *chunkReduceName(ChunkReduce r) {
  return r == ChunkReduce::kMean ? "mean" : "max";
}

namespace {

const char *const kAuxLossMethods[] = {"INFONCE", "INFONCE_FOCAL", "BCE",
                                       "INFONCE_DECOUPLE",
                                       "INFONCE_DECOUPLE_FOCAL"};

/// Reads keys of one JSON object, naming the file and key in every error.
class KeyReader {
public:
  KeyReader(const JsonValue &obj, std::string path, std::string prefix)
      : obj_(obj), path_(std::move(path)), prefix_(std::move(prefix)) {}

  Status error(const std::string &key, const std::string &what,
               const JsonValue *got) const {
    std::string msg = path_ + ": key '" + prefix_ + key + "' " + what;
    if (got)
      msg += ", got " + got->dump();
    return invalidArgument(msg);
  }

  const JsonValue *find(const std::string &key) const {
    const JsonValue *v = obj_.find(key);
    return (v && !v->isNull()) ? v : nullptr;
  }

  /// A required positive integer.
  Status positiveInt(const std::string &key, int64_t &out) const {
    const JsonValue *v = find(key);
    if (!v)
      return error(key, "is missing", nullptr);
    if (!v->isInteger() || v->asInt() <= 0)
      return error(key, "must be a positive integer", v);
    out = v->asInt();
    return Status::ok();
  }

  /// An optional positive integer.
  Status optionalPositiveInt(const std::string &key, int64_t &out) const {
    if (!find(key))
      return Status::ok();
    return positiveInt(key, out);
  }

  Status positiveNumber(const std::string &key, double &out,
                        bool required) const {
    const JsonValue *v = find(key);
    if (!v)
      return required ? error(key, "is missing", nullptr) : Status::ok();
    if (!v->isNumber() || !(v->asNumber() > 0.0) ||
        !std::isfinite(v->asNumber()))
      return error(key, "must be a positive number", v);
    out = v->asNumber();
    return Status::ok();
  }

  Status boolean(const std::string &key, bool &out) const {
    const JsonValue *v = find(key);
    if (!v)
      return Status::ok();
    if (!v->isBool())
      return error(key, "must be true or false", v);
    out = v->asBool();
    return Status::ok();
  }

  Status string(const std::string &key, std::string &out) const {
    const JsonValue *v = find(key);
    if (!v)
      return Status::ok();
    if (!v->isString())
      return error(key, "must be a string", v);
    out = v->asString();
    return Status::ok();
  }

  /// An optional string among `choices`, mapped to its index.
  Status choice(const std::string &key, std::initializer_list<const char *> choices,
                int &out) const {
    const JsonValue *v = find(key);
    if (!v)
      return Status::ok();
    if (v->isString()) {
      int i = 0;
      for (const char *c : choices) {
        if (v->asString() == c) {
          out = i;
          return Status::ok();
        }
        ++i;
      }
    }
    std::string list;
    for (const char *c : choices)
      list += std::string(list.empty() ? "" : ", ") + "\"" + c + "\"";
    return error(key, "must be one of " + list, v);
  }

private:
  const JsonValue &obj_;
  std::string path_;
  std::string prefix_;
};

/// "all" or "18,19,20" (or a JSON array of integers) -> layer list.
Status parseRouterLayers(const KeyReader &r, const JsonValue *v,
                         int64_t numLayers, std::vector<int64_t> &out) {
  out.clear();
  if (!v || (v->isString() && v->asString() == "all")) {
    for (int64_t l = 0; l < numLayers; ++l)
      out.push_back(l);
    return Status::ok();
  }
  if (v->isArray()) {
    for (const JsonValue &e : v->elements()) {
      if (!e.isInteger())
        return r.error("router_layer_idx", "must hold integers", v);
      out.push_back(e.asInt());
    }
  } else if (v->isString()) {
    std::stringstream ss(v->asString());
    std::string item;
    while (std::getline(ss, item, ',')) {
      size_t b = item.find_first_not_of(" \t");
      size_t e = item.find_last_not_of(" \t");
      if (b == std::string::npos)
        return r.error("router_layer_idx",
                       "must be \"all\" or a comma-separated list of layers",
                       v);
      item = item.substr(b, e - b + 1);
      if (item.size() > 9 ||
          item.find_first_not_of("0123456789") != std::string::npos)
        return r.error("router_layer_idx",
                       "must be \"all\" or a comma-separated list of layers",
                       v);
      out.push_back(std::strtoll(item.c_str(), nullptr, 10));
    }
  } else {
    return r.error("router_layer_idx",
                   "must be \"all\" or a comma-separated list of layers", v);
  }
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end())
    return r.error("router_layer_idx", "lists a layer twice", v);
  for (int64_t l : out)
    if (l < 0 || l >= numLayers)
      return r.error("router_layer_idx",
                     "names layer " + std::to_string(l) + " of a " +
                         std::to_string(numLayers) + "-layer model",
                     nullptr);
  return Status::ok();
}

} // namespace

StatusOr<ModelConfig> ModelConfig::fromJson(const JsonValue &json,
                                            const std::string &path) {
  if (!json.isObject())
    return invalidArgument(path + ": expected a JSON object, got " +
                           json.dump().substr(0, 40));
  KeyReader r(json, path, "");
  ModelConfig c;
  MSA_RETURN_IF_ERROR(r.positiveInt("vocab_size", c.vocabSize));
  MSA_RETURN_IF_ERROR(r.positiveInt("hidden_size", c.hiddenSize));
  MSA_RETURN_IF_ERROR(r.positiveInt("intermediate_size", c.intermediateSize));
  MSA_RETURN_IF_ERROR(r.positiveInt("num_hidden_layers", c.numLayers));
  MSA_RETURN_IF_ERROR(r.positiveInt("num_attention_heads", c.numHeads));
  c.numKvHeads = c.numHeads;
  MSA_RETURN_IF_ERROR(r.optionalPositiveInt("num_key_value_heads", c.numKvHeads));
  c.headDim = c.hiddenSize / c.numHeads;
  MSA_RETURN_IF_ERROR(r.optionalPositiveInt("head_dim", c.headDim));
  c.maxPositionEmbeddings = 262144;
  MSA_RETURN_IF_ERROR(
      r.optionalPositiveInt("max_position_embeddings", c.maxPositionEmbeddings));
  c.ropeTheta = 10000.0;
  MSA_RETURN_IF_ERROR(r.positiveNumber("rope_theta", c.ropeTheta, false));
  c.rmsNormEps = 1e-6;
  MSA_RETURN_IF_ERROR(r.positiveNumber("rms_norm_eps", c.rmsNormEps, false));
  MSA_RETURN_IF_ERROR(r.boolean("tie_word_embeddings", c.tieWordEmbeddings));

  // Qwen3 features this implementation does not have are refused, not
  // silently ignored.
  if (const JsonValue *act = r.find("hidden_act"))
    if (!act->isString() || act->asString() != "silu")
      return r.error("hidden_act", "must be \"silu\" (Qwen3)", act);
  if (const JsonValue *bias = r.find("attention_bias"))
    if (!bias->isBool() || bias->asBool())
      return r.error("attention_bias", "must be false (Qwen3 has no biases)",
                     bias);
  if (const JsonValue *scaling = r.find("rope_scaling"))
    return unimplemented(path + ": key 'rope_scaling' is set (" +
                         scaling->dump() +
                         "); only default RoPE is implemented");

  int dtypeIdx = 0;
  const char *dtypeKey = r.find("torch_dtype") ? "torch_dtype" : "dtype";
  MSA_RETURN_IF_ERROR(
      r.choice(dtypeKey, {"bfloat16", "float16", "float32"}, dtypeIdx));
  c.dtype = dtypeIdx == 0 ? DType::kBF16
                          : (dtypeIdx == 1 ? DType::kF16 : DType::kF32);

  if (const JsonValue *eos = r.find("eos_token_id")) {
    if (eos->isInteger()) {
      c.eosTokenIds.push_back(eos->asInt());
    } else if (eos->isArray()) {
      for (const JsonValue &e : eos->elements()) {
        if (!e.isInteger())
          return r.error("eos_token_id", "must be an integer or a list of them",
                         eos);
        c.eosTokenIds.push_back(e.asInt());
      }
    } else {
      return r.error("eos_token_id", "must be an integer or a list of them",
                     eos);
    }
  }

  const JsonValue *msaJson = r.find("msa_config");
  if (!msaJson)
    return invalidArgument(path + ": key 'msa_config' is missing (not an MSA "
                                  "model?)");
  if (!msaJson->isObject())
    return r.error("msa_config", "must be an object", msaJson);
  KeyReader m(*msaJson, path, "msa_config.");
  MsaConfig &mc = c.msa;
  MSA_RETURN_IF_ERROR(parseRouterLayers(m, m.find("router_layer_idx"),
                                        c.numLayers, mc.routerLayers));
  MSA_RETURN_IF_ERROR(m.optionalPositiveInt("top_k_docs", mc.topKDocs));
  MSA_RETURN_IF_ERROR(m.optionalPositiveInt("doc_top_k", mc.docTopK));
  MSA_RETURN_IF_ERROR(
      m.optionalPositiveInt("pooling_kernel_size", mc.poolingKernelSize));
  MSA_RETURN_IF_ERROR(m.boolean("decouple_router", mc.decoupleRouter));
  MSA_RETURN_IF_ERROR(m.boolean("aux_loss", mc.auxLoss));
  int method = 0;
  MSA_RETURN_IF_ERROR(m.choice("aux_loss_method",
                               {kAuxLossMethods[0], kAuxLossMethods[1],
                                kAuxLossMethods[2], kAuxLossMethods[3],
                                kAuxLossMethods[4]},
                               method));
  mc.auxLossMethod = kAuxLossMethods[method];
  MSA_RETURN_IF_ERROR(
      m.positiveNumber("infonce_loss_temp", mc.infonceLossTemp, false));
  int head = 1, query = 0, chunk = 0;
  MSA_RETURN_IF_ERROR(m.choice("head_reduce_method", {"mean", "max"}, head));
  MSA_RETURN_IF_ERROR(
      m.choice("query_reduce_method", {"max", "mean", "last"}, query));
  MSA_RETURN_IF_ERROR(m.choice("chunk_reduce_method", {"max", "mean"}, chunk));
  mc.headReduce = static_cast<HeadReduce>(head);
  mc.queryReduce = static_cast<QueryReduce>(query);
  mc.chunkReduce = static_cast<ChunkReduce>(chunk);

  MSA_RETURN_IF_ERROR(c.validate(path));
  return c;
}

Status ModelConfig::validate(const std::string &path) const {
  auto bad = [&](const std::string &m) { return invalidArgument(path + ": " + m); };
  if (numHeads % numKvHeads != 0)
    return bad("num_attention_heads (" + std::to_string(numHeads) +
               ") must be a multiple of num_key_value_heads (" +
               std::to_string(numKvHeads) + ")");
  if (headDim % 2 != 0)
    return bad("head_dim must be even for RoPE, got " + std::to_string(headDim));
  if (msa.poolingKernelSize <= 0)
    return bad("msa_config.pooling_kernel_size must be positive");
  if (msa.docTopK <= 0)
    return bad("msa_config.doc_top_k must be positive");
  for (int64_t l : msa.routerLayers)
    if (l < 0 || l >= numLayers)
      return bad("router layer " + std::to_string(l) + " out of range");
  return Status::ok();
}

StatusOr<ModelConfig> ModelConfig::load(const std::string &path) {
  MSA_ASSIGN_OR_RETURN(std::string text, readFile(path));
  StatusOr<JsonValue> json = JsonValue::parse(text);
  if (!json.isOk())
    return json.status().withContext(path);
  return fromJson(*json, path);
}

bool ModelConfig::isRouterLayer(int64_t layer) const {
  return routerIndex(layer) >= 0;
}

int64_t ModelConfig::routerIndex(int64_t layer) const {
  auto it = std::lower_bound(msa.routerLayers.begin(), msa.routerLayers.end(),
                             layer);
  if (it == msa.routerLayers.end() || *it != layer)
    return -1;
  return it - msa.routerLayers.begin();
}

JsonValue ModelConfig::toJson() const {
  JsonValue j = JsonValue::object();
  JsonValue arch = JsonValue::array();
  arch.push("MSAForCausalLM");
  j.set("architectures", std::move(arch));
  j.set("model_type", "qwen3");
  j.set("vocab_size", vocabSize);
  j.set("hidden_size", hiddenSize);
  j.set("intermediate_size", intermediateSize);
  j.set("num_hidden_layers", numLayers);
  j.set("num_attention_heads", numHeads);
  j.set("num_key_value_heads", numKvHeads);
  j.set("head_dim", headDim);
  j.set("max_position_embeddings", maxPositionEmbeddings);
  j.set("rope_theta", ropeTheta);
  j.set("rms_norm_eps", rmsNormEps);
  j.set("hidden_act", "silu");
  j.set("attention_bias", false);
  j.set("tie_word_embeddings", tieWordEmbeddings);
  j.set("torch_dtype", dtype == DType::kBF16
                           ? "bfloat16"
                           : (dtype == DType::kF16 ? "float16" : "float32"));
  if (eosTokenIds.size() == 1) {
    j.set("eos_token_id", eosTokenIds[0]);
  } else if (!eosTokenIds.empty()) {
    JsonValue eos = JsonValue::array();
    for (int64_t id : eosTokenIds)
      eos.push(id);
    j.set("eos_token_id", std::move(eos));
  }
  JsonValue m = JsonValue::object();
  std::string layers;
  for (int64_t l : msa.routerLayers)
    layers += (layers.empty() ? "" : ",") + std::to_string(l);
  m.set("router_layer_idx", layers);
  m.set("top_k_docs", msa.topKDocs);
  m.set("doc_top_k", msa.docTopK);
  m.set("pooling_kernel_size", msa.poolingKernelSize);
  m.set("decouple_router", msa.decoupleRouter);
  m.set("aux_loss", msa.auxLoss);
  m.set("aux_loss_method", msa.auxLossMethod);
  m.set("infonce_loss_temp", msa.infonceLossTemp);
  m.set("head_reduce_method", headReduceName(msa.headReduce));
  m.set("query_reduce_method", queryReduceName(msa.queryReduce));
  m.set("chunk_reduce_method", chunkReduceName(msa.chunkReduce));
  j.set("msa_config", std::move(m));
  return j;
}

} // namespace msa::runtime
