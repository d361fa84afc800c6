//===- Safetensors.cpp - safetensors reader (mmap) and writer ---*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Checkpoints arrive from outside (downloads, other tools, interrupted
// copies), so the reader checks every header entry against the file before
// any tensor is handed out: afterwards data() and readF32() can trust the
// offsets without further bounds checks.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Safetensors.h"

#include "msa/runtime/FileUtil.h"
#include "msa/runtime/Json.h"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace msa::runtime {

namespace {

/// Bytes of the little-endian header length that starts every file.
constexpr uint64_t kLengthPrefixSize = 8;

/// The largest header accepted; the same bound as the reference Rust
/// implementation (MAX_HEADER_SIZE), so a corrupt length fails fast instead
/// of parsing gigabytes of tensor data as JSON.
constexpr uint64_t kMaxHeaderSize = 100000000;

/// The key under which the header keeps string-to-string metadata.
constexpr std::string_view kMetadataKey = "__metadata__";

std::string formatShape(const std::vector<int64_t> &shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

std::string quoted(const std::string &name) { return "'" + name + "'"; }

/// The product of `shape` in `numel`, or false if it overflows int64_t.
bool checkedNumel(const std::vector<int64_t> &shape, int64_t &numel) {
  numel = 1;
  for (int64_t d : shape)
    if (__builtin_mul_overflow(numel, d, &numel))
      return false;
  return true;
}

/// numel * dtypeSize(dtype) in `bytes`, or false if it overflows uint64_t.
bool checkedByteSize(const std::vector<int64_t> &shape, DType dtype,
                     uint64_t &bytes) {
  int64_t numel;
  if (!checkedNumel(shape, numel))
    return false;
  return !__builtin_mul_overflow(static_cast<uint64_t>(numel),
                                 static_cast<uint64_t>(dtypeSize(dtype)),
                                 &bytes);
}

/// Validates one header entry (everything but its place among the others).
Status parseEntry(const std::string &path, const std::string &name,
                  const JsonValue &entry, uint64_t dataSize, TensorInfo &info) {
  std::string where = path + ": tensor " + quoted(name);
  if (!entry.isObject())
    return invalidArgument(where + ": entry is not an object, got " +
                           entry.dump());
  info.name = name;

  const JsonValue *dtype = entry.find("dtype");
  if (!dtype || !dtype->isString())
    return invalidArgument(where + " has no string 'dtype'");
  std::optional<DType> parsed = parseDType(dtype->asString());
  if (!parsed)
    return invalidArgument(where + " has unknown dtype " +
                           quoted(dtype->asString()));
  info.dtype = *parsed;

  const JsonValue *shape = entry.find("shape");
  if (!shape)
    return invalidArgument(where + " has no 'shape'");
  bool shapeOk = shape->isArray();
  for (size_t i = 0; shapeOk && i < shape->elements().size(); ++i) {
    const JsonValue &d = shape->elements()[i];
    shapeOk = d.isInteger() && d.asInt() >= 0;
    if (shapeOk)
      info.shape.push_back(d.asInt());
  }
  if (!shapeOk)
    return invalidArgument(where + " has bad shape " + shape->dump() +
                           ": expected an array of non-negative integers");
  uint64_t expectedBytes;
  if (!checkedByteSize(info.shape, info.dtype, expectedBytes))
    return invalidArgument(where + " has shape " + formatShape(info.shape) +
                           ", which is too large");

  const JsonValue *offsets = entry.find("data_offsets");
  if (!offsets)
    return invalidArgument(where + " has no 'data_offsets'");
  bool offsetsOk = offsets->isArray() && offsets->elements().size() == 2;
  for (size_t i = 0; offsetsOk && i < 2; ++i) {
    const JsonValue &o = offsets->elements()[i];
    offsetsOk = o.isInteger() && o.asInt() >= 0;
  }
  if (offsetsOk)
    offsetsOk =
        offsets->elements()[0].asInt() <= offsets->elements()[1].asInt();
  if (!offsetsOk)
    return invalidArgument(where + " has bad data_offsets " + offsets->dump() +
                           ": expected [begin, end] with 0 <= begin <= end");
  uint64_t begin = static_cast<uint64_t>(offsets->elements()[0].asInt());
  uint64_t end = static_cast<uint64_t>(offsets->elements()[1].asInt());

  if (end - begin != expectedBytes)
    return invalidArgument(
        where + " has " + std::to_string(end - begin) +
        " bytes (data_offsets [" + std::to_string(begin) + ", " +
        std::to_string(end) + "]), but " + dtypeName(info.dtype) + " " +
        formatShape(info.shape) + " needs " + std::to_string(expectedBytes));
  if (end > dataSize)
    return dataLoss(where + " ends at byte " + std::to_string(end) +
                    " of the data section, which has " +
                    std::to_string(dataSize) + " bytes (truncated file?)");
  info.offset = begin;
  info.size = end - begin;
  return Status::ok();
}

Status parseMetadata(const std::string &path, const JsonValue &value,
                     std::map<std::string, std::string> &metadata) {
  if (!value.isObject())
    return invalidArgument(path + ": " + std::string(kMetadataKey) +
                           " is not an object, got " + value.dump());
  for (const JsonValue::Member &m : value.members()) {
    if (!m.second.isString())
      return invalidArgument(path + ": " + std::string(kMetadataKey) +
                             " entry " + quoted(m.first) +
                             " is not a string, got " + m.second.dump());
    metadata[m.first] = m.second.asString();
  }
  return Status::ok();
}

/// Holes between tensors are allowed (some writers align); overlaps are not,
/// since writing one tensor in place would silently change another.
Status checkNoOverlap(const std::string &path,
                      const std::vector<TensorInfo> &tensors) {
  std::vector<size_t> order;
  for (size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].size > 0) // An empty tensor occupies no bytes.
      order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return tensors[a].offset < tensors[b].offset;
  });
  // With begins sorted, a tensor overlaps some earlier one exactly when it
  // begins before the furthest end seen so far.
  size_t furthest = 0;
  for (size_t k = 0; k < order.size(); ++k) {
    const TensorInfo &t = tensors[order[k]];
    if (k > 0) {
      const TensorInfo &prev = tensors[furthest];
      if (t.offset < prev.offset + prev.size)
        return invalidArgument(path + ": tensors " + quoted(prev.name) +
                               " (bytes [" + std::to_string(prev.offset) +
                               ", " + std::to_string(prev.offset + prev.size) +
                               ")) and " + quoted(t.name) + " (bytes [" +
                               std::to_string(t.offset) + ", " +
                               std::to_string(t.offset + t.size) +
                               ")) overlap in the data section");
    }
    if (k == 0 ||
        t.offset + t.size > tensors[furthest].offset + tensors[furthest].size)
      furthest = order[k];
  }
  return Status::ok();
}

} // namespace

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

StatusOr<std::unique_ptr<SafetensorsFile>>
SafetensorsFile::open(const std::string &path) {
  MSA_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> mapped,
                       MappedFile::open(path));
  uint64_t fileSize = mapped->size();
  if (fileSize < kLengthPrefixSize)
    return dataLoss(path + ": truncated: " + std::to_string(fileSize) +
                    " bytes, expected at least 8 for the header length");
  uint64_t headerSize;
  // Little-endian on disk and on every host msa supports (x86-64, aarch64).
  std::memcpy(&headerSize, mapped->data(), sizeof(headerSize));
  if (headerSize > kMaxHeaderSize)
    return invalidArgument(
        path + ": header length " + std::to_string(headerSize) +
        " exceeds the limit of " + std::to_string(kMaxHeaderSize) + " bytes");
  if (headerSize > fileSize - kLengthPrefixSize)
    return dataLoss(path + ": truncated: header length is " +
                    std::to_string(headerSize) + " bytes, but only " +
                    std::to_string(fileSize - kLengthPrefixSize) +
                    " bytes follow the length");

  std::string_view headerText(reinterpret_cast<const char *>(mapped->data()) +
                                  kLengthPrefixSize,
                              headerSize);
  StatusOr<JsonValue> header = JsonValue::parse(headerText);
  if (!header.isOk())
    return invalidArgument(
        path + ": header is not valid JSON: " + header.status().message());
  if (!header->isObject())
    return invalidArgument(path + ": header is not a JSON object");

  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;
  uint64_t dataSize = fileSize - kLengthPrefixSize - headerSize;
  for (const JsonValue::Member &m : header->members()) {
    if (m.first == kMetadataKey) {
      MSA_RETURN_IF_ERROR(parseMetadata(path, m.second, file->metadata_));
      continue;
    }
    TensorInfo info;
    MSA_RETURN_IF_ERROR(parseEntry(path, m.first, m.second, dataSize, info));
    // The JSON parser rejects duplicate keys, so names are unique here.
    file->index_[info.name] = file->tensors_.size();
    file->tensors_.push_back(std::move(info));
  }
  MSA_RETURN_IF_ERROR(checkNoOverlap(path, file->tensors_));

  file->dataBase_ = mapped->data() + kLengthPrefixSize + headerSize;
  file->file_ = std::move(mapped);
  return file;
}

SafetensorsFile::~SafetensorsFile() = default;

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  out.reserve(tensors_.size());
  for (const TensorInfo &t : tensors_)
    out.push_back(t.name);
  return out;
}

const TensorInfo *SafetensorsFile::find(const std::string &name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const uint8_t *SafetensorsFile::data(const TensorInfo &info) const {
  return dataBase_ + info.offset;
}

StatusOr<std::vector<float>>
SafetensorsFile::readF32(const std::string &name,
                         const std::vector<int64_t> &expectedShape) const {
  const TensorInfo *info = find(name);
  if (!info)
    return notFound(path_ + ": missing tensor " + quoted(name));
  if (info->shape != expectedShape)
    return invalidArgument(path_ + ": tensor " + quoted(name) + " has shape " +
                           formatShape(info->shape) + ", expected " +
                           formatShape(expectedShape));
  const uint8_t *src = data(*info);
  std::vector<float> out(static_cast<size_t>(info->numel()));
  switch (info->dtype) {
  case DType::kF32:
    std::memcpy(out.data(), src, out.size() * sizeof(float));
    return out;
  case DType::kBF16:
  case DType::kF16: {
    bool isBf16 = info->dtype == DType::kBF16;
    for (size_t i = 0; i < out.size(); ++i) {
      uint16_t bits;
      std::memcpy(&bits, src + 2 * i, sizeof(bits));
      out[i] = isBf16 ? bf16ToFloat(bits) : f16ToFloat(bits);
    }
    return out;
  }
  case DType::kF64:
    // Narrowing is what a caller asking for f32 wants; the dtype is still a
    // floating-point one, so refusing would contradict the error text.
    for (size_t i = 0; i < out.size(); ++i) {
      double v;
      std::memcpy(&v, src + 8 * i, sizeof(v));
      out[i] = static_cast<float>(v);
    }
    return out;
  case DType::kI32:
  case DType::kI64:
  case DType::kI8:
  case DType::kU8:
  case DType::kBool:
    break;
  }
  return invalidArgument(path_ + ": tensor " + quoted(name) + " has dtype " +
                         dtypeName(info->dtype) +
                         ", expected a floating-point dtype");
}

Status SafetensorsWriter::add(const std::string &name, DType dtype,
                              std::vector<int64_t> shape,
                              std::vector<uint8_t> bytes) {
  if (name == kMetadataKey)
    return invalidArgument("tensor name " + quoted(name) +
                           " is reserved for metadata");
  for (const Entry &e : entries_)
    if (e.name == name)
      return invalidArgument("duplicate tensor " + quoted(name));
  for (int64_t d : shape)
    if (d < 0)
      return invalidArgument("tensor " + quoted(name) + " has shape " +
                             formatShape(shape) + " with a negative dimension");
  uint64_t expectedBytes;
  if (!checkedByteSize(shape, dtype, expectedBytes))
    return invalidArgument("tensor " + quoted(name) + " has shape " +
                           formatShape(shape) + ", which is too large");
  if (bytes.size() != expectedBytes)
    return invalidArgument("tensor " + quoted(name) + " has " +
                           std::to_string(bytes.size()) + " bytes, expected " +
                           std::to_string(expectedBytes) + " for " +
                           dtypeName(dtype) + " " + formatShape(shape));
  entries_.push_back({name, dtype, std::move(shape), std::move(bytes)});
  return Status::ok();
}

Status SafetensorsWriter::addF32(const std::string &name, DType dtype,
                                 std::vector<int64_t> shape,
                                 const std::vector<float> &values) {
  if (dtype != DType::kBF16 && dtype != DType::kF16 && dtype != DType::kF32)
    return invalidArgument("tensor " + quoted(name) + ": cannot store f32 " +
                           "values as " + dtypeName(dtype) +
                           ", expected BF16, F16 or F32");
  // Check the count here so the error speaks of values, not bytes.
  int64_t numel;
  if (std::any_of(shape.begin(), shape.end(),
                  [](int64_t d) { return d < 0; }) ||
      !checkedNumel(shape, numel) ||
      values.size() != static_cast<uint64_t>(numel))
    return invalidArgument(
        "tensor " + quoted(name) + " has " + std::to_string(values.size()) +
        " values, which does not match shape " + formatShape(shape));
  std::vector<uint8_t> bytes(values.size() * dtypeSize(dtype));
  if (dtype == DType::kF32) {
    std::memcpy(bytes.data(), values.data(), bytes.size());
  } else {
    for (size_t i = 0; i < values.size(); ++i) {
      uint16_t bits = dtype == DType::kBF16 ? floatToBf16(values[i])
                                            : floatToF16(values[i]);
      std::memcpy(bytes.data() + 2 * i, &bits, sizeof(bits));
    }
  }
  return add(name, dtype, std::move(shape), std::move(bytes));
}

void SafetensorsWriter::setMetadata(const std::string &key,
                                    const std::string &value) {
  metadata_[key] = value;
}

Status SafetensorsWriter::write(const std::string &path) const {
  JsonValue header = JsonValue::object();
  if (!metadata_.empty()) {
    JsonValue metadata = JsonValue::object();
    for (const auto &[key, value] : metadata_)
      metadata.set(key, JsonValue(value));
    header.set(std::string(kMetadataKey), std::move(metadata));
  }
  uint64_t offset = 0;
  for (const Entry &e : entries_) {
    JsonValue entry = JsonValue::object();
    entry.set("dtype", JsonValue(dtypeName(e.dtype)));
    JsonValue shape = JsonValue::array();
    for (int64_t d : e.shape)
      shape.push(JsonValue(d));
    entry.set("shape", std::move(shape));
    JsonValue offsets = JsonValue::array();
    offsets.push(JsonValue(offset));
    offset += e.bytes.size();
    offsets.push(JsonValue(offset));
    entry.set("data_offsets", std::move(offsets));
    header.set(e.name, std::move(entry));
  }
  std::string text = header.dump();
  // Padding keeps the data section 8-byte aligned in the file, so mapped
  // tensors are aligned for every dtype.
  text.append((kLengthPrefixSize - text.size() % kLengthPrefixSize) %
                  kLengthPrefixSize,
              ' ');

  std::string bytes;
  bytes.reserve(kLengthPrefixSize + text.size() + offset);
  uint64_t headerSize = text.size();
  bytes.append(reinterpret_cast<const char *>(&headerSize), sizeof(headerSize));
  bytes += text;
  for (const Entry &e : entries_)
    bytes.append(reinterpret_cast<const char *>(e.bytes.data()),
                 e.bytes.size());
  return writeFileAtomic(path, bytes);
}

} // namespace msa::runtime
