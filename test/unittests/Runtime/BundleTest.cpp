//===- BundleTest.cpp - .msab bundle writer, reader and validation --------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The CRC-32C vectors, a writer-to-reader round trip that checks every
// parsed field, and one damaged bundle per validation rule of Bundle::open
// with its exact message. Container damage is applied to serialized bytes
// (and resealed with a fresh checksum where the rule under test lies behind
// the checksum); manifest damage is a text edit of a valid manifest.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Bundle.h"
#include "msa/runtime/ArtifactFormat.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <unistd.h>

using namespace msa::runtime;
namespace af = msa::runtime::artifact;

namespace {

/// A valid manifest: a small model, two kernels and one entry that uses
/// every step kind, weights and a symbol. "abi_version" is left for the
/// writer to add.
const char *kManifest = R"({
  "format": "msab",
  "producer": "BundleTest",
  "target": {"name": "cpu", "triple": "x86_64-unknown-linux-gnu", "cpu": "x86-64-v3"},
  "model": {
    "vocab_size": 512, "hidden_size": 64, "intermediate_size": 128,
    "num_hidden_layers": 4, "num_attention_heads": 4,
    "num_key_value_heads": 2, "head_dim": 16, "torch_dtype": "bfloat16",
    "msa_config": {"router_layer_idx": "2,3", "doc_top_k": 2,
                   "pooling_kernel_size": 4}
  },
  "kernels": [
    {"name": "k0_embedding", "symbol": "_mlir_ciface_k0_embedding",
     "op": "msa.embedding",
     "args": [{"dtype": "bf16", "shape": [512, 64]},
              {"dtype": "i32", "shape": [null]},
              {"dtype": "bf16", "shape": [null, 64]}],
     "grid": [[1, 0, 0]]},
    {"name": "k1_rms_norm", "symbol": "_mlir_ciface_k1_rms_norm",
     "op": "msa.rms_norm",
     "args": [{"dtype": "bf16", "shape": [null, 64]},
              {"dtype": "bf16", "shape": [64]},
              {"dtype": "bf16", "shape": [null, 64]}],
     "grid": [[0, 0, 0], [2, 1, -1]],
     "config": {"rows": 4}}
  ],
  "entries": {
    "encode_block": {
      "symbols": ["T", "C"],
      "inputs": [{"name": "tokens", "buffer": 0}],
      "outputs": [{"name": "hidden", "buffer": 7}],
      "buffers": [
        {"id": 0, "dtype": "i32", "shape": ["T"]},
        {"id": 1, "dtype": "bf16", "shape": [512, 64], "weight": "model.embed_tokens.weight"},
        {"id": 2, "dtype": "bf16", "shape": ["T", 64]},
        {"id": 3, "dtype": "bf16", "shape": [64], "weight": "model.norm.weight"},
        {"id": 4, "dtype": "bf16", "shape": ["T", 64]},
        {"id": 5, "dtype": "bf16", "shape": [128, 64], "weight": "model.layers.0.mlp.up_proj.weight"},
        {"id": 6, "dtype": "bf16", "shape": ["T", 128]},
        {"id": 7, "dtype": "bf16", "shape": [2, "T", 64]}
      ],
      "steps": [
        {"op": "launch", "kernel": "k0_embedding", "args": [1, 0, 2]},
        {"op": "launch", "kernel": "k1_rms_norm", "args": [2, 3, 4]},
        {"op": "gemm", "a": 4, "b": 5, "c": 6},
        {"op": "view", "src": 6, "dst": 7}
      ]
    }
  }
})";

const std::string kName = "bundle.msab";

std::vector<uint8_t> bytesOf(const std::string &s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

/// Serializes `manifestText` with the given sections; fails the test (and
/// returns nothing) if the writer refuses.
std::vector<uint8_t>
build(const std::string &manifestText,
      const std::vector<std::pair<std::string, std::string>> &sections = {
          {"cpu.so", "\x7f"
                     "ELF fake shared object"}}) {
  StatusOr<JsonValue> json = JsonValue::parse(manifestText);
  EXPECT_TRUE(json.isOk()) << json.status().message();
  if (!json.isOk())
    return {};
  BundleWriter w;
  w.setManifest(*json);
  for (const auto &[name, payload] : sections)
    EXPECT_TRUE(w.addSection(name, bytesOf(payload)).isOk()) << name;
  StatusOr<std::vector<uint8_t>> bytes = w.serialize();
  EXPECT_TRUE(bytes.isOk()) << bytes.status().message();
  return bytes.isOk() ? *bytes : std::vector<uint8_t>{};
}

/// The message of opening `bytes`, or "ok".
std::string openError(std::vector<uint8_t> bytes) {
  StatusOr<std::unique_ptr<Bundle>> b =
      Bundle::fromBytes(std::move(bytes), kName);
  return b.isOk() ? "ok" : b.status().message();
}

/// kManifest with the first occurrence of `from` replaced by `to`.
std::string edited(const std::string &from, const std::string &to,
                   const std::string &base = kManifest) {
  std::string s = base;
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at == std::string::npos)
    return s;
  return s.replace(at, from.size(), to);
}

/// The message of opening a bundle whose manifest is kManifest edited.
std::string manifestError(const std::string &from, const std::string &to) {
  return openError(build(edited(from, to)));
}

uint64_t getLe64(const std::vector<uint8_t> &b, size_t off) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = v << 8 | b[off + i];
  return v;
}

void setLe64(std::vector<uint8_t> &b, size_t off, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}

/// Recomputes the checksum, as a writer would after the edit under test.
void reseal(std::vector<uint8_t> &b) {
  setLe64(b, af::kOffChecksum,
          af::crc32c(b.data() + af::kHeaderSize, b.size() - af::kHeaderSize));
}

/// Replaces `from` by `to` (of the same length) in the stored manifest text
/// and reseals: for manifests the writer would not produce.
void patchManifest(std::vector<uint8_t> &b, const std::string &from,
                   const std::string &to) {
  ASSERT_EQ(from.size(), to.size());
  std::string text(b.begin() + af::kHeaderSize,
                   b.begin() + af::kHeaderSize +
                       getLe64(b, af::kOffManifestSize));
  size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  std::memcpy(&b[af::kHeaderSize + at], to.data(), to.size());
  reseal(b);
}

/// Offset of section table entry `i`.
size_t entryOffset(const std::vector<uint8_t> &b, size_t i) {
  return getLe64(b, af::kOffSectionTableOffset) + i * af::kSectionEntrySize;
}

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%08llx",
                static_cast<unsigned long long>(v));
  return buf;
}

/// A two-section bundle for the section table tests.
std::vector<uint8_t> twoSections() {
  return build(kManifest, {{"cpu.so", "so"}, {"notes", "some notes"}});
}

//===----------------------------------------------------------------------===//
// CRC-32C
//===----------------------------------------------------------------------===//

TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(af::crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(af::crc32c("", 0), 0u);
  // RFC 3720 (iSCSI) appendix B.4.
  std::vector<uint8_t> zeros(32, 0), ones(32, 0xFF);
  EXPECT_EQ(af::crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
  EXPECT_EQ(af::crc32c(ones.data(), ones.size()), 0x62A8AB43u);
}

TEST(Crc32c, ContinuesAcrossPieces) {
  const char *text = "The quick brown fox jumps over the lazy dog";
  size_t n = std::strlen(text);
  uint32_t whole = af::crc32c(text, n);
  for (size_t split : {size_t(0), size_t(1), size_t(7), n})
    EXPECT_EQ(af::crc32c(text + split, n - split, af::crc32c(text, split)),
              whole)
        << split;
}

//===----------------------------------------------------------------------===//
// Round trip
//===----------------------------------------------------------------------===//

TEST(Bundle, WriterToReaderRoundTrip) {
  std::string dir =
      ::testing::TempDir() + "msa-bundle-test-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::string path = dir + "/model.msab";

  StatusOr<JsonValue> json = JsonValue::parse(kManifest);
  ASSERT_TRUE(json.isOk());
  BundleWriter w;
  w.setManifest(*json);
  std::string so(5000, 'x'); // Longer than a page: the next payload moves.
  ASSERT_TRUE(w.addSection("cpu.so", bytesOf(so)).isOk());
  ASSERT_TRUE(w.addSection("empty", {}).isOk());
  ASSERT_TRUE(w.addSection("notes", bytesOf("hello")).isOk());
  ASSERT_TRUE(w.write(path).isOk());

  StatusOr<std::unique_ptr<Bundle>> opened = Bundle::open(path);
  ASSERT_TRUE(opened.isOk()) << opened.status().message();
  const Bundle &b = **opened;
  EXPECT_EQ(b.path(), path);
  EXPECT_EQ(b.abiVersion(), af::kAbiVersion);

  // The writer stamps the version into the manifest, and keeps the rest.
  const JsonValue *version = b.manifest().find("abi_version");
  ASSERT_NE(version, nullptr);
  EXPECT_EQ(version->asInt(), 1);
  EXPECT_EQ(b.manifest().members()[0].first, "format");
  EXPECT_EQ(b.manifest().find("producer")->asString(), "BundleTest");

  EXPECT_EQ(b.target().name, "cpu");
  EXPECT_EQ(b.target().triple, "x86_64-unknown-linux-gnu");
  EXPECT_EQ(b.target().cpu, "x86-64-v3");
  EXPECT_EQ(b.target().toString(), "cpu");
  EXPECT_TRUE(b.checkTarget("cpu").isOk());

  ASSERT_TRUE(b.model().has_value());
  EXPECT_EQ(b.model()->numLayers, 4);
  EXPECT_EQ(b.model()->hiddenSize, 64);
  EXPECT_EQ(b.model()->msa.routerLayers, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(b.model()->msa.poolingKernelSize, 4);

  ASSERT_EQ(b.kernels().size(), 2u);
  const KernelSpec &k0 = b.kernels()[0];
  EXPECT_EQ(k0.name, "k0_embedding");
  EXPECT_EQ(k0.symbol, "_mlir_ciface_k0_embedding");
  EXPECT_EQ(k0.op, "msa.embedding");
  ASSERT_EQ(k0.args.size(), 3u);
  EXPECT_EQ(k0.args[0].dtype, DType::kBF16);
  EXPECT_EQ(k0.args[0].shape, (std::vector<std::optional<int64_t>>{512, 64}));
  EXPECT_EQ(k0.args[1].dtype, DType::kI32);
  EXPECT_EQ(k0.args[1].shape,
            (std::vector<std::optional<int64_t>>{std::nullopt}));
  EXPECT_EQ(k0.numResults, 1u);
  ASSERT_EQ(k0.grid.size(), 1u);
  EXPECT_EQ(k0.grid[0].arg, 1);
  EXPECT_TRUE(k0.config.isNull());
  const KernelSpec &k1 = b.kernels()[1];
  ASSERT_EQ(k1.grid.size(), 2u);
  EXPECT_EQ(k1.grid[1].arg, 2);
  EXPECT_EQ(k1.grid[1].dim, 1);
  EXPECT_EQ(k1.grid[1].add, -1);
  EXPECT_EQ(k1.grid[1].div, 1);
  // ceil((size + add) / div), 0 for a non-positive size + add.
  EXPECT_EQ((GridTerm{0, 0, 0, 64}).factor(65), 2);
  EXPECT_EQ((GridTerm{0, 0, 0, 64}).factor(64), 1);
  EXPECT_EQ((GridTerm{0, 0, -1, 1}).factor(1), 0);
  EXPECT_EQ((GridTerm{0, 0, -1, 1}).factor(0), 0);
  EXPECT_EQ((GridTerm{0, 0, 1, 1}).factor(4), 5);
  ASSERT_NE(k1.config.find("rows"), nullptr);
  EXPECT_EQ(k1.config.find("rows")->asInt(), 4);

  ASSERT_EQ(b.entries().size(), 1u);
  EXPECT_EQ(b.entry("decode"), nullptr);
  const PlanEntry *e = b.entry("encode_block");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->name, "encode_block");
  EXPECT_EQ(e->symbols, (std::vector<std::string>{"T", "C"}));
  ASSERT_EQ(e->inputs.size(), 1u);
  EXPECT_EQ(e->inputs[0], (std::pair<std::string, int64_t>{"tokens", 0}));
  ASSERT_EQ(e->outputs.size(), 1u);
  EXPECT_EQ(e->outputs[0], (std::pair<std::string, int64_t>{"hidden", 7}));
  ASSERT_EQ(e->buffers.size(), 8u);
  const PlanBuffer &w1 = e->buffers.at(1);
  EXPECT_TRUE(w1.isWeight());
  EXPECT_EQ(w1.weight, "model.embed_tokens.weight");
  EXPECT_EQ(w1.shape.size(), 2u);
  EXPECT_EQ(w1.shape[0].value, 512);
  const PlanBuffer &b7 = e->buffers.at(7);
  EXPECT_FALSE(b7.isWeight());
  EXPECT_EQ(b7.dtype, DType::kBF16);
  ASSERT_EQ(b7.shape.size(), 3u);
  EXPECT_FALSE(b7.shape[0].isSymbol());
  EXPECT_TRUE(b7.shape[1].isSymbol());
  EXPECT_EQ(b7.shape[1].symbol, "T");
  EXPECT_EQ(e->buffers.at(0).dtype, DType::kI32);

  ASSERT_EQ(e->steps.size(), 4u);
  EXPECT_EQ(e->steps[0].kind, PlanStep::Kind::kLaunch);
  EXPECT_EQ(e->steps[0].kernel, 0u);
  EXPECT_EQ(e->steps[0].args, (std::vector<int64_t>{1, 0, 2}));
  EXPECT_EQ(e->steps[1].kernel, 1u);
  EXPECT_EQ(e->steps[2].kind, PlanStep::Kind::kGemm);
  EXPECT_EQ(e->steps[2].a, 4);
  EXPECT_EQ(e->steps[2].b, 5);
  EXPECT_EQ(e->steps[2].c, 6);
  EXPECT_EQ(e->steps[3].kind, PlanStep::Kind::kView);
  EXPECT_EQ(e->steps[3].src, 6);
  EXPECT_EQ(e->steps[3].dst, 7);

  EXPECT_EQ(b.sectionNames(),
            (std::vector<std::string>{"cpu.so", "empty", "notes"}));
  auto cpu = b.section("cpu.so");
  ASSERT_TRUE(cpu.has_value());
  EXPECT_EQ(
      std::string(reinterpret_cast<const char *>(cpu->first), cpu->second), so);
  // The file is mapped from a page boundary, so aligned offsets give
  // page-aligned payloads.
  EXPECT_EQ(reinterpret_cast<uintptr_t>(cpu->first) % af::kSectionAlignment,
            0u);
  auto notes = b.section("notes");
  ASSERT_TRUE(notes.has_value());
  EXPECT_EQ(
      std::string(reinterpret_cast<const char *>(notes->first), notes->second),
      "hello");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(notes->first) % af::kSectionAlignment,
            0u);
  ASSERT_TRUE(b.section("empty").has_value());
  EXPECT_EQ(b.section("empty")->second, 0u);
  EXPECT_FALSE(b.section("cuda.ptx.k0_embedding").has_value());

  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST(Bundle, LayoutFollowsArtifactFormat) {
  std::vector<uint8_t> b = build(kManifest, {{"cpu.so", "so"}, {"x", "yz"}});
  ASSERT_GE(b.size(), af::kHeaderSize);
  EXPECT_EQ(std::memcmp(b.data(), af::kMagic, 8), 0);
  EXPECT_EQ(b[af::kOffAbiVersion], af::kAbiVersion);
  EXPECT_EQ(getLe64(b, af::kOffFileSize), b.size());
  EXPECT_EQ(getLe64(b, af::kOffManifestOffset), af::kHeaderSize);
  EXPECT_EQ(getLe64(b, af::kOffSectionCount), 2u);
  EXPECT_EQ(getLe64(b, af::kOffChecksum),
            af::crc32c(b.data() + af::kHeaderSize, b.size() - af::kHeaderSize));
  for (size_t i = 0; i < 2; ++i) {
    size_t e = entryOffset(b, i);
    EXPECT_EQ(getLe64(b, e + af::kSectionNameSize) % af::kSectionAlignment, 0u);
  }
  EXPECT_EQ(std::string(reinterpret_cast<const char *>(&b[entryOffset(b, 1)])),
            "x");
  // The file ends where the last payload does.
  size_t last = entryOffset(b, 1);
  EXPECT_EQ(getLe64(b, last + af::kSectionNameSize) +
                getLe64(b, last + af::kSectionNameSize + 8),
            b.size());
}

const char *kLaunch =
    R"("launch": {"threads": 128, "items_per_block": 4, "shared_bytes": 0}, )";

/// kManifest for cuda:sm_90, without launches.
std::string cudaManifest() {
  return edited(
      R"({"name": "cpu", "triple": "x86_64-unknown-linux-gnu", "cpu": "x86-64-v3"})",
      R"({"name": "cuda", "chip": "sm_90"})");
}

/// kManifest for cuda:sm_90 with a launch for every kernel.
std::string launchedCudaManifest() {
  std::string m = cudaManifest();
  const std::string launch = kLaunch;
  for (size_t at = m.find(R"("grid": )"); at != std::string::npos;
       at = m.find(R"("grid": )", at + launch.size() + 1))
    m.insert(at, launch);
  return m;
}

TEST(Bundle, CudaBundleNeedsAModuleAndLaunches) {
  std::string cuda = cudaManifest();
  std::string launched = launchedCudaManifest();
  StatusOr<std::unique_ptr<Bundle>> ok = Bundle::fromBytes(
      build(launched, {{"cuda.ptx", ".version 8.7"}, {"cuda.cubin", "cubin"}}),
      kName);
  ASSERT_TRUE(ok.isOk()) << ok.status().message();
  EXPECT_EQ((*ok)->target().toString(), "cuda:sm_90");
  EXPECT_TRUE((*ok)->checkTarget("cuda:sm_90").isOk());
  EXPECT_TRUE((*ok)->checkTarget("cuda").isOk());
  ASSERT_TRUE((*ok)->kernels()[0].launch.has_value());
  EXPECT_EQ((*ok)->kernels()[0].launch->threads, 128);
  EXPECT_EQ((*ok)->kernels()[0].launch->itemsPerBlock, 4);
  EXPECT_EQ((*ok)->kernels()[0].launch->sharedBytes, 0);
  // Either module section alone will do.
  EXPECT_TRUE(
      Bundle::fromBytes(build(launched, {{"cuda.ptx", "ptx"}}), kName).isOk());

  EXPECT_EQ(openError(build(launched, {{"cuda.ptx.k0", "ptx"}})),
            "bundle.msab: target 'cuda:sm_90' needs section 'cuda.cubin' or "
            "'cuda.ptx', and both are missing");
  EXPECT_EQ(openError(build(cuda, {{"cuda.ptx", "ptx"}})),
            "bundle.msab: manifest: kernels[0]: key 'launch' is missing (a "
            "cuda kernel says how it is launched)");
  EXPECT_EQ(openError(build(edited(R"("threads": 128)", R"("threads": 2048)",
                                   launched),
                            {{"cuda.ptx", "ptx"}})),
            "bundle.msab: manifest: kernels[0].launch.threads: expected an "
            "integer in [1, 1024], got 2048");
  EXPECT_EQ(openError(build(edited(R"("shared_bytes": 0)",
                                   R"("shared_bytes": 1000000)", launched),
                            {{"cuda.ptx", "ptx"}})),
            "bundle.msab: manifest: kernels[0].launch.shared_bytes: expected "
            "an integer in [0, 232448], got 1000000");
  EXPECT_EQ(openError(build(edited(R"("items_per_block": 4, )", "", launched),
                            {{"cuda.ptx", "ptx"}})),
            "bundle.msab: manifest: kernels[0].launch: key 'items_per_block' "
            "is missing");
  // A cpu kernel has no launch.
  std::string cpuLaunched = kManifest;
  cpuLaunched.insert(cpuLaunched.find(R"("grid": )"), kLaunch);
  EXPECT_EQ(openError(build(cpuLaunched)),
            "bundle.msab: manifest: kernels[0].launch: only cuda kernels have "
            "a launch");
  EXPECT_EQ(
      openError(build(edited(R"("chip": "sm_90")", R"("cpu": "x")", cuda), {})),
      "bundle.msab: manifest: target: key 'chip' is missing (a cuda "
      "target names its chip, e.g. \"sm_90\")");
}

TEST(Bundle, HandWrittenIrHasNoModel) {
  std::string m = kManifest;
  size_t from = m.find("\"model\": {"), to = m.find("\"kernels\"");
  m.replace(from, to - from, "\"model\": null,\n  ");
  StatusOr<std::unique_ptr<Bundle>> b = Bundle::fromBytes(build(m), kName);
  ASSERT_TRUE(b.isOk()) << b.status().message();
  EXPECT_FALSE((*b)->model().has_value());
  // "model" itself is required: null is how a bundle says it has none.
  m.replace(m.find("\"model\": null,"), 15, "");
  EXPECT_EQ(openError(build(m)),
            "bundle.msab: manifest: key 'model' is missing");
}

TEST(Bundle, CheckTargetNamesBoth) {
  StatusOr<std::unique_ptr<Bundle>> b =
      Bundle::fromBytes(build(kManifest), kName);
  ASSERT_TRUE(b.isOk()) << b.status().message();
  Status s = (*b)->checkTarget("cuda:sm_90");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "bundle.msab: compiled for target 'cpu', not 'cuda:sm_90'");

  StatusOr<std::unique_ptr<Bundle>> c = Bundle::fromBytes(
      build(launchedCudaManifest(), {{"cuda.ptx", "p"}}), kName);
  ASSERT_TRUE(c.isOk()) << c.status().message();
  EXPECT_EQ((*c)->checkTarget("cpu").message(),
            "bundle.msab: compiled for target 'cuda:sm_90', not 'cpu'");
  EXPECT_EQ((*c)->checkTarget("cuda:sm_80").message(),
            "bundle.msab: compiled for target 'cuda:sm_90', not 'cuda:sm_80'");
}

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

TEST(BundleWriter, RefusesBadSectionNames) {
  BundleWriter w;
  EXPECT_TRUE(w.addSection(std::string(47, 'a'), {}).isOk());
  EXPECT_EQ(w.addSection(std::string(48, 'b'), {}).message(),
            "bundle section name '" + std::string(48, 'b') +
                "' is 48 bytes, the limit is 47");
  EXPECT_EQ(w.addSection(std::string(47, 'a'), {}).message(),
            "duplicate bundle section '" + std::string(47, 'a') + "'");
  EXPECT_EQ(w.addSection("", {}).message(), "bundle section name is empty");
  EXPECT_EQ(w.addSection(std::string("a\0b", 3), {}).message(),
            "bundle section name contains a NUL byte");
}

TEST(BundleWriter, ManifestMustBeAnObject) {
  BundleWriter w;
  w.setManifest(JsonValue::array());
  StatusOr<std::vector<uint8_t>> bytes = w.serialize();
  ASSERT_FALSE(bytes.isOk());
  EXPECT_EQ(bytes.status().message(),
            "bundle manifest must be a JSON object, got []");
}

TEST(BundleWriter, ReplacesAStaleVersion) {
  std::vector<uint8_t> b = build(edited(
      "\"format\": \"msab\"", "\"format\": \"old\", \"abi_version\": 0"));
  StatusOr<std::unique_ptr<Bundle>> opened = Bundle::fromBytes(b, kName);
  ASSERT_TRUE(opened.isOk()) << opened.status().message();
  EXPECT_EQ((*opened)->manifest().find("abi_version")->asInt(), 1);
}

//===----------------------------------------------------------------------===//
// Container validation
//===----------------------------------------------------------------------===//

TEST(BundleContainer, BadMagic) {
  std::vector<uint8_t> b = build(kManifest);
  b[3] = 'X';
  EXPECT_EQ(openError(b), "bundle.msab: not an msa bundle (bad magic)");
  EXPECT_EQ(openError(bytesOf("MSA")),
            "bundle.msab: not an msa bundle (bad magic)");
  EXPECT_EQ(openError({}), "bundle.msab: not an msa bundle (bad magic)");
}

TEST(BundleContainer, ShorterThanTheHeader) {
  std::vector<uint8_t> b = build(kManifest);
  b.resize(40);
  EXPECT_EQ(openError(b), "bundle.msab: truncated: file has 40 bytes, less "
                          "than the 64-byte header");
}

TEST(BundleContainer, OtherAbiVersion) {
  std::vector<uint8_t> b = build(kManifest);
  b[af::kOffAbiVersion] = 2;
  StatusOr<std::unique_ptr<Bundle>> opened = Bundle::fromBytes(b, kName);
  ASSERT_FALSE(opened.isOk());
  EXPECT_EQ(opened.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(opened.status().message(),
            "bundle.msab: ABI version 2, this runtime reads version 1");
}

TEST(BundleContainer, NonZeroFlags) {
  std::vector<uint8_t> b = build(kManifest);
  b[af::kOffFlags] = 5;
  EXPECT_EQ(
      openError(b),
      "bundle.msab: unknown header flags 0x00000005 (version 1 has none)");
}

TEST(BundleContainer, Truncated) {
  std::vector<uint8_t> b = build(kManifest);
  size_t full = b.size();
  b.pop_back();
  StatusOr<std::unique_ptr<Bundle>> opened = Bundle::fromBytes(b, kName);
  ASSERT_FALSE(opened.isOk());
  EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(opened.status().message(),
            "bundle.msab: truncated: header says " + std::to_string(full) +
                " bytes, file has " + std::to_string(full - 1));
}

TEST(BundleContainer, TrailingData) {
  std::vector<uint8_t> b = build(kManifest);
  size_t full = b.size();
  b.push_back(0);
  EXPECT_EQ(openError(b), "bundle.msab: trailing data: header says " +
                              std::to_string(full) + " bytes, file has " +
                              std::to_string(full + 1));
}

TEST(BundleContainer, FlippedByteAnywhereAfterTheHeader) {
  std::vector<uint8_t> good = build(kManifest, {{"cpu.so", "shared object"}});
  uint64_t stored = getLe64(good, af::kOffChecksum);
  size_t table = entryOffset(good, 0);
  // First byte after the header, inside the manifest, the table's name and
  // offset fields, the padding before the payload, the payload's last byte.
  for (size_t pos :
       {af::kHeaderSize, af::kHeaderSize + 200, table,
        table + af::kSectionNameSize + 1, good.size() - 100, good.size() - 1}) {
    std::vector<uint8_t> b = good;
    b[pos] ^= 0x01;
    uint32_t computed =
        af::crc32c(b.data() + af::kHeaderSize, b.size() - af::kHeaderSize);
    StatusOr<std::unique_ptr<Bundle>> opened = Bundle::fromBytes(b, kName);
    ASSERT_FALSE(opened.isOk()) << pos;
    EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss);
    EXPECT_EQ(opened.status().message(),
              "bundle.msab: checksum mismatch (stored " + hex(stored) +
                  ", computed " + hex(computed) + "): the file is corrupted")
        << pos;
  }
}

TEST(BundleContainer, ManifestOutOfRange) {
  std::vector<uint8_t> b = build(kManifest);
  setLe64(b, af::kOffManifestSize, b.size());
  EXPECT_EQ(openError(b), "bundle.msab: manifest (offset 64, " +
                              std::to_string(b.size()) +
                              " bytes) lies outside the file's 64.." +
                              std::to_string(b.size()));
  setLe64(b, af::kOffManifestSize, 10);
  setLe64(b, af::kOffManifestOffset, 8);
  EXPECT_EQ(openError(b), "bundle.msab: manifest (offset 8, 10 bytes) lies "
                          "outside the file's 64.." +
                              std::to_string(b.size()));
}

TEST(BundleContainer, SectionTableOutOfRange) {
  std::vector<uint8_t> b = build(kManifest);
  setLe64(b, af::kOffSectionCount, 1000000000000ull);
  EXPECT_EQ(openError(b), "bundle.msab: section count 1000000000000 is more "
                          "than the file can hold");
  b = build(kManifest);
  setLe64(b, af::kOffSectionTableOffset, b.size() - 10);
  EXPECT_EQ(openError(b), "bundle.msab: section table (offset " +
                              std::to_string(b.size() - 10) +
                              ", 64 bytes) lies outside the file's 64.." +
                              std::to_string(b.size()));
}

TEST(BundleContainer, SectionOutOfRange) {
  std::vector<uint8_t> b = build(kManifest);
  size_t e = entryOffset(b, 0);
  uint64_t offset = getLe64(b, e + af::kSectionNameSize);
  setLe64(b, e + af::kSectionNameSize + 8, b.size());
  reseal(b);
  StatusOr<std::unique_ptr<Bundle>> opened = Bundle::fromBytes(b, kName);
  ASSERT_FALSE(opened.isOk());
  EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(opened.status().message(),
            "bundle.msab: section 'cpu.so' (offset " + std::to_string(offset) +
                ", " + std::to_string(b.size()) +
                " bytes) lies outside the file's 64.." +
                std::to_string(b.size()));
  // An offset that would wrap around when the size is added.
  setLe64(b, e + af::kSectionNameSize, ~0ull - 1);
  setLe64(b, e + af::kSectionNameSize + 8, 4);
  reseal(b);
  EXPECT_NE(openError(b).find("lies outside the file"), std::string::npos);
}

TEST(BundleContainer, SectionMisaligned) {
  std::vector<uint8_t> b = build(kManifest);
  size_t e = entryOffset(b, 0);
  uint64_t offset = getLe64(b, e + af::kSectionNameSize);
  setLe64(b, e + af::kSectionNameSize, offset - 8);
  reseal(b);
  EXPECT_EQ(openError(b), "bundle.msab: section 'cpu.so' at offset " +
                              std::to_string(offset - 8) +
                              " is not aligned to 4096 bytes");
}

TEST(BundleContainer, DuplicateSection) {
  std::vector<uint8_t> b = twoSections();
  size_t second = entryOffset(b, 1);
  std::memset(&b[second], 0, af::kSectionNameSize);
  std::memcpy(&b[second], "cpu.so", 6);
  reseal(b);
  EXPECT_EQ(openError(b), "bundle.msab: duplicate section 'cpu.so'");
}

TEST(BundleContainer, SectionNames) {
  std::vector<uint8_t> b = twoSections();
  size_t second = entryOffset(b, 1);
  std::memset(&b[second], 'n', af::kSectionNameSize);
  reseal(b);
  EXPECT_EQ(openError(b), "bundle.msab: section 1: name is not NUL-terminated");
  std::memset(&b[second], 0, af::kSectionNameSize);
  reseal(b);
  EXPECT_EQ(openError(b), "bundle.msab: section 1: name is empty");
  std::memcpy(&b[second], "notes", 5);
  b[second + 20] = 'x';
  reseal(b);
  EXPECT_EQ(openError(b),
            "bundle.msab: section 1 ('notes'): name is not NUL-padded");
}

TEST(BundleContainer, OverlappingSections) {
  std::vector<uint8_t> b = twoSections();
  size_t first = entryOffset(b, 0), second = entryOffset(b, 1);
  setLe64(b, second + af::kSectionNameSize,
          getLe64(b, first + af::kSectionNameSize));
  reseal(b);
  EXPECT_EQ(openError(b), "bundle.msab: section 'cpu.so' and section 'notes' "
                          "overlap");
  // Inside a longer payload, with an empty section at the same place.
  b = build(
      kManifest,
      {{"cpu.so", std::string(5000, 'x')}, {"empty", ""}, {"notes", "n"}});
  uint64_t inside = getLe64(b, entryOffset(b, 0) + af::kSectionNameSize) + 4096;
  setLe64(b, entryOffset(b, 1) + af::kSectionNameSize, inside);
  setLe64(b, entryOffset(b, 2) + af::kSectionNameSize, inside);
  reseal(b);
  EXPECT_EQ(openError(b),
            "bundle.msab: section 'cpu.so' and section 'notes' overlap");
  // A payload placed over the manifest.
  b = twoSections();
  setLe64(b, af::kOffManifestSize, b.size() - af::kHeaderSize);
  EXPECT_EQ(openError(b), "bundle.msab: manifest and section table overlap");
}

//===----------------------------------------------------------------------===//
// Manifest schema
//===----------------------------------------------------------------------===//

TEST(BundleManifest, NotJson) {
  std::vector<uint8_t> b = build(kManifest);
  patchManifest(b, "\"format\"", "\"format ");
  EXPECT_EQ(openError(b), "bundle.msab: manifest: line 2, column 14: "
                          "unexpected 'm', expected ':' after the object key");
}

TEST(BundleManifest, FormatMustBeMsab) {
  std::vector<uint8_t> b = build(kManifest);
  patchManifest(b, "\"msab\"", "\"msax\"");
  EXPECT_EQ(openError(b),
            "bundle.msab: manifest: format: expected \"msab\", got \"msax\"");
}

TEST(BundleManifest, SchemaErrorsNameTheJsonPath) {
  EXPECT_EQ(manifestError("\"producer\"", "\"producr\""),
            "bundle.msab: manifest: unknown key 'producr'");
  EXPECT_EQ(manifestError("\"weight\": \"model.norm.weight\"",
                          "\"wieght\": \"model.norm.weight\""),
            "bundle.msab: manifest: entries.encode_block.buffers[3]: unknown "
            "key 'wieght'");
  EXPECT_EQ(manifestError("\"name\": \"cpu\"", "\"name\": \"tpu\""),
            "bundle.msab: manifest: target.name: expected \"cpu\" or \"cuda\", "
            "got \"tpu\"");
  EXPECT_EQ(manifestError("\"entries\"", "\"entrees\""),
            "bundle.msab: manifest: unknown key 'entrees'");
  EXPECT_EQ(manifestError("\"dtype\": \"i32\", \"shape\": [null]",
                          "\"dtype\": \"f64\", \"shape\": [null]"),
            "bundle.msab: manifest: kernels[0].args[1].dtype: expected one "
            "of bf16, f16, f32, i32, i8, got \"f64\"");
  EXPECT_EQ(manifestError("\"shape\": [512, 64]}", "\"shape\": [512, -1]}"),
            "bundle.msab: manifest: kernels[0].args[0].shape[1]: expected a "
            "non-negative integer or null, got -1");
  EXPECT_EQ(manifestError("\"shape\": [\"T\"]", "\"shape\": [1.5]"),
            "bundle.msab: manifest: entries.encode_block.buffers[0].shape[0]: "
            "expected a non-negative integer, a symbol or [symbol, integer], "
            "got 1.5");
  EXPECT_EQ(manifestError("{\"op\": \"view\", ", "{\"op\": \"copy\", "),
            "bundle.msab: manifest: entries.encode_block.steps[3].op: "
            "expected \"launch\", \"gemm\", \"view\" or \"slice\", got "
            "\"copy\"");
  EXPECT_EQ(manifestError("\"symbols\": [\"T\", \"C\"]",
                          "\"symbols\": [\"T\", \"T\"]"),
            "bundle.msab: manifest: entries.encode_block.symbols[1]: "
            "duplicate symbol 'T'");
  EXPECT_EQ(manifestError("\"symbol\": \"_mlir_ciface_k0_embedding\",", ""),
            "bundle.msab: manifest: kernels[0]: key 'symbol' is missing");
  EXPECT_EQ(
      manifestError("\"name\": \"k1_rms_norm\"", "\"name\": \"k0_embedding\""),
      "bundle.msab: manifest: kernels[1].name: duplicate kernel "
      "'k0_embedding'");
}

TEST(BundleManifest, AbiVersionMustMatchTheHeader) {
  std::vector<uint8_t> b = build(kManifest);
  patchManifest(b, "\"abi_version\": 1", "\"abi_version\": 7");
  EXPECT_EQ(openError(b), "bundle.msab: manifest: abi_version: 7 differs from "
                          "the header's 1");
}

TEST(BundleManifest, BadModelBlock) {
  EXPECT_EQ(manifestError("\"hidden_size\": 64,", ""),
            "bundle.msab: manifest: model: key 'hidden_size' is missing");
  EXPECT_EQ(
      manifestError("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3"),
      "bundle.msab: manifest: model: num_attention_heads (4) must be a "
      "multiple of num_key_value_heads (3)");
  EXPECT_EQ(manifestError("\"model\": {", "\"model\": 5, \"x\": {"),
            "bundle.msab: manifest: unknown key 'x'");
}

TEST(BundleManifest, MissingCpuObject) {
  StatusOr<std::unique_ptr<Bundle>> b =
      Bundle::fromBytes(build(kManifest, {{"notes", "n"}}), kName);
  ASSERT_FALSE(b.isOk());
  EXPECT_EQ(b.status().message(),
            "bundle.msab: target 'cpu' needs section 'cpu.so', which is "
            "missing");
}

TEST(BundleManifest, KernelSignatures) {
  // kMaxKernelArgs counts the two range arguments as well.
  std::string args = "[";
  for (size_t i = 0; i + 1 < af::kMaxKernelArgs; ++i)
    args += std::string(i ? ", " : "") + "{\"dtype\": \"f32\", \"shape\": []}";
  args += "]";
  EXPECT_EQ(manifestError("\"args\": [{\"dtype\": \"bf16\", \"shape\": [null, "
                          "64]},\n              {\"dtype\": \"bf16\", "
                          "\"shape\": [64]},\n              {\"dtype\": "
                          "\"bf16\", \"shape\": [null, 64]}]",
                          "\"args\": " + args),
            "bundle.msab: manifest: kernels[1].args: 31 buffers plus the "
            "range exceed the ABI's 32 kernel arguments");
  EXPECT_EQ(manifestError("\"grid\": [[1, 0, 0]]", "\"grid\": [[3, 0, 0]]"),
            "bundle.msab: manifest: kernels[0].grid[0]: argument 3 does not "
            "exist (the kernel has 3)");
  EXPECT_EQ(manifestError("\"grid\": [[1, 0, 0]]", "\"grid\": [[1, 1, 0]]"),
            "bundle.msab: manifest: kernels[0].grid[0]: argument 1 has rank "
            "1, no dimension 1");
  EXPECT_EQ(manifestError("\"grid\": [[1, 0, 0]]", "\"grid\": [[1, 0]]"),
            "bundle.msab: manifest: kernels[0].grid[0]: expected [arg, dim, "
            "add] or [arg, dim, add, div] integers, got [1,0]");
  EXPECT_EQ(manifestError("\"grid\": [[1, 0, 0]]", "\"grid\": [[1, 0, 0, 0]]"),
            "bundle.msab: manifest: kernels[0].grid[0]: div must be at least "
            "1, got 0");
  EXPECT_EQ(manifestError("\"grid\": [[1, 0, 0]]",
                          "\"grid\": [[1, 0, 0]], \"results\": 4"),
            "bundle.msab: manifest: kernels[0].results: 4 results but only 3 "
            "arguments");
}

//===----------------------------------------------------------------------===//
// Plan rules
//===----------------------------------------------------------------------===//

TEST(BundlePlan, UnknownKernel) {
  EXPECT_EQ(manifestError("\"kernel\": \"k1_rms_norm\"", "\"kernel\": \"k9\""),
            "bundle.msab: manifest: entries.encode_block.steps[1]: launch of "
            "kernel 'k9' which is not in the manifest");
}

TEST(BundlePlan, WrongArgCount) {
  EXPECT_EQ(manifestError("\"args\": [2, 3, 4]", "\"args\": [2, 3]"),
            "bundle.msab: manifest: entries.encode_block.steps[1]: kernel "
            "'k1_rms_norm' takes 3 arguments, got 2");
}

TEST(BundlePlan, DtypeMismatch) {
  EXPECT_EQ(manifestError("\"args\": [1, 0, 2]", "\"args\": [1, 1, 2]"),
            "bundle.msab: manifest: entries.encode_block.steps[0].args[1]: "
            "buffer 1 is bf16 but argument 1 of kernel 'k0_embedding' is i32");
}

TEST(BundlePlan, StaticDimMismatch) {
  // An integer buffer dimension must equal a static kernel dimension.
  EXPECT_EQ(manifestError("\"shape\": [64], \"weight\"",
                          "\"shape\": [32], \"weight\""),
            "bundle.msab: manifest: entries.encode_block.steps[1].args[1]: "
            "dimension 0 of buffer 3 [32] is 32 but argument 1 of kernel "
            "'k1_rms_norm' [64] needs 64");
  // A symbol is not known to be that integer until the entry is called.
  EXPECT_EQ(manifestError("{\"id\": 2, \"dtype\": \"bf16\", \"shape\": [\"T\", "
                          "64]}",
                          "{\"id\": 2, \"dtype\": \"bf16\", \"shape\": [\"T\", "
                          "\"C\"]}"),
            "bundle.msab: manifest: entries.encode_block.steps[0].args[2]: "
            "dimension 1 of buffer 2 [T, C] is C but argument 2 of kernel "
            "'k0_embedding' [?, 64] needs 64");
  EXPECT_EQ(manifestError("\"shape\": [64], \"weight\"",
                          "\"shape\": [1, 64], \"weight\""),
            "bundle.msab: manifest: entries.encode_block.steps[1].args[1]: "
            "buffer 3 [1, 64] has rank 2 but argument 1 of kernel "
            "'k1_rms_norm' [64] has rank 1");
}

TEST(BundlePlan, DynamicKernelDimTakesAnything) {
  // Buffer 0 ["T"] goes to a [null] argument; an integer works as well.
  EXPECT_EQ(manifestError("{\"id\": 0, \"dtype\": \"i32\", \"shape\": [\"T\"]}",
                          "{\"id\": 0, \"dtype\": \"i32\", \"shape\": [9]}"),
            "ok");
}

TEST(BundlePlan, GemmShapeMismatch) {
  EXPECT_EQ(manifestError("\"shape\": [128, 64], \"weight\"",
                          "\"shape\": [128, 32], \"weight\""),
            "bundle.msab: manifest: entries.encode_block.steps[2]: gemm shapes "
            "do not fit a [M, K], b [N, K], c [M, N]: a is [T, 64], b is "
            "[128, 32], c is [T, 128] (K is 64 in a but 32 in b)");
  EXPECT_EQ(manifestError("\"shape\": [128, 64], \"weight\"",
                          "\"shape\": [96, 64], \"weight\""),
            "bundle.msab: manifest: entries.encode_block.steps[2]: gemm shapes "
            "do not fit a [M, K], b [N, K], c [M, N]: a is [T, 64], b is "
            "[96, 64], c is [T, 128] (N is 96 in b but 128 in c)");
  EXPECT_EQ(manifestError("\"a\": 4", "\"a\": 3"),
            "bundle.msab: manifest: entries.encode_block.steps[2]: gemm "
            "operand a (buffer 3 [64]) must have rank 2");
  EXPECT_EQ(manifestError("{\"id\": 6, \"dtype\": \"bf16\", \"shape\": [\"T\", "
                          "128]}",
                          "{\"id\": 6, \"dtype\": \"bf16\", \"shape\": [\"C\", "
                          "128]}"),
            "bundle.msab: manifest: entries.encode_block.steps[2]: gemm shapes "
            "do not fit a [M, K], b [N, K], c [M, N]: a is [T, 64], b is "
            "[128, 64], c is [C, 128] (M is T in a but C in c)");
  EXPECT_EQ(manifestError("{\"id\": 6, \"dtype\": \"bf16\"",
                          "{\"id\": 6, \"dtype\": \"i32\""),
            "bundle.msab: manifest: entries.encode_block.steps[2]: gemm "
            "operand c (buffer 6) is i32; gemm takes bf16, f16 or f32");
}

TEST(BundlePlan, ViewElementCount) {
  EXPECT_EQ(
      manifestError("\"shape\": [2, \"T\", 64]", "\"shape\": [2, \"T\", 32]"),
      "bundle.msab: manifest: entries.encode_block.steps[3]: view of "
      "buffer 6 [T, 128] as buffer 7 [2, T, 32] changes the element "
      "count (128*T to 64*T)");
  EXPECT_EQ(manifestError("{\"id\": 7, \"dtype\": \"bf16\"",
                          "{\"id\": 7, \"dtype\": \"f16\""),
            "bundle.msab: manifest: entries.encode_block.steps[3]: view of "
            "buffer 6 [T, 128] as buffer 7 [2, T, 64] changes the dtype (bf16 "
            "to f16)");
  // Counts over different symbols are left to the call, which binds them.
  EXPECT_EQ(
      manifestError("\"shape\": [2, \"T\", 64]", "\"shape\": [\"C\", 256]"),
      "ok");
}

TEST(BundlePlan, UndeclaredSymbol) {
  EXPECT_EQ(manifestError("\"shape\": [\"T\", 128]", "\"shape\": [\"S\", 128]"),
            "bundle.msab: manifest: entries.encode_block.buffers[6].shape[0]: "
            "symbol 'S' is not declared in symbols");
}

TEST(BundlePlan, UnknownBufferId) {
  EXPECT_EQ(manifestError("\"args\": [1, 0, 2]", "\"args\": [1, 0, 99]"),
            "bundle.msab: manifest: entries.encode_block.steps[0].args[2]: "
            "buffer 99 is not declared in buffers");
  EXPECT_EQ(manifestError("\"c\": 6", "\"c\": 8"),
            "bundle.msab: manifest: entries.encode_block.steps[2].c: buffer 8 "
            "is not declared in buffers");
  EXPECT_EQ(manifestError("\"src\": 6", "\"src\": -1"),
            "bundle.msab: manifest: entries.encode_block.steps[3].src: "
            "expected a non-negative integer, got -1");
  EXPECT_EQ(manifestError("\"name\": \"tokens\", \"buffer\": 0",
                          "\"name\": \"tokens\", \"buffer\": 12"),
            "bundle.msab: manifest: entries.encode_block.inputs[0].buffer: "
            "buffer 12 is not declared in buffers");
  EXPECT_EQ(manifestError("\"name\": \"hidden\", \"buffer\": 7",
                          "\"name\": \"hidden\", \"buffer\": 70"),
            "bundle.msab: manifest: entries.encode_block.outputs[0].buffer: "
            "buffer 70 is not declared in buffers");
  EXPECT_EQ(manifestError("{\"id\": 7,", "{\"id\": 6,"),
            "bundle.msab: manifest: entries.encode_block.buffers[7].id: "
            "duplicate buffer id 6");
}

} // namespace
