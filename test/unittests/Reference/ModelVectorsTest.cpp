//===- ModelVectorsTest.cpp - spec §12 vectors through the whole model ----===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The §12 vectors that need the model (stage 1 packing and positions,
// routing edge cases, batches, decode semantics), plus the properties the
// reference must have: packing independence, offset invariance, batch rows
// equal to single rows, f32 and f64 accumulation agreeing.
//
//===----------------------------------------------------------------------===//

#include "TestModels.h"

#include "msa/runtime/reference/Kernels.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace msa::runtime;
using namespace msa::runtime::ref;
using namespace msa::test;

namespace {

const std::vector<int32_t> kTemplate{300, 301, 302};

/// K̄ (or V̄ / K̄ᴿ) of one document: chunks [off[j], off[j+1]) of every head.
std::vector<float> docChunks(const std::vector<float> &t, const Memory &m,
                             int64_t doc, const ModelConfig &c) {
  std::vector<float> out;
  const int64_t d = c.headDim, C = m.numChunks;
  for (int64_t h = 0; h < c.numKvHeads; ++h)
    out.insert(out.end(), t.begin() + (h * C + m.docChunkOffsets[doc]) * d,
               t.begin() + (h * C + m.docChunkOffsets[doc + 1]) * d);
  return out;
}

/// Overwrites doc `doc`'s chunks of `t` with `values` (same layout as
/// docChunks returns).
void setDocChunks(std::vector<float> &t, const Memory &m, int64_t doc,
                  const ModelConfig &c, const std::vector<float> &values) {
  const int64_t d = c.headDim, C = m.numChunks;
  const int64_t n = m.docChunkOffsets[doc + 1] - m.docChunkOffsets[doc];
  for (int64_t h = 0; h < c.numKvHeads; ++h)
    std::copy(values.begin() + h * n * d, values.begin() + (h + 1) * n * d,
              t.begin() + (h * C + m.docChunkOffsets[doc]) * d);
}

void expectSameMemory(const Memory &a, const Memory &b) {
  EXPECT_EQ(a.numChunks, b.numChunks);
  EXPECT_EQ(a.docChunkOffsets, b.docChunkOffsets);
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t r = 0; r < a.layers.size(); ++r) {
    EXPECT_EQ(a.layers[r].keys, b.layers[r].keys) << "router layer " << r;
    EXPECT_EQ(a.layers[r].values, b.layers[r].values) << "router layer " << r;
    EXPECT_EQ(a.layers[r].routerKeys, b.layers[r].routerKeys)
        << "router layer " << r;
  }
  EXPECT_EQ(a.templateKeys, b.templateKeys);
  EXPECT_EQ(a.templateValues, b.templateValues);
}

//===----------------------------------------------------------------------===//
// Stage 1
//===----------------------------------------------------------------------===//

TEST(SpecVectors, Vector03_PackingIndependence) {
  TinyModel tm(tinyConfig(), 3);
  Rng rng(303);
  std::vector<int32_t> a = randomTokens(rng, 9), b = randomTokens(rng, 6);
  Memory packed = tm.model.encode(kTemplate, {a, b}, 2048);
  Memory twoBlocks = tm.model.encode(kTemplate, {a, b}, /*blockChunks=*/1);
  Memory merged = tm.model.encodeBlock(kTemplate, {a});
  merged.append(tm.model.encodeBlock(kTemplate, {b}), tm.config.numKvHeads,
                tm.config.headDim);
  EXPECT_EQ(packed.docChunkOffsets, (std::vector<int32_t>{0, 3, 5}));
  expectSameMemory(packed, twoBlocks);
  expectSameMemory(packed, merged);

  // Hidden states of a document do not depend on what is packed with it.
  EncodeTrace both, alone;
  tm.model.encodeBlock(kTemplate, {a, b}, &both);
  tm.model.encodeBlock(kTemplate, {b}, &alone);
  const int64_t h = tm.config.hiddenSize, off = 3 + 9;
  for (size_t l = 0; l < both.hidden.size(); ++l)
    EXPECT_EQ(std::vector<float>(both.hidden[l].begin() + off * h,
                                 both.hidden[l].end()),
              std::vector<float>(alone.hidden[l].begin() + 3 * h,
                                 alone.hidden[l].end()))
        << "layer " << l;
}

TEST(SpecVectors, Vector04_TemplatePrefixEqualsPlainForward) {
  TinyModel tm(tinyConfig(), 4);
  Rng rng(404);
  Memory alone = tm.model.encodeBlock(kTemplate, {});
  Memory withDocs = tm.model.encodeBlock(
      kTemplate, {randomTokens(rng, 7), randomTokens(rng, 2)});
  EXPECT_EQ(alone.templateKeys, withDocs.templateKeys);
  EXPECT_EQ(alone.templateValues, withDocs.templateValues);

  // Layer 0 by hand: embed -> input norm -> k_proj -> k_norm -> RoPE at
  // 0, 1, 2.
  const ModelConfig &c = tm.config;
  const Numerics &nx = tm.model.numerics();
  const int64_t T = 3, d = c.headDim, hk = c.numKvHeads;
  std::vector<float> x;
  for (int32_t id : kTemplate)
    x.insert(x.end(), tm.weights.embedTokens.begin() + id * c.hiddenSize,
             tm.weights.embedTokens.begin() + (id + 1) * c.hiddenSize);
  std::vector<float> normed(x.size()), k(static_cast<size_t>(T * hk * d)),
      v(k.size());
  rmsNorm(x.data(), T, c.hiddenSize, tm.weights.layers[0].inputNorm.data(),
          c.rmsNormEps, nx, normed.data());
  linear(normed.data(), T, c.hiddenSize, tm.weights.layers[0].kProj.data(),
         hk * d, nx, k.data());
  linear(normed.data(), T, c.hiddenSize, tm.weights.layers[0].vProj.data(),
         hk * d, nx, v.data());
  rmsNorm(k.data(), T * hk, d, tm.weights.layers[0].kNorm.data(), c.rmsNormEps,
          nx, k.data());
  std::vector<int64_t> pos{0, 1, 2};
  rope(k.data(), {T, hk, d}, pos.data(), c.ropeTheta, nx);
  EXPECT_EQ(std::vector<float>(alone.templateKeys.begin(),
                               alone.templateKeys.begin() + T * hk * d),
            k);
  EXPECT_EQ(std::vector<float>(alone.templateValues.begin(),
                               alone.templateValues.begin() + T * hk * d),
            v);
}

TEST(SpecVectors, Vector05_KbarIncludesDocumentWiseRope) {
  // Router layer 0, so K̄ can be recomputed by hand from the embeddings.
  ModelConfig c = tinyConfig();
  c.msa.routerLayers = {0, 3};
  TinyModel tm(c, 5);
  Rng rng(505);
  std::vector<int32_t> doc = randomTokens(rng, 6);
  Memory first = tm.model.encodeBlock(kTemplate, {doc, randomTokens(rng, 5)});
  Memory later = tm.model.encodeBlock(
      kTemplate, {randomTokens(rng, 11), randomTokens(rng, 1), doc});
  for (size_t r = 0; r < first.layers.size(); ++r) {
    EXPECT_EQ(docChunks(first.layers[r].keys, first, 0, c),
              docChunks(later.layers[r].keys, later, 2, c));
    EXPECT_EQ(docChunks(first.layers[r].values, first, 0, c),
              docChunks(later.layers[r].values, later, 2, c));
    EXPECT_EQ(docChunks(first.layers[r].routerKeys, first, 0, c),
              docChunks(later.layers[r].routerKeys, later, 2, c));
  }

  // By hand: k at positions 0..5 of the document, pooled after RoPE.
  const Numerics &nx = tm.model.numerics();
  const int64_t n = 6, d = c.headDim, hk = c.numKvHeads;
  std::vector<float> x;
  for (int32_t id : doc)
    x.insert(x.end(), tm.weights.embedTokens.begin() + id * c.hiddenSize,
             tm.weights.embedTokens.begin() + (id + 1) * c.hiddenSize);
  std::vector<float> normed(x.size()), k(static_cast<size_t>(n * hk * d));
  rmsNorm(x.data(), n, c.hiddenSize, tm.weights.layers[0].inputNorm.data(),
          c.rmsNormEps, nx, normed.data());
  linear(normed.data(), n, c.hiddenSize, tm.weights.layers[0].kProj.data(),
         hk * d, nx, k.data());
  rmsNorm(k.data(), n * hk, d, tm.weights.layers[0].kNorm.data(), c.rmsNormEps,
          nx, k.data());
  std::vector<float> unrotated = chunkPool(k.data(), {n, hk, d}, {0, 6}, 4,
                                           false, nx);
  std::vector<int64_t> pos{0, 1, 2, 3, 4, 5};
  rope(k.data(), {n, hk, d}, pos.data(), c.ropeTheta, nx);
  std::vector<float> rotated =
      chunkPool(k.data(), {n, hk, d}, {0, 6}, 4, false, nx);
  EXPECT_EQ(docChunks(first.layers[0].keys, first, 0, c), rotated);
  EXPECT_NE(docChunks(first.layers[0].keys, first, 0, c), unrotated);
}

//===----------------------------------------------------------------------===//
// Stage 2 routing
//===----------------------------------------------------------------------===//

TEST(SpecVectors, Vector06_KLargerThanDocuments) {
  ModelConfig c = tinyConfig();
  c.msa.docTopK = 3;
  TinyModel tm(c, 6);
  Rng rng(606);
  PromptRow row = makeRow(rng, 5, 2);
  for (int64_t docs : {1, 2}) {
    std::vector<std::vector<int32_t>> corpus;
    for (int64_t j = 0; j < docs; ++j)
      corpus.push_back(randomTokens(rng, 5));
    PrefillResult r = tm.model.prefill(tm.model.encode(kTemplate, corpus), {row});
    std::vector<int32_t> all(static_cast<size_t>(docs));
    for (int64_t j = 0; j < docs; ++j)
      all[j] = static_cast<int32_t>(j);
    for (const std::vector<int32_t> &sel : r.selected[0])
      EXPECT_EQ(sel, all) << docs << " docs";
  }
  // A bank without documents: nothing to select, prefill still runs.
  Memory empty = tm.model.encode(kTemplate, {});
  EXPECT_EQ(empty.numDocs(), 0);
  PrefillResult r = tm.model.prefill(empty, {row});
  for (const std::vector<int32_t> &sel : r.selected[0])
    EXPECT_TRUE(sel.empty());
  EXPECT_EQ(r.logits[0].size(), static_cast<size_t>(c.vocabSize));
}

TEST(SpecVectors, Vector07_TiedDocumentsFollowTheLowerIdRule) {
  ModelConfig c = tinyConfig();
  Rng rng(707);
  ModelWeights w = randomWeights(c, 7);
  std::vector<std::vector<int32_t>> corpus;
  for (int j = 0; j < 4; ++j)
    corpus.push_back(randomTokens(rng, 6)); // 2 chunks each
  Memory mem = ReferenceModel(c, w).encode(kTemplate, corpus);
  // Docs 1 and 2 get identical router keys in every router layer.
  for (MemoryLayer &ml : mem.layers)
    setDocChunks(ml.routerKeys, mem, 2, c, docChunks(ml.routerKeys, mem, 1, c));
  PromptRow row = makeRow(rng, 6, 1);

  // k also sets the query positions (k_cfg), so each k is its own run; in
  // each, find whether the tie straddles the k-th place.
  int straddles = 0;
  for (int64_t k = 1; k <= 3; ++k) {
    ModelConfig ck = c;
    ck.msa.docTopK = k;
    PrefillResult r = ReferenceModel(ck, w).prefill(mem, {row});
    for (size_t l = 0; l < c.msa.routerLayers.size(); ++l) {
      const std::vector<float> &s = r.docScores[0][l];
      ASSERT_EQ(s[1], s[2]);
      int64_t above = (s[0] > s[1]) + (s[3] > s[1]);
      if (above >= k || above + 2 <= k)
        continue; // both in or both out: order irrelevant
      ++straddles;
      const std::vector<int32_t> &sel = r.selected[0][l];
      EXPECT_EQ(static_cast<int64_t>(sel.size()), k);
      EXPECT_NE(std::find(sel.begin(), sel.end(), 1), sel.end())
          << "k " << k << " layer " << l << ": the lower id of the tie wins";
      EXPECT_EQ(std::find(sel.begin(), sel.end(), 2), sel.end())
          << "k " << k << " layer " << l << ": the higher id loses";
    }
  }
  EXPECT_GT(straddles, 0) << "no run put the tie at the k-th place";
}

TEST(SpecVectors, Vector08_RoutingQueryEdgeCases) {
  TinyModel tm(tinyConfig(), 8);
  Rng rng(808);
  std::vector<std::vector<int32_t>> corpus;
  for (int j = 0; j < 5; ++j)
    corpus.push_back(randomTokens(rng, rng.uniformInt(1, 9)));
  Memory mem = tm.model.encode(kTemplate, corpus);

  // One routing token selects k documents.
  PrefillResult one = tm.model.prefill(mem, {makeRow(rng, 1, 3)});
  for (const std::vector<int32_t> &sel : one.selected[0])
    EXPECT_EQ(sel.size(), 2u);

  // No routing token (a regenerate prompt without its anchor): nothing is
  // selected and the query attends to the template and itself only, as
  // with an empty bank.
  PromptRow masked = makeRow(rng, 0, 6);
  PrefillResult none = tm.model.prefill(mem, {masked});
  for (const std::vector<int32_t> &sel : none.selected[0])
    EXPECT_TRUE(sel.empty());
  PrefillResult emptyBank =
      tm.model.prefill(tm.model.encode(kTemplate, {}), {masked});
  EXPECT_EQ(none.logits, emptyBank.logits);
}

TEST(SpecVectors, Vector09_BatchRowsEqualSingleRows) {
  TinyModel tm(tinyConfig(), 9);
  Rng rng(909);
  std::vector<std::vector<int32_t>> corpus;
  for (int j = 0; j < 6; ++j)
    corpus.push_back(randomTokens(rng, rng.uniformInt(2, 12)));
  Memory mem = tm.model.encode(kTemplate, corpus);
  std::vector<PromptRow> rows{makeRow(rng, 4, 1), makeRow(rng, 9, 2),
                              makeRow(rng, 1, 1)};
  PrefillResult batch = tm.model.prefill(mem, rows);
  for (size_t b = 0; b < rows.size(); ++b) {
    PrefillResult single = tm.model.prefill(mem, {rows[b]});
    EXPECT_EQ(batch.logits[b], single.logits[0]) << "row " << b;
    EXPECT_EQ(batch.selected[b], single.selected[0]) << "row " << b;
    EXPECT_EQ(batch.caches[b].lastPosition, single.caches[0].lastPosition);
    EXPECT_EQ(batch.caches[b].keys, single.caches[0].keys) << "row " << b;
  }
}

TEST(SpecVectors, Vector11_NormScaleMatrix) {
  struct Case {
    const char *method;
    bool decouple;
    bool norm, scale, routerKeys;
  };
  // spec §4.3: NORM iff method == INFONCE; SCALE unless INFONCE and
  // decoupled; K̄ᴿ exists iff decoupled or INFONCE (§3.3).
  const Case cases[] = {{"INFONCE", true, true, false, true},
                        {"INFONCE", false, true, true, true},
                        {"INFONCE_DECOUPLE", true, false, true, true},
                        {"INFONCE_DECOUPLE", false, false, true, false}};
  Rng rng(1111);
  std::vector<std::vector<int32_t>> corpus{randomTokens(rng, 7),
                                           randomTokens(rng, 3)};
  for (const Case &k : cases) {
    ModelConfig c = tinyConfig();
    c.msa.auxLossMethod = k.method;
    c.msa.decoupleRouter = k.decouple;
    SCOPED_TRACE(std::string(k.method) + (k.decouple ? " decoupled" : ""));
    EXPECT_EQ(c.routingNormalize(), k.norm);
    EXPECT_EQ(c.routingScale(), k.scale);
    EXPECT_EQ(c.hasRouterKeys(), k.routerKeys);

    TinyModel tm(c, 11);
    Memory mem = tm.model.encode(kTemplate, corpus);
    for (const MemoryLayer &ml : mem.layers) {
      ASSERT_EQ(ml.routerKeys.empty(), !k.routerKeys);
      if (!k.routerKeys)
        continue;
      // Unit vectors per (chunk, head) exactly when NORM.
      for (int64_t i = 0; i < mem.numChunks * c.numKvHeads; ++i) {
        double ss = 0.0;
        for (int64_t x = 0; x < c.headDim; ++x)
          ss += std::pow(ml.routerKeys[i * c.headDim + x], 2.0);
        if (k.norm)
          EXPECT_NEAR(std::sqrt(ss), 1.0, 2e-2);
        else
          EXPECT_GT(std::fabs(std::sqrt(ss) - 1.0), 2e-2);
      }
      // Not decoupled: K̄ᴿ is the normalised K̄.
      if (!k.decouple) {
        std::vector<float> renorm = ml.keys;
        for (int64_t i = 0; i < mem.numChunks * c.numKvHeads; ++i) {
          float *v = renorm.data() + i * c.headDim;
          double ss = 0.0;
          for (int64_t x = 0; x < c.headDim; ++x)
            ss += static_cast<double>(v[x]) * v[x];
          float norm = roundToBf16(static_cast<float>(std::sqrt(ss)));
          for (int64_t x = 0; x < c.headDim; ++x)
            v[x] = roundToBf16(v[x] / norm);
        }
        EXPECT_EQ(ml.routerKeys, renorm);
      }
    }
  }
}

TEST(SpecVectors, Vector13_EachRouterLayerSelectsOnItsOwn) {
  ModelConfig c = tinyConfig();
  c.msa.docTopK = 1;
  TinyModel tm(c, 13);
  Rng rng(1313);
  Memory m1 = tm.model.encode(kTemplate,
                              {randomTokens(rng, 8), randomTokens(rng, 8)});
  // Swapping the two documents' router keys in the second router layer
  // swaps their scores there and nowhere else, since routing in layer 2
  // does not read layer 3's keys.
  Memory m2 = m1;
  MemoryLayer &last = m2.layers[1];
  std::vector<float> d0 = docChunks(last.routerKeys, m2, 0, c);
  setDocChunks(last.routerKeys, m2, 0, c, docChunks(last.routerKeys, m2, 1, c));
  setDocChunks(last.routerKeys, m2, 1, c, d0);
  PromptRow row = makeRow(rng, 6, 1);
  PrefillResult r1 = tm.model.prefill(m1, {row});
  PrefillResult r2 = tm.model.prefill(m2, {row});
  EXPECT_EQ(r1.selected[0][0], r2.selected[0][0]);
  EXPECT_EQ(r1.docScores[0][1][0], r2.docScores[0][1][1]);
  EXPECT_EQ(r1.docScores[0][1][1], r2.docScores[0][1][0]);
  ASSERT_NE(r1.docScores[0][1][0], r1.docScores[0][1][1]);
  EXPECT_NE(r1.selected[0][1], r2.selected[0][1]);
  // So in one of the two banks the router layers disagree.
  EXPECT_TRUE(r1.selected[0][0] != r1.selected[0][1] ||
              r2.selected[0][0] != r2.selected[0][1]);
}

//===----------------------------------------------------------------------===//
// Stage 3
//===----------------------------------------------------------------------===//

TEST(SpecVectors, Vector14_SingleTokenDecodeEqualsDenseCausalPrefill) {
  TinyModel tm(tinyConfig(), 14);
  Rng rng(1414);
  Memory mem = tm.model.encode(kTemplate, {randomTokens(rng, 9),
                                           randomTokens(rng, 3),
                                           randomTokens(rng, 14)});
  PromptRow row = makeRow(rng, 7, 2);
  PrefillResult pre = tm.model.prefill(mem, {row});
  std::vector<int32_t> generated = randomTokens(rng, 4);
  PromptRow grown = row;
  for (int32_t g : generated) {
    std::vector<std::vector<float>> step =
        tm.model.decode(pre.caches, {{g}}, {{1}});
    // The same sequence as one prefill: generated tokens are active but do
    // not route, so routing is unchanged and attention is causal.
    grown.tokens.push_back(g);
    grown.roles.push_back(-1);
    PrefillResult dense = tm.model.prefill(mem, {grown});
    EXPECT_EQ(dense.selected[0], pre.selected[0]);
    EXPECT_LT(relativeError(step[0], dense.logits[0]), 1e-6);
  }
}

TEST(SpecVectors, Vector14_MultiTokenBlockIsNonCausal) {
  TinyModel tm(tinyConfig(), 15);
  Rng rng(1415);
  Memory mem = tm.model.encode(kTemplate, {randomTokens(rng, 5)});
  PromptRow row = makeRow(rng, 4, 1);
  std::vector<int32_t> block = randomTokens(rng, 3);
  int32_t next = 77;

  PrefillResult a = tm.model.prefill(mem, {row});
  tm.model.decode(a.caches, {block}, {{1, 1, 1}});
  std::vector<float> afterBlock = tm.model.decode(a.caches, {{next}}, {{1}})[0];

  PrefillResult b = tm.model.prefill(mem, {row});
  for (int32_t t : block)
    tm.model.decode(b.caches, {{t}}, {{1}});
  std::vector<float> afterSteps = tm.model.decode(b.caches, {{next}}, {{1}})[0];

  // Same positions, same tokens; only the first block tokens' view of the
  // later ones differs (they attend to the whole block, §5, §11.7).
  EXPECT_EQ(a.caches[0].lastPosition, b.caches[0].lastPosition);
  EXPECT_GT(relativeError(afterBlock, afterSteps), 1e-4);
}

TEST(SpecVectors, Vector14_MaskedTokensAreInvisibleAndKeepThePosition) {
  TinyModel tm(tinyConfig(), 16);
  Rng rng(1416);
  Memory mem = tm.model.encode(kTemplate, {randomTokens(rng, 6)});
  PromptRow row = makeRow(rng, 5, 1);

  PrefillResult plain = tm.model.prefill(mem, {row});
  tm.model.decode(plain.caches, {{40}}, {{1}});
  std::vector<float> want = tm.model.decode(plain.caches, {{41}}, {{1}})[0];

  PrefillResult frozen = tm.model.prefill(mem, {row});
  tm.model.decode(frozen.caches, {{40}}, {{1}});
  int64_t before = frozen.caches[0].lastPosition;
  tm.model.decode(frozen.caches, {{40}}, {{0}}); // frozen: fed again, masked
  EXPECT_EQ(frozen.caches[0].lastPosition, before);
  std::vector<float> got = tm.model.decode(frozen.caches, {{41}}, {{1}})[0];
  EXPECT_EQ(got, want);
}

TEST(SpecVectors, Vector19_PositionBookkeeping) {
  ModelConfig c = tinyConfig();
  c.msa.docTopK = 16; // k_cfg = 16: the active context starts at 3 + 16
  TinyModel tm(c, 19);
  Rng rng(1919);
  Memory mem = tm.model.encode(kTemplate, {randomTokens(rng, 5)});
  EXPECT_EQ(tm.model.activeStart(3), 19);
  std::vector<PromptRow> rows{makeRow(rng, 6, 2), makeRow(rng, 3, 1)};
  PrefillResult r = tm.model.prefill(mem, rows);
  // The last prompt token sits at 19 + Q - 1, so the first generated one
  // lands on 19 + Q_real whatever the left padding.
  EXPECT_EQ(r.caches[0].lastPosition, 19 + 8 - 1);
  EXPECT_EQ(r.caches[1].lastPosition, 19 + 4 - 1);
  tm.model.decode(r.caches, {{5}, {6}}, {{1}, {1}});
  EXPECT_EQ(r.caches[0].lastPosition, 19 + 8);
  EXPECT_EQ(r.caches[1].lastPosition, 19 + 4);

  // An injected block left-padded inside the step: its n real tokens take
  // p + 1 .. p + n, and the padding changes nothing.
  PrefillResult padded = tm.model.prefill(mem, {rows[0]});
  PrefillResult tight = tm.model.prefill(mem, {rows[0]});
  int64_t p = padded.caches[0].lastPosition;
  std::vector<float> lp =
      tm.model.decode(padded.caches, {{0, 0, 7, 8}}, {{0, 0, 1, 1}})[0];
  std::vector<float> lt = tm.model.decode(tight.caches, {{7, 8}}, {{1, 1}})[0];
  EXPECT_EQ(padded.caches[0].lastPosition, p + 2);
  EXPECT_EQ(lp, lt);
}

//===----------------------------------------------------------------------===//
// Properties
//===----------------------------------------------------------------------===//

TEST(ReferenceProperties, F32AndF64AccumulationAgree) {
  ModelConfig c = tinyConfig(DType::kF32);
  TinyModel f64(c, 21, Numerics{DType::kF32, true});
  TinyModel f32(c, 21, Numerics{DType::kF32, false});
  Rng rng(2121);
  std::vector<std::vector<int32_t>> corpus;
  for (int j = 0; j < 6; ++j)
    corpus.push_back(randomTokens(rng, rng.uniformInt(3, 20)));
  std::vector<PromptRow> rows{makeRow(rng, 8, 2), makeRow(rng, 3, 3)};
  Memory m64 = f64.model.encode(kTemplate, corpus);
  Memory m32 = f32.model.encode(kTemplate, corpus);
  for (size_t r = 0; r < m64.layers.size(); ++r)
    EXPECT_LT(relativeError(m32.layers[r].keys, m64.layers[r].keys), 1e-5);
  PrefillResult a = f64.model.prefill(m64, rows);
  PrefillResult b = f32.model.prefill(m32, rows);
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(a.selected[i], b.selected[i]);
    EXPECT_LT(relativeError(b.logits[i], a.logits[i]), 1e-5);
  }
}

TEST(ReferenceProperties, Bf16ModelTracksF32Model) {
  // The same weights (bf16 values) run with bf16 rounding and without:
  // logits agree to bf16 precision.
  ModelConfig c = tinyConfig(DType::kBF16);
  ModelWeights w = randomWeights(c, 22);
  ReferenceModel rounded(c, w, Numerics{DType::kBF16, true});
  ReferenceModel exact(c, w, Numerics{DType::kF32, true});
  Rng rng(2222);
  std::vector<std::vector<int32_t>> corpus{randomTokens(rng, 11),
                                           randomTokens(rng, 4)};
  PromptRow row = makeRow(rng, 6, 1);
  PrefillResult a = rounded.prefill(rounded.encode(kTemplate, corpus), {row});
  PrefillResult b = exact.prefill(exact.encode(kTemplate, corpus), {row});
  EXPECT_LT(relativeError(a.logits[0], b.logits[0]), 5e-2);
  EXPECT_GT(relativeError(a.logits[0], b.logits[0]), 0.0);
}

} // namespace
