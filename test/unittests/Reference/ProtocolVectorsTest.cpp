//===- ProtocolVectorsTest.cpp - spec §12 vectors of the text protocol ----===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Vector 18 (the interleave text protocol, host logic only) and the prompt
// side of vector 8 (an empty question still routes).
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Interleave.h"
#include "msa/runtime/ModelPresets.h"
#include "msa/runtime/Prompt.h"
#include "msa/runtime/Tokenizer.h"

#include <gtest/gtest.h>

using namespace msa::runtime;
using namespace msa::runtime::interleave;

namespace {

TEST(SpecVectors, Vector18_IdListsAreDedupedSortedAndFiltered) {
  EXPECT_EQ(parseIdList("[4][7][4]<|object_ref_end|>", 10),
            (std::vector<int64_t>{4, 7}));
  EXPECT_EQ(parseIdList("[7][12][3]", 10), (std::vector<int64_t>{3, 7}));
  EXPECT_EQ(parseIdList("[x][-1][ 2][3 ][]", 10), (std::vector<int64_t>{}));
  EXPECT_EQ(parseIdList("[99999999999999999999999][1]", 10),
            (std::vector<int64_t>{1}));
  EXPECT_EQ(parseIdList("<|object_ref_end|>", 10), (std::vector<int64_t>{}));
}

TEST(SpecVectors, Vector18_EvidenceAndQuestionBlocks) {
  std::vector<std::string> docs{"zero", "Erik Watts is the son of Bill Watts.",
                                "two", "Bill Watts (born May 5, 1939)"};
  EXPECT_EQ(evidenceBlock({1, 3}, docs),
            "[1]. Erik Watts is the son of Bill Watts.\n"
            "[3]. Bill Watts (born May 5, 1939)\n<|object_ref_end|>");
  // An empty list gives the bare delimiter.
  EXPECT_EQ(evidenceBlock({}, docs), "<|object_ref_end|>");
  EXPECT_EQ(questionBlock("When was he born?"),
            "<|im_start|>The user's question is: When was he born?\n"
            "<|object_ref_end|>");
}

TEST(SpecVectors, Vector18_RoundAndRetrievalEnds) {
  EXPECT_FALSE(roundEnded("[4][7]"));
  EXPECT_TRUE(roundEnded("[4][7]<|object_ref_end|>"));
  EXPECT_FALSE(retrievalEnded("[4]<|object_ref_end|>"));
  EXPECT_TRUE(retrievalEnded("[4]<|object_ref_end|><End-of-Retrieve>"));
  // The 1000-character cap ends retrieval on its own.
  EXPECT_FALSE(retrievalEnded(std::string(1000, 'x')));
  EXPECT_TRUE(retrievalEnded(std::string(1001, 'x')));
}

TEST(SpecVectors, Vector18_QuestionAndAnswerExtraction) {
  std::string prompt = routingText("Who is Erik's father?") + "<|im_end|>\n";
  EXPECT_EQ(recoverQuestion(prompt), std::optional<std::string>(
                                         "Who is Erik's father?"));
  EXPECT_EQ(recoverQuestion("no markers"), std::nullopt);
  EXPECT_EQ(extractAnswer("...The answer to the question is: x<|im_end|> The "
                          "answer to the question is: May 5, 1939<|im_end|>"),
            std::optional<std::string>("May 5, 1939"));
  EXPECT_EQ(extractAnswer("The answer to the question is: unfinished"),
            std::optional<std::string>("unfinished"));
  EXPECT_EQ(extractAnswer("no answer"), std::nullopt);
}

TEST(SpecVectors, Vector18_RegenerateRoutingRegionsOfATwoRoundTranscript) {
  std::string head = routingText("When was Erik's father born?");
  std::string transcript =
      head + "<|im_end|>\n<|im_start|>[4]<|object_ref_end|>"
             "[4]. Erik Watts is the son of Bill Watts.\n<|object_ref_end|>"
             "[3]<|object_ref_end|>"
             "[3]. Bill Watts (born May 5, 1939)\n<|object_ref_end|>";
  std::vector<std::pair<size_t, size_t>> spans = routingSpans(transcript);
  ASSERT_EQ(spans.size(), 2u);
  // Instruction + question, ending at "... related to the question" (the
  // trailing newline does not route in later rounds).
  EXPECT_EQ(transcript.substr(spans[0].first, spans[0].second - spans[0].first),
            head.substr(0, head.size() - 1));
  // Only the latest evidence block routes.
  EXPECT_EQ(transcript.substr(spans[1].first, spans[1].second - spans[1].first),
            "[3]. Bill Watts (born May 5, 1939)\n");
}

TEST(SpecVectors, Vector08_EmptyQuestionStillRoutes) {
  StatusOr<std::unique_ptr<Tokenizer>> tok = Tokenizer::fromJson(
      makeByteTokenizerJson(byteTokenizerSpecials()), "byte tokenizer");
  ASSERT_TRUE(tok.isOk()) << tok.status().message();
  PromptRow row = questionRow(**tok, "");
  int64_t routing = 0;
  for (int32_t r : row.roles)
    routing += r == kRoleRouting;
  // The instruction text supplies routing tokens even without a question.
  EXPECT_EQ(routing, static_cast<int64_t>(routingText("").size()));
  // Then <|im_end|> \n (template) and <|im_start|> (active), in that order.
  ASSERT_GE(row.roles.size(), 3u);
  size_t n = row.roles.size();
  EXPECT_EQ(row.roles[n - 3], kRoleTemplate);
  EXPECT_EQ(row.roles[n - 2], kRoleTemplate);
  EXPECT_EQ(row.roles[n - 1], kRoleActive);
  EXPECT_EQ(row.tokens[n - 3], *(*tok)->tokenId("<|im_end|>"));
  EXPECT_EQ(row.tokens[n - 1], *(*tok)->tokenId("<|im_start|>"));
}

TEST(Prompt, DocumentWrapperAndTemplateHead) {
  EXPECT_EQ(documentText(12, "Some text"),
            "<|im_start|>[12]. Some text[12]<|im_end|>");
  StatusOr<std::unique_ptr<Tokenizer>> tok = Tokenizer::fromJson(
      makeByteTokenizerJson(byteTokenizerSpecials()), "byte tokenizer");
  ASSERT_TRUE(tok.isOk());
  std::vector<int32_t> head = templateHead(**tok);
  // <|im_start|> then the bytes of "user\n".
  EXPECT_EQ(head, (std::vector<int32_t>{257, 'u', 's', 'e', 'r', '\n'}));
}

} // namespace
