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

#include "msa/runtime/Backend.h"
#include "msa/runtime/Checkpoint.h"
#include "msa/runtime/Corpus.h"
#include "msa/runtime/ThreadPool.h"
#include "msa/runtime/Tokenizer.h"

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

/// How to run the model.
struct EngineOptions {
  /// "reference" (plain C++, the oracle) or "cpu" (a compiled bundle).
  std::string backend = "reference";
  /// The .msab bundle of the cpu backend.
  std::string bundle;
  /// Threads of the cpu backend; 0: one per core.
  unsigned threads = 0;
  /// Stage-1 block size in chunks (spec §3.1: 2048).
  int64_t blockChunks = 2048;
};

class Engine {
public:
  /// Opens a checkpoint directory with the chosen backend.
  static StatusOr<std::unique_ptr<Engine>> open(const std::string &modelDir,
                                                const EngineOptions &options = {});

  const ModelConfig &config() const { return checkpoint_->config(); }
  const Tokenizer &tokenizer() const { return *tokenizer_; }
  Backend &backend() { return *backend_; }

  /// Stage-1 token ids of document `index` (the spec §3.1 wrapper).
  std::vector<int32_t> documentTokens(int64_t index,
                                      const std::string &text) const;

  /// Encodes the corpus (stage 1): the template head, then the documents
  /// packed into blocks of at most blockChunks chunks. Errors: an empty
  /// corpus, a document longer than max_position_embeddings.
  StatusOr<PooledMemory> encode(const std::vector<Document> &docs);

  /// Routes `question` and decodes up to `maxNewTokens` greedily, stopping
  /// at an EOS id.
  StatusOr<Answer> ask(const PooledMemory &memory, const std::string &question,
                       int64_t maxNewTokens);

private:
  Engine() = default;
  EngineOptions options_;
  std::unique_ptr<Checkpoint> checkpoint_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<Backend> backend_;
  std::vector<int32_t> eosIds_;
};

/// Index of the largest logit; ties to the lowest index (torch.argmax).
int32_t argmax(const std::vector<float> &logits);

} // namespace msa::runtime

#endif // MSA_RUNTIME_ENGINE_H
