//===- Model.cpp - the reference MSA model: three inference stages --------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/reference/Model.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace msa::runtime::ref {

namespace {

/// Numerics of a config: its storage dtype, f64 accumulation.
Numerics defaultNumerics(const ModelConfig &c) {
  Numerics nx;
  nx.storage = c.dtype;
  nx.f64Accumulate = true;
  return nx;
}

/// Concatenates head-major [heads][a][dim] and [heads][b][dim].
std::vector<float> concatChunks(const std::vector<float> &a, int64_t aChunks,
                                const std::vector<float> &b, int64_t bChunks,
                                int64_t heads, int64_t dim) {
  std::vector<float> out(static_cast<size_t>(heads * (aChunks + bChunks) * dim));
  for (int64_t h = 0; h < heads; ++h) {
    std::copy(a.begin() + h * aChunks * dim, a.begin() + (h + 1) * aChunks * dim,
              out.begin() + h * (aChunks + bChunks) * dim);
    std::copy(b.begin() + h * bChunks * dim, b.begin() + (h + 1) * bChunks * dim,
              out.begin() + (h * (aChunks + bChunks) + aChunks) * dim);
  }
  return out;
}

/// Appends head-major [heads][n][dim] chunks to a token-major cache.
void appendHeadMajor(std::vector<float> &cache, const std::vector<float> &src,
                     int64_t n, int64_t heads, int64_t dim) {
  for (int64_t c = 0; c < n; ++c)
    for (int64_t h = 0; h < heads; ++h)
      cache.insert(cache.end(), src.begin() + (h * n + c) * dim,
                   src.begin() + (h * n + c + 1) * dim);
}

} // namespace

void Memory::append(const Memory &other, int64_t kvHeads, int64_t headDim) {
  if (layers.empty()) {
    layers = other.layers;
  } else {
    for (size_t r = 0; r < layers.size(); ++r) {
      MemoryLayer &dst = layers[r];
      const MemoryLayer &src = other.layers[r];
      dst.keys = concatChunks(dst.keys, numChunks, src.keys, other.numChunks,
                              kvHeads, headDim);
      dst.values = concatChunks(dst.values, numChunks, src.values,
                                other.numChunks, kvHeads, headDim);
      if (!dst.routerKeys.empty() || !src.routerKeys.empty())
        dst.routerKeys = concatChunks(dst.routerKeys, numChunks, src.routerKeys,
                                      other.numChunks, kvHeads, headDim);
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

ReferenceModel::ReferenceModel(const ModelConfig &config,
                               const ModelWeights &weights, Numerics numerics)
    : config_(config), w_(weights), nx_(numerics),
      scale_(1.0 / std::sqrt(static_cast<double>(config.headDim))) {}

ReferenceModel::ReferenceModel(const ModelConfig &config,
                               const ModelWeights &weights)
    : ReferenceModel(config, weights, defaultNumerics(config)) {}

RouteParams ReferenceModel::routeParams() const {
  RouteParams p;
  p.headReduce = config_.msa.headReduce;
  p.queryReduce = config_.msa.queryReduce;
  p.normalize = config_.routingNormalize();
  p.scale = config_.routingScale();
  return p;
}

std::vector<float> ReferenceModel::embed(const std::vector<int32_t> &ids) const {
  const int64_t h = config_.hiddenSize;
  std::vector<float> x(ids.size() * static_cast<size_t>(h));
  for (size_t t = 0; t < ids.size(); ++t) {
    assert(ids[t] >= 0 && ids[t] < config_.vocabSize && "token id out of range");
    std::copy(w_.embedTokens.begin() + ids[t] * h,
              w_.embedTokens.begin() + (ids[t] + 1) * h, x.begin() + t * h);
  }
  return x;
}

void ReferenceModel::projectQkv(int64_t layer, const std::vector<float> &x,
                                int64_t n, const std::vector<int64_t> &pos,
                                std::vector<float> &normed,
                                std::vector<float> &q, std::vector<float> &k,
                                std::vector<float> &v) const {
  const LayerWeights &L = w_.layers[layer];
  const int64_t h = config_.hiddenSize, d = config_.headDim;
  const int64_t hq = config_.numHeads, hk = config_.numKvHeads;
  normed.resize(static_cast<size_t>(n * h));
  rmsNorm(x.data(), n, h, L.inputNorm.data(), config_.rmsNormEps, nx_,
          normed.data());
  q.resize(static_cast<size_t>(n * hq * d));
  k.resize(static_cast<size_t>(n * hk * d));
  v.resize(k.size());
  linear(normed.data(), n, h, L.qProj.data(), hq * d, nx_, q.data());
  linear(normed.data(), n, h, L.kProj.data(), hk * d, nx_, k.data());
  linear(normed.data(), n, h, L.vProj.data(), hk * d, nx_, v.data());
  // Per-head q_norm / k_norm before RoPE (§1.1).
  rmsNorm(q.data(), n * hq, d, L.qNorm.data(), config_.rmsNormEps, nx_, q.data());
  rmsNorm(k.data(), n * hk, d, L.kNorm.data(), config_.rmsNormEps, nx_, k.data());
  rope(q.data(), {n, hq, d}, pos.data(), config_.ropeTheta, nx_);
  rope(k.data(), {n, hk, d}, pos.data(), config_.ropeTheta, nx_);
}

void ReferenceModel::finishLayer(int64_t layer, std::vector<float> &x, int64_t n,
                                 const std::vector<float> &attn) const {
  const LayerWeights &L = w_.layers[layer];
  const int64_t h = config_.hiddenSize, inter = config_.intermediateSize;
  const int64_t qw = config_.numHeads * config_.headDim;
  std::vector<float> o(static_cast<size_t>(n * h));
  linear(attn.data(), n, qw, L.oProj.data(), h, nx_, o.data());
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = nx_.round(x[i] + o[i]);

  std::vector<float> normed(static_cast<size_t>(n * h));
  rmsNorm(x.data(), n, h, L.postNorm.data(), config_.rmsNormEps, nx_,
          normed.data());
  std::vector<float> gate(static_cast<size_t>(n * inter)), up(gate.size());
  linear(normed.data(), n, h, L.gateProj.data(), inter, nx_, gate.data());
  linear(normed.data(), n, h, L.upProj.data(), inter, nx_, up.data());
  swiglu(gate.data(), up.data(), n * inter, nx_, gate.data());
  linear(gate.data(), n, inter, L.downProj.data(), h, nx_, o.data());
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = nx_.round(x[i] + o[i]);
}

std::vector<float> ReferenceModel::logitsOf(const float *hidden) const {
  const int64_t h = config_.hiddenSize;
  std::vector<float> normed(static_cast<size_t>(h));
  rmsNorm(hidden, 1, h, w_.finalNorm.data(), config_.rmsNormEps, nx_,
          normed.data());
  std::vector<float> logits(static_cast<size_t>(config_.vocabSize));
  linear(normed.data(), 1, h, w_.outputEmbedding().data(), config_.vocabSize,
         nx_, logits.data());
  return logits;
}

//===----------------------------------------------------------------------===//
// Stage 1
//===----------------------------------------------------------------------===//

Memory ReferenceModel::encodeBlock(const std::vector<int32_t> &templateIds,
                                   const std::vector<std::vector<int32_t>> &docs,
                                   EncodeTrace *trace) const {
  const int64_t T = static_cast<int64_t>(templateIds.size());
  const int64_t d = config_.headDim, hk = config_.numKvHeads;
  const int64_t P = config_.msa.poolingKernelSize;

  std::vector<int32_t> tokens = templateIds;
  // The template head is a segment of its own for attention but is never
  // pooled (§3.1-§3.3).
  std::vector<int32_t> attnSegments{0, static_cast<int32_t>(T)};
  std::vector<int32_t> docSegments{static_cast<int32_t>(T)};
  for (const std::vector<int32_t> &doc : docs) {
    tokens.insert(tokens.end(), doc.begin(), doc.end());
    attnSegments.push_back(static_cast<int32_t>(tokens.size()));
    docSegments.push_back(static_cast<int32_t>(tokens.size()));
  }
  const int64_t n = static_cast<int64_t>(tokens.size());
  std::vector<int64_t> pos = documentPositions(attnSegments, n);

  Memory mem;
  mem.templateLen = T;
  mem.docChunkOffsets = chunkOffsets(docSegments, P);
  mem.numChunks = mem.docChunkOffsets.back();
  mem.layers.resize(config_.msa.routerLayers.size());
  mem.templateKeys.resize(static_cast<size_t>(config_.numLayers * T * hk * d));
  mem.templateValues.resize(mem.templateKeys.size());

  std::vector<float> x = embed(tokens);
  if (trace)
    trace->hidden = {x};
  std::vector<float> normed, q, k, v;
  const Shape3 qs{n, config_.numHeads, d}, ks{n, hk, d};
  const int64_t lastLayer = config_.numLayers - 1;
  for (int64_t l = 0; l < config_.numLayers; ++l) {
    projectQkv(l, x, n, pos, normed, q, k, v);
    std::copy(k.begin(), k.begin() + T * hk * d,
              mem.templateKeys.begin() + l * T * hk * d);
    std::copy(v.begin(), v.begin() + T * hk * d,
              mem.templateValues.begin() + l * T * hk * d);

    if (int64_t r = config_.routerIndex(l); r >= 0) {
      MemoryLayer &ml = mem.layers[r];
      ml.keys = chunkPool(k.data(), ks, docSegments, P, false, nx_);
      ml.values = chunkPool(v.data(), ks, docSegments, P, false, nx_);
      if (config_.msa.decoupleRouter) {
        std::vector<float> rk(static_cast<size_t>(n * hk * d));
        linear(normed.data(), n, config_.hiddenSize,
               w_.layers[l].routerKProj.data(), hk * d, nx_, rk.data());
        ml.routerKeys = chunkPool(rk.data(), ks, docSegments, P,
                                  config_.routingNormalize(), nx_);
      } else if (config_.routingNormalize()) {
        ml.routerKeys = chunkPool(k.data(), ks, docSegments, P, true, nx_);
      }
    }

    // The last layer's attention output and MLP feed nothing (§3.3).
    if (l == lastLayer && !trace)
      break;
    std::vector<float> attn(static_cast<size_t>(qs.size()));
    docAttention(q.data(), qs, k.data(), v.data(), hk, attnSegments, scale_,
                 nx_, attn.data());
    finishLayer(l, x, n, attn);
    if (trace)
      trace->hidden.push_back(x);
  }
  return mem;
}

Memory ReferenceModel::encode(const std::vector<int32_t> &templateIds,
                              const std::vector<std::vector<int32_t>> &docs,
                              int64_t blockChunks) const {
  const int64_t P = config_.msa.poolingKernelSize;
  Memory mem;
  std::vector<std::vector<int32_t>> block;
  int64_t blockTotal = 0;
  bool first = true;
  auto flush = [&]() {
    Memory m = encodeBlock(templateIds, block);
    if (first)
      mem = std::move(m);
    else
      mem.append(m, config_.numKvHeads, config_.headDim);
    first = false;
    block.clear();
    blockTotal = 0;
  };
  for (const std::vector<int32_t> &doc : docs) {
    int64_t chunks = (static_cast<int64_t>(doc.size()) + P - 1) / P;
    if (!block.empty() && blockTotal + chunks > blockChunks)
      flush();
    block.push_back(doc);
    blockTotal += chunks;
  }
  if (!block.empty() || first)
    flush();
  return mem;
}

//===----------------------------------------------------------------------===//
// Stage 2
//===----------------------------------------------------------------------===//

namespace {

/// Each valid token's hidden state, as it enters the first router layer,
/// into its row cache (what a continuing prefill reuses).
void captureRouterInput(const std::vector<float> &x, int64_t B, int64_t width,
                        int64_t hidden,
                        const std::vector<std::vector<uint8_t>> &valid,
                        PrefillResult &result) {
  for (int64_t b = 0; b < B; ++b) {
    std::vector<float> &dst = result.caches[b].routerInput;
    for (int64_t i = 0; i < width; ++i)
      if (valid[b][i])
        dst.insert(dst.end(), x.begin() + (b * width + i) * hidden,
                   x.begin() + (b * width + i + 1) * hidden);
  }
}

} // namespace

int64_t ReferenceModel::firstRouterLayer() const {
  for (int64_t l = 0; l < config_.numLayers; ++l)
    if (config_.routerIndex(l) >= 0)
      return l;
  return config_.numLayers;
}

void ReferenceModel::prefillLayers(
    const Memory &memory, int64_t from, int64_t B, int64_t width,
    std::vector<float> &x, const std::vector<int64_t> &pos,
    const std::vector<std::vector<uint8_t>> &valid,
    const std::vector<std::vector<uint8_t>> &routing,
    PrefillResult &result) const {
  const int64_t d = config_.headDim, hq = config_.numHeads,
                hk = config_.numKvHeads, hidden = config_.hiddenSize;
  const int64_t T = memory.templateLen, C = memory.numChunks;
  std::vector<float> normed, q, k, v;
  const int64_t n = B * width;
  const RouteParams params = routeParams();
  const int64_t firstRouter = firstRouterLayer();
  for (int64_t l = from; l < config_.numLayers; ++l) {
    if (l == firstRouter)
      captureRouterInput(x, B, width, hidden, valid, result);
    projectQkv(l, x, n, pos, normed, q, k, v);
    const int64_t r = config_.routerIndex(l);
    const float *tplK = memory.templateKeys.data() + l * T * hk * d;
    const float *tplV = memory.templateValues.data() + l * T * hk * d;
    std::vector<float> attn(static_cast<size_t>(n * hq * d), 0.0f);

    for (int64_t b = 0; b < B; ++b) {
      const float *qb = q.data() + b * width * hq * d;
      const float *kb = k.data() + b * width * hk * d;
      const float *vb = v.data() + b * width * hk * d;
      std::vector<int32_t> selected;
      std::vector<float> memK, memV;
      int64_t memChunks = 0;
      if (r >= 0) {
        // Routing queries: the router projection of the same normed input,
        // or q itself (post norm and RoPE) when not decoupled (§4.3).
        std::vector<float> qr;
        const float *routeQ = qb;
        if (config_.msa.decoupleRouter) {
          qr.resize(static_cast<size_t>(width * hq * d));
          linear(normed.data() + b * width * hidden, width, hidden,
                 w_.layers[l].routerQProj.data(), hq * d, nx_, qr.data());
          routeQ = qr.data();
        }
        const MemoryLayer &ml = memory.layers[r];
        const std::vector<float> &keys =
            ml.routerKeys.empty() ? ml.keys : ml.routerKeys;
        std::vector<float> chunkScores = routeScores(
            routeQ, {width, hq, d}, keys.data(), hk, C, routing[b], params, nx_);
        std::vector<float> docScores = docReduce(
            chunkScores, memory.docChunkOffsets, config_.msa.chunkReduce, nx_);
        selected = topK(docScores, config_.msa.docTopK);
        memK = gatherChunks(ml.keys.data(), hk, C, d, memory.docChunkOffsets,
                            selected);
        memV = gatherChunks(ml.values.data(), hk, C, d, memory.docChunkOffsets,
                            selected);
        memChunks = static_cast<int64_t>(memK.size()) / (hk * d);
        result.selected[b].push_back(selected);
        result.docScores[b].push_back(std::move(docScores));
      }

      float *ob = attn.data() + b * width * hq * d;
      sparseAttention(qb, {width, hq, d}, tplK, tplV, T, memK.data(),
                      memV.data(), memChunks, kb, vb, width, valid[b], hk,
                      CausalMode::kBottomRight, scale_, nx_, ob);
      for (int64_t i = 0; i < width; ++i)
        if (!valid[b][i])
          std::fill(ob + i * hq * d, ob + (i + 1) * hq * d, 0.0f);

      // The row's cache: [template; chunks; valid query tokens] (§4.7).
      RowCache &cache = result.caches[b];
      std::vector<float> &ck = cache.keys[l], &cv = cache.values[l];
      ck.assign(tplK, tplK + T * hk * d);
      cv.assign(tplV, tplV + T * hk * d);
      appendHeadMajor(ck, memK, memChunks, hk, d);
      appendHeadMajor(cv, memV, memChunks, hk, d);
      for (int64_t i = 0; i < width; ++i) {
        if (!valid[b][i])
          continue;
        ck.insert(ck.end(), kb + i * hk * d, kb + (i + 1) * hk * d);
        cv.insert(cv.end(), vb + i * hk * d, vb + (i + 1) * hk * d);
      }
      cache.valid[l].assign(ck.size() / static_cast<size_t>(hk * d), 1);
    }
    finishLayer(l, x, n, attn);
  }

  if (firstRouter == config_.numLayers)
    captureRouterInput(x, B, width, hidden, valid, result);
}

PrefillResult ReferenceModel::prefill(const Memory &memory,
                                      const std::vector<PromptRow> &rows) const {
  const int64_t B = static_cast<int64_t>(rows.size());
  const int64_t hidden = config_.hiddenSize;
  const int64_t start = activeStart(memory.templateLen);
  int64_t width = 0;
  for (const PromptRow &r : rows)
    width = std::max<int64_t>(width, static_cast<int64_t>(r.tokens.size()));

  // Left padding (§4.1): pad slots are masked, sit at the first position
  // and route nothing. Their token is irrelevant; id 0 is used.
  std::vector<int32_t> ids(static_cast<size_t>(B * width), 0);
  std::vector<int64_t> pos(ids.size(), start);
  std::vector<std::vector<uint8_t>> valid(static_cast<size_t>(B)),
      routing(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    const PromptRow &r = rows[b];
    const int64_t pad = width - static_cast<int64_t>(r.tokens.size());
    valid[b].assign(static_cast<size_t>(width), 0);
    routing[b].assign(static_cast<size_t>(width), 0);
    for (int64_t i = pad; i < width; ++i) {
      ids[b * width + i] = r.tokens[i - pad];
      pos[b * width + i] = start + (i - pad);
      valid[b][i] = 1;
      routing[b][i] = r.roles[i - pad] == kRoleRouting;
    }
  }

  PrefillResult result;
  result.selected.assign(static_cast<size_t>(B), {});
  result.docScores.assign(static_cast<size_t>(B), {});
  result.caches.resize(static_cast<size_t>(B));
  for (RowCache &c : result.caches) {
    c.keys.resize(static_cast<size_t>(config_.numLayers));
    c.values.resize(c.keys.size());
    c.valid.resize(c.keys.size());
  }

  std::vector<float> x = embed(ids);
  for (int64_t b = 0; b < B; ++b)
    result.caches[b].causalTokens = rows[b].tokens;
  prefillLayers(memory, 0, B, width, x, pos, valid, routing, result);

  for (int64_t b = 0; b < B; ++b) {
    result.logits.push_back(logitsOf(x.data() + (b * width + width - 1) * hidden));
    result.caches[b].lastPosition =
        start + static_cast<int64_t>(rows[b].tokens.size()) - 1;
  }
  return result;
}

PrefillResult ReferenceModel::prefillContinuing(const Memory &memory,
                                                const PromptRow &row,
                                                const RowCache &previous,
                                                int64_t reuse) const {
  const int64_t d = config_.headDim, hq = config_.numHeads,
                hk = config_.numKvHeads, hidden = config_.hiddenSize;
  const int64_t T = memory.templateLen;
  const int64_t start = activeStart(T);
  const int64_t n = static_cast<int64_t>(row.tokens.size());
  const int64_t fresh = n - reuse;
  const int64_t firstRouter = firstRouterLayer();

  PrefillResult result;
  result.selected.assign(1, {});
  result.docScores.assign(1, {});
  result.caches.resize(1);
  RowCache &cache = result.caches[0];
  cache.keys.resize(static_cast<size_t>(config_.numLayers));
  cache.values.resize(cache.keys.size());
  cache.valid.resize(cache.keys.size());
  cache.causalTokens = row.tokens;

  // The layers below the first router layer for the new tokens only: they
  // attend to the template, the reused tokens' K/V and causally to each
  // other, exactly the keys a full prefill gives them there.
  std::vector<int32_t> ids(row.tokens.begin() + reuse, row.tokens.end());
  std::vector<int64_t> pos(static_cast<size_t>(fresh));
  for (int64_t i = 0; i < fresh; ++i)
    pos[i] = start + reuse + i;
  std::vector<float> y = embed(ids);
  std::vector<float> normed, q, k, v;
  std::vector<uint8_t> allValid(static_cast<size_t>(n), 1);
  for (int64_t l = 0; l < firstRouter; ++l) {
    projectQkv(l, y, fresh, pos, normed, q, k, v);
    const float *tplK = memory.templateKeys.data() + l * T * hk * d;
    const float *tplV = memory.templateValues.data() + l * T * hk * d;
    // The previous cache of a layer without memory: [template; tokens].
    const std::vector<float> &pk = previous.keys[l], &pv = previous.values[l];
    std::vector<float> lk(pk.begin() + T * hk * d,
                          pk.begin() + (T + reuse) * hk * d);
    std::vector<float> lv(pv.begin() + T * hk * d,
                          pv.begin() + (T + reuse) * hk * d);
    lk.insert(lk.end(), k.begin(), k.end());
    lv.insert(lv.end(), v.begin(), v.end());
    std::vector<float> attn(static_cast<size_t>(fresh * hq * d));
    sparseAttention(q.data(), {fresh, hq, d}, tplK, tplV, T, nullptr, nullptr,
                    0, lk.data(), lv.data(), n, allValid, hk,
                    CausalMode::kBottomRight, scale_, nx_, attn.data());
    cache.keys[l].assign(tplK, tplK + T * hk * d);
    cache.values[l].assign(tplV, tplV + T * hk * d);
    cache.keys[l].insert(cache.keys[l].end(), lk.begin(), lk.end());
    cache.values[l].insert(cache.values[l].end(), lv.begin(), lv.end());
    cache.valid[l].assign(static_cast<size_t>(T + n), 1);
    finishLayer(l, y, fresh, attn);
  }

  // From the first router layer on, every token, as a full prefill does:
  // the reused hidden states, then the new ones.
  std::vector<float> x(previous.routerInput.begin(),
                       previous.routerInput.begin() + reuse * hidden);
  x.insert(x.end(), y.begin(), y.end());
  std::vector<int64_t> allPos(static_cast<size_t>(n));
  std::vector<std::vector<uint8_t>> valid{allValid}, routing(1);
  routing[0].resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    allPos[i] = start + i;
    routing[0][i] = row.roles[i] == kRoleRouting;
  }
  // prefillLayers records every token's hidden state entering the first
  // router layer: the reused ones, then the new.
  cache.routerInput.clear();
  prefillLayers(memory, firstRouter, 1, n, x, allPos, valid, routing, result);
  result.logits.push_back(logitsOf(x.data() + (n - 1) * hidden));
  cache.lastPosition = start + n - 1;
  return result;
}

//===----------------------------------------------------------------------===//
// Stage 3
//===----------------------------------------------------------------------===//

std::vector<std::vector<float>>
ReferenceModel::decode(std::vector<RowCache> &caches,
                       const std::vector<std::vector<int32_t>> &tokens,
                       const std::vector<std::vector<uint8_t>> &valid) const {
  const int64_t d = config_.headDim, hq = config_.numHeads,
                hk = config_.numKvHeads, hidden = config_.hiddenSize;
  std::vector<std::vector<float>> logits;
  for (size_t b = 0; b < caches.size(); ++b) {
    RowCache &cache = caches[b];
    const int64_t m = static_cast<int64_t>(tokens[b].size());
    // p(new) = p(previous) + a(new): masked tokens repeat the position.
    std::vector<int64_t> pos(static_cast<size_t>(m));
    for (int64_t i = 0; i < m; ++i) {
      cache.lastPosition += valid[b][i] ? 1 : 0;
      pos[i] = cache.lastPosition;
    }
    std::vector<float> x = embed(tokens[b]);
    std::vector<float> normed, q, k, v;
    // Only a valid single token continues the causal prefix a continuing
    // prefill reuses: a multi-token block sees itself non-causally.
    const bool causal = !cache.causalClosed && m == 1 && valid[b][0];
    if (!causal)
      cache.causalClosed = true;
    const int64_t firstRouter = firstRouterLayer();
    for (int64_t l = 0; l < config_.numLayers; ++l) {
      if (causal && l == firstRouter)
        cache.routerInput.insert(cache.routerInput.end(), x.begin(), x.end());
      projectQkv(l, x, m, pos, normed, q, k, v);
      std::vector<float> &ck = cache.keys[l], &cv = cache.values[l];
      ck.insert(ck.end(), k.begin(), k.end());
      cv.insert(cv.end(), v.begin(), v.end());
      cache.valid[l].insert(cache.valid[l].end(), valid[b].begin(),
                            valid[b].end());
      const int64_t len = static_cast<int64_t>(cache.valid[l].size());
      std::vector<float> attn(static_cast<size_t>(m * hq * d));
      // Every new token sees every valid entry, its own block included.
      sparseAttention(q.data(), {m, hq, d}, nullptr, nullptr, 0, nullptr,
                      nullptr, 0, ck.data(), cv.data(), len, cache.valid[l], hk,
                      CausalMode::kBlock, scale_, nx_, attn.data());
      finishLayer(l, x, m, attn);
    }
    if (causal) {
      if (firstRouter == config_.numLayers)
        cache.routerInput.insert(cache.routerInput.end(), x.begin(), x.end());
      cache.causalTokens.push_back(tokens[b][0]);
    }
    logits.push_back(logitsOf(x.data() + (m - 1) * hidden));
  }
  return logits;
}

} // namespace msa::runtime::ref
