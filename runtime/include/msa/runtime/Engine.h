//===- Engine.h - encode documents, route and answer questions --*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The three inference stages of msa-semantics.md §8.1 driven from text: a
// checkpoint directory is opened, documents are wrapped and encoded into
// memory (stage 1), a question is routed in every router layer and
// prefilled (stage 2) and the answer decoded greedily (stage 3).
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_ENGINE_H
#define MSA_RUNTIME_ENGINE_H

#include "msa/runtime/Checkpoint.h"
#include "msa/runtime/Corpus.h"
#include "msa/runtime/Tokenizer.h"
#include "msa/runtime/reference/Model.h"

#include <memory>
#include <string>
#include <vector>

namespace msa::runtime {

/// What one question produced.
struct Answer {
  /// Selected documents (corpus indices) per router layer.
  std::vector<std::vector<int32_t>> selected;
  /// Document scores per router layer.
  std::vector<std::vector<float>> docScores;
  std::vector<int32_t> tokens; ///< Generated ids, EOS excluded.
  std::string text;            ///< Their decoded text.
  bool stoppedAtEos = false;
};

class Engine {
public:
  /// Opens a checkpoint directory with the reference backend.
  static StatusOr<std::unique_ptr<Engine>> open(const std::string &modelDir);

  const ModelConfig &config() const { return checkpoint_->config(); }
  const Tokenizer &tokenizer() const { return *tokenizer_; }
  const ref::ReferenceModel &model() const { return *model_; }

  /// Stage-1 token ids of document `index` (the spec §3.1 wrapper).
  std::vector<int32_t> documentTokens(int64_t index,
                                      const std::string &text) const;

  /// Encodes the corpus (stage 1). Errors: an empty corpus, a document
  /// longer than max_position_embeddings.
  StatusOr<ref::Memory> encode(const std::vector<Document> &docs) const;

  /// Routes `question` and decodes up to `maxNewTokens` greedily, stopping
  /// at an EOS id.
  StatusOr<Answer> ask(const ref::Memory &memory, const std::string &question,
                       int64_t maxNewTokens) const;

private:
  Engine() = default;
  std::unique_ptr<Checkpoint> checkpoint_;
  std::unique_ptr<Tokenizer> tokenizer_;
  ref::ModelWeights weights_;
  std::unique_ptr<ref::ReferenceModel> model_;
  std::vector<int32_t> eosIds_;
};

/// Index of the largest logit; ties to the lowest index (torch.argmax).
int32_t argmax(const std::vector<float> &logits);

} // namespace msa::runtime

#endif // MSA_RUNTIME_ENGINE_H
