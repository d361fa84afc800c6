//===- Tokenizer.h - byte-level BPE from a tokenizer.json -------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A byte-level BPE tokenizer that reads a Hugging Face tokenizer.json in the
// format of Qwen3 and gives the same ids as the Hugging Face tokenizers
// library's encode(text, add_special_tokens=False). The pipeline is HF's:
//
//   1. added tokens are cut out of the raw text (leftmost match, longest at
//      that position);
//   2. the NFC normalizer runs on the pieces between them;
//   3. the Qwen3 pre-tokenizer regex
//        (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|
//         ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//      splits them into pre-tokens (a hand-written matcher, no regex engine,
//      with Oniguruma's meaning of \s, \p{L} and \p{N});
//   4. each pre-token's bytes are merged by BPE, lowest merge rank first.
//
// Only this configuration is accepted; anything else in the file is
// rejected by load() with an Unimplemented error naming the file and the
// JSON key, rather than tokenized differently from HF.
//
// Behaviour HF leaves undefined, because it only ever sees valid strings:
// text that is not valid UTF-8 is tokenized deterministically and without
// loss. Every byte that does not start a well-formed UTF-8 sequence is a
// pre-token of its own (encoded as its byte token) and ends the text the
// regex sees, so the valid runs around it are pre-tokenized as if they were
// separate texts; NFC is applied to the valid characters only. Hence
// decode(encode(s)) == s whenever NFC leaves the text between the added
// tokens alone (and no added token strips whitespace), valid UTF-8 or not.
//
// Known limits: character classes and NFC use Unicode 14.0 (Unicode.h), the
// version of the Oniguruma that HF bundles, so characters assigned later
// are neither letters nor digits; the single_word rule of added tokens
// (unused by Qwen3) takes "alphanumeric" as \p{L} or \p{N}, where Rust's
// is_alphanumeric also counts a few Alphabetic marks.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_TOKENIZER_H
#define MSA_RUNTIME_TOKENIZER_H

#include "msa/runtime/Json.h"
#include "msa/runtime/Status.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace msa::runtime {

/// A byte-level BPE tokenizer built from a Qwen3-style tokenizer.json.
/// Immutable after loading; encode() and decode() may be called from several
/// threads at once.
class Tokenizer {
public:
  /// Reads and parses the tokenizer.json at `path`.
  static StatusOr<std::unique_ptr<Tokenizer>> load(const std::string &path);

  /// Builds a tokenizer from a parsed tokenizer.json; `path` only names the
  /// source in error messages.
  static StatusOr<std::unique_ptr<Tokenizer>> fromJson(const JsonValue &json,
                                                       const std::string &path);

  ~Tokenizer();
  Tokenizer(const Tokenizer &) = delete;
  Tokenizer &operator=(const Tokenizer &) = delete;

  /// The ids of `text`, as HF's encode(text, add_special_tokens=False):
  /// added tokens (special or not) written in the text are recognised, and
  /// no BOS/EOS is added. Never fails; bytes that are not UTF-8 are handled
  /// as described at the top of this file.
  std::vector<int32_t> encode(std::string_view text) const;

  /// The bytes of `ids` concatenated, special tokens included (nothing is
  /// skipped). Byte-level tokens give back their bytes; added tokens their
  /// content. Unlike HF, which turns the result into a string with
  /// from_utf8_lossy, the raw bytes are returned: decoding ids one by one and
  /// concatenating gives the same result as decoding them together, and a
  /// UTF-8 character split over two tokens is not replaced by U+FFFD. For
  /// sequences that decode to valid UTF-8 the result equals HF's. Ids that
  /// name no token (negative, >= vocabSize(), or a gap) decode as "".
  std::string decode(const std::vector<int32_t> &ids) const;

  /// The id of an exact token string: an added token's content or a vocab
  /// entry in its byte-level form ("Ġthe" for " the").
  std::optional<int32_t> tokenId(std::string_view token) const;

  /// The token string of `id` (an added token's content or the byte-level
  /// vocab entry); "" for ids that name no token.
  std::string tokenString(int32_t id) const;

  /// Max id + 1 over the vocab and the added tokens.
  int64_t vocabSize() const { return vocabSize_; }

  /// True if `id` is an added token marked "special" in the file.
  bool isSpecialToken(int32_t id) const;

  /// The pre-tokens the Qwen3 regex cuts `text` into (step 3 above, without
  /// the added tokens or the normalizer); exposed for tests. Invalid bytes
  /// come out as pre-tokens of one byte each.
  static std::vector<std::string_view> preTokenize(std::string_view text);

private:
  Tokenizer();
  struct AddedToken;
  struct Trie;
  struct MergeTable;

  Status parseModel(const JsonValue &model, const std::string &path);
  Status parseAddedTokens(const JsonValue &json, const std::string &path);
  void splitOnAddedTokens(std::string_view text, bool normalized,
                          std::vector<int32_t> &out) const;
  void encodeSection(std::string_view text, std::vector<int32_t> &out) const;
  void encodeNormalized(std::string_view text, std::vector<int32_t> &out) const;
  void encodeWord(std::string_view word, std::vector<int32_t> &out) const;

  int64_t vocabSize_ = 0;
  bool nfc_ = false;
  bool ignoreMerges_ = false;
  std::optional<int32_t> unkId_;
  bool fuseUnk_ = false;
  /// Byte-level token string -> id, from model.vocab.
  std::unordered_map<std::string, int32_t> vocab_;
  /// Added token content -> id.
  std::unordered_map<std::string, int32_t> addedIds_;
  /// id -> token string and id -> decoded bytes; "" in gaps.
  std::vector<std::string> idToToken_;
  std::vector<std::string> idToBytes_;
  std::vector<bool> isSpecial_;
  /// The vocab id of each byte's single-character token, or -1.
  int32_t byteIds_[256];
  std::unique_ptr<MergeTable> merges_;
  std::vector<AddedToken> addedTokens_;
  /// Added tokens matched on the raw text and on the normalized text.
  std::unique_ptr<Trie> rawTrie_;
  std::unique_ptr<Trie> normalizedTrie_;

  /// Memoised BPE results per pre-token (bounded; see Tokenizer.cpp).
  mutable std::mutex cacheMutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

/// The tokenizer.json of tiny test models: byte-level BPE with the 256 byte
/// symbols (ids 0..255 in byte order, written with the GPT-2 byte-to-unicode
/// mapping), no merges, the Qwen3 pre-tokenizer, and `specialTokens` as
/// added special tokens with ids 256, 257, ... in order. It has no
/// normalizer, so encode() maps every byte outside the special tokens to its
/// own id and decode() inverts encode() exactly.
JsonValue makeByteTokenizerJson(const std::vector<std::string> &specialTokens);

} // namespace msa::runtime

#endif // MSA_RUNTIME_TOKENIZER_H
