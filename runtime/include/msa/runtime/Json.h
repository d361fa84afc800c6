//===- Json.h - a small JSON value, parser and writer -----------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// config.json, safetensors headers, tokenizer.json, bundle manifests and the
// CLI's --json output all go through this one DOM. Exception-free: parse
// errors come back as a Status naming the line and column. Objects keep
// their keys in insertion order so written files are deterministic.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_JSON_H
#define MSA_RUNTIME_JSON_H

#include "msa/runtime/Status.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace msa::runtime {

/// A JSON value: null, bool, number, string, array or object.
class JsonValue {
public:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  using Member = std::pair<std::string, JsonValue>;

  JsonValue() = default; ///< null
  JsonValue(bool b) : kind_(Kind::kBool), bool_(b) {}
  JsonValue(double n) : kind_(Kind::kNumber), number_(n) {}
  JsonValue(int n) : JsonValue(static_cast<int64_t>(n)) {}
  /// Numbers are stored as double, so integers beyond ±2^53 are rounded to
  /// the nearest representable double (JSON readers elsewhere do the same).
  JsonValue(int64_t n);
  /// As JsonValue(int64_t): exact only up to 2^53.
  JsonValue(uint64_t n);
  JsonValue(const char *s) : kind_(Kind::kString), string_(s) {}
  JsonValue(std::string s) : kind_(Kind::kString), string_(std::move(s)) {}

  static JsonValue array();
  static JsonValue object();

  /// Parses a complete JSON text (RFC 8259; UTF-8, \uXXXX escapes with
  /// surrogate pairs). Errors read "line L, column C: <problem>".
  static StatusOr<JsonValue> parse(std::string_view text);

  /// Serialises the value. indent < 0: compact, one line; otherwise pretty
  /// with that many spaces. Integral numbers within ±2^53 print without a
  /// fraction; others with the shortest text that reads back exactly.
  std::string dump(int indent = -1) const;

  Kind kind() const { return kind_; }
  bool isNull() const { return kind_ == Kind::kNull; }
  bool isBool() const { return kind_ == Kind::kBool; }
  bool isNumber() const { return kind_ == Kind::kNumber; }
  bool isString() const { return kind_ == Kind::kString; }
  bool isArray() const { return kind_ == Kind::kArray; }
  bool isObject() const { return kind_ == Kind::kObject; }
  /// True for a number with no fractional part that fits in int64_t.
  bool isInteger() const;

  bool asBool() const { return bool_; }
  double asNumber() const { return number_; }
  /// The number truncated toward zero; saturates at the int64_t limits and
  /// gives 0 for NaN and for non-numbers.
  int64_t asInt() const;
  const std::string &asString() const { return string_; }

  /// Array elements (empty for non-arrays).
  const std::vector<JsonValue> &elements() const { return elements_; }
  std::vector<JsonValue> &elements() { return elements_; }
  /// Object members in insertion order (empty for non-objects).
  const std::vector<Member> &members() const { return members_; }

  /// The member named key, or nullptr (also for non-objects).
  const JsonValue *find(std::string_view key) const;
  JsonValue *find(std::string_view key);

  /// Sets (replacing) an object member; the value must be an object.
  JsonValue &set(std::string key, JsonValue value);
  /// Appends an array element; the value must be an array.
  JsonValue &push(JsonValue value);

private:
  // The parser fills members_ directly: set() would cost a linear key search
  // per member, quadratic on tokenizer.json's vocabulary.
  friend class JsonParser;

  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  double number_ = 0.0;
  std::string string_;
  std::vector<JsonValue> elements_;
  std::vector<Member> members_;
};

} // namespace msa::runtime

#endif // MSA_RUNTIME_JSON_H
