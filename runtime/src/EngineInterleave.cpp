//===- EngineInterleave.cpp - Memory Interleave over the engine -----------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The controller of msa-semantics.md §8.3 for one row. A call routes its
// prompt (round 1: the question; later: the whole transcript with the
// regenerate roles) and generates document ids token by token. When the
// round ends the last token is fed (the reference's one more forward), the
// evidence block of the ids is appended without being run and the call
// ends; `<End-of-Retrieve>` instead feeds the question block as one
// multi-token step and generates the answer freely; the response cap lets
// generation go on without a block. Rows are independent sessions, so a
// finished row generates nothing and a batch equals its single rows (the
// spec's intended semantics, not the reference's frozen-row artefacts).
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Engine.h"

#include "msa/runtime/Interleave.h"
#include "msa/runtime/Prompt.h"
#include "msa/runtime/Random.h"

#include <algorithm>
#include <deque>

namespace msa::runtime {

StatusOr<InterleaveResult>
Engine::interleave(const PooledMemory &memory,
                   const std::vector<std::string> &docTexts,
                   const std::string &question,
                   const InterleaveOptions &options) {
  if (static_cast<int64_t>(docTexts.size()) != memory.numDocs())
    return invalidArgument("interleave: " + std::to_string(docTexts.size()) +
                           " document texts for a memory of " +
                           std::to_string(memory.numDocs()) + " documents");
  if (options.maxRounds < 1 || options.maxCallTokens < 1)
    return invalidArgument("interleave: maxRounds and maxCallTokens must be "
                           "at least 1");
  const GenerationOptions &g = options.generation;
  Rng rng(g.seed);
  std::deque<int32_t> forced(g.forcedTokens.begin(), g.forcedTokens.end());
  auto nextToken = [&](const std::vector<float> &logits) {
    if (!forced.empty()) {
      int32_t t = forced.front();
      forced.pop_front();
      return t;
    }
    return g.temperature <= 0.0
               ? argmax(logits)
               : sampleToken(logits, g.temperature, g.topP, rng.uniform());
  };
  auto isEos = [&](int32_t t) {
    return std::find(eosIds_.begin(), eosIds_.end(), t) != eosIds_.end();
  };

  InterleaveResult result;
  result.transcript = interleave::firstPromptText(question);
  std::unique_ptr<Session> previous;
  for (int64_t round = 0;; ++round) {
    if (round == options.maxRounds) {
      result.hitMaxRounds = true;
      break;
    }
    PromptRow row = round == 0 ? questionRow(*tokenizer_, question)
                               : regenerateRow(*tokenizer_, result.transcript);
    InterleaveCall call;
    std::unique_ptr<Session> session;
    if (previous && options.reusePrefix) {
      MSA_ASSIGN_OR_RETURN(session, backend_->prefillContinuing(
                                        memory, row, *previous,
                                        call.reusedTokens));
    } else {
      MSA_ASSIGN_OR_RETURN(session, backend_->prefill(memory, row));
    }
    call.selected = session->selected;
    call.promptTokens = static_cast<int64_t>(row.tokens.size());
    auto feed = [&](const std::vector<int32_t> &tokens) {
      return backend_->decode(memory, *session, tokens,
                              std::vector<uint8_t>(tokens.size(), 1));
    };
    bool answering = false;
    int64_t generated = 0;
    for (;;) {
      if (generated == options.maxCallTokens) {
        if (!answering)
          call.end = InterleaveCall::End::kTokenLimit;
        break;
      }
      int32_t t = nextToken(session->logits);
      ++generated;
      (answering ? call.answerTokens : call.idTokens).push_back(t);
      if (isEos(t)) {
        call.stoppedAtEos = true;
        if (!answering)
          call.end = InterleaveCall::End::kEos;
        break;
      }
      if (answering) {
        MSA_RETURN_IF_ERROR(feed({t}));
        continue;
      }
      interleave::Next next =
          interleave::afterToken(tokenizer_->decode(call.idTokens));
      // Every decision feeds the token first: the reference's one more
      // forward (its logits matter only when generation goes on).
      MSA_RETURN_IF_ERROR(feed({t}));
      if (next == interleave::Next::kGenerate)
        continue;
      if (next == interleave::Next::kEvidence) {
        call.end = InterleaveCall::End::kEvidence;
        call.documents = interleave::parseIdList(
            tokenizer_->decode(call.idTokens), memory.numDocs());
        call.block = interleave::evidenceBlock(call.documents, docTexts);
        break;
      }
      answering = true;
      if (next == interleave::Next::kQuestion) {
        call.end = InterleaveCall::End::kQuestion;
        call.block = interleave::questionBlock(question);
        // One multi-token step: non-causal inside the block, as §5 says.
        MSA_RETURN_IF_ERROR(feed(tokenizer_->encode(call.block)));
      } else {
        call.end = InterleaveCall::End::kResponseCap;
      }
    }
    call.idText = tokenizer_->decode(call.idTokens);
    call.answerText = tokenizer_->decode(call.answerTokens);
    result.transcript += call.idText + call.block + call.answerText;
    result.calls.push_back(std::move(call));
    previous = std::move(session);
    if (!interleave::needsAnotherRound(result.transcript))
      break;
  }
  result.answer = interleave::extractAnswer(result.transcript);
  return result;
}

} // namespace msa::runtime
