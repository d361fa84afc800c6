//===- MemoryBankTest.cpp - memory banks: round trip, resume, errors ------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A bank must be a faithful store of stage 1: what MemoryBank::load gives
// back is compared bit for bit with Engine::encode's in-memory result
// (chunk table, every router layer's K̄/V̄/K̄ᴿ, template K/V, the documents'
// ids, texts and counts). Resumed encodes (after a killed run's leftovers)
// and appends must give the bank a single uninterrupted encode gives. Each
// bad input has a test with its exact message: a missing bank or header,
// another model's bank, damaged files and header, a corpus that does not
// continue the bank, appending to nothing, an empty corpus, an over-long
// document and create() over a non-empty directory.
//
// Everything runs the tiny preset on the reference backend, which is
// deterministic, so "equal" means equal bytes.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/MemoryBank.h"
#include "msa/runtime/ArtifactFormat.h"
#include "msa/runtime/Engine.h"
#include "msa/runtime/FileUtil.h"
#include "msa/runtime/Json.h"
#include "msa/runtime/ModelPresets.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

using namespace msa::runtime;

namespace {

/// A fresh directory under the gtest temp dir; its owner removes it.
std::string makeTempDir(const char *what) {
  std::string pattern = ::testing::TempDir() + "msa-" + what + "-XXXXXX";
  if (!::mkdtemp(pattern.data())) {
    ADD_FAILURE() << "mkdtemp(" << pattern << "): " << std::strerror(errno);
    return "";
  }
  return pattern;
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%08x", v);
  return buf;
}

/// Documents of different lengths (so chunk counts differ), some with ids
/// and some without, one with a newline (texts are stored as given).
std::vector<Document> corpusA() {
  return {{"a0", "The cat sat on the mat."},
          {"", "Paris is the capital of France."},
          {"a2", "Bill Watts was born on May 5, 1939, in Leeds."},
          {"a3", "Water boils at 100 degrees Celsius\nat sea level."},
          {"", "Go."}};
}

std::vector<Document> corpusB() {
  return {{"b0", "Tokyo is the largest city of Japan."},
          {"", "The Nile flows north into the Mediterranean Sea."},
          // The same text as a document of A: a document's stage-1 ids
          // carry its index, so it is stored as a different memory.
          {"b2", "The cat sat on the mat."}};
}

std::vector<Document> concat(std::vector<Document> a,
                             const std::vector<Document> &b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

bool sameBytes(const Tensor &a, const Tensor &b) {
  return a.dtype == b.dtype && a.shape == b.shape && a.bytes() == b.bytes() &&
         (a.bytes() == 0 || std::memcmp(a.data, b.data, a.bytes()) == 0);
}

/// Every field of two pooled memories, tensors compared as bytes.
void expectSameMemory(const PooledMemory &got, const PooledMemory &want) {
  EXPECT_EQ(got.numChunks, want.numChunks);
  EXPECT_EQ(got.docChunkOffsets, want.docChunkOffsets);
  EXPECT_EQ(got.templateLen, want.templateLen);
  ASSERT_EQ(got.templateKeys.size(), want.templateKeys.size());
  ASSERT_EQ(got.templateValues.size(), want.templateValues.size());
  for (size_t l = 0; l < want.templateKeys.size(); ++l) {
    EXPECT_TRUE(sameBytes(got.templateKeys[l], want.templateKeys[l]))
        << "template keys of layer " << l << ": "
        << got.templateKeys[l].describe() << " vs "
        << want.templateKeys[l].describe();
    EXPECT_TRUE(sameBytes(got.templateValues[l], want.templateValues[l]))
        << "template values of layer " << l;
  }
  ASSERT_EQ(got.keys.size(), want.keys.size());
  ASSERT_EQ(got.values.size(), want.values.size());
  ASSERT_EQ(got.routerKeys.size(), want.routerKeys.size());
  for (size_t r = 0; r < want.keys.size(); ++r) {
    EXPECT_TRUE(sameBytes(got.keys[r], want.keys[r]))
        << "keys of router layer #" << r << ": " << got.keys[r].describe()
        << " vs " << want.keys[r].describe();
    EXPECT_TRUE(sameBytes(got.values[r], want.values[r]))
        << "values of router layer #" << r;
    EXPECT_TRUE(sameBytes(got.routerKeys[r], want.routerKeys[r]))
        << "router keys of router layer #" << r;
  }
}

/// Flips one bit of byte `offset` of `path` in place.
void flipByte(const std::string &path, size_t offset) {
  StatusOr<std::string> bytes = readFile(path);
  ASSERT_TRUE(bytes.isOk()) << bytes.status().message();
  ASSERT_LT(offset, bytes->size());
  (*bytes)[offset] ^= 0x01;
  ASSERT_TRUE(writeFileAtomic(path, *bytes).isOk());
}

void truncateTo(const std::string &path, size_t size) {
  StatusOr<std::string> bytes = readFile(path);
  ASSERT_TRUE(bytes.isOk()) << bytes.status().message();
  ASSERT_LE(size, bytes->size());
  ASSERT_TRUE(writeFileAtomic(path, bytes->substr(0, size)).isOk());
}

/// Rewrites bank.json with `key` set to `value`.
void editHeader(const std::string &bank, const std::string &key,
                JsonValue value) {
  std::string path = joinPath(bank, "bank.json");
  StatusOr<std::string> text = readFile(path);
  ASSERT_TRUE(text.isOk()) << text.status().message();
  StatusOr<JsonValue> header = JsonValue::parse(*text);
  ASSERT_TRUE(header.isOk()) << header.status().message();
  header->set(key, std::move(value));
  ASSERT_TRUE(writeFileAtomic(path, header->dump(1) + "\n").isOk());
}

/// Models shared by every test (written once: they are read-only), and a
/// scratch directory per test for banks.
class MemoryBankTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    modelRoot_ = new std::string(makeTempDir("bank-models"));
    ModelConfig tiny = *presetConfig("tiny");
    ASSERT_TRUE(writeRandomCheckpoint(model(), tiny, 1).isOk());
    // Another seed: the same config, other weights, another fingerprint.
    ASSERT_TRUE(writeRandomCheckpoint(otherModel(), tiny, 2).isOk());
    // Room for the short documents of OverLongDocument, not the long one.
    ModelConfig shortContext = tiny;
    shortContext.maxPositionEmbeddings = kShortContext;
    ASSERT_TRUE(writeRandomCheckpoint(shortModel(), shortContext, 1).isOk());
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    std::filesystem::remove_all(*modelRoot_, ec);
    delete modelRoot_;
    modelRoot_ = nullptr;
  }

  void SetUp() override {
    scratch_ = makeTempDir("bank-test");
    ASSERT_FALSE(scratch_.empty());
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(scratch_, ec);
  }

  static std::string model() { return joinPath(*modelRoot_, "m"); }
  static std::string otherModel() { return joinPath(*modelRoot_, "other"); }
  static std::string shortModel() { return joinPath(*modelRoot_, "short"); }

  /// A reference engine; `blockChunks` small enough gives several
  /// segments per encode.
  static std::unique_ptr<Engine> openEngine(const std::string &dir,
                                            int64_t blockChunks = 2048) {
    EngineOptions options;
    options.blockChunks = blockChunks;
    StatusOr<std::unique_ptr<Engine>> e = Engine::open(dir, options);
    EXPECT_TRUE(e.isOk()) << e.status().message();
    return e.isOk() ? std::move(e).value() : nullptr;
  }

  std::string bankDir(const std::string &name = "bank") const {
    return joinPath(scratch_, name);
  }

  /// Encodes `docs` into a new bank called `name` and returns its path.
  std::string encodeBank(Engine &engine, const std::vector<Document> &docs,
                         const std::string &name = "bank") {
    std::string dir = bankDir(name);
    StatusOr<EncodeReport> r = engine.encodeToBank(docs, dir, false);
    EXPECT_TRUE(r.isOk()) << r.status().message();
    return dir;
  }

  static PooledMemory loadBank(const std::string &dir,
                               const std::string &fingerprint) {
    StatusOr<std::unique_ptr<MemoryBank>> bank =
        MemoryBank::open(dir, fingerprint);
    EXPECT_TRUE(bank.isOk()) << bank.status().message();
    if (!bank.isOk())
      return {};
    StatusOr<PooledMemory> m = (*bank)->load();
    EXPECT_TRUE(m.isOk()) << m.status().message();
    return m.isOk() ? std::move(m).value() : PooledMemory();
  }

  /// The documents a bank must hold for `docs`: stage-1 token and chunk
  /// counts of each at its index in the bank.
  static void expectDocuments(const Engine &engine,
                              const std::vector<BankDocument> &got,
                              const std::vector<Document> &want) {
    ASSERT_EQ(got.size(), want.size());
    const int64_t P = engine.config().msa.poolingKernelSize;
    for (size_t j = 0; j < want.size(); ++j) {
      SCOPED_TRACE("document " + std::to_string(j));
      EXPECT_EQ(got[j].id, want[j].id);
      EXPECT_EQ(got[j].text, want[j].text);
      int64_t tokens = static_cast<int64_t>(
          engine.documentTokens(static_cast<int64_t>(j), want[j].text).size());
      EXPECT_EQ(got[j].tokens, tokens);
      EXPECT_EQ(got[j].chunks, (tokens + P - 1) / P);
    }
  }

  static constexpr int64_t kShortContext = 64;
  static std::string *modelRoot_;
  std::string scratch_;
};

std::string *MemoryBankTest::modelRoot_ = nullptr;

//===----------------------------------------------------------------------===//
// Round trip, resume, append
//===----------------------------------------------------------------------===//

TEST_F(MemoryBankTest, RoundTripEqualsInMemoryEncode) {
  std::unique_ptr<Engine> engine = openEngine(model());
  ASSERT_TRUE(engine);
  std::vector<Document> docs = corpusA();
  StatusOr<PooledMemory> want = engine->encode(docs);
  ASSERT_TRUE(want.isOk()) << want.status().message();

  std::string dir = bankDir();
  StatusOr<EncodeReport> report = engine->encodeToBank(docs, dir, false);
  ASSERT_TRUE(report.isOk()) << report.status().message();
  EXPECT_EQ(report->skippedDocs, 0);
  EXPECT_EQ(report->newDocs, static_cast<int64_t>(docs.size()));
  EXPECT_EQ(report->newChunks, want->numChunks);

  StatusOr<std::unique_ptr<MemoryBank>> bank =
      MemoryBank::open(dir, engine->fingerprint());
  ASSERT_TRUE(bank.isOk()) << bank.status().message();
  EXPECT_EQ((*bank)->fingerprint(), engine->fingerprint());
  EXPECT_EQ((*bank)->numDocs(), static_cast<int64_t>(docs.size()));
  EXPECT_EQ((*bank)->numChunks(), want->numChunks);
  EXPECT_EQ((*bank)->numSegments(), 1);
  EXPECT_TRUE((*bank)->hasTemplate());
  EXPECT_EQ((*bank)->templateLen(), want->templateLen);
  expectDocuments(*engine, (*bank)->documents(), docs);
  int64_t tokens = 0;
  for (const BankDocument &d : (*bank)->documents())
    tokens += d.tokens;
  EXPECT_EQ(report->newTokens, tokens);

  StatusOr<PooledMemory> got = (*bank)->load();
  ASSERT_TRUE(got.isOk()) << got.status().message();
  expectSameMemory(*got, *want);
  int64_t payload = 0;
  for (const std::vector<Tensor> *ts :
       {&got->keys, &got->values, &got->routerKeys})
    for (const Tensor &t : *ts)
      payload += static_cast<int64_t>(t.bytes());
  EXPECT_EQ((*bank)->payloadBytes(), payload);

  // Engine::loadBank is the same bank, and routing over it answers as the
  // in-memory encode does.
  std::vector<BankDocument> loadedDocs;
  StatusOr<PooledMemory> viaEngine = engine->loadBank(dir, &loadedDocs);
  ASSERT_TRUE(viaEngine.isOk()) << viaEngine.status().message();
  expectSameMemory(*viaEngine, *want);
  expectDocuments(*engine, loadedDocs, docs);
  StatusOr<Answer> fromBank = engine->ask(*viaEngine, "Where is Paris?", 4);
  StatusOr<Answer> fromMemory = engine->ask(*want, "Where is Paris?", 4);
  ASSERT_TRUE(fromBank.isOk()) << fromBank.status().message();
  ASSERT_TRUE(fromMemory.isOk()) << fromMemory.status().message();
  EXPECT_EQ(fromBank->selected, fromMemory->selected);
  EXPECT_EQ(fromBank->tokens, fromMemory->tokens);
}

TEST_F(MemoryBankTest, ManySegmentsRoundTrip) {
  // Blocks of at most 16 chunks: about one segment per document, which
  // load() must lay head-major across segments.
  std::unique_ptr<Engine> engine = openEngine(model(), 16);
  ASSERT_TRUE(engine);
  std::vector<Document> docs = concat(corpusA(), corpusB());
  StatusOr<PooledMemory> want = engine->encode(docs);
  ASSERT_TRUE(want.isOk()) << want.status().message();
  std::string dir = encodeBank(*engine, docs);
  StatusOr<std::unique_ptr<MemoryBank>> bank =
      MemoryBank::open(dir, engine->fingerprint());
  ASSERT_TRUE(bank.isOk()) << bank.status().message();
  EXPECT_GT((*bank)->numSegments(), 3);
  expectDocuments(*engine, (*bank)->documents(), docs);
  StatusOr<PooledMemory> got = (*bank)->load();
  ASSERT_TRUE(got.isOk()) << got.status().message();
  expectSameMemory(*got, *want);

  // Documents are encoded independently of their block: the bank equals
  // one made with the default single block.
  std::unique_ptr<Engine> oneBlock = openEngine(model());
  ASSERT_TRUE(oneBlock);
  std::string single = encodeBank(*oneBlock, docs, "single");
  expectSameMemory(*got, loadBank(single, oneBlock->fingerprint()));
}

TEST_F(MemoryBankTest, ResumeAfterKilledEncode) {
  std::unique_ptr<Engine> engine = openEngine(model(), 16);
  ASSERT_TRUE(engine);
  std::vector<Document> docs = concat(corpusA(), corpusB());
  std::string reference = encodeBank(*engine, docs, "uninterrupted");
  PooledMemory want = loadBank(reference, engine->fingerprint());

  // The killed run: the first three documents committed, then what a kill
  // inside appendSegment and writeFileAtomic leaves behind: a segment
  // directory still under its temporary name with a half-written layer
  // file, and a half-written header beside bank.json.
  std::vector<Document> prefix(docs.begin(), docs.begin() + 3);
  std::string dir = encodeBank(*engine, prefix);
  std::string stray = joinPath(dir, "seg-000005.tmp");
  ASSERT_TRUE(makeDirectories(stray).isOk());
  StatusOr<std::string> layer =
      readFile(joinPath(joinPath(dir, "seg-000000"), "layer-2.keys.bin"));
  ASSERT_TRUE(layer.isOk()) << layer.status().message();
  ASSERT_TRUE(writeFileAtomic(joinPath(stray, "layer-2.keys.bin"),
                              layer->substr(0, layer->size() / 3))
                  .isOk());
  StatusOr<std::string> header = readFile(joinPath(dir, "bank.json"));
  ASSERT_TRUE(header.isOk());
  ASSERT_TRUE(writeFileAtomic(joinPath(dir, ".bank.json.tmp.999.0"),
                              header->substr(0, header->size() / 2))
                  .isOk());

  int progressCalls = 0;
  int64_t lastDone = 0;
  StatusOr<EncodeReport> report =
      engine->encodeToBank(docs, dir, false, [&](const EncodeProgress &p) {
        ++progressCalls;
        EXPECT_GT(p.docsDone, lastDone);
        lastDone = p.docsDone;
        EXPECT_EQ(p.docsTotal, static_cast<int64_t>(docs.size() - 3));
      });
  ASSERT_TRUE(report.isOk()) << report.status().message();
  EXPECT_EQ(report->skippedDocs, 3);
  EXPECT_EQ(report->newDocs, static_cast<int64_t>(docs.size() - 3));
  EXPECT_GT(progressCalls, 0);
  EXPECT_EQ(lastDone, static_cast<int64_t>(docs.size() - 3));
  EXPECT_FALSE(fileExists(stray));

  StatusOr<std::unique_ptr<MemoryBank>> bank =
      MemoryBank::open(dir, engine->fingerprint());
  ASSERT_TRUE(bank.isOk()) << bank.status().message();
  expectDocuments(*engine, (*bank)->documents(), docs);
  StatusOr<PooledMemory> got = (*bank)->load();
  ASSERT_TRUE(got.isOk()) << got.status().message();
  expectSameMemory(*got, want);

  // A third run has nothing left to do and changes nothing.
  report = engine->encodeToBank(docs, dir, false);
  ASSERT_TRUE(report.isOk()) << report.status().message();
  EXPECT_EQ(report->skippedDocs, static_cast<int64_t>(docs.size()));
  EXPECT_EQ(report->newDocs, 0);
  EXPECT_EQ(report->newChunks, 0);
  expectSameMemory(loadBank(dir, engine->fingerprint()), want);
}

TEST_F(MemoryBankTest, ResumeAfterKillBetweenSegmentAndHeader) {
  // Killed after a segment was renamed into place but before the header was
  // rewritten: the directory exists, the header does not list it, and the
  // next run must replace it rather than fail on the rename.
  std::unique_ptr<Engine> engine = openEngine(model());
  ASSERT_TRUE(engine);
  std::vector<Document> docs = concat(corpusA(), corpusB());
  std::vector<Document> prefix(docs.begin(), docs.begin() + 2);
  std::string dir = encodeBank(*engine, prefix);
  StatusOr<std::unique_ptr<MemoryBank>> held =
      MemoryBank::open(dir, engine->fingerprint());
  ASSERT_TRUE(held.isOk()) << held.status().message();
  ASSERT_EQ((*held)->numSegments(), 1);
  std::filesystem::copy(joinPath(dir, "seg-000000"),
                        joinPath(dir, "seg-000001"));

  StatusOr<EncodeReport> report = engine->encodeToBank(docs, dir, false);
  ASSERT_TRUE(report.isOk()) << report.status().message();
  EXPECT_EQ(report->skippedDocs, 2);
  StatusOr<PooledMemory> want = engine->encode(docs);
  ASSERT_TRUE(want.isOk()) << want.status().message();
  expectSameMemory(loadBank(dir, engine->fingerprint()), *want);
}

TEST_F(MemoryBankTest, ResumeAfterKillBeforeTheFirstDocument) {
  // Killed after the header was written but before the template: the bank
  // has no template and no documents yet, and the next run starts over.
  std::unique_ptr<Engine> engine = openEngine(model());
  ASSERT_TRUE(engine);
  std::string dir = bankDir();
  ASSERT_TRUE(
      MemoryBank::create(dir, engine->fingerprint(), engine->config()).isOk());
  StatusOr<std::unique_ptr<MemoryBank>> empty =
      MemoryBank::open(dir, engine->fingerprint());
  ASSERT_TRUE(empty.isOk()) << empty.status().message();
  EXPECT_FALSE((*empty)->hasTemplate());
  EXPECT_EQ((*empty)->numDocs(), 0);
  StatusOr<PooledMemory> none = (*empty)->load();
  ASSERT_FALSE(none.isOk());
  EXPECT_EQ(none.status().message(), dir + ": the bank holds no template yet");

  std::vector<Document> docs = corpusA();
  StatusOr<EncodeReport> report = engine->encodeToBank(docs, dir, false);
  ASSERT_TRUE(report.isOk()) << report.status().message();
  EXPECT_EQ(report->skippedDocs, 0);
  StatusOr<PooledMemory> want = engine->encode(docs);
  ASSERT_TRUE(want.isOk());
  expectSameMemory(loadBank(dir, engine->fingerprint()), *want);
}

TEST_F(MemoryBankTest, AppendEqualsEncodingEverythingAtOnce) {
  std::unique_ptr<Engine> engine = openEngine(model());
  ASSERT_TRUE(engine);
  std::vector<Document> a = corpusA(), b = corpusB();
  std::string dir = encodeBank(*engine, a);

  StatusOr<EncodeReport> report = engine->encodeToBank(b, dir, true);
  ASSERT_TRUE(report.isOk()) << report.status().message();
  EXPECT_EQ(report->skippedDocs, 0);
  EXPECT_EQ(report->newDocs, static_cast<int64_t>(b.size()));

  std::vector<Document> all = concat(a, b);
  StatusOr<PooledMemory> want = engine->encode(all);
  ASSERT_TRUE(want.isOk()) << want.status().message();
  StatusOr<std::unique_ptr<MemoryBank>> bank =
      MemoryBank::open(dir, engine->fingerprint());
  ASSERT_TRUE(bank.isOk()) << bank.status().message();
  EXPECT_EQ((*bank)->numSegments(), 2);
  // The appended documents take the indices after A's, which their
  // stage-1 ids carry (the last of B repeats A's first text).
  expectDocuments(*engine, (*bank)->documents(), all);
  ASSERT_EQ(all[a.size() + 2].text, all[0].text);
  EXPECT_NE(
      engine->documentTokens(static_cast<int64_t>(a.size()) + 2, all[0].text),
      engine->documentTokens(0, all[0].text));
  StatusOr<PooledMemory> got = (*bank)->load();
  ASSERT_TRUE(got.isOk()) << got.status().message();
  expectSameMemory(*got, *want);
  expectSameMemory(*got, loadBank(encodeBank(*engine, all, "at-once"),
                                  engine->fingerprint()));

  // Continuing (no append) with the combined corpus is then a no-op, and
  // appending B again adds it a second time after the first.
  report = engine->encodeToBank(all, dir, false);
  ASSERT_TRUE(report.isOk()) << report.status().message();
  EXPECT_EQ(report->newDocs, 0);
  report = engine->encodeToBank(b, dir, true);
  ASSERT_TRUE(report.isOk()) << report.status().message();
  std::vector<Document> twice = concat(all, b);
  StatusOr<PooledMemory> wantTwice = engine->encode(twice);
  ASSERT_TRUE(wantTwice.isOk());
  std::vector<BankDocument> docs;
  StatusOr<PooledMemory> gotTwice = engine->loadBank(dir, &docs);
  ASSERT_TRUE(gotTwice.isOk()) << gotTwice.status().message();
  expectDocuments(*engine, docs, twice);
  expectSameMemory(*gotTwice, *wantTwice);
}

TEST_F(MemoryBankTest, CreateOnEmptyDirectoryAndOpenWithoutFingerprint) {
  std::unique_ptr<Engine> engine = openEngine(model());
  ASSERT_TRUE(engine);
  // An existing empty directory becomes a bank.
  std::string dir = bankDir();
  ASSERT_TRUE(makeDirectories(dir).isOk());
  std::vector<Document> docs = corpusA();
  encodeBank(*engine, docs);
  // An empty fingerprint (msa-run inspect) opens any model's bank.
  StatusOr<std::unique_ptr<MemoryBank>> bank = MemoryBank::open(dir, "");
  ASSERT_TRUE(bank.isOk()) << bank.status().message();
  EXPECT_EQ((*bank)->fingerprint(), engine->fingerprint());
  EXPECT_EQ((*bank)->numDocs(), static_cast<int64_t>(docs.size()));
  std::string summary = (*bank)->summary();
  EXPECT_NE(summary.find("memory bank: " + dir + "\n"), std::string::npos)
      << summary;
  EXPECT_NE(summary.find("model fingerprint: " + engine->fingerprint()),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("documents: 5, chunks: "), std::string::npos)
      << summary;
}

//===----------------------------------------------------------------------===//
// Bad inputs
//===----------------------------------------------------------------------===//

TEST_F(MemoryBankTest, MissingBank) {
  std::unique_ptr<Engine> engine = openEngine(model());
  ASSERT_TRUE(engine);
  std::string dir = bankDir("nowhere");
  StatusOr<std::unique_ptr<MemoryBank>> bank =
      MemoryBank::open(dir, engine->fingerprint());
  ASSERT_FALSE(bank.isOk());
  EXPECT_EQ(bank.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(bank.status().message(),
            dir + ": no memory bank here (not a directory)");
  StatusOr<PooledMemory> loaded = engine->loadBank(dir);
  ASSERT_FALSE(loaded.isOk());
  EXPECT_EQ(loaded.status().message(),
            dir + ": no memory bank here (not a directory)");

  // A directory without a header is no bank either.
  ASSERT_TRUE(makeDirectories(dir).isOk());
  bank = MemoryBank::open(dir, engine->fingerprint());
  ASSERT_FALSE(bank.isOk());
  EXPECT_EQ(bank.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(bank.status().message(),
            dir + ": no memory bank here (bank.json is missing)");
}

TEST_F(MemoryBankTest, HeaderMissingFromAnEncodedBank) {
  std::unique_ptr<Engine> engine = openEngine(model());
  ASSERT_TRUE(engine);
  std::string dir = encodeBank(*engine, corpusA());
  ASSERT_EQ(std::remove(joinPath(dir, "bank.json").c_str()), 0);
  StatusOr<std::unique_ptr<MemoryBank>> bank =
      MemoryBank::open(dir, engine->fingerprint());
  ASSERT_FALSE(bank.isOk());
  EXPECT_EQ(bank.status().message(),
            dir + ": no memory bank here (bank.json is missing)");
  // Encoding does not take the headerless directory over.
  StatusOr<EncodeReport> r = engine->encodeToBank(corpusA(), dir, false);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().message(),
            dir + ": exists and is not an empty directory");
}

TEST_F(MemoryBankTest, BankOfAnotherModel) {
  std::unique_ptr<Engine> engine = openEngine(model());
  std::unique_ptr<Engine> other = openEngine(otherModel());
  ASSERT_TRUE(engine && other);
  ASSERT_NE(engine->fingerprint(), other->fingerprint());
  std::string dir = encodeBank(*engine, corpusA());
  std::string message = dir + ": made by another model (bank fingerprint " +
                        engine->fingerprint() + ", this model's " +
                        other->fingerprint() + ")";

  StatusOr<std::unique_ptr<MemoryBank>> bank =
      MemoryBank::open(dir, other->fingerprint());
  ASSERT_FALSE(bank.isOk());
  EXPECT_EQ(bank.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(bank.status().message(), message);
  StatusOr<PooledMemory> loaded = other->loadBank(dir);
  ASSERT_FALSE(loaded.isOk());
  EXPECT_EQ(loaded.status().message(), message);
  // Neither continuing nor appending writes into another model's bank.
  for (bool append : {false, true}) {
    StatusOr<EncodeReport> r = other->encodeToBank(corpusA(), dir, append);
    ASSERT_FALSE(r.isOk());
    EXPECT_EQ(r.status().message(), message);
  }
  expectSameMemory(loadBank(dir, engine->fingerprint()),
                   *engine->encode(corpusA()));
}

TEST_F(MemoryBankTest, FlippedByteInALayerFile) {
  std::unique_ptr<Engine> engine = openEngine(model());
  ASSERT_TRUE(engine);
  std::string dir = encodeBank(*engine, corpusA());
  std::string file =
      joinPath(joinPath(dir, "seg-000000"), "layer-3.values.bin");
  StatusOr<std::string> before = readFile(file);
  ASSERT_TRUE(before.isOk());
  flipByte(file, 100);
  StatusOr<std::string> after = readFile(file);
  ASSERT_TRUE(after.isOk());
  std::string message =
      file + ": checksum mismatch (stored " +
      hex32(artifact::crc32c(before->data(), before->size())) + ", computed " +
      hex32(artifact::crc32c(after->data(), after->size())) +
      "): the bank is corrupted";

  StatusOr<std::unique_ptr<MemoryBank>> bank =
      MemoryBank::open(dir, engine->fingerprint());
  ASSERT_FALSE(bank.isOk());
  EXPECT_EQ(bank.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(bank.status().message(), message);
  // Without a fingerprint (inspect) the check still runs; so does it before
  // a resumed encode writes anything.
  bank = MemoryBank::open(dir, "");
  ASSERT_FALSE(bank.isOk());
  EXPECT_EQ(bank.status().message(), message);
  StatusOr<EncodeReport> r = engine->encodeToBank(corpusB(), dir, true);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().message(), message);
}

TEST_F(MemoryBankTest, FlippedByteInTheTemplateAndTheDocuments) {
  std::unique_ptr<Engine> engine = openEngine(model());
  ASSERT_TRUE(engine);
  for (auto [bankName, name] :
       {std::pair<const char *, const char *>{"template", "template.bin"},
        {"docs", "seg-000000/docs.jsonl"}}) {
    SCOPED_TRACE(name);
    std::string dir = encodeBank(*engine, corpusA(), bankName);
    std::string file = joinPath(dir, name);
    flipByte(file, 7);
    StatusOr<std::unique_ptr<MemoryBank>> bank =
        MemoryBank::open(dir, engine->fingerprint());
    ASSERT_FALSE(bank.isOk());
    EXPECT_EQ(bank.status().code(), StatusCode::kDataLoss);
    const std::string &m = bank.status().message();
    EXPECT_EQ(m.rfind(file + ": checksum mismatch (stored ", 0), 0u) << m;
    EXPECT_NE(m.find("): the bank is corrupted"), std::string::npos) << m;
  }
}

TEST_F(MemoryBankTest, TruncatedLayerFile) {
  std::unique_ptr<Engine> engine = openEngine(model());
  ASSERT_TRUE(engine);
  std::string dir = encodeBank(*engine, corpusA());
  std::string file =
      joinPath(joinPath(dir, "seg-000000"), "layer-2.router_keys.bin");
  StatusOr<std::string> bytes = readFile(file);
  ASSERT_TRUE(bytes.isOk());
  // [kv_heads, chunks, head_dim] of the model's dtype.
  const ModelConfig &c = engine->config();
  StatusOr<PooledMemory> memory = engine->encode(corpusA());
  ASSERT_TRUE(memory.isOk());
  size_t expected =
      static_cast<size_t>(c.numKvHeads * memory->numChunks * c.headDim) *
      dtypeSize(c.dtype);
  ASSERT_EQ(bytes->size(), expected);
  truncateTo(file, 100);
  StatusOr<std::unique_ptr<MemoryBank>> bank =
      MemoryBank::open(dir, engine->fingerprint());
  ASSERT_FALSE(bank.isOk());
  EXPECT_EQ(bank.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(bank.status().message(),
            file + ": 100 bytes, the bank header says " +
                std::to_string(expected) + " (the bank is corrupted)");

  // A missing file is reported as such, not read as empty.
  ASSERT_EQ(std::remove(file.c_str()), 0);
  bank = MemoryBank::open(dir, engine->fingerprint());
  ASSERT_FALSE(bank.isOk());
  EXPECT_EQ(bank.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(bank.status().message(),
            file + ": cannot open: No such file or directory");
}

TEST_F(MemoryBankTest, HeaderCountsDisagreeWithSegments) {
  std::unique_ptr<Engine> engine = openEngine(model());
  ASSERT_TRUE(engine);
  std::string dir = encodeBank(*engine, corpusA());
  std::string header = joinPath(dir, "bank.json");
  std::string message =
      header + ": document or chunk count disagrees with the segments";

  editHeader(dir, "documents", JsonValue(int64_t{6}));
  StatusOr<std::unique_ptr<MemoryBank>> bank =
      MemoryBank::open(dir, engine->fingerprint());
  ASSERT_FALSE(bank.isOk());
  EXPECT_EQ(bank.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(bank.status().message(), message);

  editHeader(dir, "documents", JsonValue(int64_t{5}));
  ASSERT_TRUE(MemoryBank::open(dir, engine->fingerprint()).isOk());
  StatusOr<PooledMemory> memory = engine->encode(corpusA());
  ASSERT_TRUE(memory.isOk());
  editHeader(dir, "chunks", JsonValue(memory->numChunks - 1));
  bank = MemoryBank::open(dir, engine->fingerprint());
  ASSERT_FALSE(bank.isOk());
  EXPECT_EQ(bank.status().message(), message);
}

TEST_F(MemoryBankTest, SegmentEntryDisagreesWithItsDocuments) {
  std::unique_ptr<Engine> engine = openEngine(model());
  ASSERT_TRUE(engine);
  std::string dir = encodeBank(*engine, corpusA());
  std::string path = joinPath(dir, "bank.json");
  StatusOr<std::string> text = readFile(path);
  ASSERT_TRUE(text.isOk());
  StatusOr<JsonValue> header = JsonValue::parse(*text);
  ASSERT_TRUE(header.isOk());
  JsonValue &seg = header->find("segments")->elements()[0];
  int64_t chunks = seg.find("chunks")->asInt();
  seg.set("docs", int64_t{4});
  header->set("documents", int64_t{4});
  ASSERT_TRUE(writeFileAtomic(path, header->dump(1)).isOk());
  StatusOr<std::unique_ptr<MemoryBank>> bank =
      MemoryBank::open(dir, engine->fingerprint());
  ASSERT_FALSE(bank.isOk());
  EXPECT_EQ(bank.status().message(),
            path + ": segments[0]: holds 5 documents of " +
                std::to_string(chunks) + " chunks, the header says 4 of " +
                std::to_string(chunks));
}

TEST_F(MemoryBankTest, UnreadableOrForeignHeader) {
  std::unique_ptr<Engine> engine = openEngine(model());
  ASSERT_TRUE(engine);
  std::string dir = encodeBank(*engine, corpusA());
  std::string header = joinPath(dir, "bank.json");

  editHeader(dir, "version", JsonValue(int64_t{2}));
  StatusOr<std::unique_ptr<MemoryBank>> bank = MemoryBank::open(dir, "");
  ASSERT_FALSE(bank.isOk());
  EXPECT_EQ(bank.status().message(),
            header + ": bank format version 2, this runtime reads version 1");

  editHeader(dir, "format", JsonValue("msab"));
  bank = MemoryBank::open(dir, "");
  ASSERT_FALSE(bank.isOk());
  EXPECT_EQ(bank.status().message(),
            header + ": not an msa memory bank header");

  ASSERT_TRUE(writeFileAtomic(header, "{\"format\": ").isOk());
  bank = MemoryBank::open(dir, "");
  ASSERT_FALSE(bank.isOk());
  EXPECT_EQ(bank.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(bank.status().message().rfind(header + ": ", 0), 0u)
      << bank.status().message();
}

TEST_F(MemoryBankTest, CorpusDoesNotContinueTheBank) {
  std::unique_ptr<Engine> engine = openEngine(model());
  ASSERT_TRUE(engine);
  std::vector<Document> a = corpusA();
  std::string dir = encodeBank(*engine, a);
  const std::string hint = "; use --append to add documents, or a new bank "
                           "for another corpus";

  // Another corpus entirely.
  StatusOr<EncodeReport> r = engine->encodeToBank(corpusB(), dir, false);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(),
            dir + ": holds 5 documents, more than this corpus has (3); use "
                  "--append to add documents");
  std::vector<Document> changed = concat(a, corpusB());
  changed[3].text += " (edited)";
  r = engine->encodeToBank(changed, dir, false);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().message(),
            dir + ": document 3 of the bank differs from the corpus's" + hint);
  // The id is part of a document.
  changed = concat(a, corpusB());
  changed[0].id = "renamed";
  r = engine->encodeToBank(changed, dir, false);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().message(),
            dir + ": document 0 of the bank differs from the corpus's" + hint);
  // Nothing was written.
  StatusOr<std::unique_ptr<MemoryBank>> bank =
      MemoryBank::open(dir, engine->fingerprint());
  ASSERT_TRUE(bank.isOk()) << bank.status().message();
  EXPECT_EQ((*bank)->numSegments(), 1);
  expectDocuments(*engine, (*bank)->documents(), a);
}

TEST_F(MemoryBankTest, AppendToNoBank) {
  std::unique_ptr<Engine> engine = openEngine(model());
  ASSERT_TRUE(engine);
  std::string dir = bankDir("nowhere");
  StatusOr<EncodeReport> r = engine->encodeToBank(corpusA(), dir, true);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), dir + ": no memory bank to append to");
  EXPECT_FALSE(fileExists(dir));
}

TEST_F(MemoryBankTest, EmptyCorpus) {
  std::unique_ptr<Engine> engine = openEngine(model());
  ASSERT_TRUE(engine);
  std::string dir = bankDir();
  StatusOr<EncodeReport> r = engine->encodeToBank({}, dir, false);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "the corpus holds no documents");
  EXPECT_FALSE(fileExists(dir));
  StatusOr<PooledMemory> m = engine->encode({});
  ASSERT_FALSE(m.isOk());
  EXPECT_EQ(m.status().message(), "the corpus holds no documents");

  // Files that hold no document, in either format.
  for (const char *name : {"empty.jsonl", "blank.txt"}) {
    std::string file = joinPath(scratch_, name);
    ASSERT_TRUE(writeFileAtomic(file, name[0] == 'e' ? "" : "\n  \n\n").isOk());
    StatusOr<std::vector<Document>> docs = readCorpus(file);
    ASSERT_FALSE(docs.isOk()) << name;
    EXPECT_EQ(docs.status().message(),
              file + ": the corpus holds no documents");
  }
}

TEST_F(MemoryBankTest, OverLongDocument) {
  std::unique_ptr<Engine> engine = openEngine(shortModel());
  ASSERT_TRUE(engine);
  ASSERT_EQ(engine->config().maxPositionEmbeddings, kShortContext);
  std::vector<Document> docs = {
      {"s0", "A short document."},
      {"", "Another short one."},
      {"long", std::string(100, 'x')},
  };
  for (int j : {0, 1})
    ASSERT_LE(
        static_cast<int64_t>(engine->documentTokens(j, docs[j].text).size()),
        kShortContext);
  auto message = [&](int64_t index, const std::string &id) {
    int64_t tokens = static_cast<int64_t>(
        engine->documentTokens(index, docs[2].text).size());
    EXPECT_GT(tokens, kShortContext);
    return "document " + std::to_string(index) +
           (id.empty() ? "" : " (id '" + id + "')") + " has " +
           std::to_string(tokens) +
           " tokens, more than max_position_embeddings " +
           std::to_string(kShortContext);
  };

  StatusOr<PooledMemory> m = engine->encode(docs);
  ASSERT_FALSE(m.isOk());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(m.status().message(), message(2, "long"));
  StatusOr<EncodeReport> r = engine->encodeToBank(docs, bankDir(), false);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), message(2, "long"));
  // Rejected before anything was written: no half-made bank is left.
  EXPECT_FALSE(fileExists(bankDir()));

  // Appended to a bank, the document is named by its index in the bank (and
  // without an id, by the index alone); the bank is left as it was.
  std::vector<Document> fits(docs.begin(), docs.begin() + 2);
  std::string dir = encodeBank(*engine, fits, "fits");
  StatusOr<PooledMemory> before = engine->encode(fits);
  ASSERT_TRUE(before.isOk()) << before.status().message();
  r = engine->encodeToBank({docs[0], {"", docs[2].text}}, dir, true);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().message(), message(3, ""));
  std::vector<BankDocument> held;
  StatusOr<PooledMemory> loaded = engine->loadBank(dir, &held);
  ASSERT_TRUE(loaded.isOk()) << loaded.status().message();
  StatusOr<std::unique_ptr<MemoryBank>> bank =
      MemoryBank::open(dir, engine->fingerprint());
  ASSERT_TRUE(bank.isOk());
  EXPECT_EQ((*bank)->numSegments(), 1);
  expectDocuments(*engine, held, fits);
  expectSameMemory(*loaded, *before);
}

TEST_F(MemoryBankTest, CreateOverANonEmptyDirectory) {
  std::unique_ptr<Engine> engine = openEngine(model());
  ASSERT_TRUE(engine);
  std::string dir = bankDir("occupied");
  ASSERT_TRUE(makeDirectories(dir).isOk());
  ASSERT_TRUE(writeFileAtomic(joinPath(dir, "notes.txt"), "mine\n").isOk());
  StatusOr<std::unique_ptr<MemoryBank>> bank =
      MemoryBank::create(dir, engine->fingerprint(), engine->config());
  ASSERT_FALSE(bank.isOk());
  EXPECT_EQ(bank.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bank.status().message(),
            dir + ": exists and is not an empty directory");
  StatusOr<EncodeReport> r = engine->encodeToBank(corpusA(), dir, false);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().message(),
            dir + ": exists and is not an empty directory");
  EXPECT_FALSE(fileExists(joinPath(dir, "bank.json")));

  std::string file = joinPath(scratch_, "a-file");
  ASSERT_TRUE(writeFileAtomic(file, "x").isOk());
  bank = MemoryBank::create(file, engine->fingerprint(), engine->config());
  ASSERT_FALSE(bank.isOk());
  EXPECT_EQ(bank.status().message(), file + ": exists and is not a directory");

  // A second create() over a fresh bank is refused as well.
  std::string fresh = bankDir("fresh");
  ASSERT_TRUE(MemoryBank::create(fresh, engine->fingerprint(), engine->config())
                  .isOk());
  bank = MemoryBank::create(fresh, engine->fingerprint(), engine->config());
  ASSERT_FALSE(bank.isOk());
  EXPECT_EQ(bank.status().message(),
            fresh + ": exists and is not an empty directory");
}

} // namespace
