//===- PooledMemory.cpp - stage-1 results in storage dtype ----------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Backend.h"

#include <cstring>

namespace msa::runtime {

namespace {

/// Head-major [H, a, d] ++ [H, b, d] -> [H, a + b, d].
Tensor concatChunks(const Tensor &a, const Tensor &b) {
  if (a.numel() == 0 && a.shape.size() != 3)
    return b;
  const int64_t heads = a.shape[0], d = a.shape[2];
  const int64_t ca = a.shape[1], cb = b.shape[1];
  const size_t elem = dtypeSize(a.dtype);
  Tensor out = Tensor::allocate(a.dtype, {heads, ca + cb, d});
  for (int64_t h = 0; h < heads; ++h) {
    uint8_t *dst = out.as<uint8_t>() + static_cast<size_t>(h * (ca + cb) * d) * elem;
    std::memcpy(dst, a.as<uint8_t>() + static_cast<size_t>(h * ca * d) * elem,
                static_cast<size_t>(ca * d) * elem);
    std::memcpy(dst + static_cast<size_t>(ca * d) * elem,
                b.as<uint8_t>() + static_cast<size_t>(h * cb * d) * elem,
                static_cast<size_t>(cb * d) * elem);
  }
  return out;
}

} // namespace

void PooledMemory::append(const PooledMemory &other) {
  if (keys.empty()) {
    keys = other.keys;
    values = other.values;
    routerKeys = other.routerKeys;
  } else {
    for (size_t r = 0; r < keys.size(); ++r) {
      keys[r] = concatChunks(keys[r], other.keys[r]);
      values[r] = concatChunks(values[r], other.values[r]);
      if (r < routerKeys.size() && routerKeys[r].data)
        routerKeys[r] = concatChunks(routerKeys[r], other.routerKeys[r]);
    }
  }
  for (size_t j = 1; j < other.docChunkOffsets.size(); ++j)
    docChunkOffsets.push_back(static_cast<int32_t>(numChunks) +
                              other.docChunkOffsets[j]);
  numChunks += other.numChunks;
  if (templateKeys.empty()) {
    templateKeys = other.templateKeys;
    templateValues = other.templateValues;
    templateLen = other.templateLen;
  }
}

} // namespace msa::runtime
