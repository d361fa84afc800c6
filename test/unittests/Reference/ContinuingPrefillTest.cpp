//===- ContinuingPrefillTest.cpp - reuse across Memory Interleave calls ---===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A continuing prefill (docs/interleave-reuse.md) takes the layers below
// the first router layer of a shared prefix from the previous call instead
// of computing them again. It must give what a full prefill of the new row
// gives: bit for bit when the prefix came from a prefill (the same
// arithmetic on the same inputs), within rounding when it came from decode
// steps (decode attends through the one-cache path), with the same
// selections either way.
//
//===----------------------------------------------------------------------===//

#include "TestModels.h"

#include <gtest/gtest.h>

using namespace msa::runtime;
using namespace msa::runtime::ref;
using namespace msa::test;

namespace {

const std::vector<int32_t> kTemplate{1, 2, 3};

/// `row` followed by `tokens` with `roles`.
PromptRow extend(PromptRow row, const std::vector<int32_t> &tokens,
                 const std::vector<int32_t> &roles) {
  row.tokens.insert(row.tokens.end(), tokens.begin(), tokens.end());
  row.roles.insert(row.roles.end(), roles.begin(), roles.end());
  return row;
}

/// The later call's roles: the first `routing` tokens route, the new
/// tokens from `from` on route too, everything else is active.
PromptRow reroled(PromptRow row, int64_t routing, int64_t from) {
  for (size_t i = 0; i < row.roles.size(); ++i)
    row.roles[i] = static_cast<int64_t>(i) < routing ||
                           static_cast<int64_t>(i) >= from
                       ? kRoleRouting
                       : kRoleActive;
  return row;
}

TEST(ContinuingPrefill, FromAPrefillIsBitForBitTheFullPrefill) {
  TinyModel tm(tinyConfig(), 21);
  Rng rng(2121);
  Memory mem = tm.model.encode(kTemplate, {randomTokens(rng, 9),
                                           randomTokens(rng, 13),
                                           randomTokens(rng, 6)});
  PromptRow first = makeRow(rng, 6, 2);
  PrefillResult pre = tm.model.prefill(mem, {first});
  EXPECT_EQ(pre.caches[0].causalTokens, first.tokens);
  const int64_t hidden = tm.config.hiddenSize;
  EXPECT_EQ(pre.caches[0].routerInput.size(),
            first.tokens.size() * static_cast<size_t>(hidden));

  PromptRow later = reroled(extend(first, randomTokens(rng, 5),
                                   std::vector<int32_t>(5, kRoleActive)),
                            5, 9);
  PrefillResult full = tm.model.prefill(mem, {later});
  PrefillResult cont = tm.model.prefillContinuing(
      mem, later, pre.caches[0], static_cast<int64_t>(first.tokens.size()));
  EXPECT_EQ(cont.selected, full.selected);
  EXPECT_EQ(cont.docScores, full.docScores);
  EXPECT_EQ(cont.logits, full.logits);
  for (int64_t l = 0; l < tm.config.numLayers; ++l) {
    EXPECT_EQ(cont.caches[0].keys[l], full.caches[0].keys[l]) << l;
    EXPECT_EQ(cont.caches[0].values[l], full.caches[0].values[l]) << l;
    EXPECT_EQ(cont.caches[0].valid[l], full.caches[0].valid[l]) << l;
  }
  EXPECT_EQ(cont.caches[0].routerInput, full.caches[0].routerInput);
  EXPECT_EQ(cont.caches[0].causalTokens, later.tokens);
  EXPECT_EQ(cont.caches[0].lastPosition, full.caches[0].lastPosition);
}

TEST(ContinuingPrefill, FromDecodeStepsMatchesWithinRounding) {
  TinyModel tm(tinyConfig(), 22);
  Rng rng(2222);
  Memory mem = tm.model.encode(kTemplate, {randomTokens(rng, 11),
                                           randomTokens(rng, 4),
                                           randomTokens(rng, 17)});
  PromptRow first = makeRow(rng, 7, 1);
  PrefillResult pre = tm.model.prefill(mem, {first});
  std::vector<int32_t> generated = randomTokens(rng, 4);
  for (int32_t g : generated)
    tm.model.decode(pre.caches, {{g}}, {{1}});
  PromptRow fed = extend(first, generated,
                         std::vector<int32_t>(generated.size(), kRoleActive));
  EXPECT_EQ(pre.caches[0].causalTokens, fed.tokens);

  PromptRow later = reroled(extend(fed, randomTokens(rng, 6),
                                   std::vector<int32_t>(6, kRoleActive)),
                            6, static_cast<int64_t>(fed.tokens.size()));
  PrefillResult full = tm.model.prefill(mem, {later});
  PrefillResult cont = tm.model.prefillContinuing(
      mem, later, pre.caches[0], static_cast<int64_t>(fed.tokens.size()));
  EXPECT_EQ(cont.selected, full.selected);
  for (size_t r = 0; r < full.docScores[0].size(); ++r)
    EXPECT_LT(relativeError(cont.docScores[0][r], full.docScores[0][r]), 1e-5);
  EXPECT_LT(relativeError(cont.logits[0], full.logits[0]), 1e-5);
  // Decoding on from either gives the same next logits.
  std::vector<float> a = tm.model.decode(cont.caches, {{42}}, {{1}})[0];
  std::vector<float> b = tm.model.decode(full.caches, {{42}}, {{1}})[0];
  EXPECT_LT(relativeError(a, b), 1e-5);
}

TEST(ContinuingPrefill, OnlyCausalStepsExtendTheReusablePrefix) {
  TinyModel tm(tinyConfig(), 23);
  Rng rng(2323);
  Memory mem = tm.model.encode(kTemplate, {randomTokens(rng, 8)});
  PromptRow first = makeRow(rng, 4, 1);
  PrefillResult pre = tm.model.prefill(mem, {first});
  tm.model.decode(pre.caches, {{7}}, {{1}});
  // A multi-token block sees itself non-causally: it and what follows are
  // not a prefix a prefill would compute.
  tm.model.decode(pre.caches, {{8, 9}}, {{1, 1}});
  tm.model.decode(pre.caches, {{10}}, {{1}});
  std::vector<int32_t> want = first.tokens;
  want.push_back(7);
  EXPECT_EQ(pre.caches[0].causalTokens, want);
  EXPECT_TRUE(pre.caches[0].causalClosed);
  EXPECT_EQ(pre.caches[0].routerInput.size(),
            want.size() * static_cast<size_t>(tm.config.hiddenSize));
  // So does a masked token.
  PrefillResult masked = tm.model.prefill(mem, {first});
  tm.model.decode(masked.caches, {{7}}, {{0}});
  EXPECT_EQ(masked.caches[0].causalTokens, first.tokens);
  EXPECT_TRUE(masked.caches[0].causalClosed);
}

} // namespace
