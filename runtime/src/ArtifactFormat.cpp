//===- ArtifactFormat.cpp - CRC-32C of .msab bundles ----------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The bundle checksum. CRC-32C (Castagnoli) rather than zlib's CRC-32 because
// it is what storage formats use and detects more error patterns at these
// sizes; a byte-wise table is fast enough for bundles, which hold kernels and
// plans but never weights.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/ArtifactFormat.h"

#include <array>

namespace msa::runtime::artifact {

namespace {

/// The Castagnoli polynomial 0x1EDC6F41, bit-reflected.
constexpr uint32_t kCrc32cPolynomial = 0x82F63B78u;

constexpr std::array<uint32_t, 256> makeCrc32cTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc >> 1) ^ ((crc & 1u) ? kCrc32cPolynomial : 0u);
    table[i] = crc;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kCrc32cTable = makeCrc32cTable();

} // namespace

uint32_t crc32c(const void *data, size_t size, uint32_t crc) {
  // The register is kept inverted between calls so that a checksum can be
  // continued over several pieces: crc32c(b, crc32c(a)) == crc32c(a + b).
  const auto *p = static_cast<const uint8_t *>(data);
  crc = ~crc;
  for (size_t i = 0; i < size; ++i)
    crc = (crc >> 8) ^ kCrc32cTable[(crc ^ p[i]) & 0xFFu];
  return ~crc;
}

} // namespace msa::runtime::artifact
