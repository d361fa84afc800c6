//===- FileUtil.h - reading, atomic writing and mapping files ---*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The runtime's only contact with the file system. Checkpoints, banks and
// bundles are large and written by long jobs, so writes go through a
// temporary file and a rename (a crash leaves the old file or the new one,
// never half of one), and big reads go through mmap. Every error names the
// path it is about.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_FILEUTIL_H
#define MSA_RUNTIME_FILEUTIL_H

#include "msa/runtime/Status.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace msa::runtime {

/// Reads the whole file at `path`. A missing file is NotFound, any other
/// failure IoError; messages read "PATH: cannot open: <reason>".
StatusOr<std::string> readFile(const std::string &path);

/// Replaces `path` with `bytes` atomically: writes `.NAME.tmp.<pid>.<n>` in
/// the same directory, fsyncs it, renames it over `path` and fsyncs the
/// directory. On failure the temporary file is removed and `path` is left as
/// it was; the error names `path`.
Status writeFileAtomic(const std::string &path, std::string_view bytes);

/// A read-only memory mapping of a whole regular file, unmapped on
/// destruction. The contents must not be changed by others while mapped.
class MappedFile {
public:
  /// Maps `path`. Fails (naming the path) if it cannot be opened, is not a
  /// regular file or cannot be mapped.
  static StatusOr<std::unique_ptr<MappedFile>> open(const std::string &path);
  ~MappedFile();
  MappedFile(const MappedFile &) = delete;
  MappedFile &operator=(const MappedFile &) = delete;

  /// The file's bytes. Never nullptr: an empty file, which cannot be mapped,
  /// yields a pointer to a static byte and size() == 0.
  const uint8_t *data() const { return data_; }
  size_t size() const { return size_; }
  const std::string &path() const { return path_; }

private:
  MappedFile() = default;
  std::string path_;
  const uint8_t *data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
};

/// True if something (file, directory, ...) exists at `path`, following
/// symbolic links.
bool fileExists(const std::string &path);

/// True if `path` is a directory or a symbolic link to one.
bool isDirectory(const std::string &path);

/// Creates `path` and any missing parents, like `mkdir -p`. Succeeds if the
/// directory already exists; fails if a component exists but is not a
/// directory.
Status makeDirectories(const std::string &path);

/// Joins two path pieces with one '/'. Like Python's os.path.join, an
/// absolute `b` replaces `a`, and an empty `a` yields `b`.
std::string joinPath(const std::string &a, const std::string &b);

/// Removes `path` and, for a directory, everything under it (not following
/// symbolic links). A missing path is not an error.
Status removeTree(const std::string &path);

} // namespace msa::runtime

#endif // MSA_RUNTIME_FILEUTIL_H
