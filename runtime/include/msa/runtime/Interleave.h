//===- Interleave.h - the Memory Interleave text protocol -------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The host-side text rules of multi-round retrieval (msa-semantics.md §8.2,
// §8.3): generated document-id lists, evidence and question blocks, the
// end-of-round and end-of-retrieval tests, answer extraction, and which
// spans of a later round's prompt route. No model here; the controller that
// drives the engine with these rules builds on it.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_INTERLEAVE_H
#define MSA_RUNTIME_INTERLEAVE_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace msa::runtime::interleave {

/// The response length (characters) after which retrieval ends (§8.3).
inline constexpr size_t kResponseCharCap = 1000;

/// Ids written as `[n]` in `text`: deduplicated, ascending, those not below
/// `numDocs` dropped (regex `\[(\d+)\]`).
std::vector<int64_t> parseIdList(std::string_view text, int64_t numDocs);

/// `[id]. text\n` per id, then `<|object_ref_end|>`; with no ids just the
/// delimiter. `docTexts` are the original texts (no stage-1 wrapper).
std::string evidenceBlock(const std::vector<int64_t> &ids,
                          const std::vector<std::string> &docTexts);

/// `<|im_start|>The user's question is: {question}\n<|object_ref_end|>`.
std::string questionBlock(std::string_view question);

/// The round's text holds the delimiter `<|object_ref_end|>`.
bool roundEnded(std::string_view innerText);

/// The call's response holds `<End-of-Retrieve>` or exceeds the cap.
bool retrievalEnded(std::string_view responseText);

/// The text of a first-round prompt from the routing text on: the routing
/// text, `<|im_end|>\n` and the response head `<|im_start|>`; a
/// transcript starts with it.
std::string firstPromptText(std::string_view question);

/// The question between "historical document information\n\n" and
/// "\nPlease return all documents related to the question" in a prompt.
std::optional<std::string> recoverQuestion(std::string_view promptText);

/// The text after the last "The answer to the question is:" up to
/// `<|im_end|>` (or the end), trimmed.
std::optional<std::string> extractAnswer(std::string_view text);

/// What one row does after generating a token in the id-generation phase
/// of a call (§8.3); EOS is the engine's to check first.
enum class Next {
  kGenerate, ///< keep generating ids
  kEvidence, ///< the round ended: feed the token, append the evidence block
             ///< of the ids written, end the call
  kQuestion, ///< `<End-of-Retrieve>`: feed the token, then the question
             ///< block, then answer freely
  kRunFree,  ///< the response cap: feed the token and generate freely
};

/// The decision after a token, from the call's response text so far.
/// Retrieval ending wins over the round ending when both hold (the
/// reference tests it second).
Next afterToken(std::string_view response);

/// Whether the text of the calls so far asks for another call: it ends
/// with the delimiter and holds no answer (the outer loop of §8.3).
bool needsAnotherRound(std::string_view transcript);

/// Byte ranges [begin, end) of a regenerate prompt that route (§8.3): the
/// instruction and question up to and including "Please return all
/// documents related to the question", and the last evidence block, from
/// the `[` after the last `]<|object_ref_end|>[` up to the next
/// `<|object_ref_end|>`.
std::vector<std::pair<size_t, size_t>> routingSpans(std::string_view text);

} // namespace msa::runtime::interleave

#endif // MSA_RUNTIME_INTERLEAVE_H
