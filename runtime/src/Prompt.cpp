//===- Prompt.cpp - the MSA prompt format and token roles -----------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Prompt.h"

#include "msa/runtime/Interleave.h"

namespace msa::runtime {

std::string documentText(int64_t id, std::string_view text) {
  const std::string tag = "[" + std::to_string(id) + "]";
  return std::string(kImStart) + tag + ". " + std::string(text) + tag + kImEnd;
}

std::string routingText(std::string_view question) {
  return "\nPlease answer the question based on the above historical "
         "document information\n\n" +
         std::string(question) +
         "\nPlease return all documents related to the question\n";
}

std::vector<int32_t> templateHead(const Tokenizer &tokenizer) {
  return tokenizer.encode(std::string(kImStart) + "user\n");
}

PromptRow questionRow(const Tokenizer &tokenizer, std::string_view question) {
  PromptRow row;
  auto add = [&](std::string_view text, int32_t role) {
    for (int32_t id : tokenizer.encode(text)) {
      row.tokens.push_back(id);
      row.roles.push_back(role);
    }
  };
  // The pieces are tokenized apart: each ends at a special token, where the
  // tokenizer splits anyway, so the ids equal those of the whole string.
  add(routingText(question), kRoleRouting);
  add(std::string(kImEnd) + "\n", kRoleTemplate);
  add(kImStart, kRoleActive);
  return row;
}

PromptRow regenerateRow(const Tokenizer &tokenizer, std::string_view text) {
  PromptRow row;
  auto add = [&](size_t begin, size_t end, int32_t role) {
    if (end <= begin)
      return;
    for (int32_t id : tokenizer.encode(text.substr(begin, end - begin))) {
      row.tokens.push_back(id);
      row.roles.push_back(role);
    }
  };
  size_t at = 0;
  for (auto [begin, end] : interleave::routingSpans(text)) {
    add(at, begin, kRoleActive);
    add(begin, end, kRoleRouting);
    at = end;
  }
  add(at, text.size(), kRoleActive);
  return row;
}

} // namespace msa::runtime
