//===- InterleaveTest.cpp - the Memory Interleave controller -------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Memory Interleave (msa-semantics.md §8.2-§8.3) at two levels:
// - the protocol on token streams: the decision after each token of a
//   generated stream, the outer loop's test, the regenerate prompt's roles;
// - the engine with the tiny model (reference backend), driven by forced
//   tokens through the real prefill and decode: every call's prompt,
//   routing, blocks and transcript, the caps, EOS, and a batch equal to its
//   single rows. A hand-driven run through the backend checks the engine
//   feeds exactly what §8.3 says (the delimiter, the question block as one
//   multi-token step).
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Engine.h"
#include "msa/runtime/FileUtil.h"
#include "msa/runtime/Interleave.h"
#include "msa/runtime/ModelPresets.h"
#include "msa/runtime/Prompt.h"
#include "msa/runtime/Tokenizer.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

using namespace msa::runtime;
using namespace msa::runtime::interleave;

namespace {

//===----------------------------------------------------------------------===//
// The protocol on token streams
//===----------------------------------------------------------------------===//

/// The decision after each token of `stream` (token texts, in order).
std::vector<Next> decisions(const std::vector<std::string> &stream) {
  std::vector<Next> out;
  std::string response;
  for (const std::string &t : stream) {
    response += t;
    out.push_back(afterToken(response));
  }
  return out;
}

TEST(InterleaveProtocol, IdsThenTheDelimiterEndTheRound) {
  EXPECT_EQ(decisions({"[", "4", "]", "[", "7", "]", "<|object_ref_end|>"}),
            (std::vector<Next>{Next::kGenerate, Next::kGenerate,
                               Next::kGenerate, Next::kGenerate,
                               Next::kGenerate, Next::kGenerate,
                               Next::kEvidence}));
  // An empty id list still ends the round.
  EXPECT_EQ(decisions({"<|object_ref_end|>"}),
            std::vector<Next>{Next::kEvidence});
}

TEST(InterleaveProtocol, EndOfRetrieveIsMatchedOnTheText) {
  // One token, or several whose text completes the marker.
  EXPECT_EQ(decisions({"<End-of-Retrieve>"}),
            std::vector<Next>{Next::kQuestion});
  EXPECT_EQ(decisions({"<End", "-of-", "Retrieve>"}),
            (std::vector<Next>{Next::kGenerate, Next::kGenerate,
                               Next::kQuestion}));
  // Retrieval ending wins when the delimiter is there too.
  EXPECT_EQ(decisions({"[1]", "<End-of-Retrieve><|object_ref_end|>"}),
            (std::vector<Next>{Next::kGenerate, Next::kQuestion}));
}

TEST(InterleaveProtocol, ResponseCapRunsFree) {
  std::string chunk(100, 'x');
  std::vector<std::string> stream(10, chunk); // exactly 1000 characters
  std::vector<Next> d = decisions(stream);
  EXPECT_EQ(d.back(), Next::kGenerate);
  stream.push_back("y"); // 1001
  EXPECT_EQ(decisions(stream).back(), Next::kRunFree);
  // The cap wins over a delimiter too: retrieval ending is tested second.
  stream.back() = "<|object_ref_end|>";
  EXPECT_EQ(decisions(stream).back(), Next::kRunFree);
}

TEST(InterleaveProtocol, AnotherRoundOnlyAfterABlockWithoutAnAnswer) {
  std::string t = firstPromptText("q");
  EXPECT_FALSE(needsAnotherRound(t));
  EXPECT_TRUE(needsAnotherRound(t + "[0]<|object_ref_end|>[0]. doc\n"
                                    "<|object_ref_end|>"));
  EXPECT_FALSE(needsAnotherRound(
      t + "<End-of-Retrieve>" + questionBlock("q") +
      "The answer to the question is: yes<|im_end|>"));
  // An answer written before the ids: no more rounds (the reference's
  // test is on the whole text).
  EXPECT_FALSE(needsAnotherRound(t + "The answer to the question is: "
                                     "no<|object_ref_end|>"));
}

TEST(InterleaveProtocol, FirstPromptTextIsTheFirstRoundRow) {
  StatusOr<std::unique_ptr<Tokenizer>> tok = Tokenizer::fromJson(
      makeByteTokenizerJson(byteTokenizerSpecials()), "byte tokenizer");
  ASSERT_TRUE(tok.isOk()) << tok.status().message();
  PromptRow row = questionRow(**tok, "Who?");
  EXPECT_EQ((*tok)->decode(row.tokens), firstPromptText("Who?"));
}

TEST(InterleaveProtocol, RegenerateRowRoutesTheQuestionAndTheLastEvidence) {
  StatusOr<std::unique_ptr<Tokenizer>> tok = Tokenizer::fromJson(
      makeByteTokenizerJson(byteTokenizerSpecials()), "byte tokenizer");
  ASSERT_TRUE(tok.isOk()) << tok.status().message();
  std::string text = firstPromptText("Who?") +
                     "[2]<|object_ref_end|>[2]. Two.\n<|object_ref_end|>"
                     "[0]<|object_ref_end|>[0]. Zero.\n<|object_ref_end|>";
  PromptRow row = regenerateRow(**tok, text);
  ASSERT_EQ(row.tokens.size(), row.roles.size());
  EXPECT_EQ((*tok)->decode(row.tokens), text);
  std::string routed, active;
  for (size_t i = 0; i < row.tokens.size(); ++i)
    (row.roles[i] == kRoleRouting ? routed : active) +=
        (*tok)->decode(std::vector<int32_t>{row.tokens[i]});
  std::string head = routingText("Who?");
  // Instruction and question without the trailing newline, then only the
  // last block's text.
  EXPECT_EQ(routed, head.substr(0, head.size() - 1) + "[0]. Zero.\n");
  for (int32_t r : row.roles) {
    EXPECT_TRUE(r == kRoleRouting || r == kRoleActive);
  }
}

//===----------------------------------------------------------------------===//
// The engine with the tiny model
//===----------------------------------------------------------------------===//

std::string makeTempDir(const char *what) {
  std::string pattern = ::testing::TempDir() + "msa-" + what + "-XXXXXX";
  if (!::mkdtemp(pattern.data())) {
    ADD_FAILURE() << "mkdtemp(" << pattern << "): " << std::strerror(errno);
    return "";
  }
  return pattern;
}

class InterleaveEngine : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    root_ = new std::string(makeTempDir("interleave"));
    ASSERT_TRUE(
        writeRandomCheckpoint(joinPath(*root_, "m"), *presetConfig("tiny"), 5)
            .isOk());
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    std::filesystem::remove_all(*root_, ec);
    delete root_;
    root_ = nullptr;
  }

  void SetUp() override {
    StatusOr<std::unique_ptr<Engine>> e =
        Engine::open(joinPath(*root_, "m"), EngineOptions());
    ASSERT_TRUE(e.isOk()) << e.status().message();
    engine_ = std::move(e).value();
    for (const Document &d : docs_)
      texts_.push_back(d.text);
    StatusOr<PooledMemory> m = engine_->encode(docs_);
    ASSERT_TRUE(m.isOk()) << m.status().message();
    memory_ = std::move(m).value();
  }

  InterleaveOptions forced(const std::string &text, int64_t maxRounds = 8,
                           int64_t maxCallTokens = 256) {
    InterleaveOptions o;
    o.generation.forcedTokens = engine_->encodeText(text);
    o.maxRounds = maxRounds;
    o.maxCallTokens = maxCallTokens;
    return o;
  }

  InterleaveResult run(const std::string &question,
                       const InterleaveOptions &o) {
    StatusOr<InterleaveResult> r =
        engine_->interleave(memory_, texts_, question, o);
    EXPECT_TRUE(r.isOk()) << r.status().message();
    return r.isOk() ? std::move(r).value() : InterleaveResult();
  }

  static std::string *root_;
  std::unique_ptr<Engine> engine_;
  std::vector<Document> docs_{{"erik", "Erik Watts is the son of Bill Watts."},
                              {"bill", "Bill Watts was born on May 5, 1939."},
                              {"paris", "Paris is the capital of France."}};
  std::vector<std::string> texts_;
  PooledMemory memory_;
};

std::string *InterleaveEngine::root_ = nullptr;

const char *kQuestion = "When was Erik's father born?";

TEST_F(InterleaveEngine, TwoEvidenceRoundsThenTheAnswer) {
  const std::string answer = "The answer to the question is: 1939<|im_end|>";
  InterleaveResult r = run(
      kQuestion, forced("[0]<|object_ref_end|>[1]<|object_ref_end|>"
                        "<End-of-Retrieve>" +
                        answer));
  ASSERT_EQ(r.calls.size(), 3u);
  EXPECT_EQ(r.calls[0].end, InterleaveCall::End::kEvidence);
  EXPECT_EQ(r.calls[0].documents, std::vector<int64_t>{0});
  EXPECT_EQ(r.calls[0].block, evidenceBlock({0}, texts_));
  EXPECT_EQ(r.calls[1].end, InterleaveCall::End::kEvidence);
  EXPECT_EQ(r.calls[1].documents, std::vector<int64_t>{1});
  EXPECT_EQ(r.calls[2].end, InterleaveCall::End::kQuestion);
  EXPECT_EQ(r.calls[2].block, questionBlock(kQuestion));
  EXPECT_TRUE(r.calls[2].stoppedAtEos);
  EXPECT_EQ(r.calls[2].answerText, answer);
  // The transcript is what the reference's outer loop accumulates.
  std::string want = firstPromptText(kQuestion) + "[0]<|object_ref_end|>" +
                     evidenceBlock({0}, texts_) + "[1]<|object_ref_end|>" +
                     evidenceBlock({1}, texts_) + "<End-of-Retrieve>" +
                     questionBlock(kQuestion) + answer;
  EXPECT_EQ(r.transcript, want);
  EXPECT_EQ(r.answer, std::optional<std::string>("1939"));
  EXPECT_FALSE(r.hitMaxRounds);

  // Each later call prefills the regenerate row of the transcript so far
  // and routes with it: the same selections as a direct prefill.
  std::string before = firstPromptText(kQuestion);
  for (size_t i = 0; i < r.calls.size(); ++i) {
    PromptRow row = i == 0 ? questionRow(engine_->tokenizer(), kQuestion)
                           : regenerateRow(engine_->tokenizer(), before);
    EXPECT_EQ(r.calls[i].promptTokens,
              static_cast<int64_t>(row.tokens.size()))
        << "call " << i;
    StatusOr<std::unique_ptr<Session>> s =
        engine_->backend().prefill(memory_, row);
    ASSERT_TRUE(s.isOk()) << s.status().message();
    EXPECT_EQ(r.calls[i].selected, (*s)->selected) << "call " << i;
    before += r.calls[i].idText + r.calls[i].block + r.calls[i].answerText;
  }
  EXPECT_EQ(before, r.transcript);
}

TEST_F(InterleaveEngine, TheEngineFeedsWhatTheProtocolSays) {
  // The same run by hand through the backend: the delimiter is fed before
  // the call ends, and the question block is one multi-token step. The
  // answer is generated greedily after the forced ids.
  // (The random model's greedy answer may write delimiters and ask for
  // more rounds: two calls are enough.)
  InterleaveResult r =
      run(kQuestion, forced("[2]<|object_ref_end|><End-of-Retrieve>", 2, 24));
  ASSERT_EQ(r.calls.size(), 2u);

  Backend &b = engine_->backend();
  const Tokenizer &tok = engine_->tokenizer();
  // Call 2 by hand.
  std::string before = firstPromptText(kQuestion) + r.calls[0].idText +
                       r.calls[0].block;
  StatusOr<std::unique_ptr<Session>> s =
      b.prefill(memory_, regenerateRow(tok, before));
  ASSERT_TRUE(s.isOk()) << s.status().message();
  std::vector<int32_t> marker = engine_->encodeText("<End-of-Retrieve>");
  for (int32_t t : marker)
    ASSERT_TRUE(b.decode(memory_, **s, {t}, {1}).isOk());
  std::vector<int32_t> block = tok.encode(questionBlock(kQuestion));
  ASSERT_TRUE(b.decode(memory_, **s, block,
                       std::vector<uint8_t>(block.size(), 1))
                  .isOk());
  std::vector<int32_t> answer;
  for (size_t i = marker.size(); i < 24; ++i) {
    int32_t t = argmax((*s)->logits);
    answer.push_back(t);
    ASSERT_TRUE(b.decode(memory_, **s, {t}, {1}).isOk());
  }
  EXPECT_EQ(r.calls[1].answerTokens, answer);
  EXPECT_EQ(r.calls[1].end, InterleaveCall::End::kQuestion);
  EXPECT_FALSE(r.calls[1].stoppedAtEos);
}

TEST_F(InterleaveEngine, UnknownAndRepeatedIdsAreDropped) {
  InterleaveResult r = run(
      kQuestion,
      forced("[2][9][2]<|object_ref_end|>[99]<|object_ref_end|><|im_end|>"));
  ASSERT_EQ(r.calls.size(), 3u);
  EXPECT_EQ(r.calls[0].documents, std::vector<int64_t>{2});
  // No known id: the block is the bare delimiter.
  EXPECT_TRUE(r.calls[1].documents.empty());
  EXPECT_EQ(r.calls[1].block, std::string(kObjectRefEnd));
  // EOS before any decision ends everything, without an answer.
  EXPECT_EQ(r.calls[2].end, InterleaveCall::End::kEos);
  EXPECT_EQ(r.answer, std::nullopt);
}

TEST_F(InterleaveEngine, ResponseCapRunsFreeWithoutABlock) {
  InterleaveResult r = run(kQuestion, forced(std::string(1001, 'x'), 8, 1010));
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].end, InterleaveCall::End::kResponseCap);
  EXPECT_TRUE(r.calls[0].block.empty());
  EXPECT_EQ(r.calls[0].idText, std::string(1001, 'x'));
  // Generation went on after the cap until EOS or the call's budget.
  size_t total = r.calls[0].answerTokens.size() + r.calls[0].idTokens.size();
  if (!r.calls[0].stoppedAtEos) {
    EXPECT_EQ(total, 1010u);
  }
  EXPECT_GT(total, 1001u);
}

TEST_F(InterleaveEngine, CapsStopARunawayExchange) {
  std::string ids;
  for (int i = 0; i < 5; ++i)
    ids += "[0]<|object_ref_end|>";
  InterleaveResult r = run(kQuestion, forced(ids, /*maxRounds=*/3));
  EXPECT_EQ(r.calls.size(), 3u);
  EXPECT_TRUE(r.hitMaxRounds);
  EXPECT_EQ(r.answer, std::nullopt);
  // A call's token budget ends it without a decision.
  InterleaveResult t = run(kQuestion, forced("[0][1][2][0][1]", 8, 4));
  ASSERT_EQ(t.calls.size(), 1u);
  EXPECT_EQ(t.calls[0].end, InterleaveCall::End::kTokenLimit);
  EXPECT_EQ(t.calls[0].idTokens.size(), 4u);
}

TEST_F(InterleaveEngine, ABatchEqualsItsSingleRows) {
  InterleaveOptions o = forced("[1]<|object_ref_end|><End-of-Retrieve>", 4, 20);
  std::vector<std::string> questions{kQuestion, "What is the capital?"};
  std::vector<InterleaveResult> batch;
  for (const std::string &q : questions)
    batch.push_back(run(q, o));
  for (size_t i = questions.size(); i-- > 0;) {
    InterleaveResult alone = run(questions[i], o);
    EXPECT_EQ(alone.transcript, batch[i].transcript) << questions[i];
    ASSERT_EQ(alone.calls.size(), batch[i].calls.size());
    for (size_t c = 0; c < alone.calls.size(); ++c)
      EXPECT_EQ(alone.calls[c].selected, batch[i].calls[c].selected);
  }
}

TEST_F(InterleaveEngine, ReusingThePrefixGivesTheSameExchange) {
  // Forced ids, then a greedy answer: every call's routing, the transcript
  // and the free tokens must not change when later calls continue the
  // previous call's work (docs/interleave-reuse.md).
  InterleaveOptions reuse =
      forced("[2]<|object_ref_end|>[0][1]<|object_ref_end|><End-of-Retrieve>",
             3, 24);
  InterleaveOptions scratch = reuse;
  scratch.reusePrefix = false;
  InterleaveResult a = run(kQuestion, reuse), b = run(kQuestion, scratch);
  ASSERT_EQ(a.calls.size(), 3u);
  ASSERT_EQ(b.calls.size(), 3u);
  EXPECT_EQ(a.transcript, b.transcript);
  for (size_t i = 0; i < a.calls.size(); ++i) {
    EXPECT_EQ(a.calls[i].selected, b.calls[i].selected) << "call " << i;
    EXPECT_EQ(a.calls[i].answerTokens, b.calls[i].answerTokens) << i;
    EXPECT_EQ(b.calls[i].reusedTokens, 0);
  }
  // Call 1 has nothing to continue; each later call reuses all it shares
  // with the previous one's fed tokens: the prompt and the generated ids.
  EXPECT_EQ(a.calls[0].reusedTokens, 0);
  for (size_t i = 1; i < a.calls.size(); ++i) {
    EXPECT_GT(a.calls[i].reusedTokens, 0) << "call " << i;
    EXPECT_LE(a.calls[i].reusedTokens,
              a.calls[i - 1].promptTokens +
                  static_cast<int64_t>(a.calls[i - 1].idTokens.size()));
  }
}

TEST_F(InterleaveEngine, BadArguments) {
  std::vector<std::string> fewer(texts_.begin(), texts_.end() - 1);
  StatusOr<InterleaveResult> r =
      engine_->interleave(memory_, fewer, kQuestion, InterleaveOptions());
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().message(),
            "interleave: 2 document texts for a memory of 3 documents");
  InterleaveOptions o;
  o.maxRounds = 0;
  r = engine_->interleave(memory_, texts_, kQuestion, o);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().message(), "interleave: maxRounds and maxCallTokens "
                                  "must be at least 1");
}

} // namespace
