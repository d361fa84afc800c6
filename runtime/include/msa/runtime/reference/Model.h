//===- Model.h - the reference MSA model: three inference stages -*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The whole model of msa-semantics.md built from the reference kernels:
// stage 1 (document-wise encoding into pooled memory, §3), stage 2 (routing
// in every router layer, context assembly and prefill of a batch of
// left-padded rows, §4) and stage 3 (decode steps of one or more tokens, §5).
// It is the `--backend=reference` of msa-run and the oracle of the compiled
// model.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_REFERENCE_MODEL_H
#define MSA_RUNTIME_REFERENCE_MODEL_H

#include "msa/runtime/ModelConfig.h"
#include "msa/runtime/Roles.h"
#include "msa/runtime/reference/Kernels.h"
#include "msa/runtime/reference/Weights.h"

#include <cstdint>
#include <vector>

namespace msa::runtime::ref {

/// Pooled memory of one router layer, head-major [kv_heads][chunks][dim].
struct MemoryLayer {
  std::vector<float> keys;       ///< K̄: chunk means of k after k_norm and RoPE.
  std::vector<float> values;     ///< V̄.
  std::vector<float> routerKeys; ///< K̄ᴿ; empty when K̄ routes (§3.3).
};

/// The result of stage 1 over a set of documents (a memory bank in RAM).
struct Memory {
  int64_t numChunks = 0;
  /// Chunk range of each document: doc j owns [off[j], off[j + 1]).
  std::vector<int32_t> docChunkOffsets{0};
  std::vector<MemoryLayer> layers; ///< One per router layer, ascending.
  /// Template-head K/V of every layer, [layers][template][kv_heads][dim].
  std::vector<float> templateKeys, templateValues;
  int64_t templateLen = 0;

  int64_t numDocs() const {
    return static_cast<int64_t>(docChunkOffsets.size()) - 1;
  }
  /// Appends `other`'s documents after this memory's (template kept).
  void append(const Memory &other, int64_t kvHeads, int64_t headDim);
};

using runtime::PromptRow;

/// Per-row, per-layer KV cache handed from stage 2 to decode (§4.7).
struct RowCache {
  /// [layers] -> [len][kv_heads][dim] and validity.
  std::vector<std::vector<float>> keys, values;
  std::vector<std::vector<uint8_t>> valid;
  int64_t lastPosition = 0; ///< Position of the last token fed.
  /// What a continuing prefill may reuse (docs/interleave-reuse.md): the
  /// tokens fed causally from the start (the prompt, then valid
  /// single-token steps; any other step closes the list) and the hidden
  /// state of each entering the first router layer, [tokens][hidden].
  std::vector<int32_t> causalTokens;
  std::vector<float> routerInput;
  bool causalClosed = false;
};

struct PrefillResult {
  /// Logits of each row's last valid token, [rows][vocab].
  std::vector<std::vector<float>> logits;
  /// Selected documents per row and router layer, ascending ids.
  std::vector<std::vector<std::vector<int32_t>>> selected;
  /// Document scores per row and router layer (what top-k chose from).
  std::vector<std::vector<std::vector<float>>> docScores;
  std::vector<RowCache> caches;
};

/// Hidden states of stage 1 for tests of packing independence.
struct EncodeTrace {
  std::vector<std::vector<float>> hidden; ///< [layers + 1][tokens * hidden]
};

class ReferenceModel {
public:
  ReferenceModel(const ModelConfig &config, const ModelWeights &weights,
                 Numerics numerics);
  /// Numerics of the config's dtype with f64 accumulation.
  ReferenceModel(const ModelConfig &config, const ModelWeights &weights);

  const ModelConfig &config() const { return config_; }
  const Numerics &numerics() const { return nx_; }

  /// Stage 1 on one block: the template head then the documents, each with
  /// its own positions and causal attention (§3.1-§3.2). Returns the memory
  /// of these documents with the block's template K/V. `trace`, if given,
  /// receives the hidden states.
  Memory encodeBlock(const std::vector<int32_t> &templateIds,
                     const std::vector<std::vector<int32_t>> &docs,
                     EncodeTrace *trace = nullptr) const;

  /// Stage 1 over a corpus: documents packed into blocks of at most
  /// `blockChunks` chunks (a larger document forms its own block), the
  /// template K/V from the first block (§3.1, §3.3).
  Memory encode(const std::vector<int32_t> &templateIds,
                const std::vector<std::vector<int32_t>> &docs,
                int64_t blockChunks = 2048) const;

  /// Stage 2 for a batch of rows, left-padded to a common length (§4.1):
  /// routing in every router layer, context assembly, prefill.
  PrefillResult prefill(const Memory &memory,
                        const std::vector<PromptRow> &rows) const;

  /// Stage 2 for one row that starts with the first `reuse` tokens of
  /// `previous.causalTokens`: the same result as prefill(memory, {row}),
  /// but those tokens' layers below the first router layer come from
  /// `previous` (their K/V and hidden states depend on nothing else, §4.2)
  /// instead of being computed again. 0 < reuse < row.tokens.size().
  PrefillResult prefillContinuing(const Memory &memory, const PromptRow &row,
                                  const RowCache &previous,
                                  int64_t reuse) const;

  /// The first router layer (numLayers when there is none): the layers
  /// below it see no memory.
  int64_t firstRouterLayer() const;

  /// Stage 3: feeds each row `tokens[b]` (m >= 1 tokens) with validity
  /// `valid[b]`; masked tokens keep the position and are never attended;
  /// the block attends to itself non-causally (§5). Returns the logits of
  /// each row's last fed token.
  std::vector<std::vector<float>>
  decode(std::vector<RowCache> &caches,
         const std::vector<std::vector<int32_t>> &tokens,
         const std::vector<std::vector<uint8_t>> &valid) const;

  /// Position of the first active-context token: template_len + k_cfg.
  int64_t activeStart(int64_t templateLen) const {
    return templateLen + config_.msa.docTopK;
  }

private:
  /// One decoder layer's attention inputs for `n` tokens of hidden `x`:
  /// q [n][H][d], k/v [n][Hk][d] after norms and RoPE at `pos`, plus the
  /// input_layernorm output `normed`.
  void projectQkv(int64_t layer, const std::vector<float> &x, int64_t n,
                  const std::vector<int64_t> &pos, std::vector<float> &normed,
                  std::vector<float> &q, std::vector<float> &k,
                  std::vector<float> &v) const;
  /// x += o_proj(attn); x += mlp(post_norm(x)).
  void finishLayer(int64_t layer, std::vector<float> &x, int64_t n,
                   const std::vector<float> &attn) const;
  std::vector<float> embed(const std::vector<int32_t> &ids) const;
  /// Layers [from, numLayers) of stage 2 over `B` rows of `width` tokens
  /// with hidden states `x` entering layer `from`: routing, assembly,
  /// attention, caches and, at the first router layer, each valid
  /// token's hidden state into its row cache's routerInput.
  void prefillLayers(const Memory &memory, int64_t from, int64_t B,
                     int64_t width, std::vector<float> &x,
                     const std::vector<int64_t> &pos,
                     const std::vector<std::vector<uint8_t>> &valid,
                     const std::vector<std::vector<uint8_t>> &routing,
                     PrefillResult &result) const;
  std::vector<float> logitsOf(const float *hidden) const;
  RouteParams routeParams() const;

  ModelConfig config_;
  const ModelWeights &w_;
  Numerics nx_;
  double scale_;
};

} // namespace msa::runtime::ref

#endif // MSA_RUNTIME_REFERENCE_MODEL_H
