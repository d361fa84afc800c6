//===- Tokenizer.cpp - byte-level BPE from a tokenizer.json -----*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Loading of the Qwen3 tokenizer.json, added-token splitting, the
// hand-written matcher for the Qwen3 pre-tokenizer regex, and BPE merging
// with a priority queue over a linked list of symbols (Hugging Face's
// Word::merge_all), so long pre-tokens cost O(n log n), not O(n^2).
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Tokenizer.h"

#include "msa/runtime/FileUtil.h"
#include "msa/runtime/Unicode.h"

#include <algorithm>
#include <array>
#include <functional>

namespace msa::runtime {

namespace {

/// The only Split pattern the hand-written matcher implements (Qwen2/Qwen3).
constexpr std::string_view kQwen3Pattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/// BPE results are memoised for pre-tokens up to this many bytes...
constexpr size_t kMaxCachedWordBytes = 256;
/// ...until the cache holds this many; later words are not added (as in HF,
/// whose cache also stops growing when full).
constexpr size_t kCacheCapacity = 1 << 18;

//===----------------------------------------------------------------------===//
// GPT-2 byte-to-unicode mapping
//===----------------------------------------------------------------------===//

/// The character GPT-2's bytes_to_unicode() gives each byte: printable
/// Latin-1 bytes stand for themselves, the others for U+0100 onwards.
struct ByteLevelTable {
  std::array<char32_t, 256> byteToChar{};
  /// Indexed by character (all below U+0144); -1 where no byte maps there.
  std::array<int16_t, 0x144> charToByte{};

  ByteLevelTable() {
    charToByte.fill(-1);
    auto printable = [](int b) {
      return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) ||
             (b >= 0xAE && b <= 0xFF);
    };
    char32_t next = 0x100;
    for (int b = 0; b < 256; ++b) {
      char32_t c = printable(b) ? static_cast<char32_t>(b) : next++;
      byteToChar[b] = c;
      charToByte[c] = static_cast<int16_t>(b);
    }
  }
};

const ByteLevelTable &byteLevel() {
  static const ByteLevelTable table;
  return table;
}

/// The byte-level spelling of raw bytes ("Ġthe" for " the").
std::string toByteLevel(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char b : bytes)
    unicode::appendUtf8(out, byteLevel().byteToChar[static_cast<uint8_t>(b)]);
  return out;
}

/// HF's ByteLevel decoder on one token: the bytes its characters stand for
/// if every character is a byte-level one, else the token's own UTF-8.
std::string fromByteLevel(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (size_t pos = 0; pos < token.size();) {
    unicode::DecodedChar d = unicode::decodeUtf8(token, pos);
    if (!d.valid || d.codePoint >= byteLevel().charToByte.size() ||
        byteLevel().charToByte[d.codePoint] < 0)
      return std::string(token);
    out.push_back(static_cast<char>(byteLevel().charToByte[d.codePoint]));
    pos += d.length;
  }
  return out;
}

//===----------------------------------------------------------------------===//
// The Qwen3 pre-tokenizer regex
//===----------------------------------------------------------------------===//

// Character classes of the pre-tokenizer, as bits.
constexpr uint8_t kClsLetter = 1;  // \p{L}
constexpr uint8_t kClsNumber = 2;  // \p{N}
constexpr uint8_t kClsSpace = 4;   // \s
constexpr uint8_t kClsNewline = 8; // [\r\n]
/// The end of the text, or a byte that does not start valid UTF-8: either
/// way the end of the text the regex sees.
constexpr uint8_t kClsStop = 16;

/// One decoded character of the text being pre-tokenized.
struct CharInfo {
  char32_t codePoint;
  size_t length; ///< In bytes; 0 at the end of the text.
  uint8_t cls;
};

uint8_t classify(char32_t c) {
  if (c < 0x80) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
      return kClsLetter;
    if (c >= '0' && c <= '9')
      return kClsNumber;
    if (c == '\r' || c == '\n')
      return kClsSpace | kClsNewline;
    return (c == ' ' || (c >= 0x09 && c <= 0x0D)) ? kClsSpace : 0;
  }
  if (unicode::isLetter(c))
    return kClsLetter;
  if (unicode::isNumber(c))
    return kClsNumber;
  return unicode::isWhiteSpace(c) ? kClsSpace : 0;
}

/// The character at text[pos], classified.
CharInfo charAt(std::string_view text, size_t pos) {
  if (pos >= text.size())
    return {0, 0, kClsStop};
  uint8_t b = static_cast<uint8_t>(text[pos]);
  if (b < 0x80)
    return {b, 1, classify(b)};
  unicode::DecodedChar d = unicode::decodeUtf8(text, pos);
  if (!d.valid)
    return {d.codePoint, 1, kClsStop};
  return {d.codePoint, d.length, classify(d.codePoint)};
}

/// The contraction letters of (?i:'s|'t|'re|'ve|'m|'ll|'d), case-folded the
/// way Oniguruma folds them: ASCII case, and U+017F LATIN SMALL LETTER LONG S
/// folds to 's'. No other character folds to one of these letters.
char32_t foldContractionLetter(const CharInfo &c) {
  if (c.cls & kClsStop)
    return 0;
  if (c.codePoint >= 'A' && c.codePoint <= 'Z')
    return c.codePoint - 'A' + 'a';
  return c.codePoint == 0x17F ? 's' : c.codePoint;
}

/// [^\s\p{L}\p{N}], and not past the end.
bool isOther(const CharInfo &c) {
  return (c.cls & (kClsLetter | kClsNumber | kClsSpace | kClsStop)) == 0;
}

/// The end of the run of characters with a class in `mask` from text[pos].
size_t skipClass(std::string_view text, size_t pos, uint8_t mask) {
  for (CharInfo c = charAt(text, pos); c.cls & mask; c = charAt(text, pos))
    pos += c.length;
  return pos;
}

/// The end of the regex's match at text[i], which must hold a valid
/// character. Every character starts a match, so the result is always > i.
/// The alternatives are tried in order, with the backtracking outcome of
/// each worked out by hand; they look ahead only, so characters are decoded
/// as needed and no buffer is kept.
size_t matchPreToken(std::string_view text, size_t i) {
  CharInfo c0 = charAt(text, i);
  size_t p1 = i + c0.length;
  CharInfo c1 = charAt(text, p1);

  // (?i:'s|'t|'re|'ve|'m|'ll|'d)
  if (c0.codePoint == '\'') {
    char32_t a = foldContractionLetter(c1);
    if (a == 's' || a == 't' || a == 'm' || a == 'd')
      return p1 + c1.length;
    if (a == 'r' || a == 'v' || a == 'l') {
      CharInfo c2 = charAt(text, p1 + c1.length);
      char32_t b = foldContractionLetter(c2);
      if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') ||
          (a == 'l' && b == 'l'))
        return p1 + c1.length + c2.length;
    }
  }

  // [^\r\n\p{L}\p{N}]?\p{L}+ : the optional character is taken only if a
  // letter follows it; without it the match must start with a letter.
  if (c0.cls & kClsLetter)
    return skipClass(text, p1, kClsLetter);
  if ((c0.cls & (kClsNewline | kClsNumber)) == 0 && (c1.cls & kClsLetter))
    return skipClass(text, p1 + c1.length, kClsLetter);

  // \p{N}
  if (c0.cls & kClsNumber)
    return p1;

  // " ?[^\s\p{L}\p{N}]+[\r\n]*": the space is taken only if an "other"
  // character follows it.
  size_t others = text.size() + 1;
  if (isOther(c0))
    others = i;
  else if (c0.codePoint == ' ' && isOther(c1))
    others = p1;
  if (others <= text.size()) {
    size_t j = others;
    for (CharInfo c = charAt(text, j); isOther(c); c = charAt(text, j))
      j += c.length;
    return skipClass(text, j, kClsNewline);
  }

  // What is left starts with whitespace: scan its run, noting where the
  // last newline in it ends and where its last character starts.
  size_t lastNewlineEnd = 0;
  size_t lastStart = i;
  size_t j = i;
  CharInfo c = c0;
  while (c.cls & kClsSpace) {
    lastStart = j;
    j += c.length;
    if (c.cls & kClsNewline)
      lastNewlineEnd = j;
    c = charAt(text, j);
  }
  // \s*[\r\n]+ : \s* gives back characters until [\r\n]+ can match, so
  // the match ends just after the run's last newline.
  if (lastNewlineEnd != 0)
    return lastNewlineEnd;
  // \s+(?!\S) : the whole run at the end of the text, else all of it but
  // its last character, which then leads the next pre-token.
  if (c.cls & kClsStop)
    return j;
  if (lastStart > i)
    return lastStart;
  // \s+
  return j;
}

/// Calls fn(piece) for each pre-token of `text`, in order. Invalid bytes are
/// one-byte pieces and split the text into runs the regex sees separately.
template <typename Fn> void forEachPreToken(std::string_view text, Fn &&fn) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end =
        (charAt(text, pos).cls & kClsStop) ? pos + 1 : matchPreToken(text, pos);
    fn(text.substr(pos, end - pos));
    pos = end;
  }
}

//===----------------------------------------------------------------------===//
// JSON helpers
//===----------------------------------------------------------------------===//

Status keyError(const std::string &path, const std::string &key,
                const std::string &problem) {
  return invalidArgument(path + ": " + key + ": " + problem);
}

Status keyUnimplemented(const std::string &path, const std::string &key,
                        const std::string &problem) {
  return unimplemented(path + ": " + key + ": " + problem +
                       " (only the Qwen3 byte-level BPE configuration is "
                       "supported)");
}

std::string typeName(const JsonValue *v) {
  if (!v)
    return "missing";
  switch (v->kind()) {
  case JsonValue::Kind::kNull:
    return "null";
  case JsonValue::Kind::kBool:
    return "a boolean";
  case JsonValue::Kind::kNumber:
    return "a number";
  case JsonValue::Kind::kString:
    return "a string";
  case JsonValue::Kind::kArray:
    return "an array";
  case JsonValue::Kind::kObject:
    return "an object";
  }
  return "?";
}

/// The string member `key` of `obj`, or an error naming `where`.`key`.
StatusOr<std::string> getString(const JsonValue &obj, const char *key,
                                const std::string &where,
                                const std::string &path) {
  const JsonValue *v = obj.find(key);
  if (!v || !v->isString())
    return keyError(path, where + "." + key,
                    "expected a string, got " + typeName(v));
  return v->asString();
}

/// The boolean member `key`, `fallback` when absent or null.
StatusOr<bool> getBool(const JsonValue &obj, const char *key, bool fallback,
                       const std::string &where, const std::string &path) {
  const JsonValue *v = obj.find(key);
  if (!v || v->isNull())
    return fallback;
  if (!v->isBool())
    return keyError(path, where + "." + key,
                    "expected a boolean, got " + typeName(v));
  return v->asBool();
}

/// Truncates long JSON for error messages.
std::string shortDump(const JsonValue &v) {
  std::string s = v.dump();
  if (s.size() > 200)
    s = s.substr(0, 200) + "...";
  return s;
}

/// Token ids index dense tables, so a stray huge id must not make loading
/// allocate gigabytes; real vocabularies stay far below this.
constexpr int64_t kMaxTokenId = (int64_t(1) << 24) - 1;

/// A token id: an integer in [0, kMaxTokenId].
StatusOr<int32_t> toTokenId(const JsonValue &v, const std::string &key,
                            const std::string &path) {
  if (!v.isInteger() || v.asInt() < 0 || v.asInt() > kMaxTokenId)
    return keyError(path, key,
                    "expected a token id (an integer in [0, 2^24)), got " +
                        shortDump(v));
  return static_cast<int32_t>(v.asInt());
}

Status checkNormalizer(const JsonValue *normalizer, bool &nfc,
                       const std::string &path) {
  nfc = false;
  if (!normalizer || normalizer->isNull())
    return Status::ok();
  std::vector<std::pair<const JsonValue *, std::string>> todo = {
      {normalizer, "normalizer"}};
  for (size_t i = 0; i < todo.size(); ++i) {
    const JsonValue &n = *todo[i].first;
    const std::string &key = todo[i].second;
    const JsonValue *type = n.isObject() ? n.find("type") : nullptr;
    if (!type || !type->isString())
      return keyError(path, key, "expected an object with a string 'type'");
    if (type->asString() == "NFC") {
      nfc = true;
      continue;
    }
    if (type->asString() == "Sequence") {
      const JsonValue *list = n.find("normalizers");
      if (!list || !list->isArray())
        return keyError(path, key + ".normalizers", "expected an array");
      for (size_t k = 0; k < list->elements().size(); ++k)
        todo.push_back({&list->elements()[k],
                        key + ".normalizers[" + std::to_string(k) + "]"});
      continue;
    }
    return keyUnimplemented(path, key + ".type",
                            "normalizer '" + type->asString() +
                                "' is not supported (only NFC)");
  }
  return Status::ok();
}

Status checkPreTokenizer(const JsonValue *pre, const std::string &path) {
  const std::string key = "pre_tokenizer";
  auto expected = [&](const std::string &where, const std::string &what) {
    return keyUnimplemented(path, where,
                            "expected " + what + ", got " +
                                (pre ? shortDump(*pre) : std::string("none")));
  };
  if (!pre || !pre->isObject())
    return expected(key, "Sequence[Split(Qwen3 regex), ByteLevel]");
  const JsonValue *type = pre->find("type");
  const JsonValue *list = pre->find("pretokenizers");
  if (!type || !type->isString() || type->asString() != "Sequence" || !list ||
      !list->isArray() || list->elements().size() != 2)
    return expected(key, "a Sequence of Split(Qwen3 regex) and ByteLevel");

  const JsonValue &split = list->elements()[0];
  std::string splitKey = key + ".pretokenizers[0]";
  const JsonValue *splitType = split.find("type");
  if (!splitType || !splitType->isString() || splitType->asString() != "Split")
    return keyUnimplemented(path, splitKey + ".type", "expected 'Split'");
  const JsonValue *pattern = split.find("pattern");
  const JsonValue *regex = pattern ? pattern->find("Regex") : nullptr;
  if (!regex || !regex->isString() || regex->asString() != kQwen3Pattern)
    return keyUnimplemented(
        path, splitKey + ".pattern.Regex",
        "only the Qwen3 pattern has a matcher, got " +
            (pattern ? shortDump(*pattern) : std::string("none")));
  const JsonValue *behavior = split.find("behavior");
  if (!behavior || !behavior->isString() || behavior->asString() != "Isolated")
    return keyUnimplemented(path, splitKey + ".behavior",
                            "expected 'Isolated'");
  const JsonValue *invert = split.find("invert");
  if (invert && !(invert->isBool() && !invert->asBool()))
    return keyUnimplemented(path, splitKey + ".invert", "expected false");

  const JsonValue &bl = list->elements()[1];
  std::string blKey = key + ".pretokenizers[1]";
  const JsonValue *blType = bl.find("type");
  if (!blType || !blType->isString() || blType->asString() != "ByteLevel")
    return keyUnimplemented(path, blKey + ".type", "expected 'ByteLevel'");
  for (const char *flag : {"add_prefix_space", "use_regex"}) {
    const JsonValue *v = bl.find(flag);
    if (v && !(v->isBool() && !v->asBool()))
      return keyUnimplemented(path, blKey + "." + flag, "expected false");
  }
  return Status::ok();
}

Status checkDecoder(const JsonValue *decoder, const std::string &path) {
  const JsonValue *type = decoder ? decoder->find("type") : nullptr;
  if (!type || !type->isString() || type->asString() != "ByteLevel")
    return keyUnimplemented(
        path, "decoder.type",
        "expected a ByteLevel decoder, got " +
            (decoder ? shortDump(*decoder) : std::string("none")));
  return Status::ok();
}

} // namespace

//===----------------------------------------------------------------------===//
// Private helpers of Tokenizer
//===----------------------------------------------------------------------===//

struct Tokenizer::AddedToken {
  int32_t id = 0;
  std::string content; ///< What is matched (NFC'd for normalized tokens).
  bool special = false;
  bool singleWord = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
};

/// A byte trie over added-token contents, for HF's leftmost-longest
/// matching (aho-corasick MatchKind::LeftmostLongest).
struct Tokenizer::Trie {
  struct Node {
    std::vector<std::pair<uint8_t, int32_t>> children;
    int32_t token = -1; ///< Index into addedTokens_ ending here.
  };
  std::vector<Node> nodes{Node()};
  std::array<bool, 256> firstByte{};

  bool empty() const { return nodes.size() == 1; }

  void insert(std::string_view s, int32_t token) {
    if (s.empty())
      return;
    firstByte[static_cast<uint8_t>(s[0])] = true;
    int32_t node = 0;
    for (char ch : s) {
      uint8_t b = static_cast<uint8_t>(ch);
      int32_t next = -1;
      for (auto &[key, child] : nodes[node].children)
        if (key == b)
          next = child;
      if (next < 0) {
        next = static_cast<int32_t>(nodes.size());
        nodes[node].children.push_back({b, next});
        nodes.emplace_back();
      }
      node = next;
    }
    // The first of several tokens with the same content wins.
    if (nodes[node].token < 0)
      nodes[node].token = token;
  }

  /// The longest token starting at text[pos]: {token index, length}, or
  /// {-1, 0}.
  std::pair<int32_t, size_t> longestAt(std::string_view text,
                                       size_t pos) const {
    std::pair<int32_t, size_t> best{-1, 0};
    int32_t node = 0;
    for (size_t k = pos; k < text.size(); ++k) {
      uint8_t b = static_cast<uint8_t>(text[k]);
      int32_t next = -1;
      for (const auto &[key, child] : nodes[node].children)
        if (key == b) {
          next = child;
          break;
        }
      if (next < 0)
        break;
      node = next;
      if (nodes[node].token >= 0)
        best = {nodes[node].token, k + 1 - pos};
    }
    return best;
  }
};

/// (left id, right id) -> (rank, merged id), open addressing on 64-bit keys.
struct Tokenizer::MergeTable {
  struct Slot {
    uint64_t key = kEmpty;
    int32_t rank = 0;
    int32_t merged = 0;
  };
  static constexpr uint64_t kEmpty = ~uint64_t(0);
  std::vector<Slot> slots;
  uint64_t mask = 0;

  static uint64_t pairKey(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) |
           static_cast<uint32_t>(b);
  }
  static uint64_t hash(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return k;
  }

  void reserve(size_t count) {
    size_t size = 16;
    while (size < count * 2)
      size *= 2;
    slots.assign(size, Slot());
    mask = size - 1;
  }

  /// Inserts or replaces: a later duplicate of a merge overrides the
  /// earlier one, as when HF collects the merges into a HashMap.
  void set(int32_t a, int32_t b, int32_t rank, int32_t merged) {
    uint64_t key = pairKey(a, b);
    for (uint64_t i = hash(key) & mask;; i = (i + 1) & mask) {
      if (slots[i].key == kEmpty || slots[i].key == key) {
        slots[i] = {key, rank, merged};
        return;
      }
    }
  }

  const Slot *find(int32_t a, int32_t b) const {
    uint64_t key = pairKey(a, b);
    for (uint64_t i = hash(key) & mask;; i = (i + 1) & mask) {
      if (slots[i].key == key)
        return &slots[i];
      if (slots[i].key == kEmpty)
        return nullptr;
    }
  }
};

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

Tokenizer::Tokenizer() : merges_(std::make_unique<MergeTable>()) {
  std::fill(std::begin(byteIds_), std::end(byteIds_), -1);
}

Tokenizer::~Tokenizer() = default;

StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::load(const std::string &path) {
  MSA_ASSIGN_OR_RETURN(std::string text, readFile(path));
  StatusOr<JsonValue> json = JsonValue::parse(text);
  if (!json.isOk())
    return json.status().withContext(path);
  return fromJson(*json, path);
}

Status Tokenizer::parseModel(const JsonValue &model, const std::string &path) {
  if (!model.isObject())
    return keyError(path, "model",
                    "expected an object, got " + typeName(&model));
  const JsonValue *type = model.find("type");
  if (type && !type->isString())
    return keyError(path, "model.type", "expected a string");
  if (type && type->asString() != "BPE")
    return keyUnimplemented(path, "model.type",
                            "model type '" + type->asString() +
                                "' is not supported (only BPE)");
  if (!type && !model.find("merges"))
    return keyUnimplemented(path, "model.type",
                            "missing, and the model has no merges (only BPE "
                            "is supported)");

  MSA_ASSIGN_OR_RETURN(bool byteFallback,
                       getBool(model, "byte_fallback", false, "model", path));
  if (byteFallback)
    return keyUnimplemented(path, "model.byte_fallback", "expected false");
  const JsonValue *dropout = model.find("dropout");
  if (dropout && !dropout->isNull())
    return keyUnimplemented(path, "model.dropout", "expected null");
  for (const char *affix :
       {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const JsonValue *v = model.find(affix);
    if (v && !v->isNull() && !(v->isString() && v->asString().empty()))
      return keyUnimplemented(path, std::string("model.") + affix,
                              "expected null or \"\"");
  }
  MSA_ASSIGN_OR_RETURN(ignoreMerges_,
                       getBool(model, "ignore_merges", false, "model", path));
  MSA_ASSIGN_OR_RETURN(fuseUnk_,
                       getBool(model, "fuse_unk", false, "model", path));

  const JsonValue *vocab = model.find("vocab");
  if (!vocab || !vocab->isObject())
    return keyError(path, "model.vocab",
                    "expected an object, got " + typeName(vocab));
  vocab_.reserve(vocab->members().size());
  int64_t maxId = -1;
  for (const auto &[token, idValue] : vocab->members()) {
    MSA_ASSIGN_OR_RETURN(
        int32_t id, toTokenId(idValue, "model.vocab['" + token + "']", path));
    vocab_.emplace(token, id);
    maxId = std::max<int64_t>(maxId, id);
  }
  // Where two entries share an id, the first in the file names it.
  idToToken_.assign(static_cast<size_t>(maxId + 1), std::string());
  std::vector<bool> named(idToToken_.size(), false);
  for (const auto &[token, idValue] : vocab->members()) {
    size_t id = static_cast<size_t>(idValue.asInt());
    if (!named[id]) {
      idToToken_[id] = token;
      named[id] = true;
    }
  }
  for (int b = 0; b < 256; ++b) {
    std::string s;
    unicode::appendUtf8(s, byteLevel().byteToChar[b]);
    auto it = vocab_.find(s);
    if (it != vocab_.end())
      byteIds_[b] = it->second;
  }

  const JsonValue *unk = model.find("unk_token");
  if (unk && !unk->isNull()) {
    if (!unk->isString())
      return keyError(path, "model.unk_token", "expected a string or null");
    auto it = vocab_.find(unk->asString());
    if (it == vocab_.end())
      return keyError(path, "model.unk_token",
                      "'" + unk->asString() + "' is not in the vocab");
    unkId_ = it->second;
  }

  const JsonValue *merges = model.find("merges");
  if (!merges || !merges->isArray())
    return keyError(path, "model.merges",
                    "expected an array, got " + typeName(merges));
  merges_->reserve(merges->elements().size());
  std::string merged;
  for (size_t rank = 0; rank < merges->elements().size(); ++rank) {
    const JsonValue &m = merges->elements()[rank];
    std::string key = "model.merges[" + std::to_string(rank) + "]";
    std::string_view left, right;
    if (m.isString()) {
      // The legacy format: "left right", exactly one space.
      std::string_view s = m.asString();
      size_t space = s.find(' ');
      if (space == std::string_view::npos ||
          s.find(' ', space + 1) != std::string_view::npos)
        return keyError(path, key,
                        "expected \"left right\", got '" + m.asString() + "'");
      left = s.substr(0, space);
      right = s.substr(space + 1);
    } else if (m.isArray() && m.elements().size() == 2 &&
               m.elements()[0].isString() && m.elements()[1].isString()) {
      left = m.elements()[0].asString();
      right = m.elements()[1].asString();
    } else {
      return keyError(path, key,
                      "expected a string or a pair of strings, got " +
                          shortDump(m));
    }
    merged.assign(left);
    merged.append(right);
    auto l = vocab_.find(std::string(left));
    auto r = vocab_.find(std::string(right));
    auto result = vocab_.find(merged);
    if (l == vocab_.end() || r == vocab_.end() || result == vocab_.end())
      return keyError(path, key,
                      "'" +
                          std::string(l == vocab_.end()   ? left
                                      : r == vocab_.end() ? right
                                                          : merged) +
                          "' is not in the vocab");
    merges_->set(l->second, r->second, static_cast<int32_t>(rank),
                 result->second);
  }
  return Status::ok();
}

Status Tokenizer::parseAddedTokens(const JsonValue &json,
                                   const std::string &path) {
  rawTrie_ = std::make_unique<Trie>();
  normalizedTrie_ = std::make_unique<Trie>();
  const JsonValue *added = json.find("added_tokens");
  if (!added || added->isNull())
    return Status::ok();
  if (!added->isArray())
    return keyError(path, "added_tokens",
                    "expected an array, got " + typeName(added));
  for (size_t i = 0; i < added->elements().size(); ++i) {
    const JsonValue &t = added->elements()[i];
    std::string key = "added_tokens[" + std::to_string(i) + "]";
    if (!t.isObject())
      return keyError(path, key, "expected an object");
    AddedToken token;
    const JsonValue *id = t.find("id");
    if (!id)
      return keyError(path, key + ".id", "missing");
    MSA_ASSIGN_OR_RETURN(token.id, toTokenId(*id, key + ".id", path));
    MSA_ASSIGN_OR_RETURN(token.content, getString(t, "content", key, path));
    if (token.content.empty())
      return keyError(path, key + ".content", "must not be empty");
    MSA_ASSIGN_OR_RETURN(token.special,
                         getBool(t, "special", false, key, path));
    MSA_ASSIGN_OR_RETURN(token.singleWord,
                         getBool(t, "single_word", false, key, path));
    MSA_ASSIGN_OR_RETURN(token.lstrip, getBool(t, "lstrip", false, key, path));
    MSA_ASSIGN_OR_RETURN(token.rstrip, getBool(t, "rstrip", false, key, path));
    // When absent, as HF's AddedToken::from(content, special): special
    // tokens are matched on the raw text, others on the normalized text.
    MSA_ASSIGN_OR_RETURN(token.normalized,
                         getBool(t, "normalized", !token.special, key, path));
    addedTokens_.push_back(token);
  }

  for (const AddedToken &t : addedTokens_)
    vocabSize_ = std::max<int64_t>(vocabSize_, int64_t(t.id) + 1);
  idToToken_.resize(static_cast<size_t>(vocabSize_));
  for (size_t i = 0; i < addedTokens_.size(); ++i) {
    AddedToken &t = addedTokens_[i];
    addedIds_.emplace(t.content, t.id);
    idToToken_[t.id] = t.content;
    // Normalized tokens are looked for in normalized text, so in their
    // normalized form (HF normalizes them the same way when loading).
    if (t.normalized) {
      if (nfc_)
        t.content = unicode::toNfc(t.content);
      normalizedTrie_->insert(t.content, static_cast<int32_t>(i));
    } else {
      rawTrie_->insert(t.content, static_cast<int32_t>(i));
    }
  }
  return Status::ok();
}

StatusOr<std::unique_ptr<Tokenizer>>
Tokenizer::fromJson(const JsonValue &json, const std::string &path) {
  if (!json.isObject())
    return invalidArgument(path + ": expected a JSON object at the top level");
  std::unique_ptr<Tokenizer> tok(new Tokenizer());

  const JsonValue *model = json.find("model");
  if (!model)
    return keyError(path, "model", "missing");
  MSA_RETURN_IF_ERROR(tok->parseModel(*model, path));
  MSA_RETURN_IF_ERROR(
      checkNormalizer(json.find("normalizer"), tok->nfc_, path));
  MSA_RETURN_IF_ERROR(checkPreTokenizer(json.find("pre_tokenizer"), path));
  MSA_RETURN_IF_ERROR(checkDecoder(json.find("decoder"), path));
  // The post_processor only adds tokens for add_special_tokens=True and
  // adjusts offsets; encode() does neither, so it is not read.

  tok->vocabSize_ = static_cast<int64_t>(tok->idToToken_.size());
  MSA_RETURN_IF_ERROR(tok->parseAddedTokens(json, path));

  // Decoded bytes per id. Vocab tokens go through HF's ByteLevel decoder;
  // added tokens that are not vocab entries decode to their content as
  // written (HF would byte-decode those too, which garbles contents with
  // Latin-1 letters such as "é").
  tok->idToBytes_.assign(static_cast<size_t>(tok->vocabSize_), std::string());
  tok->isSpecial_.assign(static_cast<size_t>(tok->vocabSize_), false);
  for (size_t id = 0; id < tok->idToToken_.size(); ++id)
    tok->idToBytes_[id] = fromByteLevel(tok->idToToken_[id]);
  for (const AddedToken &t : tok->addedTokens_) {
    tok->isSpecial_[t.id] = t.special;
    auto it = tok->vocab_.find(tok->idToToken_[t.id]);
    if (it == tok->vocab_.end() || it->second != t.id)
      tok->idToBytes_[t.id] = tok->idToToken_[t.id];
  }
  return tok;
}

//===----------------------------------------------------------------------===//
// Encoding
//===----------------------------------------------------------------------===//

namespace {

bool isWordChar(char32_t c) {
  // Rust's char::is_alphanumeric() || c == '_'; Alphabetic is approximated
  // by the letter categories.
  return c == '_' || unicode::isLetter(c) || unicode::isNumber(c);
}

/// The start of the character that ends at text[end], and the character
/// (0 if those bytes are not one valid character).
std::pair<size_t, char32_t> lastChar(std::string_view text, size_t end) {
  size_t start = end;
  while (start > 0 && end - start < 4) {
    --start;
    if ((static_cast<uint8_t>(text[start]) & 0xC0) != 0x80)
      break;
  }
  if (start == end)
    return {end, 0};
  unicode::DecodedChar d = unicode::decodeUtf8(text, start);
  if (d.valid && start + d.length == end)
    return {start, d.codePoint};
  return {end - 1, 0};
}

} // namespace

void Tokenizer::encodeWord(std::string_view word,
                           std::vector<int32_t> &out) const {
  if (word.empty())
    return;
  if (word.size() == 1) {
    int32_t id = byteIds_[static_cast<uint8_t>(word[0])];
    if (id >= 0)
      out.push_back(id);
    else if (unkId_)
      out.push_back(*unkId_);
    return;
  }
  if (ignoreMerges_) {
    auto it = vocab_.find(toByteLevel(word));
    if (it != vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  }

  bool cacheable = word.size() <= kMaxCachedWordBytes;
  thread_local std::string key;
  if (cacheable) {
    key.assign(word);
    std::lock_guard<std::mutex> lock(cacheMutex_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }

  // HF's Word: a doubly linked list of symbols and a min-heap of candidate
  // merges ordered by (rank, position). Entries whose pair changed since
  // they were pushed are skipped when popped.
  struct Symbol {
    int32_t id;
    int32_t prev;
    int32_t next;
    bool removed;
  };
  struct Candidate {
    int32_t rank;
    int32_t pos;
    int32_t merged;
    bool operator>(const Candidate &o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  thread_local std::vector<Symbol> symbols;
  thread_local std::vector<Candidate> heap;
  symbols.clear();
  heap.clear();

  for (char ch : word) {
    int32_t id = byteIds_[static_cast<uint8_t>(ch)];
    if (id < 0) {
      // A byte without a vocab entry: the unknown token (fused with a
      // preceding one if fuse_unk), or nothing, as in HF.
      if (!unkId_)
        continue;
      if (fuseUnk_ && !symbols.empty() && symbols.back().id == *unkId_)
        continue;
      id = *unkId_;
    }
    int32_t n = static_cast<int32_t>(symbols.size());
    symbols.push_back({id, n - 1, -1, false});
    if (n > 0)
      symbols[n - 1].next = n;
  }
  auto pushPair = [&](int32_t pos) {
    int32_t next = symbols[pos].next;
    if (next < 0)
      return;
    if (const MergeTable::Slot *m =
            merges_->find(symbols[pos].id, symbols[next].id)) {
      heap.push_back({m->rank, pos, m->merged});
      std::push_heap(heap.begin(), heap.end(), std::greater<Candidate>());
    }
  };
  for (int32_t pos = 0; pos + 1 < static_cast<int32_t>(symbols.size()); ++pos)
    pushPair(pos);

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<Candidate>());
    Candidate top = heap.back();
    heap.pop_back();
    Symbol &left = symbols[top.pos];
    if (left.removed || left.next < 0)
      continue;
    const MergeTable::Slot *m = merges_->find(left.id, symbols[left.next].id);
    if (!m || m->merged != top.merged)
      continue;
    Symbol &right = symbols[left.next];
    left.id = top.merged;
    right.removed = true;
    left.next = right.next;
    if (right.next >= 0)
      symbols[right.next].prev = top.pos;
    if (left.prev >= 0)
      pushPair(left.prev);
    pushPair(top.pos);
  }

  size_t first = out.size();
  for (const Symbol &s : symbols)
    if (!s.removed)
      out.push_back(s.id);

  if (cacheable) {
    std::lock_guard<std::mutex> lock(cacheMutex_);
    if (cache_.size() < kCacheCapacity)
      cache_.emplace(key, std::vector<int32_t>(out.begin() + first, out.end()));
  }
}

void Tokenizer::encodeNormalized(std::string_view text,
                                 std::vector<int32_t> &out) const {
  forEachPreToken(text, [&](std::string_view word) { encodeWord(word, out); });
}

void Tokenizer::splitOnAddedTokens(std::string_view text, bool normalized,
                                   std::vector<int32_t> &out) const {
  const Trie &trie = normalized ? *normalizedTrie_ : *rawTrie_;
  auto onText = [&](std::string_view piece) {
    if (normalized)
      encodeNormalized(piece, out);
    else
      encodeSection(piece, out);
  };
  if (trie.empty()) {
    onText(text);
    return;
  }
  // HF's AddedVocabulary::find_matches over aho-corasick's non-overlapping
  // leftmost-longest matches. A match that the single_word rule rejects
  // still consumes its text, as it does in HF.
  size_t start = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    if (!trie.firstByte[static_cast<uint8_t>(text[pos])]) {
      ++pos;
      continue;
    }
    auto [index, length] = trie.longestAt(text, pos);
    if (index < 0) {
      ++pos;
      continue;
    }
    const AddedToken &t = addedTokens_[index];
    size_t tokStart = pos, tokStop = pos + length;
    pos = tokStop;
    if (t.singleWord &&
        ((tokStart > 0 && isWordChar(lastChar(text, tokStart).second)) ||
         (tokStop < text.size() &&
          isWordChar(unicode::decodeUtf8(text, tokStop).codePoint))))
      continue;
    // lstrip and rstrip make the token swallow the whitespace around it.
    if (t.lstrip) {
      while (tokStart > start) {
        auto [charStart, c] = lastChar(text, tokStart);
        if (!unicode::isWhiteSpace(c))
          break;
        tokStart = charStart;
      }
    }
    if (t.rstrip) {
      while (tokStop < text.size()) {
        unicode::DecodedChar d = unicode::decodeUtf8(text, tokStop);
        if (!d.valid || !unicode::isWhiteSpace(d.codePoint))
          break;
        tokStop += d.length;
      }
    }
    onText(text.substr(start, tokStart - start));
    out.push_back(t.id);
    start = pos = tokStop;
  }
  onText(text.substr(start));
}

void Tokenizer::encodeSection(std::string_view text,
                              std::vector<int32_t> &out) const {
  if (text.empty())
    return;
  // The second pass of HF's extract_and_normalize: normalize the text
  // between the raw-matched tokens, then look for the tokens marked
  // "normalized" in it.
  if (nfc_ && !unicode::isNfcQuick(text)) {
    std::string normalized = unicode::toNfc(text);
    splitOnAddedTokens(normalized, /*normalized=*/true, out);
    return;
  }
  splitOnAddedTokens(text, /*normalized=*/true, out);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  // The first pass: tokens not marked "normalized" (all special tokens of
  // Qwen3) are cut out of the raw text.
  splitOnAddedTokens(text, /*normalized=*/false, out);
  return out;
}

std::vector<std::string_view> Tokenizer::preTokenize(std::string_view text) {
  std::vector<std::string_view> pieces;
  forEachPreToken(text, [&](std::string_view p) { pieces.push_back(p); });
  return pieces;
}

//===----------------------------------------------------------------------===//
// Decoding and lookups
//===----------------------------------------------------------------------===//

std::string Tokenizer::decode(const std::vector<int32_t> &ids) const {
  std::string out;
  for (int32_t id : ids)
    if (id >= 0 && id < vocabSize_)
      out += idToBytes_[id];
  return out;
}

std::optional<int32_t> Tokenizer::tokenId(std::string_view token) const {
  std::string key(token);
  auto added = addedIds_.find(key);
  if (added != addedIds_.end())
    return added->second;
  auto it = vocab_.find(key);
  if (it != vocab_.end())
    return it->second;
  return std::nullopt;
}

std::string Tokenizer::tokenString(int32_t id) const {
  if (id < 0 || id >= vocabSize_)
    return std::string();
  return idToToken_[id];
}

bool Tokenizer::isSpecialToken(int32_t id) const {
  return id >= 0 && id < vocabSize_ && isSpecial_[id];
}

//===----------------------------------------------------------------------===//
// The byte tokenizer of test models
//===----------------------------------------------------------------------===//

JsonValue makeByteTokenizerJson(const std::vector<std::string> &specialTokens) {
  auto byteLevelPre = [] {
    JsonValue bl = JsonValue::object();
    bl.set("type", "ByteLevel");
    bl.set("add_prefix_space", false);
    bl.set("trim_offsets", false);
    bl.set("use_regex", false);
    return bl;
  };

  JsonValue json = JsonValue::object();
  json.set("version", "1.0");
  json.set("truncation", JsonValue());
  json.set("padding", JsonValue());

  JsonValue added = JsonValue::array();
  for (size_t i = 0; i < specialTokens.size(); ++i) {
    JsonValue t = JsonValue::object();
    t.set("id", static_cast<int64_t>(256 + i));
    t.set("content", specialTokens[i]);
    t.set("single_word", false);
    t.set("lstrip", false);
    t.set("rstrip", false);
    t.set("normalized", false);
    t.set("special", true);
    added.push(std::move(t));
  }
  json.set("added_tokens", std::move(added));
  json.set("normalizer", JsonValue());

  JsonValue split = JsonValue::object();
  split.set("type", "Split");
  JsonValue pattern = JsonValue::object();
  pattern.set("Regex", std::string(kQwen3Pattern));
  split.set("pattern", std::move(pattern));
  split.set("behavior", "Isolated");
  split.set("invert", false);
  JsonValue preList = JsonValue::array();
  preList.push(std::move(split));
  preList.push(byteLevelPre());
  JsonValue pre = JsonValue::object();
  pre.set("type", "Sequence");
  pre.set("pretokenizers", std::move(preList));
  json.set("pre_tokenizer", std::move(pre));
  json.set("post_processor", byteLevelPre());
  json.set("decoder", byteLevelPre());

  JsonValue model = JsonValue::object();
  model.set("type", "BPE");
  model.set("dropout", JsonValue());
  model.set("unk_token", JsonValue());
  model.set("continuing_subword_prefix", "");
  model.set("end_of_word_suffix", "");
  model.set("fuse_unk", false);
  model.set("byte_fallback", false);
  model.set("ignore_merges", false);
  JsonValue vocab = JsonValue::object();
  for (int b = 0; b < 256; ++b) {
    std::string s;
    unicode::appendUtf8(s, byteLevel().byteToChar[b]);
    vocab.set(std::move(s), b);
  }
  model.set("vocab", std::move(vocab));
  model.set("merges", JsonValue::array());
  json.set("model", std::move(model));
  return json;
}

} // namespace msa::runtime
