//===- JsonTest.cpp - JSON parser and writer --------------------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Round trips through JsonValue::parse and dump(), exact number printing,
// every class of input the strict parser rejects (with its line and column),
// and the DOM's building API.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

using namespace msa::runtime;

namespace {

JsonValue parseOk(std::string_view text) {
  StatusOr<JsonValue> v = JsonValue::parse(text);
  EXPECT_TRUE(v.isOk()) << "input: " << text
                        << "\nerror: " << v.status().message();
  return v.isOk() ? *v : JsonValue();
}

std::string parseError(std::string_view text) {
  StatusOr<JsonValue> v = JsonValue::parse(text);
  if (v.isOk()) {
    ADD_FAILURE() << "parsed but should not have: " << text;
    return "";
  }
  EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
  return v.status().message();
}

uint64_t bitsOf(double d) {
  uint64_t u;
  std::memcpy(&u, &d, sizeof(u));
  return u;
}

/// Digits of the mantissa of a printed number, without leading zeros.
int significantDigits(const std::string &text) {
  std::string mantissa = text.substr(0, text.find_first_of("eE"));
  int digits = 0;
  bool leading = true;
  for (char c : mantissa) {
    if (c < '0' || c > '9')
      continue;
    leading = leading && c == '0';
    digits += !leading;
  }
  return digits;
}

TEST(Json, ParsesScalars) {
  EXPECT_TRUE(parseOk("null").isNull());
  JsonValue t = parseOk("true");
  ASSERT_TRUE(t.isBool());
  EXPECT_TRUE(t.asBool());
  JsonValue f = parseOk(" false ");
  ASSERT_TRUE(f.isBool());
  EXPECT_FALSE(f.asBool());
  JsonValue n = parseOk("-12.5e1");
  ASSERT_TRUE(n.isNumber());
  EXPECT_EQ(n.asNumber(), -125.0);
  JsonValue s = parseOk("\"hi\"");
  ASSERT_TRUE(s.isString());
  EXPECT_EQ(s.asString(), "hi");
  EXPECT_EQ(parseOk("\t\r\n 7 \n").asNumber(), 7.0);
}

TEST(Json, ParsesNestedStructure) {
  JsonValue v = parseOk(R"({"model": {"layers": 12, "dims": [64, 128.5, -3]},
    "flags": [true, false, null], "name": "msa", "empty": {}, "none": []})");
  ASSERT_TRUE(v.isObject());
  ASSERT_EQ(v.members().size(), 5u);
  EXPECT_EQ(v.members()[0].first, "model");
  EXPECT_EQ(v.members()[4].first, "none");
  const JsonValue *model = v.find("model");
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->find("layers")->asInt(), 12);
  const auto &dims = model->find("dims")->elements();
  ASSERT_EQ(dims.size(), 3u);
  EXPECT_EQ(dims[1].asNumber(), 128.5);
  EXPECT_EQ(dims[2].asInt(), -3);
  const auto &flags = v.find("flags")->elements();
  ASSERT_EQ(flags.size(), 3u);
  EXPECT_TRUE(flags[0].asBool());
  EXPECT_FALSE(flags[1].asBool());
  EXPECT_TRUE(flags[2].isNull());
  EXPECT_TRUE(v.find("empty")->isObject());
  EXPECT_TRUE(v.find("empty")->members().empty());
  EXPECT_TRUE(v.find("none")->isArray());
  EXPECT_EQ(v.find("missing"), nullptr);
  EXPECT_EQ(v.find("name")->find("x"), nullptr); // Not an object.
}

TEST(Json, CompactDumpIsExactAndRoundTrips) {
  const char *text =
      R"({"b":[1,2.5,"x\"y",{"z":null}],"a":true,"c":{"d":[[],{}],"e":-0.001}})";
  JsonValue v = parseOk(text);
  EXPECT_EQ(v.dump(), text);
  JsonValue again = parseOk(v.dump());
  EXPECT_EQ(again.dump(), text);
  EXPECT_EQ(again.dump(2), v.dump(2));
}

TEST(Json, PrettyPrinting) {
  JsonValue v = parseOk(R"({"a":[1,{"b":"c"}],"d":{},"e":[]})");
  EXPECT_EQ(v.dump(2), "{\n"
                       "  \"a\": [\n"
                       "    1,\n"
                       "    {\n"
                       "      \"b\": \"c\"\n"
                       "    }\n"
                       "  ],\n"
                       "  \"d\": {},\n"
                       "  \"e\": []\n"
                       "}");
  EXPECT_EQ(v.dump(0), "{\n\"a\": [\n1,\n{\n\"b\": \"c\"\n}\n],\n\"d\": {},\n"
                       "\"e\": []\n}");
  EXPECT_EQ(parseOk("[1,2]").dump(4), "[\n    1,\n    2\n]");
  EXPECT_EQ(parseOk("3").dump(2), "3");
  // Pretty output parses back to the same value.
  EXPECT_EQ(parseOk(v.dump(3)).dump(), v.dump());
}

TEST(Json, UnicodeEscapes) {
  EXPECT_EQ(parseOk(R"("\u00e9")").asString(), "\xc3\xa9");
  EXPECT_EQ(parseOk(R"("\u20AC")").asString(), "\xe2\x82\xac");
  EXPECT_EQ(parseOk(R"("\u0041\u007a")").asString(), "Az");
  // U+1F600 as a surrogate pair, upper and lower case hex.
  EXPECT_EQ(parseOk(R"("\ud83d\ude00")").asString(), "\xf0\x9f\x98\x80");
  EXPECT_EQ(parseOk(R"("\uD83D\uDE00!")").asString(), "\xf0\x9f\x98\x80!");
  // The extremes: U+10000 and U+10FFFF.
  EXPECT_EQ(parseOk(R"("\ud800\udc00")").asString(), "\xf0\x90\x80\x80");
  EXPECT_EQ(parseOk(R"("\udbff\udfff")").asString(), "\xf4\x8f\xbf\xbf");
  // \u0000 is a real NUL inside the string.
  std::string nul = parseOk(R"("a\u0000b")").asString();
  ASSERT_EQ(nul.size(), 3u);
  EXPECT_EQ(nul[1], '\0');
  EXPECT_EQ(JsonValue(nul).dump(), R"("a\u0000b")");
}

TEST(Json, RawUtf8PassesThrough) {
  std::string text = "\"gr\xc3\xbc\xc3\x9f \xe4\xb8\xad \xf0\x9f\x98\x80\"";
  JsonValue v = parseOk(text);
  EXPECT_EQ(v.asString(), text.substr(1, text.size() - 2));
  EXPECT_EQ(v.dump(), text);
}

TEST(Json, SimpleEscapes) {
  JsonValue v = parseOk(R"("q\" b\\ s\/ \b\f\n\r\t")");
  EXPECT_EQ(v.asString(), "q\" b\\ s/ \b\f\n\r\t");
  // The writer escapes quotes, backslashes and control characters only.
  EXPECT_EQ(v.dump(), R"("q\" b\\ s/ \u0008\u000c\u000a\u000d\u0009")");
  EXPECT_EQ(JsonValue(std::string("\x1f\x7f")).dump(), "\"\\u001f\x7f\"");
  EXPECT_EQ(parseOk(v.dump()).asString(), v.asString());
}

TEST(Json, IntegersPrintWithoutFraction) {
  EXPECT_EQ(JsonValue(42).dump(), "42");
  EXPECT_EQ(JsonValue(-7).dump(), "-7");
  EXPECT_EQ(JsonValue(3.0).dump(), "3");
  EXPECT_EQ(JsonValue(1e15).dump(), "1000000000000000");
  EXPECT_EQ(JsonValue(9007199254740992.0).dump(), "9007199254740992");
  EXPECT_EQ(JsonValue(-9007199254740992.0).dump(), "-9007199254740992");
  EXPECT_EQ(JsonValue(int64_t{-123456789012}).dump(), "-123456789012");
  EXPECT_EQ(JsonValue(uint64_t{1} << 40).dump(), "1099511627776");
  // Beyond 2^53 the shortest exact form is used instead.
  // 2^54: 15 and 16 digits do not read back; %.17g prints it in full.
  EXPECT_EQ(JsonValue(18014398509481984.0).dump(), "18014398509481984");
  EXPECT_EQ(JsonValue(18014398509481988.0).dump(), "18014398509481988");
  EXPECT_EQ(JsonValue(1e20).dump(), "1e+20");
  // Negative zero keeps its sign.
  JsonValue negZero = parseOk(JsonValue(-0.0).dump());
  EXPECT_EQ(JsonValue(-0.0).dump(), "-0");
  EXPECT_TRUE(std::signbit(negZero.asNumber()));
  EXPECT_EQ(JsonValue(0.0).dump(), "0");
}

TEST(Json, DoublesPrintShortestExact) {
  EXPECT_EQ(JsonValue(0.1).dump(), "0.1");
  EXPECT_EQ(JsonValue(1e-6).dump(), "1e-06");
  EXPECT_EQ(JsonValue(2.5).dump(), "2.5");
  EXPECT_EQ(JsonValue(-0.3).dump(), "-0.3");
  EXPECT_EQ(JsonValue(1.0 / 3.0).dump(), "0.3333333333333333");
  EXPECT_EQ(JsonValue(0.1 + 0.2).dump(), "0.30000000000000004");
  // The smallest subnormal: 15 digits already identify it.
  EXPECT_EQ(JsonValue(5e-324).dump(), "4.94065645841247e-324");
  EXPECT_EQ(JsonValue(std::numeric_limits<double>::max()).dump(),
            "1.7976931348623157e+308");
  for (double d : {0.1, 1e-6, 1.0 / 3.0, 0.1 + 0.2, 5e-324, 1e300, -2.5e-300})
    EXPECT_EQ(bitsOf(parseOk(JsonValue(d).dump()).asNumber()), bitsOf(d)) << d;
}

TEST(Json, RandomDoublesRoundTripExactly) {
  std::mt19937_64 rng(20240607);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  int checked = 0, needed17 = 0;
  for (int i = 0; i < 20000; ++i) {
    // Half random bit patterns (all magnitudes), half ordinary values.
    double d;
    if (i % 2 == 0) {
      uint64_t bits = rng();
      std::memcpy(&d, &bits, sizeof(d));
      if (!std::isfinite(d))
        continue;
    } else {
      d = unit(rng) * std::pow(10.0, static_cast<int>(rng() % 40) - 20);
    }
    std::string text = JsonValue(d).dump();
    JsonValue back = parseOk(text);
    ASSERT_EQ(bitsOf(back.asNumber()), bitsOf(d)) << text;
    EXPECT_LE(text.size(), 24u) << text;
    needed17 += significantDigits(text) == 17;
    ++checked;
  }
  EXPECT_GT(checked, 19000);
  // Some values need all 17 digits; if none did, the test would not have
  // exercised the fallback.
  EXPECT_GT(needed17, 0);
}

TEST(Json, NonFiniteNumbersPrintAsNull) {
  EXPECT_EQ(JsonValue(std::numeric_limits<double>::quiet_NaN()).dump(), "null");
  EXPECT_EQ(JsonValue(std::numeric_limits<double>::infinity()).dump(), "null");
  EXPECT_EQ(JsonValue(-std::numeric_limits<double>::infinity()).dump(), "null");
}

TEST(Json, ParsesBigAndSmallNumbers) {
  EXPECT_EQ(parseOk("1e308").asNumber(), 1e308);
  EXPECT_EQ(parseOk("-1.5E-320").asNumber(), -1.5e-320); // Subnormal.
  EXPECT_EQ(parseOk("1e-400").asNumber(), 0.0);          // Underflows to 0.
  EXPECT_EQ(parseOk("123456789012345678901234567890").asNumber(),
            123456789012345678901234567890.0);
  EXPECT_EQ(parseOk("1E+2").asNumber(), 100.0);
  EXPECT_EQ(parseOk("0.5e-3").asNumber(), 0.0005);
  EXPECT_EQ(parseOk("-0").asNumber(), 0.0);
  EXPECT_EQ(parseOk("9007199254740993").asNumber(), 9007199254740992.0);
  EXPECT_EQ(parseError("1e400"),
            "line 1, column 1: number 1e400 is out of range");
  EXPECT_EQ(parseError("[0, -1e999]"),
            "line 1, column 5: number -1e999 is out of range");
}

TEST(Json, IntegerAccessors) {
  EXPECT_TRUE(JsonValue(3.0).isInteger());
  EXPECT_FALSE(JsonValue(3.5).isInteger());
  EXPECT_FALSE(JsonValue("3").isInteger());
  EXPECT_FALSE(JsonValue(true).isInteger());
  EXPECT_FALSE(JsonValue(std::numeric_limits<double>::infinity()).isInteger());
  EXPECT_FALSE(JsonValue(std::numeric_limits<double>::quiet_NaN()).isInteger());
  EXPECT_TRUE(JsonValue(-9223372036854775808.0).isInteger());
  EXPECT_FALSE(JsonValue(9223372036854775808.0).isInteger());
  EXPECT_FALSE(JsonValue(1e19).isInteger());
  EXPECT_TRUE(parseOk("1e18").isInteger());
  EXPECT_EQ(parseOk("1e18").asInt(), 1000000000000000000);
  EXPECT_TRUE(parseOk("4.0").isInteger());

  EXPECT_EQ(JsonValue(3.7).asInt(), 3);
  EXPECT_EQ(JsonValue(-3.7).asInt(), -3);
  EXPECT_EQ(JsonValue(-9223372036854775808.0).asInt(),
            std::numeric_limits<int64_t>::min());
  EXPECT_EQ(JsonValue(1e30).asInt(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(JsonValue(-1e30).asInt(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(JsonValue(std::numeric_limits<double>::quiet_NaN()).asInt(), 0);
  EXPECT_EQ(JsonValue("12").asInt(), 0);
}

TEST(Json, WideIntegersAreStoredAsDoubles) {
  // Documented: int64/uint64 go through double, exact up to 2^53.
  EXPECT_EQ(JsonValue(int64_t{1} << 53).asInt(), int64_t{1} << 53);
  EXPECT_EQ(JsonValue((int64_t{1} << 53) + 1).asNumber(), 9007199254740992.0);
  EXPECT_EQ(JsonValue(std::numeric_limits<int64_t>::max()).asNumber(),
            9223372036854775808.0);
  EXPECT_EQ(JsonValue(std::numeric_limits<uint64_t>::max()).asNumber(),
            18446744073709551616.0);
  EXPECT_EQ(JsonValue(std::numeric_limits<int64_t>::min()).asInt(),
            std::numeric_limits<int64_t>::min());
}

struct Rejection {
  const char *input;
  const char *message;
};

TEST(Json, RejectsMalformedInputWithPosition) {
  const Rejection cases[] = {
      // Structure.
      {"", "line 1, column 1: unexpected end of input, expected a value"},
      {"   ", "line 1, column 4: unexpected end of input, expected a value"},
      {"[", "line 1, column 2: unexpected end of input, expected a value"},
      {"[1", "line 1, column 3: unexpected end of input, expected ',' or ']'"},
      {"{\"a\":1",
       "line 1, column 7: unexpected end of input, expected ',' or '}'"},
      {"[1 2]", "line 1, column 4: unexpected '2', expected ',' or ']'"},
      {"{\"a\":1 \"b\":2}",
       "line 1, column 8: unexpected '\"', expected ',' or '}'"},
      {"{\"a\" 1}",
       "line 1, column 6: unexpected '1', expected ':' after the object key"},
      {"{1:2}", "line 1, column 2: unexpected '1', expected a string key"},
      {"{'a':2}", "line 1, column 2: unexpected ''', expected a string key"},
      // Trailing commas.
      {"[1,]", "line 1, column 4: trailing comma before ']'"},
      {"[1, ]", "line 1, column 5: trailing comma before ']'"},
      {"{\"a\":1,}", "line 1, column 8: trailing comma before '}'"},
      {"[,1]", "line 1, column 2: unexpected ',', expected a value"},
      // Comments.
      {"// note\n1", "line 1, column 1: comments are not allowed in JSON"},
      {"[1 /* x */]", "line 1, column 4: comments are not allowed in JSON"},
      // Numbers.
      {"01", "line 1, column 1: leading zeros are not allowed in numbers"},
      {"[-00]", "line 1, column 2: leading zeros are not allowed in numbers"},
      {"-", "line 1, column 2: expected a digit after '-'"},
      {"-a", "line 1, column 2: expected a digit after '-'"},
      {"1.", "line 1, column 3: expected a digit after the decimal point"},
      {"1.e5", "line 1, column 3: expected a digit after the decimal point"},
      {"1e", "line 1, column 3: expected a digit in the exponent"},
      {"1e+", "line 1, column 4: expected a digit in the exponent"},
      {".5", "line 1, column 1: unexpected '.', expected a value"},
      {"+1", "line 1, column 1: unexpected '+', expected a value"},
      {"0x10", "line 1, column 2: unexpected 'x' after the JSON value"},
      {"NaN", "line 1, column 1: unexpected 'N', expected a value"},
      {"-Infinity", "line 1, column 2: expected a digit after '-'"},
      // Literals.
      {"tru", "line 1, column 1: invalid literal, expected 'true'"},
      {"nul", "line 1, column 1: invalid literal, expected 'null'"},
      {"[fals]", "line 1, column 2: invalid literal, expected 'false'"},
      {"True", "line 1, column 1: unexpected 'T', expected a value"},
      // Strings and escapes.
      {"\"abc", "line 1, column 1: unterminated string"},
      {"[\"a\\\"]", "line 1, column 2: unterminated string"},
      {"\"\\x\"", "line 1, column 2: invalid escape '\\x'"},
      {"\"\\'\"", "line 1, column 2: invalid escape '\\''"},
      {"\"\\", "line 1, column 2: unterminated escape sequence"},
      {"\"\\u12\"",
       "line 1, column 2: invalid \\u escape, expected 4 hex digits"},
      {"\"\\u12", "line 1, column 2: truncated \\u escape"},
      {"\"\\u00g0\"",
       "line 1, column 2: invalid \\u escape, expected 4 hex digits"},
      {"\"ab\\ud800\"",
       "line 1, column 4: unpaired high surrogate \\ud800, expected a low "
       "surrogate \\udc00-\\udfff to follow"},
      {"\"\\ud800\\u0041\"",
       "line 1, column 2: unpaired high surrogate \\ud800, expected a low "
       "surrogate \\udc00-\\udfff to follow"},
      {"\"\\ud800\\ud800\"",
       "line 1, column 2: unpaired high surrogate \\ud800, expected a low "
       "surrogate \\udc00-\\udfff to follow"},
      {"\"\\ud800\\uzzzz\"",
       "line 1, column 8: invalid \\u escape, expected 4 hex digits"},
      {"\"\\udc00\"", "line 1, column 2: unpaired low surrogate \\udc00"},
      {"\"x\\uDFFF\\uD800\"",
       "line 1, column 3: unpaired low surrogate \\udfff"},
      // Control characters must be escaped.
      {"\"a\nb\"",
       "line 1, column 3: control character 0x0a must be escaped in a string"},
      {"\"\t\"",
       "line 1, column 2: control character 0x09 must be escaped in a string"},
      // Invalid UTF-8.
      {"\"\xff\"",
       "line 1, column 2: invalid UTF-8 sequence starting with byte 0xff"},
      {"\"a\xc0\xaf\"", // Overlong '/'.
       "line 1, column 3: invalid UTF-8 sequence starting with byte 0xc0"},
      {"\"\xe0\x80\xaf\"", // Overlong three-byte form.
       "line 1, column 2: invalid UTF-8 sequence starting with byte 0xe0"},
      {"\"\xed\xa0\x80\"", // An encoded surrogate.
       "line 1, column 2: invalid UTF-8 sequence starting with byte 0xed"},
      {"\"\xf4\x90\x80\x80\"", // Above U+10FFFF.
       "line 1, column 2: invalid UTF-8 sequence starting with byte 0xf4"},
      {"\"\xe2\x82\"", // Cut short.
       "line 1, column 2: invalid UTF-8 sequence starting with byte 0xe2"},
      {"\"\x80\"", // A lone continuation byte.
       "line 1, column 2: invalid UTF-8 sequence starting with byte 0x80"},
      // Bytes outside any value.
      {"\xef\xbb\xbf{}", "line 1, column 1: unexpected 0xef, expected a value"},
      {"\f1", "line 1, column 1: unexpected 0x0c, expected a value"},
      {"\x01", "line 1, column 1: unexpected 0x01, expected a value"},
      // Trailing garbage.
      {"1 2", "line 1, column 3: unexpected '2' after the JSON value"},
      {"{} x", "line 1, column 4: unexpected 'x' after the JSON value"},
      {"[]]", "line 1, column 3: unexpected ']' after the JSON value"},
      {"nullnull", "line 1, column 5: unexpected 'n' after the JSON value"},
      // Duplicate keys.
      {"{\"a\":1,\"b\":2,\"a\":3}", "line 1, column 14: duplicate key \"a\""},
      {"{\"x\":{\"k\\n\":1,\"k\\u000a\":2}}",
       "line 1, column 15: duplicate key \"k\\u000a\""},
      // Line counting.
      {"{\n  \"a\": 1,\n  \"b\": tru\n}",
       "line 3, column 8: invalid literal, expected 'true'"},
      {"[1,\n2,\n]", "line 3, column 1: trailing comma before ']'"},
  };
  for (const Rejection &c : cases)
    EXPECT_EQ(parseError(c.input), c.message) << "input: " << c.input;
  // A raw NUL cannot go through the const char * table.
  EXPECT_EQ(parseError(std::string_view("\"a\0\"", 4)),
            "line 1, column 3: control character 0x00 must be escaped in a "
            "string");
  EXPECT_EQ(parseError(std::string_view("1\0", 2)),
            "line 1, column 2: unexpected 0x00 after the JSON value");
}

TEST(Json, DuplicateKeyInLargeObject) {
  std::string text = "{";
  for (int i = 0; i < 5000; ++i)
    text += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  std::string ok = text + "\"last\":0}";
  JsonValue v = parseOk(ok);
  ASSERT_EQ(v.members().size(), 5001u);
  EXPECT_EQ(v.find("k4321")->asInt(), 4321);
  std::string bad = text + "\"k2500\":0}";
  std::string message = parseError(bad);
  EXPECT_EQ(message, "line 1, column " + std::to_string(bad.size() - 9) +
                         ": duplicate key \"k2500\"");
}

TEST(Json, NestingDepthLimit) {
  std::string ok = std::string(512, '[') + std::string(512, ']');
  JsonValue v = parseOk(ok);
  int depth = 0;
  for (const JsonValue *p = &v; p->isArray() && !p->elements().empty();
       p = &p->elements()[0])
    ++depth;
  EXPECT_EQ(depth, 511); // The innermost array is empty.
  EXPECT_EQ(parseOk(v.dump()).dump(), ok);

  std::string deep = std::string(513, '[') + std::string(513, ']');
  EXPECT_EQ(parseError(deep),
            "line 1, column 513: nesting deeper than 512 levels");
  std::string objects;
  for (int i = 0; i < 513; ++i)
    objects += "{\"a\":";
  objects += "1" + std::string(513, '}');
  EXPECT_EQ(parseError(objects),
            "line 1, column 2561: nesting deeper than 512 levels");
  // Far deeper input fails cleanly instead of overflowing the stack.
  EXPECT_EQ(parseError(std::string(1000000, '[')),
            "line 1, column 513: nesting deeper than 512 levels");
}

TEST(Json, BuildingValues) {
  JsonValue root = JsonValue::object();
  root.set("b", JsonValue(1));
  root.set("a", JsonValue("x"));
  JsonValue &list = root.set("c", JsonValue::array());
  list.push(JsonValue(true));
  list.push(JsonValue());
  list.push(JsonValue(2.25));
  EXPECT_EQ(root.dump(), R"({"b":1,"a":"x","c":[true,null,2.25]})");
  // Replacing keeps the key's position.
  root.set("b", JsonValue(std::string("y")));
  EXPECT_EQ(root.dump(), R"({"b":"y","a":"x","c":[true,null,2.25]})");
  // Mutable find edits in place.
  root.find("c")->elements()[1] = JsonValue(false);
  EXPECT_EQ(root.find("c")->elements()[1].kind(), JsonValue::Kind::kBool);
  EXPECT_EQ(root.dump(), R"({"b":"y","a":"x","c":[true,false,2.25]})");
  EXPECT_EQ(root.members().size(), 3u);
  // A null becomes the container it is used as.
  JsonValue fresh;
  fresh.set("k", JsonValue(1));
  EXPECT_EQ(fresh.dump(), R"({"k":1})");
  JsonValue freshArray;
  freshArray.push(JsonValue(1));
  EXPECT_EQ(freshArray.dump(), "[1]");
  // Non-containers have no members or elements.
  EXPECT_TRUE(JsonValue(5).members().empty());
  EXPECT_TRUE(JsonValue(5).elements().empty());
  EXPECT_EQ(JsonValue(5).find("k"), nullptr);
}

TEST(Json, KindsOfConstructedValues) {
  EXPECT_EQ(JsonValue().kind(), JsonValue::Kind::kNull);
  EXPECT_EQ(JsonValue(false).kind(), JsonValue::Kind::kBool);
  EXPECT_EQ(JsonValue(1).kind(), JsonValue::Kind::kNumber);
  EXPECT_EQ(JsonValue(uint64_t{1}).kind(), JsonValue::Kind::kNumber);
  EXPECT_EQ(JsonValue("s").kind(), JsonValue::Kind::kString);
  EXPECT_EQ(JsonValue(std::string("s")).kind(), JsonValue::Kind::kString);
  EXPECT_EQ(JsonValue::array().kind(), JsonValue::Kind::kArray);
  EXPECT_EQ(JsonValue::object().kind(), JsonValue::Kind::kObject);
  EXPECT_EQ(JsonValue::array().dump(), "[]");
  EXPECT_EQ(JsonValue::object().dump(2), "{}");
  EXPECT_EQ(JsonValue().dump(), "null");
  EXPECT_EQ(JsonValue(true).dump(), "true");
}

} // namespace

namespace {

TEST(JsonDump, InvalidUtf8BecomesReplacementCharacters) {
  // Model output decoded token by token may end inside a character.
  std::string s = "ok \xc3\xa9 \xe4\xb8";
  std::string out = msa::runtime::JsonValue(s).dump();
  EXPECT_EQ(out, "\"ok \xc3\xa9 \\ufffd\\ufffd\"");
  EXPECT_TRUE(msa::runtime::JsonValue::parse(out).isOk());
}

} // namespace
