#!/usr/bin/env python3
#===- gen-unicode-tables.py - Unicode tables for the runtime --------------===//
#
# Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
#
#===----------------------------------------------------------------------===//
#
# Writes runtime/src/UnicodeTables.inc, the data behind runtime/src/Unicode.cpp:
# the general-category ranges of \p{L} and \p{N}, the White_Space property
# (\s), canonical combining classes, canonical decompositions, the primary
# composites of NFC, and the characters that force the slow NFC path.
#
# The source is Python's own unicodedata module, so no download is needed;
# the Unicode version is the one of the Python that runs this script and is
# written into the output (kUnicodeVersion). Python 3.11 carries Unicode
# 14.0.0, the version of Oniguruma 6.9.8 that the Rust `tokenizers` library
# bundles (through onig_sys 69.8) for its pre-tokenizer regexes.
#
# Usage: python3 scripts/gen-unicode-tables.py > runtime/src/UnicodeTables.inc
#
#===----------------------------------------------------------------------===//

import sys
import unicodedata

MAX_CP = 0x10FFFF

# Hangul syllables are composed and decomposed algorithmically (Unicode
# 3.12); they are left out of the tables.
S_BASE, L_BASE, V_BASE, T_BASE = 0xAC00, 0x1100, 0x1161, 0x11A7
L_COUNT, V_COUNT, T_COUNT = 19, 21, 28
S_COUNT = L_COUNT * V_COUNT * T_COUNT

# The White_Space property of PropList.txt, which is what \s means in
# Oniguruma (CR_Space) and in the Rust regex crate. unicodedata does not
# expose it; it has not changed since Unicode 6.3 (U+180E left it then).
WHITE_SPACE = [
    (0x0009, 0x000D),
    (0x0020, 0x0020),
    (0x0085, 0x0085),
    (0x00A0, 0x00A0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
]


def is_hangul_syllable(cp):
    return S_BASE <= cp < S_BASE + S_COUNT


def canonical_decomposition(cp):
    """The one-level canonical decomposition of cp, or None."""
    d = unicodedata.decomposition(chr(cp))
    if not d or d.startswith("<"):
        return None
    return [int(x, 16) for x in d.split()]


def ranges(predicate_values):
    """Collapses (cp, value) pairs with value != 0 into [first, last, value]."""
    out = []
    for cp, value in predicate_values:
        if not value:
            continue
        if out and out[-1][1] == cp - 1 and out[-1][2] == value:
            out[-1][1] = cp
        else:
            out.append([cp, cp, value])
    return out


def main():
    version = unicodedata.unidata_version
    letter, number = 1, 2

    def category_flags(cp):
        cat = unicodedata.category(chr(cp))
        if cat.startswith("L"):
            return letter
        if cat.startswith("N"):
            return number
        return 0

    categories = ranges((cp, category_flags(cp)) for cp in range(MAX_CP + 1))
    ccc = ranges((cp, unicodedata.combining(chr(cp)))
                 for cp in range(MAX_CP + 1))

    decompositions = []
    compositions = []
    for cp in range(MAX_CP + 1):
        if is_hangul_syllable(cp):
            continue
        d = canonical_decomposition(cp)
        if d is None:
            continue
        assert 1 <= len(d) <= 2, hex(cp)
        decompositions.append((cp, d[0], d[1] if len(d) == 2 else 0))
        # A primary composite is a two-character canonical decomposition that
        # NFC gives back; this leaves out the composition exclusions and the
        # non-starter decompositions without reading CompositionExclusions.
        if len(d) == 2 and unicodedata.normalize(
                "NFC", chr(d[0]) + chr(d[1])) == chr(cp):
            compositions.append((d[0], d[1], cp))
    compositions.sort()

    # Characters after which composition may change something, or that are
    # not NFC on their own: text without any of them is already NFC, which
    # lets Unicode.cpp skip the full algorithm for most text.
    second = {b for _, b, _ in compositions}
    second.update(range(V_BASE, V_BASE + V_COUNT))
    second.update(range(T_BASE + 1, T_BASE + T_COUNT))

    def needs_nfc_work(cp):
        if unicodedata.combining(chr(cp)) != 0 or cp in second:
            return 1
        s = chr(cp)
        if unicodedata.normalize("NFC", s) != s:
            return 1
        nfd = unicodedata.normalize("NFD", s)
        if ord(nfd[0]) in second:
            return 1
        return 0

    unsafe = ranges((cp, needs_nfc_work(cp)) for cp in range(MAX_CP + 1)
                    if not (0xD800 <= cp <= 0xDFFF))

    out = sys.stdout
    head = "//===- UnicodeTables.inc - Unicode %s data " % version
    tail = "*- C++ -*-===//"
    out.write(head + "-" * (80 - len(head) - len(tail)) + tail + "\n")
    out.write("//\n")
    out.write("// Part of msa. Licensed under the Apache License v2.0 with "
              "LLVM Exceptions.\n")
    out.write("//\n")
    out.write("//===----------------------------------------------------------"
              "------------===//\n")
    out.write("//\n")
    out.write("// GENERATED by scripts/gen-unicode-tables.py from Python's "
              "unicodedata\n")
    out.write("// (Unicode %s). Do not edit; rerun the script instead.\n"
              % version)
    out.write("//\n")
    out.write("//===----------------------------------------------------------"
              "------------===//\n\n")
    out.write('constexpr const char kUnicodeVersion[] = "%s";\n\n' % version)

    def emit_ranges(name, doc, rows, fmt):
        out.write("// %s\n" % doc)
        out.write("constexpr CodePointRange %s[] = {\n" % name)
        for first, last, value in rows:
            out.write("    {0x%04X, 0x%04X, %s},\n" % (first, last,
                                                         fmt(value)))
        out.write("};\n\n")

    emit_ranges("kCategoryRanges",
                "General categories L* (kLetter) and N* (kNumber).",
                categories, lambda v: "kLetter" if v == letter else "kNumber")
    emit_ranges("kWhiteSpaceRanges", "The White_Space property.",
                [[a, b, 1] for a, b in WHITE_SPACE], str)
    emit_ranges("kCombiningClassRanges",
                "Canonical_Combining_Class, where not 0.", ccc, str)
    emit_ranges("kNfcSlowPathRanges",
                "Characters whose presence needs the full NFC algorithm.",
                unsafe, str)

    out.write("// Canonical decompositions, one level (second == 0: "
              "singleton), by code point.\n")
    out.write("constexpr Decomposition kDecompositions[] = {\n")
    for cp, a, b in decompositions:
        out.write("    {0x%04X, 0x%04X, 0x%04X},\n" % (cp, a, b))
    out.write("};\n\n")

    out.write("// Primary composites (pairs NFC composes), by (first, "
              "second).\n")
    out.write("constexpr Composition kCompositions[] = {\n")
    for a, b, cp in compositions:
        out.write("    {0x%04X, 0x%04X, 0x%04X},\n" % (a, b, cp))
    out.write("};\n")


if __name__ == "__main__":
    main()
