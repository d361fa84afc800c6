//===- Safetensors.h - safetensors reader (mmap) and writer -----*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The checkpoint format of Hugging Face models: an 8-byte little-endian
// header length, a JSON header mapping names to {dtype, shape, data_offsets},
// then the data. The reader memory-maps the file and validates the whole
// header before handing out a single tensor; every error names the file and,
// where there is one, the tensor.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_SAFETENSORS_H
#define MSA_RUNTIME_SAFETENSORS_H

#include "msa/runtime/DType.h"
#include "msa/runtime/Status.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace msa::runtime {

class MappedFile;

/// One tensor's entry in a safetensors header.
struct TensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  uint64_t offset = 0; ///< Byte offset within the data section.
  uint64_t size = 0;   ///< Bytes; always numel * dtypeSize(dtype).
  int64_t numel() const;
};

/// A memory-mapped, fully validated safetensors file.
class SafetensorsFile {
public:
  /// Maps and validates `path`. Checks: the file holds the 8-byte length and
  /// the header it announces; the header is a JSON object; every entry has a
  /// known dtype, a shape of non-negative integers and [begin, end] offsets
  /// with end - begin == numel * dtype size; entries lie inside the data
  /// section and do not overlap; `__metadata__` is an object of strings.
  static StatusOr<std::unique_ptr<SafetensorsFile>> open(const std::string &path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile &) = delete;
  SafetensorsFile &operator=(const SafetensorsFile &) = delete;

  const std::string &path() const { return path_; }
  /// Tensor names in header order.
  std::vector<std::string> names() const;
  /// The entry called `name`, or nullptr.
  const TensorInfo *find(const std::string &name) const;
  /// The entry's bytes (valid while this object lives).
  const uint8_t *data(const TensorInfo &info) const;
  /// `__metadata__` entries.
  const std::map<std::string, std::string> &metadata() const { return metadata_; }

  /// Reads tensor `name` as f32 (bf16/f16/f32 sources), checking that it
  /// exists and has `expectedShape`. Errors: "<file>: missing tensor 'x'",
  /// "<file>: tensor 'x' has shape [a, b], expected [c, d]",
  /// "<file>: tensor 'x' has dtype I32, expected a floating-point dtype".
  StatusOr<std::vector<float>> readF32(const std::string &name,
                                       const std::vector<int64_t> &expectedShape) const;

private:
  SafetensorsFile() = default;
  std::string path_;
  std::unique_ptr<MappedFile> file_;
  const uint8_t *dataBase_ = nullptr;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

/// Collects tensors and writes one safetensors file atomically.
class SafetensorsWriter {
public:
  /// Adds a tensor from raw little-endian bytes (bytes.size() must equal
  /// numel * dtypeSize(dtype)). Names must be unique.
  Status add(const std::string &name, DType dtype, std::vector<int64_t> shape,
             std::vector<uint8_t> bytes);
  /// Adds f32 values converted to `dtype` (kBF16, kF16 or kF32).
  Status addF32(const std::string &name, DType dtype, std::vector<int64_t> shape,
                const std::vector<float> &values);
  void setMetadata(const std::string &key, const std::string &value);

  /// Writes `path` through a temporary file in the same directory and a
  /// rename, so a crash never leaves a partial file under `path`. The header
  /// is padded with spaces to a multiple of 8 bytes; tensors are stored in
  /// the order they were added.
  Status write(const std::string &path) const;

private:
  struct Entry {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
  };
  std::vector<Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

} // namespace msa::runtime

#endif // MSA_RUNTIME_SAFETENSORS_H
