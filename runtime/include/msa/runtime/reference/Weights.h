//===- Weights.h - MSA model weights in the MSA-4B layout -------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The tensors of a Qwen3 + MSA checkpoint, held as f32 (the values are the
// checkpoint's bf16/f16/f32 values exactly), named as in the released MSA-4B
// checkpoint (`model.layers.N.self_attn.router_q_proj.0.weight`, ...).
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_REFERENCE_WEIGHTS_H
#define MSA_RUNTIME_REFERENCE_WEIGHTS_H

#include "msa/runtime/ModelConfig.h"
#include "msa/runtime/Checkpoint.h"

#include <string>
#include <vector>

namespace msa::runtime::ref {

struct LayerWeights {
  std::vector<float> inputNorm;      ///< [hidden]
  std::vector<float> qProj;          ///< [heads * head_dim, hidden]
  std::vector<float> kProj;          ///< [kv_heads * head_dim, hidden]
  std::vector<float> vProj;          ///< [kv_heads * head_dim, hidden]
  std::vector<float> oProj;          ///< [hidden, heads * head_dim]
  std::vector<float> qNorm;          ///< [head_dim]
  std::vector<float> kNorm;          ///< [head_dim]
  std::vector<float> postNorm;       ///< [hidden]
  std::vector<float> gateProj;       ///< [intermediate, hidden]
  std::vector<float> upProj;         ///< [intermediate, hidden]
  std::vector<float> downProj;       ///< [hidden, intermediate]
  std::vector<float> routerQProj;    ///< [heads * head_dim, hidden], router layers when decoupled
  std::vector<float> routerKProj;    ///< [kv_heads * head_dim, hidden], idem
};

struct ModelWeights {
  std::vector<float> embedTokens; ///< [vocab, hidden]
  std::vector<LayerWeights> layers;
  std::vector<float> finalNorm; ///< [hidden]
  std::vector<float> lmHead;    ///< [vocab, hidden]; empty when tied
  const std::vector<float> &outputEmbedding() const {
    return lmHead.empty() ? embedTokens : lmHead;
  }
};

/// One tensor a checkpoint of `config` must hold.
struct WeightSpec {
  std::string name;
  std::vector<int64_t> shape;
};

/// Every tensor of the checkpoint layout, in a fixed order; router
/// projections only for router layers of decoupled models; `lm_head.weight`
/// only when embeddings are untied.
std::vector<WeightSpec> checkpointLayout(const ModelConfig &config);

/// Loads and checks every tensor of `checkpointLayout(config)` (presence,
/// shape, floating-point dtype). Errors name the file and the tensor.
StatusOr<ModelWeights> loadWeights(const Checkpoint &checkpoint);

/// Random weights from `seed` (normal(0, std) projections, norms near 1),
/// rounded to the config's dtype: what `msa-run make-model` writes.
ModelWeights randomWeights(const ModelConfig &config, uint64_t seed);

/// The tensor `name` of `weights` (for writing checkpoints).
const std::vector<float> *findWeight(const ModelWeights &weights,
                                     const ModelConfig &config,
                                     const std::string &name);

} // namespace msa::runtime::ref

#endif // MSA_RUNTIME_REFERENCE_WEIGHTS_H
