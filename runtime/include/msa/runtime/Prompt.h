//===- Prompt.h - the MSA prompt format and token roles ---------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The texts of msa-semantics.md §3.1, §4.1 and §8.2 and the roles (doc_ids)
// of their tokens, in one place, so the engine, the tests and the reference
// all build the same sequences.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_PROMPT_H
#define MSA_RUNTIME_PROMPT_H

#include "msa/runtime/Roles.h"
#include "msa/runtime/Tokenizer.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace msa::runtime {

inline constexpr const char *kImStart = "<|im_start|>";
inline constexpr const char *kImEnd = "<|im_end|>";
inline constexpr const char *kEndOfText = "<|endoftext|>";
inline constexpr const char *kObjectRefEnd = "<|object_ref_end|>";
inline constexpr const char *kEndOfRetrieve = "<End-of-Retrieve>";

/// Stage-1 text of document `id` (global, 0-based): `<|im_start|>[id]. text[id]<|im_end|>`.
std::string documentText(int64_t id, std::string_view text);

/// The routing part of a first-round query (spec §4.1).
std::string routingText(std::string_view question);

/// The template head `<|im_start|>user\n` (3 tokens with Qwen3's tokenizer).
std::vector<int32_t> templateHead(const Tokenizer &tokenizer);

/// A first-round query row: the routing text (role 0), then `<|im_end|>\n`
/// (role -2) and the response head `<|im_start|>` (role -1).
PromptRow questionRow(const Tokenizer &tokenizer, std::string_view question);

/// The row of a later round (§8.3 "regenerate"): `text`, the calls'
/// output so far from the routing text on, tokenized as it is; role 0 on
/// the spans of interleave::routingSpans (instruction and question, the
/// last evidence block), -1 elsewhere. Each piece is tokenized on its own
/// so the roles fall exactly on the spans.
PromptRow regenerateRow(const Tokenizer &tokenizer, std::string_view text);

} // namespace msa::runtime

#endif // MSA_RUNTIME_PROMPT_H
