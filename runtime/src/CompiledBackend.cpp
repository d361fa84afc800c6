//===- CompiledBackend.cpp - a compiled bundle behind Backend -------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Feeds the four entry functions of an imported model
// (codegen/include/msa/Codegen/ModelImporter.h) and keeps, per session, the
// KV cache of the active context: the query's keys and values from
// route_prefill and every decode step's, growing in place. The template and
// the selected memory chunks are read by the kernels where they lie.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Backend.h"

#include "msa/runtime/Checkpoint.h"
#include "msa/runtime/CompiledModel.h"

#include <cstring>
#include <map>
#include <utility>

namespace msa::runtime {

namespace {

Tensor i32Tensor(const std::vector<int32_t> &v) {
  Tensor t = Tensor::allocate(DType::kI32, {static_cast<int64_t>(v.size())});
  std::memcpy(t.data, v.data(), v.size() * sizeof(int32_t));
  return t;
}

Tensor maskTensor(const std::vector<uint8_t> &v) {
  Tensor t = Tensor::allocate(DType::kI8, {static_cast<int64_t>(v.size())});
  std::memcpy(t.data, v.data(), v.size());
  return t;
}

/// A [rows, kv_heads, head_dim] cache that grows by appending rows, kept
/// on the plan's device so decode steps neither upload it nor download
/// what they add.
struct GrowingCache {
  /// Rows a cache starts with: a prompt and some generation fit before it
  /// first grows (and doubles after).
  static constexpr int64_t kInitialRows = 256;

  DType dtype = DType::kBF16;
  int64_t rows = 0, capacity = 0;
  std::vector<int64_t> inner;
  Tensor storage;

  Status append(PlanDevice &device, const Tensor &t) {
    if (capacity == 0) {
      dtype = t.dtype;
      inner.assign(t.shape.begin() + 1, t.shape.end());
    }
    const int64_t n = t.shape.empty() ? 0 : t.shape[0];
    if (rows + n > capacity) {
      int64_t grown = std::max({rows + n, 2 * capacity, kInitialRows});
      std::vector<int64_t> shape{grown};
      shape.insert(shape.end(), inner.begin(), inner.end());
      MSA_ASSIGN_OR_RETURN(Tensor bigger, device.allocate(dtype, shape));
      if (rows > 0) {
        Tensor kept = bigger.rows(0, rows);
        MSA_RETURN_IF_ERROR(device.copyInto(storage.rows(0, rows), kept));
      }
      storage = std::move(bigger);
      capacity = grown;
    }
    if (n > 0) {
      Tensor dst = storage.rows(rows, n);
      MSA_RETURN_IF_ERROR(device.copyInto(t, dst));
    }
    rows += n;
    return Status::ok();
  }
  /// The rows as a tensor over this cache's memory (read by the plans).
  Tensor view() const {
    if (capacity == 0) {
      std::vector<int64_t> shape{0};
      shape.insert(shape.end(), inner.begin(), inner.end());
      return Tensor::view(dtype, shape, nullptr);
    }
    return storage.rows(0, rows);
  }
};

class CompiledSession : public Session {
public:
  std::vector<GrowingCache> keys, values;
  std::vector<uint8_t> valid;
  std::vector<Tensor> indices, counts; ///< per router layer
  int64_t lastActive = 0; ///< active-context index of the last token
  /// What a continuing prefill reuses: the tokens fed causally from the
  /// start (a multi-token or masked step closes the list) and their hidden
  /// states entering the first router layer.
  std::vector<int32_t> causalTokens;
  GrowingCache routerInput;
  bool causalClosed = false;
};

class CompiledBackend : public Backend {
public:
  CompiledBackend(const ModelConfig &c, std::unique_ptr<CompiledModel> m)
      : config_(c), model_(std::move(m)) {
    // Bundles of older compilers lack the split prefill: no reuse then.
    canContinue_ = model_->bundle().entry("prefill_head") &&
                   model_->bundle().entry("prefill_tail");
    firstRouter_ = config_.numLayers;
    for (int64_t l = config_.numLayers; l-- > 0;)
      if (config_.routerIndex(l) >= 0)
        firstRouter_ = l;
  }

  const char *name() const override { return model_->device().name(); }

  StatusOr<PooledMemory>
  encodeTemplate(const std::vector<int32_t> &templateIds) override {
    int32_t t = static_cast<int32_t>(templateIds.size());
    MSA_ASSIGN_OR_RETURN(
        CompiledModel::TensorMap out,
        model_->run("encode_template", {{"tokens", i32Tensor(templateIds)},
                                        {"segments", i32Tensor({0, t})}}));
    PooledMemory m;
    m.templateLen = t;
    for (int64_t l = 0; l < config_.numLayers; ++l) {
      m.templateKeys.push_back(out.at("key." + std::to_string(l)));
      m.templateValues.push_back(out.at("value." + std::to_string(l)));
    }
    return m;
  }

  StatusOr<PooledMemory>
  encodeBlock(const std::vector<int32_t> &templateIds,
              const std::vector<std::vector<int32_t>> &docs) override {
    std::vector<int32_t> tokens = templateIds;
    std::vector<int32_t> segments{0, static_cast<int32_t>(tokens.size())};
    PooledMemory m;
    const int64_t P = config_.msa.poolingKernelSize;
    for (const std::vector<int32_t> &doc : docs) {
      tokens.insert(tokens.end(), doc.begin(), doc.end());
      segments.push_back(static_cast<int32_t>(tokens.size()));
      m.numChunks += (static_cast<int64_t>(doc.size()) + P - 1) / P;
      m.docChunkOffsets.push_back(static_cast<int32_t>(m.numChunks));
    }
    MSA_ASSIGN_OR_RETURN(CompiledModel::TensorMap out,
                         model_->run("encode_block",
                                     {{"tokens", i32Tensor(tokens)},
                                      {"segments", i32Tensor(segments)}},
                                     {{"C", m.numChunks}}));
    for (int64_t l : config_.msa.routerLayers) {
      std::string s = std::to_string(l);
      m.keys.push_back(out.at("pooled_key." + s));
      m.values.push_back(out.at("pooled_value." + s));
      auto rk = out.find("pooled_router_key." + s);
      m.routerKeys.push_back(rk == out.end() ? Tensor() : rk->second);
    }
    return m;
  }

  StatusOr<std::unique_ptr<Session>> prefill(const PooledMemory &memory,
                                             const PromptRow &row) override {
    const int64_t q = static_cast<int64_t>(row.tokens.size());
    std::vector<uint8_t> routing(row.roles.size());
    for (size_t i = 0; i < routing.size(); ++i)
      routing[i] = row.roles[i] == kRoleRouting;
    CompiledModel::TensorMap in{
        {"tokens", i32Tensor(row.tokens)},
        {"routing", maskTensor(routing)},
        {"valid", maskTensor(std::vector<uint8_t>(row.tokens.size(), 1))}};
    Tensor start = Tensor::allocate(DType::kI32, {});
    *start.as<int32_t>() = 0;
    in["start"] = start;
    MSA_RETURN_IF_ERROR(addShared(in, memory, /*routerKeys=*/true));
    MSA_ASSIGN_OR_RETURN(CompiledModel::TensorMap out,
                         model_->runOnDevice("route_prefill", in));

    auto s = std::make_unique<CompiledSession>();
    s->keys.resize(static_cast<size_t>(config_.numLayers));
    s->values.resize(s->keys.size());
    for (int64_t l = 0; l < config_.numLayers; ++l) {
      MSA_RETURN_IF_ERROR(s->keys[l].append(
          model_->device(), out.at("key." + std::to_string(l))));
      MSA_RETURN_IF_ERROR(s->values[l].append(
          model_->device(), out.at("value." + std::to_string(l))));
    }
    s->valid.assign(static_cast<size_t>(q), 1);
    s->lastActive = q - 1;
    MSA_RETURN_IF_ERROR(takeSelections(out, *s));
    MSA_ASSIGN_OR_RETURN(s->logits, hostF32(out.at("logits")));
    s->causalTokens = row.tokens;
    if (auto it = out.find("router_input"); it != out.end())
      MSA_RETURN_IF_ERROR(s->routerInput.append(model_->device(), it->second));
    else
      s->causalClosed = true;
    return std::unique_ptr<Session>(std::move(s));
  }

  StatusOr<std::unique_ptr<Session>>
  prefillContinuing(const PooledMemory &memory, const PromptRow &row,
                    const Session &previous, int64_t &reused) override {
    const auto &prev = static_cast<const CompiledSession &>(previous);
    const int64_t n = static_cast<int64_t>(row.tokens.size());
    // The shared start, short of the last token: it yields the logits.
    int64_t shared = 0;
    while (canContinue_ &&
           shared < static_cast<int64_t>(prev.causalTokens.size()) &&
           shared + 1 < n && prev.causalTokens[shared] == row.tokens[shared])
      ++shared;
    reused = shared;
    if (shared == 0)
      return prefill(memory, row);

    // The layers below the first router layer for the new tokens, over
    // the prefix's cached K/V.
    std::vector<int32_t> fresh(row.tokens.begin() + shared, row.tokens.end());
    Tensor start = Tensor::allocate(DType::kI32, {});
    *start.as<int32_t>() = static_cast<int32_t>(shared);
    CompiledModel::TensorMap head{
        {"tokens", i32Tensor(fresh)},
        {"valid", maskTensor(std::vector<uint8_t>(fresh.size(), 1))},
        {"start", start},
        {"cache_valid",
         maskTensor(std::vector<uint8_t>(static_cast<size_t>(shared), 1))}};
    MSA_RETURN_IF_ERROR(addShared(head, memory, /*routerKeys=*/true));
    const std::vector<GrowingCache> &pk = prev.keys, &pv = prev.values;
    for (int64_t l = 0; l < firstRouter_; ++l) {
      head["cache_key." + std::to_string(l)] = pk[l].view().rows(0, shared);
      head["cache_value." + std::to_string(l)] = pv[l].view().rows(0, shared);
    }
    MSA_ASSIGN_OR_RETURN(CompiledModel::TensorMap h,
                         model_->runOnDevice("prefill_head", head));

    // From the first router layer on, every token from its hidden state.
    auto s = std::make_unique<CompiledSession>();
    MSA_RETURN_IF_ERROR(s->routerInput.append(
        model_->device(), prev.routerInput.view().rows(0, shared)));
    MSA_RETURN_IF_ERROR(
        s->routerInput.append(model_->device(), h.at("router_input")));
    std::vector<uint8_t> routing(row.roles.size());
    for (size_t i = 0; i < routing.size(); ++i)
      routing[i] = row.roles[i] == kRoleRouting;
    Tensor zero = Tensor::allocate(DType::kI32, {});
    *zero.as<int32_t>() = 0;
    CompiledModel::TensorMap tail{
        {"router_input", s->routerInput.view()},
        {"routing", maskTensor(routing)},
        {"valid", maskTensor(std::vector<uint8_t>(static_cast<size_t>(n), 1))},
        {"start", zero}};
    MSA_RETURN_IF_ERROR(addShared(tail, memory, /*routerKeys=*/true));
    MSA_ASSIGN_OR_RETURN(CompiledModel::TensorMap t,
                         model_->runOnDevice("prefill_tail", tail));

    s->keys.resize(static_cast<size_t>(config_.numLayers));
    s->values.resize(s->keys.size());
    for (int64_t l = 0; l < config_.numLayers; ++l) {
      std::string k = "key." + std::to_string(l),
                  v = "value." + std::to_string(l);
      if (l < firstRouter_) {
        MSA_RETURN_IF_ERROR(
            s->keys[l].append(model_->device(), pk[l].view().rows(0, shared)));
        MSA_RETURN_IF_ERROR(s->values[l].append(model_->device(),
                                                pv[l].view().rows(0, shared)));
        MSA_RETURN_IF_ERROR(s->keys[l].append(model_->device(), h.at(k)));
        MSA_RETURN_IF_ERROR(s->values[l].append(model_->device(), h.at(v)));
      } else {
        MSA_RETURN_IF_ERROR(s->keys[l].append(model_->device(), t.at(k)));
        MSA_RETURN_IF_ERROR(s->values[l].append(model_->device(), t.at(v)));
      }
    }
    s->valid.assign(static_cast<size_t>(n), 1);
    s->lastActive = n - 1;
    MSA_RETURN_IF_ERROR(takeSelections(t, *s));
    MSA_ASSIGN_OR_RETURN(s->logits, hostF32(t.at("logits")));
    s->causalTokens = row.tokens;
    return std::unique_ptr<Session>(std::move(s));
  }

  Status decode(const PooledMemory &memory, Session &session,
                const std::vector<int32_t> &tokens,
                const std::vector<uint8_t> &valid) override {
    auto &s = static_cast<CompiledSession &>(session);
    // p(new) = p(previous) + a(new): masked tokens repeat the position.
    std::vector<int32_t> positions;
    for (uint8_t a : valid) {
      s.lastActive += a ? 1 : 0;
      positions.push_back(static_cast<int32_t>(s.lastActive));
    }
    CompiledModel::TensorMap in{{"tokens", i32Tensor(tokens)},
                                {"valid", maskTensor(valid)},
                                {"positions", i32Tensor(positions)},
                                {"cache_valid", maskTensor(s.valid)}};
    MSA_RETURN_IF_ERROR(addShared(in, memory, /*routerKeys=*/false));
    for (size_t r = 0; r < config_.msa.routerLayers.size(); ++r) {
      std::string l = std::to_string(config_.msa.routerLayers[r]);
      in["indices." + l] = s.indices[r];
      in["count." + l] = s.counts[r];
    }
    for (int64_t l = 0; l < config_.numLayers; ++l) {
      in["cache_key." + std::to_string(l)] = s.keys[l].view();
      in["cache_value." + std::to_string(l)] = s.values[l].view();
    }
    MSA_ASSIGN_OR_RETURN(CompiledModel::TensorMap out,
                         model_->runOnDevice("decode_step", in));
    for (int64_t l = 0; l < config_.numLayers; ++l) {
      MSA_RETURN_IF_ERROR(s.keys[l].append(model_->device(),
                                           out.at("key." + std::to_string(l))));
      MSA_RETURN_IF_ERROR(s.values[l].append(
          model_->device(), out.at("value." + std::to_string(l))));
    }
    s.valid.insert(s.valid.end(), valid.begin(), valid.end());
    MSA_ASSIGN_OR_RETURN(s.logits, hostF32(out.at("logits")));
    // Only a valid single token continues the causal prefix: a block sees
    // itself non-causally.
    auto in_ = out.find("router_input");
    if (!s.causalClosed && tokens.size() == 1 && valid[0] && in_ != out.end()) {
      s.causalTokens.push_back(tokens[0]);
      MSA_RETURN_IF_ERROR(s.routerInput.append(model_->device(), in_->second));
    } else {
      s.causalClosed = true;
    }
    return Status::ok();
  }

  CompiledModel &model() { return *model_; }

private:
  /// Every router layer's selection from a prefill's outputs: for decode
  /// steps (indices, count) and for the caller (the selected ids).
  Status takeSelections(const CompiledModel::TensorMap &out,
                        CompiledSession &s) const {
    for (int64_t l : config_.msa.routerLayers) {
      MSA_ASSIGN_OR_RETURN(Tensor idx, model_->device().toHost(out.at(
                                           "indices." + std::to_string(l))));
      MSA_ASSIGN_OR_RETURN(Tensor cnt, model_->device().toHost(out.at(
                                           "count." + std::to_string(l))));
      s.indices.push_back(idx);
      s.counts.push_back(cnt);
      int32_t n = *cnt.as<int32_t>();
      s.selected.emplace_back(idx.as<int32_t>(), idx.as<int32_t>() + n);
    }
    return Status::ok();
  }

  /// A plan output as host f32 (logits).
  StatusOr<std::vector<float>> hostF32(const Tensor &t) const {
    MSA_ASSIGN_OR_RETURN(Tensor h, model_->device().toHost(t));
    return toF32(h);
  }

  /// Template K/V and the bank, the inputs every stage-2/3 entry reads.
  /// On a device with its own memory they are uploaded once per memory,
  /// not on every prefill and decode step.
  Status addShared(CompiledModel::TensorMap &in, const PooledMemory &memory,
                   bool routerKeys) {
    std::map<std::pair<const void *, size_t>, Resident> kept;
    auto shared = [&](const Tensor &t) -> StatusOr<Tensor> {
      // Only owned memory is kept: holding its owner keeps the address
      // from being reused for other contents while cached.
      if (!t.owner || std::string(model_->device().name()) == "cpu")
        return t;
      std::pair<const void *, size_t> key{t.data, t.bytes()};
      auto it = resident_.find(key);
      if (it != resident_.end() && it->second.host.shape == t.shape &&
          it->second.host.dtype == t.dtype)
        return (kept[key] = it->second).device;
      MSA_ASSIGN_OR_RETURN(Tensor device, model_->device().place(t));
      kept[key] = Resident{t, device};
      return device;
    };
    for (int64_t l = 0; l < config_.numLayers; ++l) {
      MSA_ASSIGN_OR_RETURN(in["template_key." + std::to_string(l)],
                           shared(memory.templateKeys[l]));
      MSA_ASSIGN_OR_RETURN(in["template_value." + std::to_string(l)],
                           shared(memory.templateValues[l]));
    }
    const int64_t hk = config_.numKvHeads, d = config_.headDim;
    for (size_t r = 0; r < config_.msa.routerLayers.size(); ++r) {
      std::string l = std::to_string(config_.msa.routerLayers[r]);
      // A bank without documents still has a [H, 0, d] key tensor.
      auto orEmpty = [&](const std::vector<Tensor> &v) {
        if (r < v.size() && v[r].data)
          return v[r];
        return Tensor::allocate(config_.dtype, {hk, 0, d});
      };
      MSA_ASSIGN_OR_RETURN(in["bank_key." + l], shared(orEmpty(memory.keys)));
      MSA_ASSIGN_OR_RETURN(in["bank_value." + l],
                           shared(orEmpty(memory.values)));
      if (routerKeys && config_.hasRouterKeys()) {
        MSA_ASSIGN_OR_RETURN(in["bank_router_key." + l],
                             shared(orEmpty(memory.routerKeys)));
      }
    }
    in["chunk_offsets"] = i32Tensor(memory.docChunkOffsets);
    // A prefill names every tensor of its memory: what it does not name is
    // freed on the device. Decode steps name all but the router keys,
    // which the next prefill of the same memory needs again.
    if (routerKeys)
      resident_ = std::move(kept);
    else
      for (auto &[key, r] : kept)
        resident_[key] = r;
    return Status::ok();
  }

  struct Resident {
    Tensor host, device;
  };

  ModelConfig config_;
  std::unique_ptr<CompiledModel> model_;
  std::map<std::pair<const void *, size_t>, Resident> resident_;
  bool canContinue_ = false;
  int64_t firstRouter_ = 0;
};

} // namespace

const char *gemmProviderName(Backend &backend) {
  if (std::string(backend.name()) == "reference")
    return "reference loops";
  return static_cast<CompiledBackend &>(backend).model().device().gemmName();
}

PlanTimings *planTimings(Backend &backend) {
  if (std::string(backend.name()) == "reference")
    return nullptr;
  return &static_cast<CompiledBackend &>(backend).model().timings();
}

PlanDevice *planDevice(Backend &backend) {
  if (std::string(backend.name()) == "reference")
    return nullptr;
  return &static_cast<CompiledBackend &>(backend).model().device();
}

void setPlanProfiling(Backend &backend, bool on) {
  if (std::string(backend.name()) != "reference")
    static_cast<CompiledBackend &>(backend).model().setProfiling(on);
}

StatusOr<std::unique_ptr<Backend>>
makeCompiledBackend(const std::string &bundlePath, const Checkpoint &checkpoint,
                    ThreadPool &pool, bool builtinGemm) {
  MSA_ASSIGN_OR_RETURN(
      std::unique_ptr<CompiledModel> m,
      CompiledModel::open(bundlePath, checkpoint, pool, builtinGemm));
  return std::unique_ptr<Backend>(
      new CompiledBackend(checkpoint.config(), std::move(m)));
}

} // namespace msa::runtime
