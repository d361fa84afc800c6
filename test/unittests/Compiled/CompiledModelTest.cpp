//===- CompiledModelTest.cpp - whole model: bundle vs reference -----------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// For several model configurations: write a random checkpoint, compile it
// with msa-compile for the test target (cpu by default, TestTarget.h), and
// run the same corpus and questions
// through the compiled bundle and the reference backend. Stage 1 must give
// the same pooled memory within bf16 tolerance; from the same memory,
// stage 2 must select the same documents in every router layer with logits
// within tolerance; and greedy decoding must produce the same 16 tokens.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Checkpoint.h"
#include "msa/runtime/Engine.h"
#include "msa/runtime/FileUtil.h"
#include "msa/runtime/Interleave.h"
#include "msa/runtime/ModelPresets.h"
#include "msa/runtime/Prompt.h"
#include "msa/runtime/Random.h"

#include "TestTarget.h"

#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <cstdio>
#include <cstdlib>

using namespace msa::runtime;

namespace {

double relativeError(const std::vector<float> &a, const std::vector<float> &b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    den += double(b[i]) * b[i];
  }
  return a.size() != b.size() ? INFINITY : std::sqrt(num / std::max(den, 1e-30));
}

std::string tempDir() {
  std::string tmpl = ::testing::TempDir() + "msa-compiled-XXXXXX";
  char *dir = mkdtemp(tmpl.data());
  return dir ? std::string(dir) : std::string();
}

/// A random corpus: words of letters, documents of `lengths` characters.
std::vector<Document> corpus(Rng &rng, const std::vector<int> &lengths) {
  std::vector<Document> docs;
  for (int n : lengths) {
    std::string text;
    while (static_cast<int>(text.size()) < n)
      text += static_cast<char>('a' + rng.uniformInt(0, 25)) +
              std::string(rng.uniformInt(0, 3) == 0 ? " " : "");
    docs.push_back({"", text.substr(0, static_cast<size_t>(n))});
  }
  return docs;
}

struct Case {
  const char *name;
  ModelConfig config;
  double tolerance;
};

ModelConfig base(const char *preset = "tiny") {
  ModelConfig c = *presetConfig(preset);
  c.tieWordEmbeddings = false; // random lm_head: greedy tokens vary
  return c;
}

std::vector<Case> cases() {
  std::vector<Case> v;
  v.push_back({"tiny_bf16_msa4b_recipe", base(), 1e-2});
  {
    ModelConfig c = base();
    c.dtype = DType::kF32;
    v.push_back({"tiny_f32", c, 1e-4});
  }
  {
    // Routing by q itself with normalised K̄ copies (INFONCE, not decoupled).
    ModelConfig c = base();
    c.msa.decoupleRouter = false;
    c.msa.auxLossMethod = "INFONCE";
    c.msa.headReduce = HeadReduce::kMax;
    c.msa.queryReduce = QueryReduce::kMean;
    c.msa.chunkReduce = ChunkReduce::kMean;
    v.push_back({"tiny_infonce_not_decoupled_mean", c, 1e-2});
  }
  {
    // GQA 4 and head dim 64 with a P that rarely divides a document.
    ModelConfig c = base();
    c.hiddenSize = 128;
    c.numHeads = 8;
    c.numKvHeads = 2;
    c.headDim = 64;
    c.intermediateSize = 256;
    c.msa.poolingKernelSize = 5;
    c.msa.docTopK = 3;
    c.msa.topKDocs = 3;
    c.msa.routerLayers = {1, 3};
    v.push_back({"gqa4_d64_p5_k3", c, 1e-2});
  }
  {
    // GQA 8 and head dim 128, decoupled INFONCE (normalised, unscaled).
    ModelConfig c = base();
    c.hiddenSize = 128;
    c.numHeads = 8;
    c.numKvHeads = 1;
    c.headDim = 128;
    c.intermediateSize = 192;
    c.msa.auxLossMethod = "INFONCE";
    c.msa.queryReduce = QueryReduce::kLast;
    c.msa.routerLayers = {0, 1, 2, 3};
    v.push_back({"gqa8_d128_infonce_last", c, 1e-2});
  }
  return v;
}

class WholeModel : public ::testing::TestWithParam<Case> {};

TEST_P(WholeModel, BundleMatchesReference) {
  const Case &tc = GetParam();
  std::string dir = tempDir();
  ASSERT_FALSE(dir.empty());
  std::string model = joinPath(dir, "model");
  ASSERT_TRUE(writeRandomCheckpoint(model, tc.config, 11).isOk());
  std::string bundle = msa::test::bundleFor(
      std::string("model_") + tc.name, msa::test::slurp(joinPath(model, "config.json")),
      "--model " + model, dir);
  ASSERT_FALSE(bundle.empty());
  if (msa::test::compileOnly())
    GTEST_SKIP() << "compile only";

  EngineOptions refOptions;
  StatusOr<std::unique_ptr<Engine>> ref = Engine::open(model, refOptions);
  ASSERT_TRUE(ref.isOk()) << ref.status().message();
  EngineOptions cpuOptions;
  cpuOptions.backend = msa::test::testBackend();
  cpuOptions.bundle = bundle;
  cpuOptions.threads = 2;
  StatusOr<std::unique_ptr<Engine>> cpu = Engine::open(model, cpuOptions);
  ASSERT_TRUE(cpu.isOk()) << cpu.status().message();

  // Documents shorter than P, of exactly P tokens after wrapping, and long.
  Rng rng(1234);
  std::vector<Document> docs =
      corpus(rng, {1, 3, 40, 7, 90, 2, 33, 150, 12, 64, 5, 20});
  StatusOr<PooledMemory> refMem = (*ref)->encode(docs);
  StatusOr<PooledMemory> cpuMem = (*cpu)->encode(docs);
  ASSERT_TRUE(refMem.isOk()) << refMem.status().message();
  ASSERT_TRUE(cpuMem.isOk()) << cpuMem.status().message();

  // Stage 1: identical chunk tables, pooled tensors within tolerance.
  EXPECT_EQ(cpuMem->docChunkOffsets, refMem->docChunkOffsets);
  ASSERT_EQ(cpuMem->keys.size(), refMem->keys.size());
  for (size_t r = 0; r < refMem->keys.size(); ++r) {
    EXPECT_LT(relativeError(toF32(cpuMem->keys[r]), toF32(refMem->keys[r])),
              tc.tolerance)
        << "K̄ of router layer " << r;
    EXPECT_LT(relativeError(toF32(cpuMem->values[r]), toF32(refMem->values[r])),
              tc.tolerance)
        << "V̄ of router layer " << r;
    if (refMem->routerKeys[r].data) {
      EXPECT_LT(relativeError(toF32(cpuMem->routerKeys[r]),
                              toF32(refMem->routerKeys[r])),
                tc.tolerance)
          << "K̄ᴿ of router layer " << r;
    }
  }
  for (size_t l = 0; l < refMem->templateKeys.size(); ++l)
    EXPECT_LT(relativeError(toF32(cpuMem->templateKeys[l]),
                            toF32(refMem->templateKeys[l])),
              tc.tolerance)
        << "template keys of layer " << l;

  // Stages 2 and 3 from the same memory: same selections in every router
  // layer, logits within tolerance, the same 16 greedy tokens.
  int freeRunning = 0;
  double worstStep = 0.0;
  for (const char *question : {"When was Bill Watts born?", "cats",
                               "Which document talks about the sun?",
                               "paris", "What is the capital?"}) {
    SCOPED_TRACE(question);
    PromptRow row = questionRow((*ref)->tokenizer(), question);
    StatusOr<std::unique_ptr<Session>> rs =
        (*ref)->backend().prefill(*refMem, row);
    StatusOr<std::unique_ptr<Session>> cs =
        (*cpu)->backend().prefill(*refMem, row);
    ASSERT_TRUE(rs.isOk()) << rs.status().message();
    ASSERT_TRUE(cs.isOk()) << cs.status().message();
    // The same documents in every router layer -- unless the reference
    // itself has a near-tie at the k-th place: the compiled and reference
    // hidden states agree to rounding, so scores 1-2 bf16 ulps apart may
    // swap. Then every document that differs must be such a near-tie, and
    // the rest of the comparison (which now attends to other chunks) stops.
    bool sameSelections = (*cs)->selected == (*rs)->selected;
    if (!sameSelections) {
      for (size_t r = 0; r < (*rs)->selected.size(); ++r) {
        const std::vector<float> &sc = (*rs)->docScores[r];
        const std::vector<int32_t> &want = (*rs)->selected[r];
        float kth = INFINITY;
        for (int32_t d : want)
          kth = std::min(kth, sc[d]);
        for (int32_t d : (*cs)->selected[r]) {
          if (std::find(want.begin(), want.end(), d) != want.end())
            continue;
          float ulp = std::ldexp(1.0f, std::ilogb(std::fabs(kth)) - 7);
          EXPECT_LE(std::fabs(sc[d] - kth), 2 * ulp)
              << "router layer " << r << " selects document " << d
              << " (reference score " << sc[d] << ") over the reference's "
              << "k-th score " << kth;
        }
      }
      continue;
    }
    EXPECT_LT(relativeError((*cs)->logits, (*rs)->logits), tc.tolerance);

    // 16 decode steps fed the reference's greedy tokens: logits within
    // tolerance at every step, and the same argmax wherever the
    // reference's winner leads by more than the dtype can blur. (bf16
    // logits near 24 are 0.125 apart: two backends that accumulate in
    // different orders may round a near-tie either way.)
    const bool bf16 = tc.config.dtype == DType::kBF16;
    // Decode logits pass every layer once per step over a KV cache whose
    // bf16 entries each backend rounds on its own, so the kernels' 1e-2
    // compounds: the cpu bundle reaches 0.98e-2 by step 9 of
    // gqa4_d64_p5_k3, the cuda bundle 1.06e-2 (H200, 2026-11-28). bf16
    // steps get twice the kernel tolerance; argmax and selections stay
    // exact.
    const double stepTolerance = bf16 ? 2 * tc.tolerance : tc.tolerance;
    bool allClear = true;
    for (int step = 0; step < 16; ++step) {
      const std::vector<float> &rl = (*rs)->logits, &cl = (*cs)->logits;
      double err = relativeError(cl, rl);
      worstStep = std::max(worstStep, err);
      EXPECT_LT(err, stepTolerance) << "step " << step;
      int32_t r0 = argmax(rl);
      float second = -INFINITY;
      for (size_t i = 0; i < rl.size(); ++i)
        if (static_cast<int32_t>(i) != r0)
          second = std::max(second, rl[i]);
      float ulp = std::ldexp(1.0f, std::ilogb(std::fabs(rl[r0])) -
                                       (bf16 ? 7 : 23));
      if (rl[r0] - second > 2 * ulp)
        EXPECT_EQ(argmax(cl), r0) << "step " << step;
      else
        allClear = false;
      ASSERT_TRUE((*ref)->backend().decode(*refMem, **rs, {r0}, {1}).isOk());
      ASSERT_TRUE((*cpu)->backend().decode(*refMem, **cs, {r0}, {1}).isOk());
    }
    // Where no step is a near-tie, free-running greedy decoding must give
    // the same tokens (up to 16; EOS may stop both earlier).
    if (allClear || !bf16) {
      ++freeRunning;
      StatusOr<Answer> ra = (*ref)->ask(*refMem, question, 16);
      StatusOr<Answer> ca = (*cpu)->ask(*refMem, question, 16);
      ASSERT_TRUE(ra.isOk() && ca.isOk());
      EXPECT_EQ(ca->tokens, ra->tokens);
      EXPECT_EQ(ca->selected, ra->selected);
    }
  }
  RecordProperty("free_running_questions", freeRunning);
  std::printf("[ errors ] %s: worst decode-step logits error %.3e (tolerance "
              "%.0e)\n",
              tc.name, worstStep,
              tc.config.dtype == DType::kBF16 ? 2 * tc.tolerance : tc.tolerance);
  (void)removeTree(dir);
}

INSTANTIATE_TEST_SUITE_P(Configs, WholeModel, ::testing::ValuesIn(cases()),
                         [](const auto &info) { return info.param.name; });

/// Whether `got` differs from the reference's selection `want` only by
/// near-ties: every document it has instead scores within 2 bf16 ulps of
/// the reference's k-th score (compiled and reference hidden states agree
/// to rounding, so such documents may swap).
bool sameUpToNearTies(const std::vector<std::vector<int32_t>> &got,
                      const Session &reference) {
  if (got.size() != reference.selected.size())
    return false;
  for (size_t r = 0; r < got.size(); ++r) {
    const std::vector<int32_t> &want = reference.selected[r];
    const std::vector<float> &sc = reference.docScores[r];
    float kth = INFINITY;
    for (int32_t d : want)
      kth = std::min(kth, sc[d]);
    for (int32_t d : got[r]) {
      if (std::find(want.begin(), want.end(), d) != want.end())
        continue;
      float ulp = std::ldexp(1.0f, std::ilogb(std::fabs(kth)) - 7);
      if (d < 0 || d >= static_cast<int32_t>(sc.size()) ||
          std::fabs(sc[d] - kth) > 2 * ulp)
        return false;
    }
  }
  return true;
}

/// The Memory Interleave tests' model (the tiny preset, seed 7) and an
/// engine over its bundle for the test target.
class CompiledInterleave : public ::testing::Test {
protected:
  void SetUp() override {
    dir = tempDir();
    ASSERT_FALSE(dir.empty());
    model = joinPath(dir, "model");
    ASSERT_TRUE(writeRandomCheckpoint(model, base(), 7).isOk());
    std::string bundle = msa::test::bundleFor(
        "model_interleave", msa::test::slurp(joinPath(model, "config.json")),
        "--model " + model, dir);
    ASSERT_FALSE(bundle.empty());
    if (msa::test::compileOnly())
      GTEST_SKIP() << "compile only";
    EngineOptions co;
    co.backend = msa::test::testBackend();
    co.bundle = bundle;
    co.threads = 2;
    StatusOr<std::unique_ptr<Engine>> e = Engine::open(model, co);
    ASSERT_TRUE(e.isOk()) << e.status().message();
    compiled = std::move(e).value();
  }
  void TearDown() override { (void)removeTree(dir); }

  std::string dir, model;
  std::unique_ptr<Engine> compiled;
};

// Memory Interleave through a compiled bundle, driven by forced tokens so
// every call's text is fixed: the same calls, prompts and transcript as
// the reference backend, and each call's routing the reference's (up to
// near-ties).
TEST_F(CompiledInterleave, ForcedExchangeMatchesTheReference) {
  StatusOr<std::unique_ptr<Engine>> ref = Engine::open(model, EngineOptions());
  ASSERT_TRUE(ref.isOk()) << ref.status().message();

  std::vector<Document> docs{{"", "Erik Watts is the son of Bill Watts."},
                             {"", "Bill Watts was born on May 5, 1939."},
                             {"", "Paris is the capital of France."},
                             {"", "The cat sat on the mat."}};
  std::vector<std::string> texts;
  for (const Document &d : docs)
    texts.push_back(d.text);
  StatusOr<PooledMemory> memory = (*ref)->encode(docs);
  ASSERT_TRUE(memory.isOk()) << memory.status().message();
  InterleaveOptions o;
  o.generation.forcedTokens = (*ref)->encodeText(
      "[0]<|object_ref_end|>[1][3]<|object_ref_end|><End-of-Retrieve>"
      "The answer to the question is: 1939<|im_end|>");
  const std::string question = "When was Erik's father born?";
  StatusOr<InterleaveResult> want =
      (*ref)->interleave(*memory, texts, question, o);
  StatusOr<InterleaveResult> got =
      compiled->interleave(*memory, texts, question, o);
  ASSERT_TRUE(want.isOk()) << want.status().message();
  ASSERT_TRUE(got.isOk()) << got.status().message();
  ASSERT_EQ(got->calls.size(), 3u);
  EXPECT_EQ(got->transcript, want->transcript);
  EXPECT_EQ(got->answer, std::optional<std::string>("1939"));
  std::string before = interleave::firstPromptText(question);
  for (size_t i = 0; i < got->calls.size(); ++i) {
    EXPECT_EQ(got->calls[i].promptTokens, want->calls[i].promptTokens);
    EXPECT_EQ(got->calls[i].documents, want->calls[i].documents);
    PromptRow row = i == 0 ? questionRow((*ref)->tokenizer(), question)
                           : regenerateRow((*ref)->tokenizer(), before);
    StatusOr<std::unique_ptr<Session>> s =
        (*ref)->backend().prefill(*memory, row);
    ASSERT_TRUE(s.isOk()) << s.status().message();
    EXPECT_EQ(want->calls[i].selected, (*s)->selected);
    EXPECT_TRUE(sameUpToNearTies(got->calls[i].selected, **s))
        << "call " << i;
    before += got->calls[i].idText + got->calls[i].block +
              got->calls[i].answerText;
  }
  // Later calls continued the previous call's work (prefill_head and
  // prefill_tail) and still routed as a full prefill does.
  EXPECT_EQ(got->calls[0].reusedTokens, 0);
  for (size_t i = 1; i < got->calls.size(); ++i)
    EXPECT_GT(got->calls[i].reusedTokens, 0) << "call " << i;
  o.reusePrefix = false;
  StatusOr<InterleaveResult> scratch =
      compiled->interleave(*memory, texts, question, o);
  ASSERT_TRUE(scratch.isOk()) << scratch.status().message();
  EXPECT_EQ(scratch->transcript, got->transcript);
  for (size_t i = 0; i < got->calls.size(); ++i)
    EXPECT_EQ(scratch->calls[i].selected, got->calls[i].selected) << i;
}

// The split prefill of a compiled bundle: prefill_head over a prefix's
// cached K/V then prefill_tail from the hidden states gives what
// route_prefill gives for the whole row (within rounding: the new tokens'
// attention is computed apart from the prefix's).
TEST_F(CompiledInterleave, ContinuingPrefillMatchesAFullPrefill) {
  Rng rng(77);
  StatusOr<PooledMemory> memory =
      compiled->encode(corpus(rng, {40, 90, 12, 64, 150, 7}));
  ASSERT_TRUE(memory.isOk()) << memory.status().message();
  Backend &b = compiled->backend();
  PromptRow first = questionRow(compiled->tokenizer(), "Who wrote it?");
  StatusOr<std::unique_ptr<Session>> s = b.prefill(*memory, first);
  ASSERT_TRUE(s.isOk()) << s.status().message();
  std::vector<int32_t> fed = first.tokens;
  for (int32_t t : {91, 49, 93, 259}) {
    ASSERT_TRUE(b.decode(*memory, **s, {t}, {1}).isOk());
    fed.push_back(t);
  }
  std::string text = interleave::firstPromptText("Who wrote it?") +
                     "[1]<|object_ref_end|>[1]. some evidence text\n"
                     "<|object_ref_end|>";
  PromptRow later = regenerateRow(compiled->tokenizer(), text);
  ASSERT_GT(later.tokens.size(), fed.size());
  ASSERT_TRUE(std::equal(fed.begin(), fed.end(), later.tokens.begin()));
  int64_t reused = 0;
  StatusOr<std::unique_ptr<Session>> cont =
      b.prefillContinuing(*memory, later, **s, reused);
  StatusOr<std::unique_ptr<Session>> full = b.prefill(*memory, later);
  ASSERT_TRUE(cont.isOk()) << cont.status().message();
  ASSERT_TRUE(full.isOk()) << full.status().message();
  EXPECT_EQ(reused, static_cast<int64_t>(fed.size()));
  EXPECT_EQ((*cont)->selected, (*full)->selected);
  EXPECT_LT(relativeError((*cont)->logits, (*full)->logits), 1e-2);
  // Decoding on from either.
  ASSERT_TRUE(b.decode(*memory, **cont, {42}, {1}).isOk());
  ASSERT_TRUE(b.decode(*memory, **full, {42}, {1}).isOk());
  EXPECT_LT(relativeError((*cont)->logits, (*full)->logits), 1e-2);
}

TEST(CompiledModel, RefusesABundleOfAnotherModel) {
  // A check of the bundle against the checkpoint, the same on every target.
  if (msa::test::testTarget() != "cpu" || msa::test::compileOnly())
    GTEST_SKIP() << "runs on the cpu target";
  std::string dir = tempDir();
  ModelConfig a = base(), b = base();
  b.intermediateSize = 96;
  ASSERT_TRUE(writeRandomCheckpoint(joinPath(dir, "a"), a, 1).isOk());
  ASSERT_TRUE(writeRandomCheckpoint(joinPath(dir, "b"), b, 1).isOk());
  std::string bundle = joinPath(dir, "a.msab");
  std::string cmd = std::string(MSA_TOOLS_DIR) + "/msa-compile --model " +
                    joinPath(dir, "a") + " -o " + bundle;
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EngineOptions o;
  o.backend = "cpu";
  o.bundle = bundle;
  StatusOr<std::unique_ptr<Engine>> e = Engine::open(joinPath(dir, "b"), o);
  ASSERT_FALSE(e.isOk());
  EXPECT_NE(e.status().message().find("compiled for another model"),
            std::string::npos)
      << e.status().message();
  EXPECT_NE(e.status().message().find("intermediate_size"), std::string::npos);
  (void)removeTree(dir);
}

} // namespace
