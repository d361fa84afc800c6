//===- Corpus.cpp - documents to encode into a memory bank ----------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Corpus.h"

#include "msa/runtime/FileUtil.h"
#include "msa/runtime/Json.h"

#include <cmath>

namespace msa::runtime {

namespace {

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string trim(const std::string &s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos)
    return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

} // namespace

StatusOr<std::vector<Document>> parseJsonlCorpus(const std::string &text,
                                                 const std::string &path) {
  std::vector<Document> docs;
  size_t start = 0;
  for (int64_t line = 1; start < text.size(); ++line) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos)
      end = text.size();
    std::string l = trim(text.substr(start, end - start));
    start = end + 1;
    if (l.empty())
      continue;
    std::string where = path + ":" + std::to_string(line);
    StatusOr<JsonValue> json = JsonValue::parse(l);
    if (!json.isOk())
      return invalidArgument(where + ": " + json.status().message());
    const JsonValue *t = json->find("text");
    if (!json->isObject() || !t || !t->isString())
      return invalidArgument(where +
                             ": expected a JSON object with a string 'text'");
    Document d;
    d.text = t->asString();
    if (const JsonValue *id = json->find("id")) {
      if (id->isString())
        d.id = id->asString();
      else if (id->isInteger())
        d.id = std::to_string(id->asInt());
      else
        return invalidArgument(where + ": 'id' must be a string or an integer");
    }
    docs.push_back(std::move(d));
  }
  return docs;
}

std::vector<Document> splitPlainTextCorpus(const std::string &text) {
  std::vector<Document> docs;
  std::string current;
  size_t start = 0;
  auto flush = [&] {
    std::string t = trim(current);
    if (!t.empty())
      docs.push_back({"", t});
    current.clear();
  };
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos)
      end = text.size();
    std::string line = text.substr(start, end - start);
    if (trim(line).empty())
      flush();
    else
      current += (current.empty() ? "" : "\n") + line;
    start = end + 1;
  }
  flush();
  return docs;
}

StatusOr<std::vector<Document>> readCorpus(const std::string &path) {
  MSA_ASSIGN_OR_RETURN(std::string text, readFile(path));
  std::vector<Document> docs;
  if (endsWith(path, ".jsonl")) {
    MSA_ASSIGN_OR_RETURN(docs, parseJsonlCorpus(text, path));
  } else {
    docs = splitPlainTextCorpus(text);
  }
  if (docs.empty())
    return invalidArgument(path + ": the corpus holds no documents");
  return docs;
}

} // namespace msa::runtime
