//===- ReferenceBackend.cpp - the reference model behind Backend ----------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Backend.h"

#include "msa/runtime/Checkpoint.h"
#include "msa/runtime/reference/Model.h"

namespace msa::runtime {

namespace {

class ReferenceSession : public Session {
public:
  std::vector<ref::RowCache> caches;
};

class ReferenceBackend : public Backend {
public:
  ReferenceBackend(const ModelConfig &c, ref::ModelWeights w)
      : config_(c), weights_(std::move(w)), model_(config_, weights_) {}

  const char *name() const override { return "reference"; }

  StatusOr<PooledMemory>
  encodeTemplate(const std::vector<int32_t> &templateIds) override {
    return toPooled(model_.encodeBlock(templateIds, {}), /*withDocs=*/false);
  }

  StatusOr<PooledMemory>
  encodeBlock(const std::vector<int32_t> &templateIds,
              const std::vector<std::vector<int32_t>> &docs) override {
    PooledMemory m = toPooled(model_.encodeBlock(templateIds, docs), true);
    m.templateKeys.clear();
    m.templateValues.clear();
    m.templateLen = 0;
    return m;
  }

  StatusOr<std::unique_ptr<Session>> prefill(const PooledMemory &memory,
                                             const PromptRow &row) override {
    const ref::Memory &mem = refMemory(memory);
    return toSession(model_.prefill(mem, {row}));
  }

  StatusOr<std::unique_ptr<Session>>
  prefillContinuing(const PooledMemory &memory, const PromptRow &row,
                    const Session &previous, int64_t &reused) override {
    const ref::RowCache &prev =
        static_cast<const ReferenceSession &>(previous).caches[0];
    // The shared start, short of the last token: it yields the logits.
    const std::vector<int32_t> &fed = prev.causalTokens;
    size_t shared = 0;
    while (shared < fed.size() && shared + 1 < row.tokens.size() &&
           fed[shared] == row.tokens[shared])
      ++shared;
    reused = static_cast<int64_t>(shared);
    if (shared == 0)
      return prefill(memory, row);
    const ref::Memory &mem = refMemory(memory);
    ref::PrefillResult r =
        model_.prefillContinuing(mem, row, prev, reused);
    return toSession(std::move(r));
  }

  Status decode(const PooledMemory &, Session &session,
                const std::vector<int32_t> &tokens,
                const std::vector<uint8_t> &valid) override {
    auto &s = static_cast<ReferenceSession &>(session);
    s.logits = model_.decode(s.caches, {tokens}, {valid})[0];
    return Status::ok();
  }

private:
  static std::unique_ptr<Session> toSession(ref::PrefillResult r) {
    auto s = std::make_unique<ReferenceSession>();
    s->selected = r.selected[0];
    s->docScores = r.docScores[0];
    s->logits = r.logits[0];
    s->caches = std::move(r.caches);
    return s;
  }

  PooledMemory toPooled(const ref::Memory &m, bool withDocs) {
    PooledMemory p;
    const int64_t hk = config_.numKvHeads, d = config_.headDim;
    p.templateLen = m.templateLen;
    for (int64_t l = 0; l < config_.numLayers; ++l) {
      size_t n = static_cast<size_t>(m.templateLen * hk * d);
      std::vector<float> k(m.templateKeys.begin() + l * n,
                           m.templateKeys.begin() + (l + 1) * n);
      std::vector<float> v(m.templateValues.begin() + l * n,
                           m.templateValues.begin() + (l + 1) * n);
      p.templateKeys.push_back(fromF32(k, config_.dtype, {m.templateLen, hk, d}));
      p.templateValues.push_back(
          fromF32(v, config_.dtype, {m.templateLen, hk, d}));
    }
    if (!withDocs)
      return p;
    p.numChunks = m.numChunks;
    p.docChunkOffsets = m.docChunkOffsets;
    for (const ref::MemoryLayer &ml : m.layers) {
      p.keys.push_back(fromF32(ml.keys, config_.dtype, {hk, m.numChunks, d}));
      p.values.push_back(fromF32(ml.values, config_.dtype, {hk, m.numChunks, d}));
      p.routerKeys.push_back(
          ml.routerKeys.empty()
              ? Tensor()
              : fromF32(ml.routerKeys, config_.dtype, {hk, m.numChunks, d}));
    }
    return p;
  }

  /// The f32 form of `memory`, converted once per memory object.
  const ref::Memory &refMemory(const PooledMemory &memory) {
    if (cachedFor_ == &memory && cachedChunks_ == memory.numChunks)
      return cached_;
    ref::Memory m;
    m.numChunks = memory.numChunks;
    m.docChunkOffsets = memory.docChunkOffsets;
    m.templateLen = memory.templateLen;
    for (size_t l = 0; l < memory.templateKeys.size(); ++l) {
      std::vector<float> k = toF32(memory.templateKeys[l]);
      std::vector<float> v = toF32(memory.templateValues[l]);
      m.templateKeys.insert(m.templateKeys.end(), k.begin(), k.end());
      m.templateValues.insert(m.templateValues.end(), v.begin(), v.end());
    }
    for (size_t r = 0; r < memory.keys.size(); ++r) {
      ref::MemoryLayer ml;
      ml.keys = toF32(memory.keys[r]);
      ml.values = toF32(memory.values[r]);
      if (r < memory.routerKeys.size() && memory.routerKeys[r].data)
        ml.routerKeys = toF32(memory.routerKeys[r]);
      m.layers.push_back(std::move(ml));
    }
    if (m.layers.empty())
      m.layers.resize(config_.msa.routerLayers.size());
    cached_ = std::move(m);
    cachedFor_ = &memory;
    cachedChunks_ = memory.numChunks;
    return cached_;
  }

  ModelConfig config_;
  ref::ModelWeights weights_;
  ref::ReferenceModel model_;
  ref::Memory cached_;
  const PooledMemory *cachedFor_ = nullptr;
  int64_t cachedChunks_ = -1;
};

} // namespace

StatusOr<std::unique_ptr<Backend>>
makeReferenceBackend(const Checkpoint &checkpoint) {
  MSA_ASSIGN_OR_RETURN(ref::ModelWeights w, ref::loadWeights(checkpoint));
  return std::unique_ptr<Backend>(
      new ReferenceBackend(checkpoint.config(), std::move(w)));
}

} // namespace msa::runtime
