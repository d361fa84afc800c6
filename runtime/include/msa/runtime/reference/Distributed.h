//===- Distributed.h - reference Memory Parallel and scoring tiles -*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The host-side rules of msa-semantics.md §9: how documents are sharded over
// GPUs, how a shard's chunks are cut into scoring tiles, and the exact
// multi-shard top-k. The oracle for Memory Parallel and tiled routing.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_REFERENCE_DISTRIBUTED_H
#define MSA_RUNTIME_REFERENCE_DISTRIBUTED_H

#include "msa/runtime/ModelConfig.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace msa::runtime::ref {

/// §9.1: documents in global-id order go to the shard with the fewest
/// chunks so far (ties to the lowest rank). Returns the shard of each doc.
std::vector<int32_t> assignShards(const std::vector<int64_t> &docChunks,
                                  int64_t world);

/// §9.3 step 2: document ranges [first, last) of the scoring slices of a
/// shard. A slice closes after the document that brings it to at least
/// `tileChunks` chunks; a final remainder below `mergeThreshold` chunks
/// joins the previous slice.
std::vector<std::pair<int32_t, int32_t>>
scoringSlices(const std::vector<int32_t> &docChunkOffsets, int64_t tileChunks,
              int64_t mergeThreshold);

/// §4.4 multi-shard top-k: each shard proposes its best min(k, n_local + 1)
/// candidates (the +1 a dummy scoring the lowest bf16), the requester keeps
/// the k best of all proposals with score > -1e9. Ties go to the lower
/// global id at both steps. Returns ascending global ids.
std::vector<int32_t> distributedTopK(const std::vector<float> &docScores,
                                     const std::vector<int32_t> &shardOf,
                                     int64_t world, int64_t k);

/// Bytes of pooled memory per router layer and chunk, for K̄, V̄ and K̄ᴿ.
struct BankBytes {
  int64_t routerKeys = 0; ///< K̄ᴿ (device tier).
  int64_t content = 0;    ///< K̄ + V̄ (host tier).
  int64_t total() const { return routerKeys + content; }
};
/// §10.1: the pooled memory of `chunks` chunks over all router layers.
BankBytes bankBytes(const ModelConfig &config, int64_t chunks);

} // namespace msa::runtime::ref

#endif // MSA_RUNTIME_REFERENCE_DISTRIBUTED_H
