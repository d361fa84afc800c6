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

StatusOr<std::unique_ptr<Engine>> Engine::open(const std::string &modelDir) {
  std::unique_ptr<Engine> e(new Engine());
  MSA_ASSIGN_OR_RETURN(e->checkpoint_, Checkpoint::open(modelDir));
  MSA_ASSIGN_OR_RETURN(e->tokenizer_,
                       Tokenizer::load(e->checkpoint_->tokenizerPath()));
  const ModelConfig &c = e->checkpoint_->config();
  if (e->tokenizer_->vocabSize() > c.vocabSize)
    return invalidArgument(e->checkpoint_->tokenizerPath() + ": " +
                           std::to_string(e->tokenizer_->vocabSize()) +
                           " tokens, more than the model's vocab_size " +
                           std::to_string(c.vocabSize));
  MSA_ASSIGN_OR_RETURN(e->weights_, ref::loadWeights(*e->checkpoint_));
  e->model_ = std::make_unique<ref::ReferenceModel>(c, e->weights_);
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

StatusOr<ref::Memory> Engine::encode(const std::vector<Document> &docs) const {
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
  return model_->encode(templateHead(*tokenizer_), ids);
}

StatusOr<Answer> Engine::ask(const ref::Memory &memory,
                             const std::string &question,
                             int64_t maxNewTokens) const {
  PromptRow row = questionRow(*tokenizer_, question);
  ref::PrefillResult pre = model_->prefill(memory, {row});
  Answer a;
  a.selected = pre.selected[0];
  a.docScores = pre.docScores[0];
  std::vector<float> logits = pre.logits[0];
  for (int64_t i = 0; i < maxNewTokens; ++i) {
    int32_t next = argmax(logits);
    if (std::find(eosIds_.begin(), eosIds_.end(), next) != eosIds_.end()) {
      a.stoppedAtEos = true;
      break;
    }
    a.tokens.push_back(next);
    if (i + 1 < maxNewTokens)
      logits = model_->decode(pre.caches, {{next}}, {{1}})[0];
  }
  a.text = tokenizer_->decode(a.tokens);
  return a;
}

} // namespace msa::runtime
