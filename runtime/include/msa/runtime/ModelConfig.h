//===- ModelConfig.h - the HF config.json of an MSA model -------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The Qwen3 backbone fields and the `msa_config` block (msa-semantics.md
// §1.3), with the inference-side defaults of the reference service. Every
// rule that changes routing math (NORM, SCALE, which key routes) is derived
// here once, so no other code compares aux_loss_method strings.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_MODELCONFIG_H
#define MSA_RUNTIME_MODELCONFIG_H

#include "msa/runtime/DType.h"
#include "msa/runtime/Json.h"
#include "msa/runtime/Status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace msa::runtime {

enum class HeadReduce { kMean, kMax };
enum class QueryReduce { kMax, kMean, kLast };
enum class ChunkReduce { kMax, kMean };

const char *headReduceName(HeadReduce r);
const char *queryReduceName(QueryReduce r);
const char *chunkReduceName(ChunkReduce r);

/// The `msa_config` block. Missing keys take the defaults of the reference
/// (resave_model.py for training keys, msa_service for inference keys).
struct MsaConfig {
  std::vector<int64_t> routerLayers; ///< Ascending; "all" expands to 0..L-1.
  int64_t topKDocs = 2;              ///< `top_k_docs`: training only.
  int64_t docTopK = 16;              ///< `doc_top_k`: inference k and k_cfg.
  int64_t poolingKernelSize = 64;    ///< P.
  bool decoupleRouter = false;
  bool auxLoss = false;
  std::string auxLossMethod = "INFONCE";
  double infonceLossTemp = 0.1;
  HeadReduce headReduce = HeadReduce::kMax;
  QueryReduce queryReduce = QueryReduce::kMax;
  ChunkReduce chunkReduce = ChunkReduce::kMax;
};

/// A Qwen3 + MSA model configuration.
struct ModelConfig {
  int64_t vocabSize = 0;
  int64_t hiddenSize = 0;
  int64_t intermediateSize = 0;
  int64_t numLayers = 0;
  int64_t numHeads = 0;
  int64_t numKvHeads = 0;
  int64_t headDim = 0;
  int64_t maxPositionEmbeddings = 0;
  double ropeTheta = 0.0;
  double rmsNormEps = 0.0;
  bool tieWordEmbeddings = false;
  DType dtype = DType::kBF16; ///< `torch_dtype`: bf16, f16 or f32.
  std::vector<int64_t> eosTokenIds;
  MsaConfig msa;

  /// Parses config.json text; `path` names the file in errors, which read
  /// "<path>: key 'hidden_size' must be a positive integer, got "x"".
  static StatusOr<ModelConfig> fromJson(const JsonValue &json,
                                        const std::string &path);
  /// Reads and parses `path`.
  static StatusOr<ModelConfig> load(const std::string &path);
  /// The config.json this model would be saved with (round-trips).
  JsonValue toJson() const;
  /// Checks the invariants every consumer relies on (GQA divisibility, even
  /// head dim, router layers in range, P and k positive, ...).
  Status validate(const std::string &path) const;

  int64_t groupSize() const { return numHeads / numKvHeads; }
  bool isRouterLayer(int64_t layer) const;
  /// Position of `layer` among the router layers, or -1.
  int64_t routerIndex(int64_t layer) const;
  int64_t numRouterLayers() const {
    return static_cast<int64_t>(msa.routerLayers.size());
  }

  /// spec §4.3 NORM: routing vectors are L2-normalised (cosine scores).
  bool routingNormalize() const { return msa.auxLossMethod == "INFONCE"; }
  /// spec §4.3 SCALE: routing queries are scaled by 1/sqrt(head_dim).
  bool routingScale() const {
    return !(msa.auxLossMethod == "INFONCE" && msa.decoupleRouter);
  }
  /// spec §3.3: a separate routing key K̄ᴿ is kept (else K̄ routes).
  bool hasRouterKeys() const {
    return msa.decoupleRouter || msa.auxLossMethod == "INFONCE";
  }
};

} // namespace msa::runtime

#endif // MSA_RUNTIME_MODELCONFIG_H
