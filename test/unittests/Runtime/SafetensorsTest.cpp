//===- SafetensorsTest.cpp - safetensors and file utilities -----*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Writer-to-reader round trips with checked values, the readF32 errors, one
// hand-built corrupt file per validation rule of SafetensorsFile::open, and
// (in the FileUtil suite, which shares this binary) reading, atomic writing,
// mapping and directory helpers.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Safetensors.h"
#include "msa/runtime/FileUtil.h"
#include "msa/runtime/Json.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace msa::runtime;

namespace {

/// A fresh directory under the gtest temp dir, removed with its contents.
class ScratchDir {
public:
  ScratchDir() {
    std::string pattern = ::testing::TempDir() + "msa-runtime-test-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()))
      path_ = buf.data();
    else
      ADD_FAILURE() << "mkdtemp(" << pattern << "): " << std::strerror(errno);
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty())
      std::filesystem::remove_all(path_, ec);
  }
  const std::string &path() const { return path_; }
  std::string file(const std::string &name) const { return path_ + "/" + name; }

  /// Names of everything in the directory, so tests can spot leftovers.
  std::set<std::string> entries() const {
    std::set<std::string> names;
    std::error_code ec;
    for (const auto &e : std::filesystem::directory_iterator(path_, ec))
      names.insert(e.path().filename().string());
    return names;
  }

private:
  std::string path_;
};

/// Writes bytes with stdio, independent of the code under test.
void writeRaw(const std::string &path, const std::string &bytes) {
  FILE *f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  ASSERT_EQ(std::fclose(f), 0);
}

std::string readRaw(const std::string &path) {
  std::string out;
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0)
    out.append(buf, n);
  std::fclose(f);
  return out;
}

std::string le64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i)
    out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

/// A safetensors file: the length of `header`, `header`, then `data`.
std::string safetensorsBytes(const std::string &header,
                             const std::string &data) {
  return le64(header.size()) + header + data;
}

std::vector<float> randomFloats(size_t n, uint32_t seed, float scale = 3.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(rng);
  return v;
}

std::string randomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char &c : s)
    c = static_cast<char>(rng() & 0xff);
  return s;
}

std::string floatBytes(const std::vector<float> &v) {
  return std::string(reinterpret_cast<const char *>(v.data()),
                     v.size() * sizeof(float));
}

//===----------------------------------------------------------------------===//
// Safetensors: round trips.
//===----------------------------------------------------------------------===//

class SafetensorsTest : public ::testing::Test {
protected:
  /// Writes `bytes` to a file and opens it, expecting failure; returns the
  /// error after checking its code.
  std::string openError(const std::string &bytes, StatusCode code) {
    writeRaw(path_, bytes);
    auto file = SafetensorsFile::open(path_);
    if (file.isOk()) {
      ADD_FAILURE() << "opened a corrupt file";
      return "";
    }
    EXPECT_EQ(file.status().code(), code) << file.status().message();
    return file.status().message();
  }

  ScratchDir dir_;
  std::string path_ = dir_.file("model.safetensors");
};

TEST_F(SafetensorsTest, RoundTripAllDtypes) {
  std::vector<float> bf16Values = randomFloats(15, 1);
  std::vector<float> f16Values = randomFloats(4, 2);
  std::vector<float> f32Values = randomFloats(24, 3);
  std::mt19937 rng(4);
  std::vector<int32_t> ids(7);
  for (int32_t &x : ids)
    x = static_cast<int32_t>(rng());
  std::vector<uint8_t> idBytes(ids.size() * 4);
  std::memcpy(idBytes.data(), ids.data(), idBytes.size());

  SafetensorsWriter writer;
  ASSERT_TRUE(writer.addF32("w.bf16", DType::kBF16, {3, 5}, bf16Values).isOk());
  ASSERT_TRUE(writer.addF32("b.f16", DType::kF16, {4}, f16Values).isOk());
  ASSERT_TRUE(writer.addF32("x.f32", DType::kF32, {2, 3, 4}, f32Values).isOk());
  ASSERT_TRUE(writer.add("ids", DType::kI32, {7}, idBytes).isOk());
  ASSERT_TRUE(writer.addF32("scalar", DType::kF32, {}, {2.75f}).isOk());
  ASSERT_TRUE(writer.addF32("empty", DType::kBF16, {0, 3}, {}).isOk());
  writer.setMetadata("format", "pt");
  writer.setMetadata("producer", "msa \xe2\x9c\x93");
  ASSERT_TRUE(writer.write(path_).isOk());

  auto opened = SafetensorsFile::open(path_);
  ASSERT_TRUE(opened.isOk()) << opened.status().message();
  const SafetensorsFile &file = **opened;
  EXPECT_EQ(file.path(), path_);
  EXPECT_EQ(file.names(), (std::vector<std::string>{"w.bf16", "b.f16", "x.f32",
                                                    "ids", "scalar", "empty"}));
  EXPECT_EQ(file.metadata(),
            (std::map<std::string, std::string>{
                {"format", "pt"}, {"producer", "msa \xe2\x9c\x93"}}));

  // BF16 values come back rounded; the rounding must actually matter here.
  auto bf16 = file.readF32("w.bf16", {3, 5});
  ASSERT_TRUE(bf16.isOk()) << bf16.status().message();
  int changedByRounding = 0;
  for (size_t i = 0; i < bf16Values.size(); ++i) {
    EXPECT_EQ((*bf16)[i], roundToBf16(bf16Values[i])) << i;
    changedByRounding += (*bf16)[i] != bf16Values[i];
  }
  EXPECT_GT(changedByRounding, 10);

  auto f16 = file.readF32("b.f16", {4});
  ASSERT_TRUE(f16.isOk());
  int differsFromBf16 = 0;
  for (size_t i = 0; i < f16Values.size(); ++i) {
    EXPECT_EQ((*f16)[i], roundToF16(f16Values[i])) << i;
    differsFromBf16 += (*f16)[i] != roundToBf16(f16Values[i]);
  }
  EXPECT_GT(differsFromBf16, 0); // F16 was not stored as BF16 by mistake.

  auto f32 = file.readF32("x.f32", {2, 3, 4});
  ASSERT_TRUE(f32.isOk());
  EXPECT_EQ(*f32, f32Values);

  auto scalar = file.readF32("scalar", {});
  ASSERT_TRUE(scalar.isOk());
  EXPECT_EQ(*scalar, std::vector<float>{2.75f});

  auto empty = file.readF32("empty", {0, 3});
  ASSERT_TRUE(empty.isOk());
  EXPECT_TRUE(empty->empty());

  const TensorInfo *idInfo = file.find("ids");
  ASSERT_NE(idInfo, nullptr);
  EXPECT_EQ(idInfo->name, "ids");
  EXPECT_EQ(idInfo->dtype, DType::kI32);
  EXPECT_EQ(idInfo->shape, std::vector<int64_t>{7});
  EXPECT_EQ(idInfo->numel(), 7);
  EXPECT_EQ(idInfo->size, 28u);
  std::vector<int32_t> idsBack(7);
  std::memcpy(idsBack.data(), file.data(*idInfo), 28);
  EXPECT_EQ(idsBack, ids);

  // Tensors are packed in insertion order.
  uint64_t expectedOffset = 0;
  for (const std::string &name : file.names()) {
    const TensorInfo *info = file.find(name);
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->offset, expectedOffset) << name;
    EXPECT_EQ(info->size,
              static_cast<uint64_t>(info->numel()) * dtypeSize(info->dtype));
    expectedOffset += info->size;
  }
  EXPECT_EQ(file.find("nope"), nullptr);
}

TEST_F(SafetensorsTest, WrittenBytesFollowTheFormat) {
  std::vector<float> values = randomFloats(6, 5);
  SafetensorsWriter writer;
  ASSERT_TRUE(writer.addF32("a", DType::kBF16, {2, 3}, values).isOk());
  ASSERT_TRUE(writer.addF32("b", DType::kF32, {1}, {values[0]}).isOk());
  writer.setMetadata("k", "v");
  ASSERT_TRUE(writer.write(path_).isOk());

  std::string bytes = readRaw(path_);
  ASSERT_GE(bytes.size(), 8u);
  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i)
    headerSize = (headerSize << 8) | static_cast<uint8_t>(bytes[i]);
  EXPECT_EQ(headerSize % 8, 0u);
  ASSERT_EQ(bytes.size(), 8 + headerSize + 12 + 4);
  std::string header = bytes.substr(8, headerSize);
  std::string trimmed = header.substr(0, header.find_last_not_of(' ') + 1);
  EXPECT_EQ(trimmed,
            R"({"__metadata__":{"k":"v"},)"
            R"("a":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]},)"
            R"("b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}})");
  EXPECT_LT(header.size() - trimmed.size(), 8u);
  // The data section holds the raw little-endian bf16 bits, then the f32.
  for (size_t i = 0; i < values.size(); ++i) {
    uint16_t bits;
    std::memcpy(&bits, bytes.data() + 8 + headerSize + 2 * i, 2);
    EXPECT_EQ(bits, floatToBf16(values[i])) << i;
  }
  float last;
  std::memcpy(&last, bytes.data() + 8 + headerSize + 12, 4);
  EXPECT_EQ(last, values[0]);
  // No temporary file is left next to the output.
  EXPECT_EQ(dir_.entries(), std::set<std::string>{"model.safetensors"});
}

TEST_F(SafetensorsTest, NoMetadataWritesNoMetadataKey) {
  SafetensorsWriter writer;
  ASSERT_TRUE(writer.addF32("t", DType::kF32, {2}, {1.5f, -2.0f}).isOk());
  ASSERT_TRUE(writer.write(path_).isOk());
  std::string bytes = readRaw(path_);
  EXPECT_EQ(bytes.find("__metadata__"), std::string::npos);
  auto file = SafetensorsFile::open(path_);
  ASSERT_TRUE(file.isOk());
  EXPECT_TRUE((*file)->metadata().empty());
  auto t = (*file)->readF32("t", {2});
  ASSERT_TRUE(t.isOk());
  EXPECT_EQ(*t, (std::vector<float>{1.5f, -2.0f}));
}

TEST_F(SafetensorsTest, WriteReplacesExistingFile) {
  writeRaw(path_, "old contents that are not safetensors");
  SafetensorsWriter writer;
  std::vector<float> values = randomFloats(8, 6);
  ASSERT_TRUE(writer.addF32("t", DType::kF32, {8}, values).isOk());
  ASSERT_TRUE(writer.write(path_).isOk());
  auto file = SafetensorsFile::open(path_);
  ASSERT_TRUE(file.isOk()) << file.status().message();
  EXPECT_EQ(*(*file)->readF32("t", {8}), values);
  EXPECT_EQ(dir_.entries(), std::set<std::string>{"model.safetensors"});
}

TEST_F(SafetensorsTest, HandBuiltFileWithUnpaddedHeaderAndHoles) {
  // Offsets count from the end of the header, whatever its length; the
  // 4-byte gap between the tensors is a hole, which is allowed.
  std::vector<float> a = randomFloats(3, 7);
  std::vector<float> b = randomFloats(2, 8);
  std::string header =
      R"({"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]},)"
      R"("a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}})";
  ASSERT_NE(header.size() % 8, 0u);
  std::string data = floatBytes(a) + "HOLE" + floatBytes(b);
  writeRaw(path_, safetensorsBytes(header, data));
  auto file = SafetensorsFile::open(path_);
  ASSERT_TRUE(file.isOk()) << file.status().message();
  EXPECT_EQ((*file)->names(), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(*(*file)->readF32("a", {3}), a);
  EXPECT_EQ(*(*file)->readF32("b", {2}), b);
}

TEST_F(SafetensorsTest, AcceptsExtraKeysAndEmptyTensorsAnywhere) {
  // Zero-byte tensors occupy nothing, so sharing an offset is no overlap.
  std::string header =
      R"({"z1":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},)"
      R"("x":{"dtype":"I32","shape":[1],"data_offsets":[0,4],"note":1},)"
      R"("z2":{"dtype":"BF16","shape":[2,0],"data_offsets":[2,2]}})";
  writeRaw(path_, safetensorsBytes(header, "abcd"));
  auto file = SafetensorsFile::open(path_);
  ASSERT_TRUE(file.isOk()) << file.status().message();
  EXPECT_EQ((*file)->find("z2")->numel(), 0);
  EXPECT_EQ(std::memcmp((*file)->data(*(*file)->find("x")), "abcd", 4), 0);
}

TEST_F(SafetensorsTest, ReadsF64AsF32) {
  std::vector<double> values = {0.1, -3.25, 1e10};
  std::string data(reinterpret_cast<const char *>(values.data()), 24);
  writeRaw(
      path_,
      safetensorsBytes(
          R"({"d":{"dtype":"F64","shape":[3],"data_offsets":[0,24]}})", data));
  auto file = SafetensorsFile::open(path_);
  ASSERT_TRUE(file.isOk());
  auto d = (*file)->readF32("d", {3});
  ASSERT_TRUE(d.isOk());
  EXPECT_EQ(*d, (std::vector<float>{0.1f, -3.25f, 1e10f}));
}

//===----------------------------------------------------------------------===//
// Safetensors: readF32 errors.
//===----------------------------------------------------------------------===//

TEST_F(SafetensorsTest, ReadF32Errors) {
  SafetensorsWriter writer;
  ASSERT_TRUE(
      writer.addF32("w", DType::kBF16, {3, 5}, randomFloats(15, 9)).isOk());
  std::vector<uint8_t> ids(12, 7);
  ASSERT_TRUE(writer.add("ids", DType::kI32, {3}, ids).isOk());
  ASSERT_TRUE(writer.add("mask", DType::kBool, {2}, {1, 0}).isOk());
  ASSERT_TRUE(writer.write(path_).isOk());
  auto file = SafetensorsFile::open(path_);
  ASSERT_TRUE(file.isOk());

  auto missing = (*file)->readF32("nope", {3, 5});
  ASSERT_FALSE(missing.isOk());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), path_ + ": missing tensor 'nope'");

  auto shape = (*file)->readF32("w", {5, 3});
  ASSERT_FALSE(shape.isOk());
  EXPECT_EQ(shape.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(shape.status().message(),
            path_ + ": tensor 'w' has shape [3, 5], expected [5, 3]");

  auto rank = (*file)->readF32("w", {15});
  ASSERT_FALSE(rank.isOk());
  EXPECT_EQ(rank.status().message(),
            path_ + ": tensor 'w' has shape [3, 5], expected [15]");

  auto dtype = (*file)->readF32("ids", {3});
  ASSERT_FALSE(dtype.isOk());
  EXPECT_EQ(dtype.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(dtype.status().message(),
            path_ + ": tensor 'ids' has dtype I32, expected a floating-point "
                    "dtype");

  auto boolean = (*file)->readF32("mask", {2});
  ASSERT_FALSE(boolean.isOk());
  EXPECT_EQ(boolean.status().message(),
            path_ + ": tensor 'mask' has dtype BOOL, expected a "
                    "floating-point dtype");
}

//===----------------------------------------------------------------------===//
// Safetensors: writer errors.
//===----------------------------------------------------------------------===//

TEST(SafetensorsWriter, RejectsBadTensors) {
  SafetensorsWriter writer;
  ASSERT_TRUE(writer.addF32("a", DType::kF32, {2}, {1.0f, 2.0f}).isOk());

  Status dup = writer.addF32("a", DType::kF32, {1}, {3.0f});
  EXPECT_EQ(dup.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(dup.message(), "duplicate tensor 'a'");
  Status dupRaw = writer.add("a", DType::kU8, {1}, {9});
  EXPECT_EQ(dupRaw.message(), "duplicate tensor 'a'");

  Status size =
      writer.add("b", DType::kBF16, {2, 3}, std::vector<uint8_t>(10, 1));
  EXPECT_EQ(size.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(size.message(),
            "tensor 'b' has 10 bytes, expected 12 for BF16 [2, 3]");

  Status negative = writer.add("c", DType::kU8, {-1, 2}, {});
  EXPECT_EQ(negative.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(negative.message(),
            "tensor 'c' has shape [-1, 2] with a negative dimension");

  Status count = writer.addF32("d", DType::kBF16, {2, 2}, {1.0f, 2.0f, 3.0f});
  EXPECT_EQ(count.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(count.message(),
            "tensor 'd' has 3 values, which does not match shape [2, 2]");

  Status intDtype = writer.addF32("e", DType::kI32, {1}, {1.0f});
  EXPECT_EQ(intDtype.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(intDtype.message(),
            "tensor 'e': cannot store f32 values as I32, expected BF16, F16 "
            "or F32");

  Status reserved = writer.addF32("__metadata__", DType::kF32, {1}, {1.0f});
  EXPECT_EQ(reserved.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(reserved.message(),
            "tensor name '__metadata__' is reserved for metadata");

  Status huge =
      writer.add("f", DType::kF32, {int64_t{1} << 40, int64_t{1} << 40}, {});
  EXPECT_EQ(huge.message(),
            "tensor 'f' has shape [1099511627776, 1099511627776], which is "
            "too large");
}

TEST(SafetensorsWriter, FailedWriteNamesThePath) {
  ScratchDir dir;
  std::string path = dir.file("no/such/dir/model.safetensors");
  SafetensorsWriter writer;
  ASSERT_TRUE(writer.addF32("a", DType::kF32, {1}, {1.0f}).isOk());
  Status s = writer.write(path);
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message().rfind(path + ": ", 0), 0u) << s.message();
  EXPECT_TRUE(dir.entries().empty());
}

//===----------------------------------------------------------------------===//
// Safetensors: one corrupt file per validation rule.
//===----------------------------------------------------------------------===//

TEST_F(SafetensorsTest, RejectsMissingFile) {
  auto file = SafetensorsFile::open(path_);
  ASSERT_FALSE(file.isOk());
  EXPECT_EQ(file.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(file.status().message(),
            path_ + ": cannot open: No such file or directory");
}

TEST_F(SafetensorsTest, RejectsTruncatedLength) {
  EXPECT_EQ(openError("abc", StatusCode::kDataLoss),
            path_ + ": truncated: 3 bytes, expected at least 8 for the header "
                    "length");
  EXPECT_EQ(openError("", StatusCode::kDataLoss),
            path_ + ": truncated: 0 bytes, expected at least 8 for the header "
                    "length");
}

TEST_F(SafetensorsTest, RejectsHeaderLongerThanFile) {
  EXPECT_EQ(openError(le64(100) + "{\"a\":1}   ", StatusCode::kDataLoss),
            path_ + ": truncated: header length is 100 bytes, but only 10 "
                    "bytes follow the length");
  EXPECT_EQ(openError(le64(1), StatusCode::kDataLoss),
            path_ + ": truncated: header length is 1 bytes, but only 0 bytes "
                    "follow the length");
}

TEST_F(SafetensorsTest, RejectsHugeHeaderLength) {
  EXPECT_EQ(openError(le64(200000000) + "{}", StatusCode::kInvalidArgument),
            path_ + ": header length 200000000 exceeds the limit of 100000000 "
                    "bytes");
  EXPECT_EQ(openError(le64(~uint64_t{0}) + "{}", StatusCode::kInvalidArgument),
            path_ + ": header length 18446744073709551615 exceeds the limit "
                    "of 100000000 bytes");
}

TEST_F(SafetensorsTest, RejectsInvalidJsonHeader) {
  EXPECT_EQ(openError(safetensorsBytes("{\"a\": }", ""),
                      StatusCode::kInvalidArgument),
            path_ + ": header is not valid JSON: line 1, column 7: unexpected "
                    "'}', expected a value");
  // Tensor data read as header text (a wrong length) fails as JSON.
  EXPECT_EQ(openError(safetensorsBytes("{}\x01\x02", ""),
                      StatusCode::kInvalidArgument),
            path_ + ": header is not valid JSON: line 1, column 3: unexpected "
                    "0x01 after the JSON value");
  // Two entries for one tensor.
  EXPECT_EQ(
      openError(safetensorsBytes(
                    R"({"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                    "\n"
                    R"("t":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                    "ab"),
                StatusCode::kInvalidArgument),
      path_ + ": header is not valid JSON: line 2, column 1: duplicate key "
              "\"t\"");
}

TEST_F(SafetensorsTest, RejectsNonObjectHeader) {
  EXPECT_EQ(
      openError(safetensorsBytes("[1, 2]  ", ""), StatusCode::kInvalidArgument),
      path_ + ": header is not a JSON object");
}

TEST_F(SafetensorsTest, RejectsNonObjectEntry) {
  EXPECT_EQ(openError(safetensorsBytes(R"({"x": [5]})", ""),
                      StatusCode::kInvalidArgument),
            path_ + ": tensor 'x': entry is not an object, got [5]");
}

TEST_F(SafetensorsTest, RejectsBadDtype) {
  EXPECT_EQ(
      openError(
          safetensorsBytes(
              R"({"x":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}})", "a"),
          StatusCode::kInvalidArgument),
      path_ + ": tensor 'x' has unknown dtype 'Q4'");
  EXPECT_EQ(
      openError(
          safetensorsBytes(
              R"({"x":{"dtype":"bf16","shape":[1],"data_offsets":[0,2]}})",
              "ab"),
          StatusCode::kInvalidArgument),
      path_ + ": tensor 'x' has unknown dtype 'bf16'");
  EXPECT_EQ(openError(safetensorsBytes(
                          R"({"x":{"shape":[1],"data_offsets":[0,1]}})", "a"),
                      StatusCode::kInvalidArgument),
            path_ + ": tensor 'x' has no string 'dtype'");
  EXPECT_EQ(
      openError(
          safetensorsBytes(
              R"({"x":{"dtype":4,"shape":[1],"data_offsets":[0,1]}})", "a"),
          StatusCode::kInvalidArgument),
      path_ + ": tensor 'x' has no string 'dtype'");
}

TEST_F(SafetensorsTest, RejectsBadShape) {
  EXPECT_EQ(
      openError(
          safetensorsBytes(
              R"({"x":{"dtype":"U8","shape":[2,-1],"data_offsets":[0,0]}})",
              ""),
          StatusCode::kInvalidArgument),
      path_ + ": tensor 'x' has bad shape [2,-1]: expected an array of "
              "non-negative integers");
  EXPECT_EQ(
      openError(
          safetensorsBytes(
              R"({"x":{"dtype":"U8","shape":[2.5],"data_offsets":[0,2]}})",
              "ab"),
          StatusCode::kInvalidArgument),
      path_ + ": tensor 'x' has bad shape [2.5]: expected an array of "
              "non-negative integers");
  EXPECT_EQ(
      openError(
          safetensorsBytes(
              R"({"x":{"dtype":"U8","shape":"2","data_offsets":[0,2]}})", "ab"),
          StatusCode::kInvalidArgument),
      path_ + ": tensor 'x' has bad shape \"2\": expected an array of "
              "non-negative integers");
  EXPECT_EQ(openError(safetensorsBytes(
                          R"({"x":{"dtype":"U8","data_offsets":[0,2]}})", "ab"),
                      StatusCode::kInvalidArgument),
            path_ + ": tensor 'x' has no 'shape'");
  EXPECT_EQ(
      openError(safetensorsBytes(R"({"x":{"dtype":"F32","shape":[4294967296,)"
                                 R"(4294967296],"data_offsets":[0,0]}})",
                                 ""),
                StatusCode::kInvalidArgument),
      path_ + ": tensor 'x' has shape [4294967296, 4294967296], which "
              "is too large");
}

TEST_F(SafetensorsTest, RejectsBadDataOffsets) {
  auto entry = [](const std::string &offsets) {
    return safetensorsBytes(
        R"({"x":{"dtype":"U8","shape":[4],"data_offsets":)" + offsets + "}}",
        "abcdefgh");
  };
  const std::string suffix = ": expected [begin, end] with 0 <= begin <= end";
  EXPECT_EQ(openError(entry("[8,4]"), StatusCode::kInvalidArgument),
            path_ + ": tensor 'x' has bad data_offsets [8,4]" + suffix);
  EXPECT_EQ(openError(entry("[4]"), StatusCode::kInvalidArgument),
            path_ + ": tensor 'x' has bad data_offsets [4]" + suffix);
  EXPECT_EQ(openError(entry("[0,4,8]"), StatusCode::kInvalidArgument),
            path_ + ": tensor 'x' has bad data_offsets [0,4,8]" + suffix);
  EXPECT_EQ(openError(entry("[-4,0]"), StatusCode::kInvalidArgument),
            path_ + ": tensor 'x' has bad data_offsets [-4,0]" + suffix);
  EXPECT_EQ(openError(entry("[\"0\",\"4\"]"), StatusCode::kInvalidArgument),
            path_ + ": tensor 'x' has bad data_offsets [\"0\",\"4\"]" + suffix);
  EXPECT_EQ(openError(entry("[0.5,4.5]"), StatusCode::kInvalidArgument),
            path_ + ": tensor 'x' has bad data_offsets [0.5,4.5]" + suffix);
  EXPECT_EQ(openError(entry("{}"), StatusCode::kInvalidArgument),
            path_ + ": tensor 'x' has bad data_offsets {}" + suffix);
  EXPECT_EQ(
      openError(safetensorsBytes(R"({"x":{"dtype":"U8","shape":[4]}})", "abcd"),
                StatusCode::kInvalidArgument),
      path_ + ": tensor 'x' has no 'data_offsets'");
}

TEST_F(SafetensorsTest, RejectsSizeMismatch) {
  EXPECT_EQ(
      openError(
          safetensorsBytes(
              R"({"x":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})",
              std::string(16, 'd')),
          StatusCode::kInvalidArgument),
      path_ + ": tensor 'x' has 12 bytes (data_offsets [0, 12]), but F32 "
              "[2, 2] needs 16");
  EXPECT_EQ(
      openError(safetensorsBytes(
                    R"({"x":{"dtype":"BF16","shape":[],"data_offsets":[4,8]}})",
                    std::string(8, 'd')),
                StatusCode::kInvalidArgument),
      path_ + ": tensor 'x' has 4 bytes (data_offsets [4, 8]), but BF16 [] "
              "needs 2");
}

TEST_F(SafetensorsTest, RejectsOffsetsPastTheData) {
  EXPECT_EQ(
      openError(
          safetensorsBytes(
              R"({"x":{"dtype":"U8","shape":[4096],"data_offsets":[0,4096]}})",
              randomBytes(100, 10)),
          StatusCode::kDataLoss),
      path_ + ": tensor 'x' ends at byte 4096 of the data section, which has "
              "100 bytes (truncated file?)");
  // One byte short: the last tensor of a cut-off download.
  EXPECT_EQ(
      openError(safetensorsBytes(
                    R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                    R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                    randomBytes(15, 11)),
                StatusCode::kDataLoss),
      path_ + ": tensor 'b' ends at byte 16 of the data section, which has 15 "
              "bytes (truncated file?)");
}

TEST_F(SafetensorsTest, RejectsOverlappingTensors) {
  EXPECT_EQ(
      openError(safetensorsBytes(
                    R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                    R"("b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})",
                    randomBytes(24, 12)),
                StatusCode::kInvalidArgument),
      path_ + ": tensors 'a' (bytes [0, 16)) and 'b' (bytes [8, 24)) overlap "
              "in the data section");
  // A tensor inside a bigger one, listed first, with a clean neighbour after
  // it; the overlap is still found once begins are sorted.
  EXPECT_EQ(
      openError(
          safetensorsBytes(
              R"({"inner":{"dtype":"U8","shape":[4],"data_offsets":[20,24]},)"
              R"("next":{"dtype":"U8","shape":[8],"data_offsets":[32,40]},)"
              R"("outer":{"dtype":"U8","shape":[32],"data_offsets":[0,32]}})",
              randomBytes(40, 13)),
          StatusCode::kInvalidArgument),
      path_ + ": tensors 'outer' (bytes [0, 32)) and 'inner' (bytes [20, 24)) "
              "overlap in the data section");
  // Same range twice.
  EXPECT_EQ(
      openError(safetensorsBytes(
                    R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                    R"("b":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}})",
                    randomBytes(4, 14)),
                StatusCode::kInvalidArgument),
      path_ + ": tensors 'a' (bytes [0, 4)) and 'b' (bytes [0, 4)) overlap "
              "in the data section");
}

TEST_F(SafetensorsTest, RejectsBadMetadata) {
  EXPECT_EQ(openError(safetensorsBytes(R"({"__metadata__":[1]})", ""),
                      StatusCode::kInvalidArgument),
            path_ + ": __metadata__ is not an object, got [1]");
  EXPECT_EQ(
      openError(safetensorsBytes(R"({"__metadata__":{"a":"b","n":3}})", ""),
                StatusCode::kInvalidArgument),
      path_ + ": __metadata__ entry 'n' is not a string, got 3");
}

//===----------------------------------------------------------------------===//
// FileUtil.
//===----------------------------------------------------------------------===//

TEST(FileUtil, ReadFileReturnsExactBytes) {
  ScratchDir dir;
  std::string path = dir.file("blob.bin");
  std::string bytes = randomBytes(200003, 21); // Several read() calls.
  ASSERT_NE(bytes.find('\0'), std::string::npos);
  writeRaw(path, bytes);
  auto read = readFile(path);
  ASSERT_TRUE(read.isOk()) << read.status().message();
  EXPECT_EQ(*read, bytes);

  writeRaw(path, "");
  auto empty = readFile(path);
  ASSERT_TRUE(empty.isOk());
  EXPECT_TRUE(empty->empty());
}

TEST(FileUtil, ReadFileErrors) {
  ScratchDir dir;
  std::string missing = dir.file("missing.json");
  auto notThere = readFile(missing);
  ASSERT_FALSE(notThere.isOk());
  EXPECT_EQ(notThere.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(notThere.status().message(),
            missing + ": cannot open: No such file or directory");

  auto directory = readFile(dir.path());
  ASSERT_FALSE(directory.isOk());
  EXPECT_EQ(directory.status().code(), StatusCode::kIoError);
  EXPECT_EQ(directory.status().message(),
            dir.path() + ": cannot read: Is a directory");
}

TEST(FileUtil, WriteFileAtomicCreatesAndReplaces) {
  ScratchDir dir;
  std::string path = dir.file("out.bin");
  std::string first = randomBytes(5000, 22);
  ASSERT_TRUE(writeFileAtomic(path, first).isOk());
  EXPECT_EQ(readRaw(path), first);
  std::string second = randomBytes(17, 23);
  ASSERT_TRUE(writeFileAtomic(path, second).isOk());
  EXPECT_EQ(readRaw(path), second);
  ASSERT_TRUE(writeFileAtomic(path, "").isOk());
  EXPECT_TRUE(readRaw(path).empty());
  EXPECT_TRUE(fileExists(path));
  EXPECT_EQ(dir.entries(), std::set<std::string>{"out.bin"});
}

TEST(FileUtil, WriteFileAtomicRelativePath) {
  ScratchDir dir;
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof(cwd)), nullptr);
  ASSERT_EQ(::chdir(dir.path().c_str()), 0);
  Status s = writeFileAtomic("relative.txt", "hello");
  ASSERT_EQ(::chdir(cwd), 0);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(readRaw(dir.file("relative.txt")), "hello");
  EXPECT_EQ(dir.entries(), std::set<std::string>{"relative.txt"});
}

TEST(FileUtil, WriteFileAtomicFailureLeavesNoTrace) {
  ScratchDir dir;
  // A non-empty directory cannot be replaced by a file: the rename fails
  // after the temporary file was written, which must then be removed.
  std::string target = dir.file("taken");
  ASSERT_TRUE(makeDirectories(joinPath(target, "child")).isOk());
  Status s = writeFileAtomic(target, "data");
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(s.message().rfind(target + ": cannot rename", 0), 0u)
      << s.message();
  EXPECT_EQ(dir.entries(), std::set<std::string>{"taken"});
  EXPECT_TRUE(isDirectory(dir.file("taken/child")));

  std::string inMissingDir = dir.file("nowhere/file.txt");
  Status missing = writeFileAtomic(inMissingDir, "data");
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.message().rfind(inMissingDir + ": ", 0), 0u)
      << missing.message();
  EXPECT_FALSE(fileExists(inMissingDir));

  Status trailing = writeFileAtomic(dir.path() + "/", "data");
  EXPECT_EQ(trailing.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(trailing.message(),
            dir.path() + "/: cannot write: the path names a directory");
  EXPECT_EQ(dir.entries(), std::set<std::string>{"taken"});
}

TEST(FileUtil, WriteFileAtomicKeepsOldFileOnFailure) {
  ScratchDir dir;
  std::string path = dir.file("keep.txt");
  std::string original = randomBytes(100, 25);
  writeRaw(path, original);
  // A file-size limit makes write() fail half way (EFBIG) even for root,
  // which directory permissions would not stop.
  struct rlimit saved;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  struct rlimit limited = saved;
  limited.rlim_cur = 4096;
  void (*oldHandler)(int) = std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
  Status s = writeFileAtomic(path, randomBytes(10000, 26));
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, oldHandler);
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(s.message(), path + ": cannot write: File too large");
  EXPECT_EQ(readRaw(path), original);
  EXPECT_EQ(dir.entries(), std::set<std::string>{"keep.txt"});
}

TEST(FileUtil, WriteFileAtomicUnwritableDirectory) {
  if (::geteuid() == 0)
    GTEST_SKIP() << "root ignores directory permissions";
  ScratchDir dir;
  std::string sub = dir.file("ro");
  ASSERT_TRUE(makeDirectories(sub).isOk());
  std::string path = joinPath(sub, "keep.txt");
  writeRaw(path, "original");
  ASSERT_EQ(::chmod(sub.c_str(), 0555), 0);
  Status s = writeFileAtomic(path, "replacement");
  ::chmod(sub.c_str(), 0755);
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(s.message().rfind(path + ": cannot create temporary file", 0), 0u)
      << s.message();
  EXPECT_EQ(readRaw(path), "original");
}

TEST(FileUtil, MappedFileSeesContents) {
  ScratchDir dir;
  std::string path = dir.file("map.bin");
  std::string bytes = randomBytes(70001, 24);
  writeRaw(path, bytes);
  auto mapped = MappedFile::open(path);
  ASSERT_TRUE(mapped.isOk()) << mapped.status().message();
  ASSERT_EQ((*mapped)->size(), bytes.size());
  EXPECT_EQ((*mapped)->path(), path);
  EXPECT_EQ(std::memcmp((*mapped)->data(), bytes.data(), bytes.size()), 0);
}

TEST(FileUtil, MappedFileEmptyAndErrors) {
  ScratchDir dir;
  std::string path = dir.file("empty.bin");
  writeRaw(path, "");
  auto empty = MappedFile::open(path);
  ASSERT_TRUE(empty.isOk()) << empty.status().message();
  EXPECT_EQ((*empty)->size(), 0u);
  EXPECT_NE((*empty)->data(), nullptr);

  std::string missing = dir.file("missing.bin");
  auto notThere = MappedFile::open(missing);
  ASSERT_FALSE(notThere.isOk());
  EXPECT_EQ(notThere.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(notThere.status().message(),
            missing + ": cannot open: No such file or directory");

  auto directory = MappedFile::open(dir.path());
  ASSERT_FALSE(directory.isOk());
  EXPECT_EQ(directory.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(directory.status().message(),
            dir.path() + ": cannot map: not a regular file");
}

TEST(FileUtil, ExistenceChecks) {
  ScratchDir dir;
  std::string file = dir.file("f.txt");
  writeRaw(file, "x");
  EXPECT_TRUE(fileExists(file));
  EXPECT_FALSE(isDirectory(file));
  EXPECT_TRUE(fileExists(dir.path()));
  EXPECT_TRUE(isDirectory(dir.path()));
  EXPECT_FALSE(fileExists(dir.file("nope")));
  EXPECT_FALSE(isDirectory(dir.file("nope")));
  EXPECT_FALSE(fileExists(dir.file("f.txt/below")));
}

TEST(FileUtil, MakeDirectories) {
  ScratchDir dir;
  std::string nested = dir.file("a/b/c");
  ASSERT_TRUE(makeDirectories(nested).isOk());
  EXPECT_TRUE(isDirectory(dir.file("a")));
  EXPECT_TRUE(isDirectory(dir.file("a/b")));
  EXPECT_TRUE(isDirectory(nested));
  // Idempotent, and tolerant of doubled and trailing slashes.
  EXPECT_TRUE(makeDirectories(nested).isOk());
  EXPECT_TRUE(makeDirectories(dir.file("a//d/e/")).isOk());
  EXPECT_TRUE(isDirectory(dir.file("a/d/e")));
  EXPECT_TRUE(makeDirectories("/").isOk());

  std::string file = dir.file("a/file");
  writeRaw(file, "x");
  Status underFile = makeDirectories(file + "/sub");
  EXPECT_EQ(underFile.code(), StatusCode::kIoError);
  EXPECT_EQ(underFile.message(), file + "/sub: cannot create directory " +
                                     file + ": Not a directory");
  Status isFile = makeDirectories(file);
  EXPECT_EQ(isFile.code(), StatusCode::kIoError);
  EXPECT_EQ(isFile.message(),
            file + ": cannot create directory " + file + ": Not a directory");

  Status empty = makeDirectories("");
  EXPECT_EQ(empty.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(empty.message(), "cannot create a directory with an empty path");
}

TEST(FileUtil, JoinPath) {
  EXPECT_EQ(joinPath("a", "b"), "a/b");
  EXPECT_EQ(joinPath("a/", "b"), "a/b");
  EXPECT_EQ(joinPath("/x/y", "z.json"), "/x/y/z.json");
  EXPECT_EQ(joinPath("", "b"), "b");
  EXPECT_EQ(joinPath("a", ""), "a/");
  EXPECT_EQ(joinPath("a", "/abs"), "/abs");
  EXPECT_EQ(joinPath("a", "b/c"), "a/b/c");
}

} // namespace
