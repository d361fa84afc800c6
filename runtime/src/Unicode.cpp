//===- Unicode.cpp - UTF-8, character classes and NFC -----------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Table lookups over runtime/src/UnicodeTables.inc and the NFC algorithm of
// UAX #15 (full canonical decomposition, canonical ordering, canonical
// composition), with Hangul syllables handled arithmetically.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Unicode.h"

#include <algorithm>
#include <vector>

namespace msa::runtime::unicode {
namespace {

enum : uint8_t { kLetter = 1, kNumber = 2 };

struct CodePointRange {
  char32_t first;
  char32_t last;
  uint8_t value;
};

struct Decomposition {
  char32_t codePoint;
  char32_t first;
  char32_t second; ///< 0 for a singleton decomposition.
};

struct Composition {
  char32_t first;
  char32_t second;
  char32_t composite;
};

#include "UnicodeTables.inc"

// Hangul syllable arithmetic (Unicode, section 3.12).
constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161,
                   kTBase = 0x11A7;
constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28;
constexpr char32_t kNCount = kVCount * kTCount;
constexpr char32_t kSCount = kLCount * kNCount;

// In the NFC work buffer an invalid input byte b is kept as kRawByteBase + b:
// past U+10FFFF, so no table knows it and it behaves as an inert starter.
constexpr char32_t kRawByteBase = 0x110000;

template <size_t N>
uint8_t lookupRange(const CodePointRange (&table)[N], char32_t c) {
  const CodePointRange *end = table + N;
  const CodePointRange *it = std::upper_bound(
      table, end, c,
      [](char32_t value, const CodePointRange &r) { return value < r.first; });
  if (it == table)
    return 0;
  --it;
  return c <= it->last ? it->value : 0;
}

uint8_t categoryFlags(char32_t c) {
  if (c < 0x80) {
    if (c >= '0' && c <= '9')
      return kNumber;
    return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ? kLetter : 0;
  }
  return lookupRange(kCategoryRanges, c);
}

const Decomposition *findDecomposition(char32_t c) {
  const Decomposition *end = std::end(kDecompositions);
  const Decomposition *it =
      std::lower_bound(std::begin(kDecompositions), end, c,
                       [](const Decomposition &d, char32_t value) {
                         return d.codePoint < value;
                       });
  return (it != end && it->codePoint == c) ? it : nullptr;
}

void decomposeInto(char32_t c, std::vector<char32_t> &out) {
  if (c >= kSBase && c < kSBase + kSCount) {
    char32_t s = c - kSBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount != 0)
      out.push_back(kTBase + s % kTCount);
    return;
  }
  if (c < 0xC0) { // Nothing below U+00C0 decomposes.
    out.push_back(c);
    return;
  }
  const Decomposition *d = findDecomposition(c);
  if (!d) {
    out.push_back(c);
    return;
  }
  decomposeInto(d->first, out);
  if (d->second != 0)
    decomposeInto(d->second, out);
}

/// The primary composite of (a, b), or 0.
char32_t compose(char32_t a, char32_t b) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase &&
      b < kVBase + kVCount)
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 &&
      b > kTBase && b < kTBase + kTCount)
    return a + (b - kTBase);
  const Composition *end = std::end(kCompositions);
  const Composition *it = std::lower_bound(
      std::begin(kCompositions), end, std::make_pair(a, b),
      [](const Composition &c, const std::pair<char32_t, char32_t> &key) {
        return c.first != key.first ? c.first < key.first
                                    : c.second < key.second;
      });
  return (it != end && it->first == a && it->second == b) ? it->composite : 0;
}

bool needsNfcWork(char32_t c) {
  return c >= 0x300 && lookupRange(kNfcSlowPathRanges, c) != 0;
}

} // namespace

const char *unicodeVersion() { return kUnicodeVersion; }

DecodedChar decodeUtf8(std::string_view text, size_t pos) {
  auto byteAt = [&](size_t i) -> uint32_t {
    return i < text.size() ? static_cast<uint8_t>(text[i]) : 0x100;
  };
  auto isCont = [](uint32_t b) { return b >= 0x80 && b <= 0xBF; };
  const DecodedChar invalid{kReplacementCharacter, 1, false};

  uint32_t b0 = byteAt(pos);
  if (b0 < 0x80)
    return {b0, 1, true};
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    uint32_t b1 = byteAt(pos + 1);
    if (!isCont(b1))
      return invalid;
    return {((b0 & 0x1F) << 6) | (b1 & 0x3F), 2, true};
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    uint32_t b1 = byteAt(pos + 1), b2 = byteAt(pos + 2);
    // The second byte's range excludes overlong forms (E0) and UTF-16
    // surrogates (ED).
    uint32_t lo = b0 == 0xE0 ? 0xA0 : 0x80;
    uint32_t hi = b0 == 0xED ? 0x9F : 0xBF;
    if (b1 < lo || b1 > hi || !isCont(b2))
      return invalid;
    return {((b0 & 0x0F) << 12) | ((b1 & 0x3F) << 6) | (b2 & 0x3F), 3, true};
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    uint32_t b1 = byteAt(pos + 1), b2 = byteAt(pos + 2), b3 = byteAt(pos + 3);
    // Likewise: no overlong forms (F0) and nothing past U+10FFFF (F4).
    uint32_t lo = b0 == 0xF0 ? 0x90 : 0x80;
    uint32_t hi = b0 == 0xF4 ? 0x8F : 0xBF;
    if (b1 < lo || b1 > hi || !isCont(b2) || !isCont(b3))
      return invalid;
    return {((b0 & 0x07) << 18) | ((b1 & 0x3F) << 12) | ((b2 & 0x3F) << 6) |
                (b3 & 0x3F),
            4, true};
  }
  return invalid;
}

void appendUtf8(std::string &out, char32_t c) {
  if ((c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)
    c = kReplacementCharacter;
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

bool isValidUtf8(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    if (static_cast<uint8_t>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    DecodedChar d = decodeUtf8(text, pos);
    if (!d.valid)
      return false;
    pos += d.length;
  }
  return true;
}

bool isLetter(char32_t c) { return categoryFlags(c) == kLetter; }

bool isNumber(char32_t c) { return categoryFlags(c) == kNumber; }

bool isWhiteSpace(char32_t c) {
  if (c < 0x80)
    return c == ' ' || (c >= 0x09 && c <= 0x0D);
  return lookupRange(kWhiteSpaceRanges, c) != 0;
}

uint8_t combiningClass(char32_t c) {
  if (c < 0x300)
    return 0;
  return lookupRange(kCombiningClassRanges, c);
}

bool isNfcQuick(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    uint8_t b = static_cast<uint8_t>(text[pos]);
    // Everything below U+0300 (two-byte sequences with lead byte < 0xCC) is
    // NFC on its own and composes with nothing before it.
    if (b < 0x80) {
      ++pos;
      continue;
    }
    DecodedChar d = decodeUtf8(text, pos);
    if (!d.valid || needsNfcWork(d.codePoint))
      return false;
    pos += d.length;
  }
  return true;
}

std::string toNfc(std::string_view text) {
  if (isNfcQuick(text))
    return std::string(text);

  // Full canonical decomposition.
  std::vector<char32_t> chars;
  chars.reserve(text.size() + 8);
  for (size_t pos = 0; pos < text.size();) {
    DecodedChar d = decodeUtf8(text, pos);
    if (d.valid)
      decomposeInto(d.codePoint, chars);
    else
      chars.push_back(kRawByteBase + static_cast<uint8_t>(text[pos]));
    pos += d.length;
  }

  // Canonical ordering: a stable sort by combining class within each run of
  // non-starters. Runs are short, so insertion sort.
  auto cccOf = [](char32_t c) -> uint8_t {
    return c >= kRawByteBase ? 0 : combiningClass(c);
  };
  for (size_t i = 1; i < chars.size(); ++i) {
    uint8_t cc = cccOf(chars[i]);
    if (cc == 0)
      continue;
    size_t j = i;
    while (j > 0) {
      uint8_t prev = cccOf(chars[j - 1]);
      if (prev == 0 || prev <= cc)
        break;
      std::swap(chars[j - 1], chars[j]);
      --j;
    }
  }

  // Canonical composition (the sample algorithm of UAX #15). lastClass is
  // the class of the character written last, 0 when that is the starter
  // itself, and 256 before any starter, so that nothing composes with a
  // leading non-starter.
  if (!chars.empty()) {
    size_t starterPos = 0;
    uint32_t lastClass = cccOf(chars[0]) == 0 ? 0 : 256;
    size_t outPos = 1;
    for (size_t i = 1; i < chars.size(); ++i) {
      char32_t c = chars[i];
      uint32_t cc = cccOf(c);
      char32_t composite = 0;
      if (lastClass < cc || lastClass == 0) {
        char32_t starter = chars[starterPos];
        if (starter < kRawByteBase && c < kRawByteBase)
          composite = compose(starter, c);
      }
      if (composite != 0) {
        chars[starterPos] = composite;
        continue;
      }
      if (cc == 0) {
        starterPos = outPos;
        lastClass = 0;
      } else {
        lastClass = cc;
      }
      chars[outPos++] = c;
    }
    chars.resize(outPos);
  }

  std::string out;
  out.reserve(text.size());
  for (char32_t c : chars) {
    if (c >= kRawByteBase)
      out.push_back(static_cast<char>(c - kRawByteBase));
    else
      appendUtf8(out, c);
  }
  return out;
}

} // namespace msa::runtime::unicode
