//===- ModelPresets.h - configurations of generated test models -*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The configurations `msa-run make-model --preset` writes: the tiny model of
// msa-semantics.md §12, small and mid models for the demo and the CPU
// benchmarks, and the MSA-4B shapes with random weights for GPU benchmarks.
// All use the MSA-4B routing recipe (decoupled router, INFONCE_DECOUPLE,
// head mean / token max / chunk max).
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_MODELPRESETS_H
#define MSA_RUNTIME_MODELPRESETS_H

#include "msa/runtime/ModelConfig.h"

#include <string>
#include <vector>

namespace msa::runtime {

/// "tiny", "small", "mid", "msa-4b".
std::vector<std::string> presetNames();

/// The preset called `name`, or an error listing the presets.
StatusOr<ModelConfig> presetConfig(const std::string &name);

/// Special tokens of the byte-level tokenizer generated models carry, in id
/// order from 256: pad/EOS, the chat markers and the interleave markers.
const std::vector<std::string> &byteTokenizerSpecials();

/// Writes a checkpoint directory for `config` with random weights from
/// `seed` (config.json, model.safetensors, a byte-level tokenizer.json)
/// into `dir`, creating it. What msa-run make-model writes.
Status writeRandomCheckpoint(const std::string &dir, const ModelConfig &config,
                             uint64_t seed);

} // namespace msa::runtime

#endif // MSA_RUNTIME_MODELPRESETS_H
