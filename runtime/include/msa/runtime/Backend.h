//===- Backend.h - what the engine needs from a model backend ---*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The engine drives the three stages through this interface, and the two
// backends implement it: the reference model (plain C++ loops, the oracle)
// and a compiled bundle run by the plan interpreter. Pooled memory is held
// in the model's storage dtype, as a memory bank file stores it.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_BACKEND_H
#define MSA_RUNTIME_BACKEND_H

#include "msa/runtime/ModelConfig.h"
#include "msa/runtime/Roles.h"
#include "msa/runtime/Tensor.h"

#include <memory>
#include <string>
#include <vector>

namespace msa::runtime {

/// The result of stage 1 over a set of documents, in storage dtype.
struct PooledMemory {
  int64_t numChunks = 0;
  /// Chunk range of each document: doc j owns [off[j], off[j + 1]).
  std::vector<int32_t> docChunkOffsets{0};
  /// Per router layer, head-major [kv_heads, chunks, head_dim]; routerKeys
  /// entries are empty tensors when K̄ routes (§3.3).
  std::vector<Tensor> keys, values, routerKeys;
  /// Per layer, [template_len, kv_heads, head_dim].
  std::vector<Tensor> templateKeys, templateValues;
  int64_t templateLen = 0;

  int64_t numDocs() const {
    return static_cast<int64_t>(docChunkOffsets.size()) - 1;
  }
  /// Appends `other`'s documents (template kept from this memory, or taken
  /// from `other` if this one has none).
  void append(const PooledMemory &other);
};

/// A prefilled row ready for decode steps.
class Session {
public:
  virtual ~Session() = default;
  /// Selected documents per router layer (ascending ids).
  std::vector<std::vector<int32_t>> selected;
  /// Document scores per router layer, when the backend reports them.
  std::vector<std::vector<float>> docScores;
  /// Logits of the last token fed.
  std::vector<float> logits;
};

class Backend {
public:
  virtual ~Backend() = default;
  virtual const char *name() const = 0;

  /// Stage 1: the template head alone (its K/V of every layer).
  virtual StatusOr<PooledMemory>
  encodeTemplate(const std::vector<int32_t> &templateIds) = 0;
  /// Stage 1: one block of documents (their pooled memory; no template).
  virtual StatusOr<PooledMemory>
  encodeBlock(const std::vector<int32_t> &templateIds,
              const std::vector<std::vector<int32_t>> &docs) = 0;
  /// Stage 2 for one row.
  virtual StatusOr<std::unique_ptr<Session>>
  prefill(const PooledMemory &memory, const PromptRow &row) = 0;
  /// Stage 2 for `row` continuing `previous`, a session of this backend
  /// on the same memory (Memory Interleave's later calls): the tokens `row`
  /// shares at its start with what `previous` was fed causally need not be
  /// run again below the first router layer, where nothing else reaches
  /// them (docs/interleave-reuse.md). The result equals prefill(memory,
  /// row); `reused` says how many tokens were skipped. The default reuses
  /// nothing.
  virtual StatusOr<std::unique_ptr<Session>>
  prefillContinuing(const PooledMemory &memory, const PromptRow &row,
                    const Session &previous, int64_t &reused) {
    (void)previous;
    reused = 0;
    return prefill(memory, row);
  }
  /// Stage 3: feeds `tokens` with validity `valid`; updates the session's
  /// logits.
  virtual Status decode(const PooledMemory &memory, Session &session,
                        const std::vector<int32_t> &tokens,
                        const std::vector<uint8_t> &valid) = 0;
};

/// The reference model as a backend (weights loaded from the checkpoint).
StatusOr<std::unique_ptr<Backend>>
makeReferenceBackend(const class Checkpoint &checkpoint);

/// The GEMM provider a backend runs its projections on.
const char *gemmProviderName(Backend &backend);

/// The plan timings of a compiled backend, or nullptr for another backend.
struct PlanTimings *planTimings(Backend &backend);

/// The device a compiled backend runs on, or nullptr for another backend.
class PlanDevice *planDevice(Backend &backend);

/// Makes a compiled backend wait for each plan step, so planTimings() is
/// per kernel on devices that queue work; no effect on other backends.
void setPlanProfiling(Backend &backend, bool on);

/// A compiled bundle (cpu or cuda, by its target) as a backend.
/// `builtinGemm` runs GEMMs on msa's own loops instead of the BLAS.
StatusOr<std::unique_ptr<Backend>>
makeCompiledBackend(const std::string &bundlePath,
                    const class Checkpoint &checkpoint, class ThreadPool &pool,
                    bool builtinGemm = false);

} // namespace msa::runtime

#endif // MSA_RUNTIME_BACKEND_H
