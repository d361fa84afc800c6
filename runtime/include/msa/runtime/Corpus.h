//===- Corpus.h - documents to encode into a memory bank --------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Two input formats: JSONL, one `{"id": ..., "text": ...}` object per line
// (id optional), and plain text, where documents are separated by blank
// lines. The original texts are kept: Memory Interleave quotes them.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_CORPUS_H
#define MSA_RUNTIME_CORPUS_H

#include "msa/runtime/Status.h"

#include <string>
#include <vector>

namespace msa::runtime {

struct Document {
  std::string id;   ///< The corpus's own id (may be empty).
  std::string text; ///< The original text.
};

/// Reads `path`: `.jsonl` files as JSON lines, anything else as plain text.
/// Errors name the file and line ("c.jsonl:3: expected a string 'text'").
/// An empty corpus is an error.
StatusOr<std::vector<Document>> readCorpus(const std::string &path);

/// Parses JSONL text (`path` names it in errors).
StatusOr<std::vector<Document>> parseJsonlCorpus(const std::string &text,
                                                 const std::string &path);

/// Splits plain text into documents at blank lines, trimming each.
std::vector<Document> splitPlainTextCorpus(const std::string &text);

} // namespace msa::runtime

#endif // MSA_RUNTIME_CORPUS_H
