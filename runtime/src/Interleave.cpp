//===- Interleave.cpp - the Memory Interleave text protocol ---------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Interleave.h"

#include "msa/runtime/Prompt.h"

#include <algorithm>

namespace msa::runtime::interleave {

namespace {

const std::string_view kAnswerMarker = "The answer to the question is:";
const std::string_view kQuestionStart = "historical document information\n\n";
const std::string_view kQuestionEnd =
    "\nPlease return all documents related to the question";

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos)
    return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

} // namespace

std::vector<int64_t> parseIdList(std::string_view text, int64_t numDocs) {
  std::vector<int64_t> ids;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '[')
      continue;
    size_t j = i + 1;
    int64_t v = 0;
    bool overflow = false;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') {
      overflow |= v > (INT64_MAX - 9) / 10;
      if (!overflow)
        v = v * 10 + (text[j] - '0');
      ++j;
    }
    if (j > i + 1 && j < text.size() && text[j] == ']' && !overflow &&
        v < numDocs)
      ids.push_back(v);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

std::string evidenceBlock(const std::vector<int64_t> &ids,
                          const std::vector<std::string> &docTexts) {
  std::string out;
  for (int64_t id : ids)
    out += "[" + std::to_string(id) + "]. " + docTexts[id] + "\n";
  return out + kObjectRefEnd;
}

std::string questionBlock(std::string_view question) {
  return std::string(kImStart) + "The user's question is: " +
         std::string(question) + "\n" + kObjectRefEnd;
}

std::string firstPromptText(std::string_view question) {
  return routingText(question) + kImEnd + "\n" + kImStart;
}

bool roundEnded(std::string_view innerText) {
  return innerText.find(kObjectRefEnd) != std::string_view::npos;
}

bool retrievalEnded(std::string_view responseText) {
  return responseText.find(kEndOfRetrieve) != std::string_view::npos ||
         responseText.size() > kResponseCharCap;
}

std::optional<std::string> recoverQuestion(std::string_view promptText) {
  size_t b = promptText.find(kQuestionStart);
  if (b == std::string_view::npos)
    return std::nullopt;
  b += kQuestionStart.size();
  size_t e = promptText.find(kQuestionEnd, b);
  if (e == std::string_view::npos)
    return std::nullopt;
  return std::string(promptText.substr(b, e - b));
}

std::optional<std::string> extractAnswer(std::string_view text) {
  size_t b = text.rfind(kAnswerMarker);
  if (b == std::string_view::npos)
    return std::nullopt;
  b += kAnswerMarker.size();
  size_t e = text.find(kImEnd, b);
  return trim(text.substr(b, e == std::string_view::npos ? e : e - b));
}

Next afterToken(std::string_view response) {
  if (retrievalEnded(response))
    return response.find(kEndOfRetrieve) != std::string_view::npos
               ? Next::kQuestion
               : Next::kRunFree;
  return roundEnded(response) ? Next::kEvidence : Next::kGenerate;
}

bool needsAnotherRound(std::string_view transcript) {
  std::string_view end = kObjectRefEnd;
  return transcript.size() >= end.size() &&
         transcript.substr(transcript.size() - end.size()) == end &&
         transcript.find(kAnswerMarker) == std::string_view::npos;
}

std::vector<std::pair<size_t, size_t>> routingSpans(std::string_view text) {
  std::vector<std::pair<size_t, size_t>> spans;
  const std::string_view anchor = kQuestionEnd.substr(1); // without the "\n"
  size_t q = text.find(anchor);
  if (q != std::string_view::npos)
    spans.push_back({0, q + anchor.size()});
  const std::string boundary = std::string("]") + kObjectRefEnd + "[";
  size_t last = text.rfind(boundary);
  if (last != std::string_view::npos) {
    size_t b = last + boundary.size() - 1; // the '['
    size_t e = text.find(kObjectRefEnd, b);
    spans.push_back({b, e == std::string_view::npos ? text.size() : e});
  }
  return spans;
}

} // namespace msa::runtime::interleave
