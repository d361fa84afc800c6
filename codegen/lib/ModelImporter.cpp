//===- ModelImporter.cpp - MSA graph IR from a model config ---------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The graph follows the reference model (runtime/src/reference/Model.cpp)
// op for op, so the compiled model and the oracle compute the same thing:
// per layer input norm, q/k/v projections with per-head norms, RoPE,
// attention, o_proj and residual, post norm, SwiGLU MLP and residual.
//
//===----------------------------------------------------------------------===//

#include "msa/Codegen/ModelImporter.h"

#include "msa/Dialect/MsaOps.h"
#include "msa/runtime/reference/Weights.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/StringMap.h"

#include <functional>

using namespace mlir;
using msa::runtime::ModelConfig;

namespace msa::codegen {

namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;

/// One entry function under construction.
class EntryBuilder {
public:
  EntryBuilder(OpBuilder &b, ModuleOp module, const ModelConfig &c,
               StringRef name)
      : b(b), c(c), loc(b.getUnknownLoc()) {
    b.setInsertionPointToEnd(module.getBody());
    fn = func::FuncOp::create(b, loc, name, b.getFunctionType({}, {}));
    entry = fn.addEntryBlock();
  }

  /// Adds an input argument named `name` with dynamic dims named `dims`.
  Value input(StringRef name, RankedTensorType type,
              ArrayRef<StringRef> dims = {}) {
    Value arg = entry->addArgument(type, loc);
    unsigned i = cast<BlockArgument>(arg).getArgNumber();
    argAttrs.resize(i + 1);
    SmallVector<NamedAttribute> attrs{
        b.getNamedAttr("msa.name", b.getStringAttr(name))};
    if (!dims.empty()) {
      SmallVector<Attribute> d;
      for (StringRef s : dims)
        d.push_back(b.getStringAttr(s));
      attrs.push_back(b.getNamedAttr("msa.dims", b.getArrayAttr(d)));
    }
    argAttrs[i] = b.getDictionaryAttr(attrs);
    return arg;
  }

  /// Adds every checkpoint tensor as a weight argument.
  void addWeights(Type elem) {
    for (const runtime::ref::WeightSpec &w : runtime::ref::checkpointLayout(c)) {
      auto type = RankedTensorType::get(w.shape, elem);
      Value arg = entry->addArgument(type, loc);
      unsigned i = cast<BlockArgument>(arg).getArgNumber();
      argAttrs.resize(i + 1);
      argAttrs[i] = b.getDictionaryAttr(
          {b.getNamedAttr("msa.weight", b.getStringAttr(w.name))});
      weights[w.name] = arg;
    }
  }

  Value weight(const std::string &name) { return weights.lookup(name); }

  /// Layer l's K and V for the session's cache or the template.
  void outputKv(int64_t l, Value key, Value value) {
    output("key." + std::to_string(l), key);
    output("value." + std::to_string(l), value);
  }

  void output(StringRef name, Value v, ArrayRef<StringRef> dims = {}) {
    results.push_back(v);
    SmallVector<NamedAttribute> attrs{
        b.getNamedAttr("msa.name", b.getStringAttr(name))};
    if (!dims.empty()) {
      SmallVector<Attribute> d;
      for (StringRef s : dims)
        d.push_back(b.getStringAttr(s));
      attrs.push_back(b.getNamedAttr("msa.dims", b.getArrayAttr(d)));
    }
    resultAttrs.push_back(b.getDictionaryAttr(attrs));
  }

  /// Closes the function: signature, argument and result attributes.
  void finish() {
    b.setInsertionPointToEnd(entry);
    func::ReturnOp::create(b, loc, results);
    SmallVector<Type> in(entry->getArgumentTypes());
    SmallVector<Type> out;
    for (Value v : results)
      out.push_back(v.getType());
    fn.setFunctionType(b.getFunctionType(in, out));
    fn.setAllArgAttrs(argAttrs);
    fn.setAllResultAttrs(resultAttrs);
  }

  void startBody() { b.setInsertionPointToEnd(entry); }

  OpBuilder &b;
  const ModelConfig &c;
  Location loc;
  func::FuncOp fn;
  Block *entry;
  llvm::StringMap<Value> weights;
  SmallVector<Attribute> argAttrs, resultAttrs;
  SmallVector<Value> results;
};

/// The per-layer math of a Qwen3 + MSA decoder layer on graph ops.
class LayerMath {
public:
  LayerMath(EntryBuilder &e, Type elem) : e(e), b(e.b), c(e.c), elem(elem) {}

  RankedTensorType t(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, elem);
  }
  std::string layerName(int64_t l, StringRef what) {
    return "model.layers." + std::to_string(l) + "." + what.str();
  }
  Value w(int64_t l, StringRef what) { return e.weight(layerName(l, what)); }

  Value rows(Value x) {
    return tensor::DimOp::create(b, e.loc, x, 0);
  }
  Value rmsNorm(Value x, Value weight) {
    return RmsNormOp::create(b, e.loc, x.getType(), x, weight,
                             b.getF64FloatAttr(c.rmsNormEps));
  }
  Value linear(Value x, Value weight) {
    int64_t out = cast<RankedTensorType>(weight.getType()).getDimSize(0);
    int64_t n = cast<RankedTensorType>(x.getType()).getDimSize(0);
    return LinearOp::create(b, e.loc, t({n, out}), x, weight);
  }
  /// [N, H * d] -> [N, H, d].
  Value heads(Value x, int64_t h) {
    auto xt = cast<RankedTensorType>(x.getType());
    int64_t n = xt.getDimSize(0);
    SmallVector<OpFoldResult> shape{
        n == kDyn ? OpFoldResult(rows(x)) : OpFoldResult(b.getIndexAttr(n)),
        b.getIndexAttr(h), b.getIndexAttr(c.headDim)};
    return tensor::ExpandShapeOp::create(
        b, e.loc, t({n, h, c.headDim}), x,
        ArrayRef<ReassociationIndices>{{0}, {1, 2}}, shape);
  }
  /// [N, H, d] -> [N, H * d].
  Value flatten(Value x) {
    auto xt = cast<RankedTensorType>(x.getType());
    return tensor::CollapseShapeOp::create(
        b, e.loc, t({xt.getDimSize(0), xt.getDimSize(1) * xt.getDimSize(2)}),
        x, ArrayRef<ReassociationIndices>{{0}, {1, 2}});
  }

  struct Qkv {
    Value normed, q, k, v;
  };
  Qkv project(int64_t l, Value x) {
    Qkv r;
    r.normed = rmsNorm(x, w(l, "input_layernorm.weight"));
    r.q = rmsNorm(heads(linear(r.normed, w(l, "self_attn.q_proj.weight")),
                        c.numHeads),
                  w(l, "self_attn.q_norm.weight"));
    r.k = rmsNorm(heads(linear(r.normed, w(l, "self_attn.k_proj.weight")),
                        c.numKvHeads),
                  w(l, "self_attn.k_norm.weight"));
    r.v = heads(linear(r.normed, w(l, "self_attn.v_proj.weight")),
                c.numKvHeads);
    return r;
  }

  /// x + o_proj(attn), then + mlp(post_norm(x)).
  Value finish(int64_t l, Value x, Value attn) {
    Value o = linear(flatten(attn), w(l, "self_attn.o_proj.weight"));
    x = arith::AddFOp::create(b, e.loc, x, o);
    Value h = rmsNorm(x, w(l, "post_attention_layernorm.weight"));
    Value g = linear(h, w(l, "mlp.gate_proj.weight"));
    Value u = linear(h, w(l, "mlp.up_proj.weight"));
    Value a = SwiGluOp::create(b, e.loc, g.getType(), g, u);
    Value m = linear(a, w(l, "mlp.down_proj.weight"));
    return arith::AddFOp::create(b, e.loc, x, m);
  }

  Value ropeDocument(Value x, Value segments) {
    return RopeOp::create(b, e.loc, x.getType(), x, segments,
                          RopeModeAttr::get(b.getContext(), RopeMode::Document),
                          b.getF64FloatAttr(c.ropeTheta), IntegerAttr(),
                          IntegerAttr());
  }
  Value ropeGlobal(Value x, Value positions, int64_t templateLen) {
    return RopeOp::create(b, e.loc, x.getType(), x, positions,
                          RopeModeAttr::get(b.getContext(), RopeMode::Global),
                          b.getF64FloatAttr(c.ropeTheta),
                          b.getI64IntegerAttr(templateLen),
                          b.getI64IntegerAttr(c.msa.docTopK));
  }

  Value embed(Value tokens) {
    Value table = e.weight("model.embed_tokens.weight");
    int64_t n = cast<RankedTensorType>(tokens.getType()).getDimSize(0);
    return EmbeddingOp::create(b, e.loc, t({n, c.hiddenSize}), table, tokens);
  }

  /// Logits of the last row of x: [1, vocab].
  Value lastLogits(Value x) {
    Value one = arith::ConstantIndexOp::create(b, e.loc, 1);
    Value last = arith::SubIOp::create(b, e.loc, rows(x), one);
    SmallVector<OpFoldResult> offsets{last, b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes{b.getIndexAttr(1),
                                    b.getIndexAttr(c.hiddenSize)};
    SmallVector<OpFoldResult> strides{b.getIndexAttr(1), b.getIndexAttr(1)};
    Value row = tensor::ExtractSliceOp::create(b, e.loc, t({1, c.hiddenSize}),
                                               x, offsets, sizes, strides);
    Value n = rmsNorm(row, e.weight("model.norm.weight"));
    Value head = c.tieWordEmbeddings ? e.weight("model.embed_tokens.weight")
                                     : e.weight("lm_head.weight");
    return linear(n, head);
  }

  EntryBuilder &e;
  OpBuilder &b;
  const ModelConfig &c;
  Type elem;
};

Type elementType(MLIRContext *ctx, runtime::DType t) {
  switch (t) {
  case runtime::DType::kF16:
    return Float16Type::get(ctx);
  case runtime::DType::kF32:
    return Float32Type::get(ctx);
  default:
    return BFloat16Type::get(ctx);
  }
}

void buildEncodeTemplate(OpBuilder &b, ModuleOp m, const ModelConfig &c,
                         Type elem) {
  EntryBuilder e(b, m, c, "encode_template");
  auto i32 = b.getI32Type();
  Value tokens = e.input("tokens", RankedTensorType::get({kDyn}, i32), {"T"});
  Value segments =
      e.input("segments", RankedTensorType::get({kDyn}, i32), {"S"});
  e.addWeights(elem);
  e.startBody();
  LayerMath L(e, elem);
  Value x = L.embed(tokens);
  for (int64_t l = 0; l < c.numLayers; ++l) {
    LayerMath::Qkv p = L.project(l, x);
    Value q = L.ropeDocument(p.q, segments), k = L.ropeDocument(p.k, segments);
    e.outputKv(l, k, p.v);
    if (l + 1 == c.numLayers)
      break; // the last layer's output feeds nothing
    Value attn = DocAttentionOp::create(b, e.loc, q.getType(), q, k, p.v,
                                        segments, FloatAttr());
    x = L.finish(l, x, attn);
  }
  e.finish();
}

void buildEncodeBlock(OpBuilder &b, ModuleOp m, const ModelConfig &c,
                      Type elem) {
  EntryBuilder e(b, m, c, "encode_block");
  auto i32 = b.getI32Type();
  Value tokens = e.input("tokens", RankedTensorType::get({kDyn}, i32), {"T"});
  Value segments =
      e.input("segments", RankedTensorType::get({kDyn}, i32), {"S"});
  e.addWeights(elem);
  e.startBody();
  LayerMath L(e, elem);
  // Documents are every segment after the template head (segment 0).
  Value one = arith::ConstantIndexOp::create(b, e.loc, 1);
  Value docCount = arith::SubIOp::create(b, e.loc, L.rows(segments), one);
  Value docSegments = tensor::ExtractSliceOp::create(
      b, e.loc, RankedTensorType::get({kDyn}, i32), segments,
      ArrayRef<OpFoldResult>{b.getIndexAttr(1)}, ArrayRef<OpFoldResult>{docCount},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
  int64_t P = c.msa.poolingKernelSize;
  auto pooledType = L.t({c.numKvHeads, kDyn, c.headDim});
  auto pool = [&](Value x, bool normalize) {
    return ChunkPoolOp::create(b, e.loc, pooledType, x, docSegments,
                               static_cast<uint64_t>(P), normalize);
  };
  Value x = L.embed(tokens);
  int64_t lastRouter = c.msa.routerLayers.empty() ? -1 : c.msa.routerLayers.back();
  for (int64_t l = 0; l <= lastRouter; ++l) {
    LayerMath::Qkv p = L.project(l, x);
    // The router keys are projected before the attention, whose epilogue
    // pools them (msa-fuse-pooling needs its inputs defined first).
    Value rk;
    if (c.isRouterLayer(l) && c.msa.decoupleRouter)
      rk = L.heads(
          L.linear(p.normed, L.w(l, "self_attn.router_k_proj.0.weight")),
          c.numKvHeads);
    Value q = L.ropeDocument(p.q, segments), k = L.ropeDocument(p.k, segments);
    Value attn = DocAttentionOp::create(b, e.loc, q.getType(), q, k, p.v,
                                        segments, FloatAttr());
    if (c.isRouterLayer(l)) {
      std::string s = std::to_string(l);
      e.output("pooled_key." + s, pool(k, false), {"", "C", ""});
      e.output("pooled_value." + s, pool(p.v, false), {"", "C", ""});
      if (rk) {
        e.output("pooled_router_key." + s, pool(rk, c.routingNormalize()),
                 {"", "C", ""});
      } else if (c.routingNormalize()) {
        e.output("pooled_router_key." + s, pool(k, true), {"", "C", ""});
      }
    }
    // Layers after the last router layer feed no cached tensor (§3.3).
    if (l < lastRouter)
      x = L.finish(l, x, attn);
  }
  e.finish();
}

/// Template keys and values of every layer as inputs.
void templateInputs(EntryBuilder &e, LayerMath &L, int64_t templateLen,
                    SmallVector<Value> &tk, SmallVector<Value> &tv) {
  for (int64_t l = 0; l < e.c.numLayers; ++l) {
    auto type = L.t({templateLen, e.c.numKvHeads, e.c.headDim});
    tk.push_back(e.input("template_key." + std::to_string(l), type));
    tv.push_back(e.input("template_value." + std::to_string(l), type));
  }
}

struct Bank {
  SmallVector<Value> keys, values, routerKeys;
  Value chunkOffsets;
};

Bank bankInputs(EntryBuilder &e, LayerMath &L, bool routerKeys) {
  Bank bank;
  auto type = L.t({e.c.numKvHeads, kDyn, e.c.headDim});
  for (int64_t l : e.c.msa.routerLayers) {
    std::string s = std::to_string(l);
    bank.keys.push_back(e.input("bank_key." + s, type, {"", "C", ""}));
    bank.values.push_back(e.input("bank_value." + s, type, {"", "C", ""}));
    if (routerKeys)
      bank.routerKeys.push_back(
          e.input("bank_router_key." + s, type, {"", "C", ""}));
  }
  bank.chunkOffsets = e.input(
      "chunk_offsets", RankedTensorType::get({kDyn}, e.b.getI32Type()), {"D"});
  return bank;
}

/// The first router layer (numLayers without one): below it no layer
/// reads the bank, so a prefix's work there can be reused (§8.3 reuse).
int64_t firstRouterLayer(const ModelConfig &c) {
  for (int64_t l = 0; l < c.numLayers; ++l)
    if (c.routerIndex(l) >= 0)
      return l;
  return c.numLayers;
}

/// Layers [from, numLayers) of stage 2 over every query token: routing in
/// router layers, assembly, causal attention; outputs each layer's K/V
/// (key.L, value.L) and selection (indices.L, count.L), and `routerInput`
/// (the hidden states entering the first router layer) when it is at or
/// after `from`. Returns the last hidden states.
Value prefillLayers(EntryBuilder &e, LayerMath &L, Value x, int64_t from,
                    Value routing, Value valid, Value start,
                    int64_t templateLen, ArrayRef<Value> tk,
                    ArrayRef<Value> tv, const Bank &bank) {
  OpBuilder &b = e.b;
  const ModelConfig &c = e.c;
  auto i32 = b.getI32Type();
  int64_t k = c.msa.docTopK;
  const int64_t first = firstRouterLayer(c);
  for (int64_t l = from; l < c.numLayers; ++l) {
    if (l == first)
      e.output("router_input", x);
    LayerMath::Qkv p = L.project(l, x);
    Value q = L.ropeGlobal(p.q, start, templateLen);
    Value key = L.ropeGlobal(p.k, start, templateLen);
    std::string s = std::to_string(l);
    Value attn;
    if (int64_t r = c.routerIndex(l); r >= 0) {
      // Routing queries: the router projection, or q itself (§4.3).
      Value routeQ =
          c.msa.decoupleRouter
              ? L.heads(L.linear(p.normed,
                                 L.w(l, "self_attn.router_q_proj.0.weight")),
                        c.numHeads)
              : q;
      Value keys = c.hasRouterKeys() ? bank.routerKeys[r] : bank.keys[r];
      Value scores = RouteScoresOp::create(
          b, e.loc, L.t({kDyn}), routeQ, keys, routing,
          static_cast<HeadReduce>(c.msa.headReduce),
          static_cast<QueryReduce>(c.msa.queryReduce), c.routingNormalize(),
          c.routingScale());
      Value docScores = DocReduceOp::create(
          b, e.loc, L.t({kDyn}), scores, bank.chunkOffsets,
          static_cast<ChunkReduce>(c.msa.chunkReduce));
      auto topk = TopKOp::create(b, e.loc, RankedTensorType::get({k}, i32),
                                 RankedTensorType::get({}, i32), docScores,
                                 b.getI64IntegerAttr(k));
      auto memType = L.t({c.numKvHeads, kDyn, c.headDim});
      Value gk = GatherChunksOp::create(b, e.loc, memType, bank.keys[r],
                                        topk.getIndices(), topk.getCount(),
                                        bank.chunkOffsets);
      Value gv = GatherChunksOp::create(b, e.loc, memType, bank.values[r],
                                        topk.getIndices(), topk.getCount(),
                                        bank.chunkOffsets);
      attn = SparseAttentionOp::create(
          b, e.loc, q.getType(), q, tk[l], tv[l], gk, gv, key, p.v, valid,
          CausalMode::BottomRight, FloatAttr());
      e.output("indices." + s, topk.getIndices());
      e.output("count." + s, topk.getCount());
    } else {
      attn = SparseAttentionOp::create(b, e.loc, q.getType(), q, tk[l], tv[l],
                                       Value(), Value(), key, p.v, valid,
                                       CausalMode::BottomRight, FloatAttr());
    }
    e.outputKv(l, key, p.v);
    x = L.finish(l, x, attn);
  }
  if (first == c.numLayers && from <= first)
    e.output("router_input", x);
  return x;
}

void buildRoutePrefill(OpBuilder &b, ModuleOp m, const ModelConfig &c,
                       Type elem, int64_t templateLen) {
  EntryBuilder e(b, m, c, "route_prefill");
  auto i32 = b.getI32Type(), i1 = b.getI1Type();
  LayerMath L(e, elem);
  Value tokens = e.input("tokens", RankedTensorType::get({kDyn}, i32), {"Q"});
  Value routing = e.input("routing", RankedTensorType::get({kDyn}, i1), {"Q"});
  Value valid = e.input("valid", RankedTensorType::get({kDyn}, i1), {"Q"});
  Value start = e.input("start", RankedTensorType::get({}, i32));
  SmallVector<Value> tk, tv;
  templateInputs(e, L, templateLen, tk, tv);
  Bank bank = bankInputs(e, L, c.hasRouterKeys());
  e.addWeights(elem);
  e.startBody();

  Value x = prefillLayers(e, L, L.embed(tokens), 0, routing, valid, start,
                          templateLen, tk, tv, bank);
  e.output("logits", L.lastLogits(x));
  e.finish();
}

/// A KV cache of the first `layers` layers as inputs (cache_key.L,
/// cache_value.L of `dim` rows, and cache_valid).
struct CacheInputs {
  SmallVector<Value> keys, values;
  Value valid;
};

CacheInputs cacheInputs(EntryBuilder &e, LayerMath &L, int64_t layers,
                        StringRef dim) {
  CacheInputs cache;
  auto type = L.t({kDyn, e.c.numKvHeads, e.c.headDim});
  for (int64_t l = 0; l < layers; ++l) {
    cache.keys.push_back(
        e.input("cache_key." + std::to_string(l), type, {dim, "", ""}));
    cache.values.push_back(
        e.input("cache_value." + std::to_string(l), type, {dim, "", ""}));
  }
  cache.valid =
      e.input("cache_valid", RankedTensorType::get({kDyn}, e.b.getI1Type()),
              {dim});
  return cache;
}

/// Layers [0, count) over new tokens that follow a KV cache: each attends
/// to the template, `memory(l)` (gathered chunks, or none), the cache and
/// the new tokens with `mode`; outputs every layer's key.L and value.L of
/// the new tokens and their router_input. Returns the hidden states.
Value cachedLayers(
    EntryBuilder &e, LayerMath &L, Value x, int64_t count, Value positions,
    int64_t templateLen, ArrayRef<Value> tk, ArrayRef<Value> tv,
    const CacheInputs &cache, Value valid, CausalMode mode,
    const std::function<std::pair<Value, Value>(int64_t)> &memory) {
  OpBuilder &b = e.b;
  Value localValid =
      tensor::ConcatOp::create(b, e.loc, 0, ValueRange{cache.valid, valid});
  const int64_t first = firstRouterLayer(e.c);
  for (int64_t l = 0; l < count; ++l) {
    if (l == first)
      e.output("router_input", x);
    LayerMath::Qkv p = L.project(l, x);
    Value q = L.ropeGlobal(p.q, positions, templateLen);
    Value key = L.ropeGlobal(p.k, positions, templateLen);
    // The new tokens follow the cache.
    Value lk =
        tensor::ConcatOp::create(b, e.loc, 0, ValueRange{cache.keys[l], key});
    Value lv =
        tensor::ConcatOp::create(b, e.loc, 0, ValueRange{cache.values[l], p.v});
    auto [gk, gv] = memory(l);
    Value attn =
        SparseAttentionOp::create(b, e.loc, q.getType(), q, tk[l], tv[l], gk,
                                  gv, lk, lv, localValid, mode, FloatAttr());
    e.outputKv(l, key, p.v);
    x = L.finish(l, x, attn);
  }
  if (first >= count)
    e.output("router_input", x);
  return x;
}

/// The layers below the first router layer for new tokens after a reused
/// prefix: they attend to the template, the prefix's cached K/V and
/// causally to each other (as in a full prefill), at positions from
/// `start`. Outputs the new tokens' K/V and their hidden states entering
/// the first router layer.
void buildPrefillHead(OpBuilder &b, ModuleOp m, const ModelConfig &c,
                      Type elem, int64_t templateLen) {
  EntryBuilder e(b, m, c, "prefill_head");
  auto i32 = b.getI32Type(), i1 = b.getI1Type();
  LayerMath L(e, elem);
  const int64_t first = firstRouterLayer(c);
  Value tokens = e.input("tokens", RankedTensorType::get({kDyn}, i32), {"N"});
  Value valid = e.input("valid", RankedTensorType::get({kDyn}, i1), {"N"});
  Value start = e.input("start", RankedTensorType::get({}, i32));
  SmallVector<Value> tk, tv;
  templateInputs(e, L, templateLen, tk, tv);
  CacheInputs cache = cacheInputs(e, L, first, "P");
  e.addWeights(elem);
  e.startBody();

  // Attention as in a full prefill: causal, bottom-right aligned over the
  // prefix and the new tokens.
  cachedLayers(e, L, L.embed(tokens), first, start, templateLen, tk, tv, cache,
               valid, CausalMode::BottomRight, [](int64_t) {
                 return std::pair<Value, Value>();
               });
  e.finish();
}

/// Layers from the first router layer on over every query token, from
/// their hidden states entering it: what a full prefill computes there.
void buildPrefillTail(OpBuilder &b, ModuleOp m, const ModelConfig &c,
                      Type elem, int64_t templateLen) {
  EntryBuilder e(b, m, c, "prefill_tail");
  auto i32 = b.getI32Type(), i1 = b.getI1Type();
  LayerMath L(e, elem);
  Value hidden = e.input("router_input", L.t({kDyn, c.hiddenSize}), {"Q", ""});
  Value routing = e.input("routing", RankedTensorType::get({kDyn}, i1), {"Q"});
  Value valid = e.input("valid", RankedTensorType::get({kDyn}, i1), {"Q"});
  Value start = e.input("start", RankedTensorType::get({}, i32));
  SmallVector<Value> tk, tv;
  templateInputs(e, L, templateLen, tk, tv);
  Bank bank = bankInputs(e, L, c.hasRouterKeys());
  e.addWeights(elem);
  e.startBody();

  Value x = prefillLayers(e, L, hidden, firstRouterLayer(c), routing, valid,
                          start, templateLen, tk, tv, bank);
  e.output("logits", L.lastLogits(x));
  e.finish();
}

void buildDecodeStep(OpBuilder &b, ModuleOp m, const ModelConfig &c, Type elem,
                     int64_t templateLen) {
  EntryBuilder e(b, m, c, "decode_step");
  auto i32 = b.getI32Type(), i1 = b.getI1Type();
  LayerMath L(e, elem);
  Value tokens = e.input("tokens", RankedTensorType::get({kDyn}, i32), {"M"});
  Value valid = e.input("valid", RankedTensorType::get({kDyn}, i1), {"M"});
  Value positions =
      e.input("positions", RankedTensorType::get({kDyn}, i32), {"M"});
  SmallVector<Value> tk, tv;
  templateInputs(e, L, templateLen, tk, tv);
  Bank bank = bankInputs(e, L, /*routerKeys=*/false);
  SmallVector<Value> indices, counts;
  int64_t k = c.msa.docTopK;
  for (int64_t l : c.msa.routerLayers) {
    indices.push_back(e.input("indices." + std::to_string(l),
                              RankedTensorType::get({k}, i32)));
    counts.push_back(
        e.input("count." + std::to_string(l), RankedTensorType::get({}, i32)));
  }
  CacheInputs cache = cacheInputs(e, L, c.numLayers, "L");
  e.addWeights(elem);
  e.startBody();

  // The step's tokens see each other whatever their order (§5); router
  // layers read the chunks the prefill selected.
  Value x = cachedLayers(
      e, L, L.embed(tokens), c.numLayers, positions, templateLen, tk, tv, cache,
      valid, CausalMode::Block, [&](int64_t l) -> std::pair<Value, Value> {
        int64_t r = c.routerIndex(l);
        if (r < 0)
          return {};
        auto memType = L.t({c.numKvHeads, kDyn, c.headDim});
        return {GatherChunksOp::create(b, e.loc, memType, bank.keys[r],
                                       indices[r], counts[r],
                                       bank.chunkOffsets),
                GatherChunksOp::create(b, e.loc, memType, bank.values[r],
                                       indices[r], counts[r],
                                       bank.chunkOffsets)};
      });
  e.output("logits", L.lastLogits(x));
  e.finish();
}

} // namespace

OwningOpRef<ModuleOp> importModel(MLIRContext *context,
                                  const ModelConfig &config,
                                  int64_t templateLen) {
  context->loadDialect<MsaDialect, func::FuncDialect, arith::ArithDialect,
                       tensor::TensorDialect>();
  OpBuilder b(context);
  OwningOpRef<ModuleOp> module = ModuleOp::create(b.getUnknownLoc());
  Type elem = elementType(context, config.dtype);
  buildEncodeTemplate(b, *module, config, elem);
  buildEncodeBlock(b, *module, config, elem);
  buildRoutePrefill(b, *module, config, elem, templateLen);
  buildPrefillHead(b, *module, config, elem, templateLen);
  buildPrefillTail(b, *module, config, elem, templateLen);
  buildDecodeStep(b, *module, config, elem, templateLen);
  return module;
}

} // namespace msa::codegen
