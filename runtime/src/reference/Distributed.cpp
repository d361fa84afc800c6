//===- Distributed.cpp - reference Memory Parallel and scoring tiles ------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/reference/Distributed.h"

#include "msa/runtime/reference/Kernels.h"

#include <algorithm>

namespace msa::runtime::ref {

std::vector<int32_t> assignShards(const std::vector<int64_t> &docChunks,
                                  int64_t world) {
  std::vector<int64_t> load(static_cast<size_t>(world), 0);
  std::vector<int32_t> shard;
  for (int64_t chunks : docChunks) {
    auto it = std::min_element(load.begin(), load.end());
    shard.push_back(static_cast<int32_t>(it - load.begin()));
    *it += chunks;
  }
  return shard;
}

std::vector<std::pair<int32_t, int32_t>>
scoringSlices(const std::vector<int32_t> &docChunkOffsets, int64_t tileChunks,
              int64_t mergeThreshold) {
  std::vector<std::pair<int32_t, int32_t>> slices;
  const int32_t docs = static_cast<int32_t>(docChunkOffsets.size()) - 1;
  int32_t first = 0;
  for (int32_t j = 0; j < docs; ++j) {
    if (docChunkOffsets[j + 1] - docChunkOffsets[first] >= tileChunks) {
      slices.push_back({first, j + 1});
      first = j + 1;
    }
  }
  if (first < docs) {
    int64_t rest = docChunkOffsets[docs] - docChunkOffsets[first];
    if (rest >= mergeThreshold || slices.empty())
      slices.push_back({first, docs});
    else
      slices.back().second = docs;
  }
  return slices;
}

std::vector<int32_t> distributedTopK(const std::vector<float> &docScores,
                                     const std::vector<int32_t> &shardOf,
                                     int64_t world, int64_t k) {
  struct Candidate {
    float score;
    int32_t id; // -1: the dummy slot
  };
  auto better = [](const Candidate &a, const Candidate &b) {
    if (a.score != b.score)
      return a.score > b.score;
    // The dummy (-1) loses ties to real documents.
    if ((a.id < 0) != (b.id < 0))
      return b.id < 0;
    return a.id < b.id;
  };
  std::vector<Candidate> proposals;
  for (int64_t r = 0; r < world; ++r) {
    std::vector<Candidate> local{{kBf16Lowest, -1}};
    for (size_t j = 0; j < docScores.size(); ++j)
      if (shardOf[j] == r)
        local.push_back({docScores[j], static_cast<int32_t>(j)});
    std::sort(local.begin(), local.end(), better);
    local.resize(std::min<size_t>(local.size(), static_cast<size_t>(k)));
    proposals.insert(proposals.end(), local.begin(), local.end());
  }
  std::sort(proposals.begin(), proposals.end(), better);
  std::vector<int32_t> selected;
  for (const Candidate &c : proposals) {
    if (static_cast<int64_t>(selected.size()) == k)
      break;
    if (c.id >= 0 && c.score > kUnselectableScore)
      selected.push_back(c.id);
  }
  std::sort(selected.begin(), selected.end());
  return selected;
}

BankBytes bankBytes(const ModelConfig &config, int64_t chunks) {
  const int64_t perTensor = config.numKvHeads * config.headDim *
                            static_cast<int64_t>(dtypeSize(config.dtype)) *
                            chunks * config.numRouterLayers();
  BankBytes b;
  b.content = 2 * perTensor;
  b.routerKeys = config.hasRouterKeys() ? perTensor : 0;
  return b;
}

} // namespace msa::runtime::ref
