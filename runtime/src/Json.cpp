//===- Json.cpp - a small JSON value, parser and writer ---------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A strict RFC 8259 parser and a deterministic writer for JsonValue. The
// parser reads checkpoint headers and configs that come from outside, so it
// rejects everything the grammar does not allow (comments, trailing commas,
// leading zeros, bad escapes, lone surrogates, invalid UTF-8, duplicate keys)
// instead of guessing, and bounds its recursion depth.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Json.h"

#include "msa/runtime/Unicode.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace msa::runtime {

namespace {

/// Arrays and objects may nest this deep; the parser recurses once per
/// level, so the bound keeps hostile input from overflowing the stack.
constexpr int kMaxDepth = 512;

/// 2^53: every integer up to this magnitude is exact in a double.
constexpr double kMaxExactInteger = 9007199254740992.0;

/// 2^63 as a double; int64_t covers [-2^63, 2^63).
constexpr double kTwoPow63 = 9223372036854775808.0;

bool isDigit(char c) { return c >= '0' && c <= '9'; }

int hexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

void appendUtf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

/// Describes byte `c` for an error message: 'x' when printable, else 0xNN.
std::string describeByte(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  char buf[16];
  if (u >= 0x20 && u < 0x7f)
    std::snprintf(buf, sizeof(buf), "'%c'", c);
  else
    std::snprintf(buf, sizeof(buf), "0x%02x", u);
  return buf;
}

void appendNumber(std::string &out, double x) {
  // JSON has no spelling for NaN or infinities; null is what JavaScript's
  // JSON.stringify writes too.
  if (!std::isfinite(x)) {
    out += "null";
    return;
  }
  char buf[32];
  if (std::trunc(x) == x && std::fabs(x) <= kMaxExactInteger) {
    if (x == 0.0 && std::signbit(x))
      out += "-0"; // Keeps the sign through a round trip.
    else {
      std::snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(x));
      out += buf;
    }
    return;
  }
  // The shortest of these that reads back to the same double; %.17g always
  // does, so the loop always ends with a valid buffer.
  for (int precision : {15, 16, 17}) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, x);
    if (std::strtod(buf, nullptr) == x)
      break;
  }
  out += buf;
}

void appendEscaped(std::string &out, const std::string &s) {
  out += '"';
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      // Valid UTF-8 is copied; a byte that starts no valid sequence (model
      // output decoded token by token can split characters) becomes U+FFFD
      // so the document stays valid JSON.
      unicode::DecodedChar d = unicode::decodeUtf8(s, i);
      if (d.valid) {
        out.append(s, i, d.length);
        i += d.length - 1;
      } else {
        out += "\\ufffd";
      }
      continue;
    }
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

void appendNewline(std::string &out, int indent, int depth) {
  out += '\n';
  out.append(static_cast<size_t>(indent) * static_cast<size_t>(depth), ' ');
}

void dumpValue(std::string &out, const JsonValue &v, int indent, int depth) {
  switch (v.kind()) {
  case JsonValue::Kind::kNull:
    out += "null";
    return;
  case JsonValue::Kind::kBool:
    out += v.asBool() ? "true" : "false";
    return;
  case JsonValue::Kind::kNumber:
    appendNumber(out, v.asNumber());
    return;
  case JsonValue::Kind::kString:
    appendEscaped(out, v.asString());
    return;
  case JsonValue::Kind::kArray: {
    const auto &elements = v.elements();
    if (elements.empty()) {
      out += "[]";
      return;
    }
    out += '[';
    for (size_t i = 0; i < elements.size(); ++i) {
      if (i)
        out += ',';
      if (indent >= 0)
        appendNewline(out, indent, depth + 1);
      dumpValue(out, elements[i], indent, depth + 1);
    }
    if (indent >= 0)
      appendNewline(out, indent, depth);
    out += ']';
    return;
  }
  case JsonValue::Kind::kObject: {
    const auto &members = v.members();
    if (members.empty()) {
      out += "{}";
      return;
    }
    out += '{';
    for (size_t i = 0; i < members.size(); ++i) {
      if (i)
        out += ',';
      if (indent >= 0)
        appendNewline(out, indent, depth + 1);
      appendEscaped(out, members[i].first);
      out += indent >= 0 ? ": " : ":";
      dumpValue(out, members[i].second, indent, depth + 1);
    }
    if (indent >= 0)
      appendNewline(out, indent, depth);
    out += '}';
    return;
  }
  }
}

} // namespace

/// Recursive-descent parser over one JSON text. Positions are byte offsets;
/// they become line and column only when an error is reported.
class JsonParser {
public:
  explicit JsonParser(std::string_view text) : text_(text) {}

  StatusOr<JsonValue> run() {
    JsonValue value;
    skipWhitespace();
    MSA_RETURN_IF_ERROR(parseValue(value, 0));
    skipWhitespace();
    if (pos_ != text_.size())
      return error(pos_, "unexpected " + describeByte(text_[pos_]) +
                             " after the JSON value");
    return value;
  }

private:
  bool atEnd() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }

  void skipWhitespace() {
    while (!atEnd()) {
      char c = peek();
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
        break;
      ++pos_;
    }
  }

  Status error(size_t at, const std::string &problem) const {
    size_t line = 1, lineStart = 0;
    for (size_t i = 0; i < at && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        lineStart = i + 1;
      }
    }
    return invalidArgument("line " + std::to_string(line) + ", column " +
                           std::to_string(at - lineStart + 1) + ": " + problem);
  }

  /// The error for a byte that cannot start what the grammar expects here.
  Status unexpected(const char *expected) const {
    if (atEnd())
      return error(pos_, std::string("unexpected end of input, expected ") +
                             expected);
    if (peek() == '/')
      return error(pos_, "comments are not allowed in JSON");
    return error(pos_, "unexpected " + describeByte(peek()) + ", expected " +
                           expected);
  }

  Status parseValue(JsonValue &out, int depth) {
    if (atEnd())
      return unexpected("a value");
    switch (peek()) {
    case '{':
      return parseObject(out, depth + 1);
    case '[':
      return parseArray(out, depth + 1);
    case '"':
      out = JsonValue(std::string());
      return parseString(out.string_);
    case 't':
      return parseLiteral("true", JsonValue(true), out);
    case 'f':
      return parseLiteral("false", JsonValue(false), out);
    case 'n':
      return parseLiteral("null", JsonValue(), out);
    default:
      if (peek() == '-' || isDigit(peek()))
        return parseNumber(out);
      return unexpected("a value");
    }
  }

  Status parseLiteral(std::string_view word, JsonValue value, JsonValue &out) {
    if (text_.substr(pos_, word.size()) != word)
      return error(pos_,
                   "invalid literal, expected '" + std::string(word) + "'");
    pos_ += word.size();
    out = std::move(value);
    return Status::ok();
  }

  Status parseArray(JsonValue &out, int depth) {
    if (depth > kMaxDepth)
      return error(pos_, "nesting deeper than " + std::to_string(kMaxDepth) +
                             " levels");
    out = JsonValue::array();
    ++pos_; // '['
    skipWhitespace();
    if (!atEnd() && peek() == ']') {
      ++pos_;
      return Status::ok();
    }
    while (true) {
      skipWhitespace();
      if (!atEnd() && peek() == ']')
        return error(pos_, "trailing comma before ']'");
      out.elements_.emplace_back();
      MSA_RETURN_IF_ERROR(parseValue(out.elements_.back(), depth));
      skipWhitespace();
      if (atEnd())
        return unexpected("',' or ']'");
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return Status::ok();
      }
      return unexpected("',' or ']'");
    }
  }

  Status parseObject(JsonValue &out, int depth) {
    if (depth > kMaxDepth)
      return error(pos_, "nesting deeper than " + std::to_string(kMaxDepth) +
                             " levels");
    out = JsonValue::object();
    std::vector<size_t> keyOffsets;
    ++pos_; // '{'
    skipWhitespace();
    if (!atEnd() && peek() == '}') {
      ++pos_;
      return Status::ok();
    }
    while (true) {
      skipWhitespace();
      if (!atEnd() && peek() == '}')
        return error(pos_, "trailing comma before '}'");
      if (atEnd() || peek() != '"')
        return unexpected("a string key");
      keyOffsets.push_back(pos_);
      out.members_.emplace_back();
      JsonValue::Member &member = out.members_.back();
      MSA_RETURN_IF_ERROR(parseString(member.first));
      skipWhitespace();
      if (atEnd() || peek() != ':')
        return unexpected("':' after the object key");
      ++pos_;
      skipWhitespace();
      MSA_RETURN_IF_ERROR(parseValue(member.second, depth));
      skipWhitespace();
      if (atEnd())
        return unexpected("',' or '}'");
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        break;
      }
      return unexpected("',' or '}'");
    }
    return checkDuplicateKeys(out.members_, keyOffsets);
  }

  /// RFC 8259 leaves duplicate names to the implementation; a safetensors
  /// header with two entries for one tensor is ambiguous, so they are
  /// rejected. Sorting indices keeps this O(n log n) for large vocabularies.
  Status checkDuplicateKeys(const std::vector<JsonValue::Member> &members,
                            const std::vector<size_t> &keyOffsets) const {
    if (members.size() < 2)
      return Status::ok();
    std::vector<size_t> order(members.size());
    for (size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return members[a].first < members[b].first;
    });
    // Report the earliest second occurrence, which is where a reader
    // scanning the text would first notice the repeat.
    size_t firstDuplicate = members.size();
    for (size_t i = 1; i < order.size(); ++i)
      if (members[order[i]].first == members[order[i - 1]].first)
        firstDuplicate = std::min(firstDuplicate, order[i]);
    if (firstDuplicate == members.size())
      return Status::ok();
    std::string key;
    appendEscaped(key, members[firstDuplicate].first);
    return error(keyOffsets[firstDuplicate], "duplicate key " + key);
  }

  Status parseHex4(size_t at, uint32_t &cp) {
    cp = 0;
    for (size_t i = 0; i < 4; ++i) {
      if (pos_ + i >= text_.size())
        return error(at, "truncated \\u escape");
      int h = hexValue(text_[pos_ + i]);
      if (h < 0)
        return error(at, "invalid \\u escape, expected 4 hex digits");
      cp = cp * 16 + static_cast<uint32_t>(h);
    }
    pos_ += 4;
    return Status::ok();
  }

  Status parseEscape(std::string &out) {
    size_t at = pos_; // The backslash.
    ++pos_;
    if (atEnd())
      return error(at, "unterminated escape sequence");
    char c = peek();
    ++pos_;
    switch (c) {
    case '"':
    case '\\':
    case '/':
      out += c;
      return Status::ok();
    case 'b':
      out += '\b';
      return Status::ok();
    case 'f':
      out += '\f';
      return Status::ok();
    case 'n':
      out += '\n';
      return Status::ok();
    case 'r':
      out += '\r';
      return Status::ok();
    case 't':
      out += '\t';
      return Status::ok();
    case 'u':
      break;
    default:
      return error(at, "invalid escape '\\" + std::string(1, c) + "'");
    }
    uint32_t cp = 0;
    MSA_RETURN_IF_ERROR(parseHex4(at, cp));
    char buf[128];
    if (cp >= 0xdc00 && cp <= 0xdfff) {
      std::snprintf(buf, sizeof(buf), "unpaired low surrogate \\u%04x", cp);
      return error(at, buf);
    }
    if (cp >= 0xd800 && cp <= 0xdbff) {
      size_t lowAt = pos_;
      uint32_t low = 0;
      bool paired = text_.substr(pos_, 2) == "\\u";
      if (paired) {
        pos_ += 2;
        MSA_RETURN_IF_ERROR(parseHex4(lowAt, low));
        paired = low >= 0xdc00 && low <= 0xdfff;
      }
      if (!paired) {
        std::snprintf(buf, sizeof(buf),
                      "unpaired high surrogate \\u%04x, expected a low "
                      "surrogate \\udc00-\\udfff to follow",
                      cp);
        return error(at, buf);
      }
      cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    }
    appendUtf8(out, cp);
    return Status::ok();
  }

  /// Copies one well-formed UTF-8 sequence (RFC 3629: no overlong forms, no
  /// encoded surrogates, nothing above U+10FFFF) starting at pos_.
  Status copyUtf8Sequence(std::string &out) {
    auto byteAt = [&](size_t i) -> unsigned {
      return pos_ + i < text_.size()
                 ? static_cast<unsigned char>(text_[pos_ + i])
                 : 0u;
    };
    unsigned lead = byteAt(0);
    size_t length = 0;
    unsigned lo = 0x80, hi = 0xbf; // Range of the second byte.
    if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      if (lead == 0xe0)
        lo = 0xa0;
      else if (lead == 0xed)
        hi = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      if (lead == 0xf0)
        lo = 0x90;
      else if (lead == 0xf4)
        hi = 0x8f;
    }
    bool valid = length != 0;
    for (size_t i = 1; valid && i < length; ++i) {
      unsigned b = byteAt(i);
      valid = i == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xbf);
    }
    if (!valid)
      return error(pos_, "invalid UTF-8 sequence starting with byte " +
                             describeByte(static_cast<char>(lead)));
    out.append(text_.data() + pos_, length);
    pos_ += length;
    return Status::ok();
  }

  Status parseString(std::string &out) {
    size_t start = pos_;
    ++pos_; // '"'
    while (true) {
      if (atEnd())
        return error(start, "unterminated string");
      char c = peek();
      unsigned char u = static_cast<unsigned char>(c);
      if (c == '"') {
        ++pos_;
        return Status::ok();
      }
      if (c == '\\') {
        MSA_RETURN_IF_ERROR(parseEscape(out));
      } else if (u < 0x20) {
        return error(pos_, "control character " + describeByte(c) +
                               " must be escaped in a string");
      } else if (u < 0x80) {
        out += c;
        ++pos_;
      } else {
        MSA_RETURN_IF_ERROR(copyUtf8Sequence(out));
      }
    }
  }

  Status parseNumber(JsonValue &out) {
    size_t start = pos_;
    if (peek() == '-')
      ++pos_;
    if (atEnd() || !isDigit(peek()))
      return error(pos_, "expected a digit after '-'");
    if (peek() == '0') {
      ++pos_;
      if (!atEnd() && isDigit(peek()))
        return error(start, "leading zeros are not allowed in numbers");
    } else {
      while (!atEnd() && isDigit(peek()))
        ++pos_;
    }
    if (!atEnd() && peek() == '.') {
      ++pos_;
      if (atEnd() || !isDigit(peek()))
        return error(pos_, "expected a digit after the decimal point");
      while (!atEnd() && isDigit(peek()))
        ++pos_;
    }
    if (!atEnd() && (peek() == 'e' || peek() == 'E')) {
      ++pos_;
      if (!atEnd() && (peek() == '+' || peek() == '-'))
        ++pos_;
      if (atEnd() || !isDigit(peek()))
        return error(pos_, "expected a digit in the exponent");
      while (!atEnd() && isDigit(peek()))
        ++pos_;
    }
    // The grammar has been checked, so strtod consumes exactly this text.
    std::string digits(text_.substr(start, pos_ - start));
    double value = std::strtod(digits.c_str(), nullptr);
    if (std::isinf(value))
      return error(start, "number " + digits + " is out of range");
    out = JsonValue(value);
    return Status::ok();
  }

  std::string_view text_;
  size_t pos_ = 0;
};

JsonValue::JsonValue(int64_t n)
    : kind_(Kind::kNumber), number_(static_cast<double>(n)) {}

JsonValue::JsonValue(uint64_t n)
    : kind_(Kind::kNumber), number_(static_cast<double>(n)) {}

JsonValue JsonValue::array() {
  JsonValue v;
  v.kind_ = Kind::kArray;
  return v;
}

JsonValue JsonValue::object() {
  JsonValue v;
  v.kind_ = Kind::kObject;
  return v;
}

StatusOr<JsonValue> JsonValue::parse(std::string_view text) {
  return JsonParser(text).run();
}

std::string JsonValue::dump(int indent) const {
  std::string out;
  dumpValue(out, *this, indent, 0);
  return out;
}

bool JsonValue::isInteger() const {
  return kind_ == Kind::kNumber && std::isfinite(number_) &&
         std::trunc(number_) == number_ && number_ >= -kTwoPow63 &&
         number_ < kTwoPow63;
}

int64_t JsonValue::asInt() const {
  if (kind_ != Kind::kNumber || std::isnan(number_))
    return 0;
  // Casting an out-of-range double is undefined behaviour, so saturate.
  if (number_ >= kTwoPow63)
    return std::numeric_limits<int64_t>::max();
  if (number_ < -kTwoPow63)
    return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(number_);
}

const JsonValue *JsonValue::find(std::string_view key) const {
  for (const Member &m : members_)
    if (m.first == key)
      return &m.second;
  return nullptr;
}

JsonValue *JsonValue::find(std::string_view key) {
  for (Member &m : members_)
    if (m.first == key)
      return &m.second;
  return nullptr;
}

JsonValue &JsonValue::set(std::string key, JsonValue value) {
  // Misuse on a non-object is a bug in the caller. Release builds turn the
  // value into an object rather than write into an invisible members_ list.
  if (kind_ != Kind::kObject) {
    assert(kind_ == Kind::kNull && "JsonValue::set on a non-object");
    *this = object();
  }
  if (JsonValue *existing = find(key)) {
    *existing = std::move(value);
    return *existing;
  }
  members_.emplace_back(std::move(key), std::move(value));
  return members_.back().second;
}

JsonValue &JsonValue::push(JsonValue value) {
  if (kind_ != Kind::kArray) {
    assert(kind_ == Kind::kNull && "JsonValue::push on a non-array");
    *this = array();
  }
  elements_.push_back(std::move(value));
  return elements_.back();
}

} // namespace msa::runtime
