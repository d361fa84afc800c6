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
#include "msa/runtime/reference/Weights.h"

#include <string>
#include <vector>

namespace msa::runtime {

/// "tiny", "small", "mid", "msa-4b", "demo".
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

/// Writes a checkpoint with the given weights (the other files as above).
Status writeCheckpoint(const std::string &dir, const ModelConfig &config,
                       const ref::ModelWeights &weights, uint64_t seed);

/// The weights of the "demo" preset: random, except that the embeddings
/// put the 36 characters A-Z and 0-9 on orthogonal axes of their own, every
/// layer's o_proj and down_proj are zero (the residual stream carries the
/// embeddings unchanged), and the router projections read exactly those
/// axes. Its router therefore scores a chunk by how often it holds the
/// question's capital letters and digits: a lexical retriever built from
/// MSA's own routing math, so the demo's planted needles are found. Its
/// generated tokens mean nothing.
ref::ModelWeights demoWeights(const ModelConfig &config, uint64_t seed);

} // namespace msa::runtime

#endif // MSA_RUNTIME_MODELPRESETS_H
