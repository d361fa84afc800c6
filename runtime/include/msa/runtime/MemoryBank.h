//===- MemoryBank.h - the persisted result of stage 1 -----------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A memory bank is a directory (docs/bank-format.md): a JSON header with the
// model's fingerprint and the bank's shape, the template-head K/V, and
// segments, each the pooled memory of a run of documents with their
// original texts. Encoding writes one segment per stage-1 block through a
// temporary directory and a rename, then rewrites the header atomically, so
// a killed encode loses at most the block in flight and a second run
// continues after the last complete segment. Appending adds segments. Every
// file carries a CRC-32C in the header and is checked on open; payloads are
// memory-mapped.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_MEMORYBANK_H
#define MSA_RUNTIME_MEMORYBANK_H

#include "msa/runtime/Backend.h"
#include "msa/runtime/Checkpoint.h"
#include "msa/runtime/FileUtil.h"

#include <memory>
#include <string>
#include <vector>

namespace msa::runtime {

/// One document of a bank.
struct BankDocument {
  std::string id;   ///< The corpus's id, possibly empty.
  std::string text; ///< The original text (Memory Interleave quotes it).
  int64_t tokens = 0;
  int64_t chunks = 0;
};

/// A model's identity for banks: its config and a CRC-32C over its
/// tensors' names, shapes and bytes. A bank records the fingerprint of the
/// model that encoded it; another model cannot use it.
StatusOr<std::string> modelFingerprint(const Checkpoint &checkpoint);

class MemoryBank {
public:
  /// Bank file format version.
  static constexpr int64_t kFormatVersion = 1;

  /// Creates `dir` (which must not exist or be empty) for a model.
  static StatusOr<std::unique_ptr<MemoryBank>>
  create(const std::string &dir, const std::string &fingerprint,
         const ModelConfig &config);

  /// Opens `dir`, checking the header, every file's size and checksum, and,
  /// unless `fingerprint` is empty, that the bank was made by that model.
  /// Temporary directories of an interrupted encode are removed.
  static StatusOr<std::unique_ptr<MemoryBank>>
  open(const std::string &dir, const std::string &fingerprint);

  const std::string &dir() const { return dir_; }
  const std::string &fingerprint() const { return fingerprint_; }
  int64_t numDocs() const { return static_cast<int64_t>(docs_.size()); }
  int64_t numChunks() const { return numChunks_; }
  int64_t numSegments() const { return static_cast<int64_t>(segments_.size()); }
  int64_t templateLen() const { return templateLen_; }
  bool hasTemplate() const { return hasTemplate_; }
  const std::vector<BankDocument> &documents() const { return docs_; }
  /// Bytes of pooled memory held (K̄, V̄, K̄ᴿ of every router layer).
  int64_t payloadBytes() const;

  /// Stores the template-head K/V (once, before the first segment).
  Status writeTemplate(const PooledMemory &memory);
  /// Appends the documents `docs` and their pooled memory `memory` (as
  /// encodeBlock returns it) as a new segment.
  Status appendSegment(const std::vector<BankDocument> &docs,
                       const PooledMemory &memory);

  /// The whole bank as one pooled memory: template, chunk table and every
  /// router layer's tensors (segments concatenated).
  StatusOr<PooledMemory> load() const;

  /// A one-paragraph description (msa-run inspect).
  std::string summary() const;

private:
  struct Segment {
    std::string name;
    int64_t firstDoc = 0, docs = 0, firstChunk = 0, chunks = 0;
    std::vector<std::pair<std::string, uint32_t>> files; ///< name, CRC-32C
  };

  MemoryBank() = default;
  Status writeHeader() const;
  std::string path(const std::string &name) const { return joinPath(dir_, name); }

  std::string dir_;
  std::string fingerprint_;
  ModelConfig config_;
  int64_t templateLen_ = 0;
  uint32_t templateCrc_ = 0;
  bool hasTemplate_ = false;
  std::vector<Segment> segments_;
  std::vector<BankDocument> docs_;
  int64_t numChunks_ = 0;
};

} // namespace msa::runtime

#endif // MSA_RUNTIME_MEMORYBANK_H
