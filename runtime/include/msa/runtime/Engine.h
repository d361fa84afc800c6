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
#include "msa/runtime/MemoryBank.h"
#include "msa/runtime/ThreadPool.h"
#include "msa/runtime/Tokenizer.h"

#include <functional>
#include <memory>
#include <optional>
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

/// How answers are decoded (stage 3).
struct GenerationOptions {
  int64_t maxNewTokens = 32;
  /// 0: greedy (argmax, ties to the lowest id). Otherwise softmax sampling
  /// at this temperature, restricted to the top-p nucleus.
  double temperature = 0.0;
  double topP = 1.0;
  uint64_t seed = 0;
  /// Forced decoding: these ids stand in for the model's first generated
  /// tokens, in order, and are fed like sampled ones. Memory Interleave
  /// consumes them across its calls, so tests and users can drive the
  /// protocol through the real model.
  std::vector<int32_t> forcedTokens;
};

/// One call of Memory Interleave (§8.3): a routing, the id generation and
/// what followed it.
struct InterleaveCall {
  /// How the id generation ended.
  enum class End {
    kEvidence,    ///< the delimiter: the evidence block was appended
    kQuestion,    ///< `<End-of-Retrieve>`: question block, then the answer
    kResponseCap, ///< 1000 characters: generation went on freely
    kEos,         ///< EOS before either
    kTokenLimit,  ///< the call's token budget before either
  };
  /// Documents selected per router layer by this call's routing.
  std::vector<std::vector<int32_t>> selected;
  /// Prompt tokens this call routed and prefilled.
  int64_t promptTokens = 0;
  /// Of them, tokens whose layers below the first router layer came from
  /// the previous call (InterleaveOptions::reusePrefix).
  int64_t reusedTokens = 0;
  std::vector<int32_t> idTokens;     ///< Generated before the block.
  std::vector<int32_t> answerTokens; ///< Generated after it (phase B).
  std::string idText, answerText;    ///< Their text (EOS included).
  End end = End::kEvidence;
  /// Documents of the evidence block (kEvidence).
  std::vector<int64_t> documents;
  /// The block after the id tokens: evidence, question, or empty.
  std::string block;
  bool stoppedAtEos = false;
};

/// How Memory Interleave runs.
struct InterleaveOptions {
  /// Sampling and forced tokens; maxNewTokens is ignored (maxCallTokens).
  GenerationOptions generation;
  /// Safety cap on calls; the reference has none.
  int64_t maxRounds = 8;
  /// Tokens one call may generate (the reference's max_generate_tokens).
  int64_t maxCallTokens = 2048;
  /// Later calls start from the previous call's work on the transcript
  /// they share, where the result is provably the same
  /// (docs/interleave-reuse.md); off: every call prefills from scratch, as
  /// the reference does.
  bool reusePrefix = true;
};

/// The whole exchange of one question.
struct InterleaveResult {
  std::vector<InterleaveCall> calls;
  /// Every call's text from the routing text on: the prompt of round 1,
  /// each call's tokens and blocks (what a later round re-reads).
  std::string transcript;
  /// The text after the last "The answer to the question is:".
  std::optional<std::string> answer;
  /// Stopped because maxRounds calls all asked for another.
  bool hitMaxRounds = false;
};

/// Progress of an encode, reported after every block.
struct EncodeProgress {
  int64_t docsDone = 0, docsTotal = 0;
  int64_t tokensDone = 0, tokensTotal = 0;
  double seconds = 0;
};
using ProgressFn = std::function<void(const EncodeProgress &)>;

/// What an encode into a bank did.
struct EncodeReport {
  int64_t skippedDocs = 0; ///< Already in the bank (a resumed encode).
  int64_t newDocs = 0, newTokens = 0, newChunks = 0;
  double seconds = 0;
};

/// How to run the model.
struct EngineOptions {
  /// "reference" (plain C++, the oracle), "cpu" or "cuda" (a bundle
  /// compiled for that target), or "compiled" (the bundle's own target).
  std::string backend = "reference";
  /// The .msab bundle of the cpu and cuda backends.
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

  /// Encodes `docs` into the bank at `bankDir`. A new or empty directory
  /// becomes a bank. An existing bank of this model is continued: the
  /// corpus must start with the bank's documents, and the rest is encoded
  /// (resuming an interrupted encode). With `append`, every document of the
  /// corpus is added after the bank's. Each stage-1 block is committed as
  /// it is done. Over-long documents are rejected before anything is
  /// written.
  StatusOr<EncodeReport> encodeToBank(const std::vector<Document> &docs,
                                      const std::string &bankDir, bool append,
                                      const ProgressFn &progress = nullptr);

  /// Opens a bank made by this model (fingerprint checked) and loads it.
  StatusOr<PooledMemory> loadBank(const std::string &bankDir,
                                  std::vector<BankDocument> *documents = nullptr);

  /// Routes `question` and decodes up to maxNewTokens, stopping at an EOS
  /// id.
  StatusOr<Answer> ask(const PooledMemory &memory, const std::string &question,
                       const GenerationOptions &generation);
  StatusOr<Answer> ask(const PooledMemory &memory, const std::string &question,
                       int64_t maxNewTokens) {
    GenerationOptions g;
    g.maxNewTokens = maxNewTokens;
    return ask(memory, question, g);
  }

  /// Memory Interleave (§8.2-§8.3) for one question: routes, generates
  /// document ids, appends their original texts (`docTexts`, one per
  /// document of `memory`) and routes again, until the model ends
  /// retrieval and answers (or a cap is hit). Each call re-reads the whole
  /// transcript with the regenerate roles, as the reference does.
  StatusOr<InterleaveResult> interleave(const PooledMemory &memory,
                                        const std::vector<std::string> &docTexts,
                                        const std::string &question,
                                        const InterleaveOptions &options);

  /// The tokenizer's ids of `text` (special tokens recognised).
  std::vector<int32_t> encodeText(const std::string &text) const {
    return tokenizer_->encode(text);
  }

  /// This model's bank fingerprint.
  const std::string &fingerprint() const { return fingerprint_; }

private:
  Engine() = default;
  /// Tokenizes documents with global ids from `firstId`, checking lengths.
  StatusOr<std::vector<std::vector<int32_t>>>
  tokenizeDocuments(const std::vector<Document> &docs, int64_t firstId) const;
  /// Packs documents into stage-1 blocks and encodes each, calling `sink`
  /// with the documents' index range and pooled memory of every block.
  Status encodeBlocks(
      const std::vector<std::vector<int32_t>> &ids,
      const std::function<Status(size_t, size_t, const PooledMemory &)> &sink);

  EngineOptions options_;
  std::string fingerprint_;
  std::unique_ptr<Checkpoint> checkpoint_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<Backend> backend_;
  std::vector<int32_t> eosIds_;
};

/// Index of the largest logit; ties to the lowest index (torch.argmax).
int32_t argmax(const std::vector<float> &logits);

/// A token drawn from softmax(logits / temperature) restricted to the
/// smallest set of top tokens whose probability reaches topP; `u` is a
/// uniform number in [0, 1).
int32_t sampleToken(const std::vector<float> &logits, double temperature,
                    double topP, double u);

} // namespace msa::runtime

#endif // MSA_RUNTIME_ENGINE_H
