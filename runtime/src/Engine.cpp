//===- Engine.cpp - encode documents, route and answer questions ----------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Engine.h"

#include "msa/runtime/Prompt.h"

#include <algorithm>

namespace msa::runtime {

int32_t argmax(const std::vector<float> &logits) {
  return static_cast<int32_t>(
      std::max_element(logits.begin(), logits.end()) - logits.begin());
}

StatusOr<std::unique_ptr<Engine>> Engine::open(const std::string &modelDir,
                                               const EngineOptions &options) {
  std::unique_ptr<Engine> e(new Engine());
  e->options_ = options;
  MSA_ASSIGN_OR_RETURN(e->checkpoint_, Checkpoint::open(modelDir));
  MSA_ASSIGN_OR_RETURN(e->tokenizer_,
                       Tokenizer::load(e->checkpoint_->tokenizerPath()));
  const ModelConfig &c = e->checkpoint_->config();
  if (e->tokenizer_->vocabSize() > c.vocabSize)
    return invalidArgument(e->checkpoint_->tokenizerPath() + ": " +
                           std::to_string(e->tokenizer_->vocabSize()) +
                           " tokens, more than the model's vocab_size " +
                           std::to_string(c.vocabSize));
  if (options.backend == "reference") {
    MSA_ASSIGN_OR_RETURN(e->backend_, makeReferenceBackend(*e->checkpoint_));
  } else if (options.backend == "cpu") {
    if (options.bundle.empty())
      return invalidArgument("the cpu backend needs a compiled bundle "
                             "(msa-compile --model DIR -o FILE; --bundle FILE)");
    e->pool_ = std::make_unique<ThreadPool>(options.threads);
    MSA_ASSIGN_OR_RETURN(e->backend_, makeCompiledBackend(options.bundle,
                                                          *e->checkpoint_,
                                                          *e->pool_));
  } else {
    return invalidArgument("unknown backend '" + options.backend +
                           "' (backends: reference, cpu)");
  }
  e->eosIds_.assign(c.eosTokenIds.begin(), c.eosTokenIds.end());
  for (const char *s : {kImEnd, kEndOfText})
    if (std::optional<int32_t> id = e->tokenizer_->tokenId(s))
      e->eosIds_.push_back(*id);
  return e;
}

std::vector<int32_t> Engine::documentTokens(int64_t index,
                                            const std::string &text) const {
  return tokenizer_->encode(documentText(index, text));
}

StatusOr<PooledMemory> Engine::encode(const std::vector<Document> &docs) {
  if (docs.empty())
    return invalidArgument("the corpus holds no documents");
  std::vector<std::vector<int32_t>> ids;
  for (size_t j = 0; j < docs.size(); ++j) {
    ids.push_back(documentTokens(static_cast<int64_t>(j), docs[j].text));
    if (static_cast<int64_t>(ids.back().size()) > config().maxPositionEmbeddings)
      return invalidArgument(
          "document " + std::to_string(j) +
          (docs[j].id.empty() ? "" : " (id '" + docs[j].id + "')") + " has " +
          std::to_string(ids.back().size()) +
          " tokens, more than max_position_embeddings " +
          std::to_string(config().maxPositionEmbeddings));
  }
  std::vector<int32_t> head = templateHead(*tokenizer_);
  MSA_ASSIGN_OR_RETURN(PooledMemory memory, backend_->encodeTemplate(head));
  // Consecutive documents until one more would exceed the block budget; a
  // larger document forms its own block (spec §3.1).
  const int64_t P = config().msa.poolingKernelSize;
  std::vector<std::vector<int32_t>> block;
  int64_t blockTotal = 0;
  auto flush = [&]() -> Status {
    if (block.empty())
      return Status::ok();
    MSA_ASSIGN_OR_RETURN(PooledMemory part, backend_->encodeBlock(head, block));
    memory.append(part);
    block.clear();
    blockTotal = 0;
    return Status::ok();
  };
  for (std::vector<int32_t> &doc : ids) {
    int64_t chunks = (static_cast<int64_t>(doc.size()) + P - 1) / P;
    if (!block.empty() && blockTotal + chunks > options_.blockChunks)
      MSA_RETURN_IF_ERROR(flush());
    block.push_back(std::move(doc));
    blockTotal += chunks;
  }
  MSA_RETURN_IF_ERROR(flush());
  return memory;
}

StatusOr<Answer> Engine::ask(const PooledMemory &memory,
                             const std::string &question,
                             int64_t maxNewTokens) {
  PromptRow row = questionRow(*tokenizer_, question);
  MSA_ASSIGN_OR_RETURN(std::unique_ptr<Session> session,
                       backend_->prefill(memory, row));
  Answer a;
  a.selected = session->selected;
  a.docScores = session->docScores;
  for (int64_t i = 0; i < maxNewTokens; ++i) {
    int32_t next = argmax(session->logits);
    if (std::find(eosIds_.begin(), eosIds_.end(), next) != eosIds_.end()) {
      a.stoppedAtEos = true;
      break;
    }
    a.tokens.push_back(next);
    if (i + 1 < maxNewTokens)
      MSA_RETURN_IF_ERROR(backend_->decode(memory, *session, {next}, {1}));
  }
  a.text = tokenizer_->decode(a.tokens);
  return a;
}

} // namespace msa::runtime
