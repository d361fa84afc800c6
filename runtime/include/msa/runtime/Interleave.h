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

/// The question between "historical document information\n\n" and
/// "\nPlease return all documents related to the question" in a prompt.
std::optional<std::string> recoverQuestion(std::string_view promptText);

/// The text after the last "The answer to the question is:" up to
/// `<|im_end|>` (or the end), trimmed.
std::optional<std::string> extractAnswer(std::string_view text);

/// Byte ranges [begin, end) of a regenerate prompt that route (§8.3): the
/// instruction and question up to and including "Please return all
/// documents related to the question", and the last evidence block, from
/// the `[` after the last `]<|object_ref_end|>[` up to the next
/// `<|object_ref_end|>`.
std::vector<std::pair<size_t, size_t>> routingSpans(std::string_view text);

} // namespace msa::runtime::interleave

#endif // MSA_RUNTIME_INTERLEAVE_H
