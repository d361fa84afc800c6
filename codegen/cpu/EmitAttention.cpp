//===- EmitAttention.cpp - cpu loops of the attention kernels -------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// encode_docs (stage 1: RoPE prologue, causal attention per segment, pooling
// epilogue) and memory_attention (stages 2-3: RoPE prologue, attention over
// the template, the memory chunks read by index from the bank, and the local
// keys). Both use one online-softmax loop over key ranges, `block_k` keys
// per step, with the query and the accumulator held in vector registers
// along the head dim.
//
//===----------------------------------------------------------------------===//

#include "Emitters.h"

#include "common/EncodeDocsArgs.h"
#include "common/MemoryAttention.h"

#include "msa/Codegen/KernelInterface.h"
#include "msa/Dialect/MsaOps.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace msa::codegen::cpu {

// Pooling helpers shared with EmitRowwise.cpp.
Value chunkOffsetOf(Emitter &e, Value segments, Value first, Value s, Value p);
void poolSegment(Emitter &e, Value x, Value pooled, Value a, Value b,
                 Value firstChunk, int64_t p, int64_t d, int64_t vw,
                 bool normalize, Value base);

namespace {

using Pred = arith::CmpIPredicate;


/// Online-softmax state: running max, running sum, accumulator vectors.
struct Attend {
  Emitter &e;
  int64_t d, vw, blockK;
  SmallVector<Value> q; ///< query vectors, pre-scaled

  int64_t numVecs() const { return d / vw; }

  SmallVector<Value> initial() {
    SmallVector<Value> s{e.f32(kNoScore), e.f32(0.0)};
    for (int64_t v = 0; v < numVecs(); ++v)
      s.push_back(e.splat(e.f32(0.0), vw));
    return s;
  }

  /// Where key j's vector starts: (memref, index prefix without the last
  /// dim). The same prefix addresses the value.
  using Locate = std::function<SmallVector<Value>(Value)>;
  /// Whether key j is visible (i1), or nullptr: always.
  using Visible = std::function<Value(Value)>;

  /// One step over `keys` (block of key indices).
  SmallVector<Value> step(ValueRange state, ArrayRef<Value> keys, Value keyMem,
                          const Locate &keyAt, Value valMem,
                          const Locate &valAt, const Visible &visible) {
    SmallVector<Value> scores, vis;
    for (Value j : keys) {
      SmallVector<Value> idx = keyAt(j);
      idx.push_back(Value());
      Value dot = e.splat(e.f32(0.0), vw);
      for (int64_t v = 0; v < numVecs(); ++v) {
        idx.back() = e.index(v * vw);
        dot = e.fma(q[v], e.load(keyMem, idx, vw), dot);
      }
      Value s = e.reduceAdd(dot);
      if (visible) {
        Value ok = visible(j);
        s = e.select(ok, s, e.f32(kNoScore));
        vis.push_back(ok);
      }
      scores.push_back(s);
    }
    Value m = state[0], l = state[1];
    Value mNew = m;
    for (Value s : scores)
      mNew = e.max(mNew, s);
    Value corr = e.exp(e.sub(m, mNew));
    SmallVector<Value> probs;
    Value lNew = e.mul(l, corr);
    for (auto [r, s] : llvm::enumerate(scores)) {
      Value p = e.exp(e.sub(s, mNew));
      if (visible)
        p = e.select(vis[r], p, e.f32(0.0));
      probs.push_back(p);
      lNew = e.add(lNew, p);
    }
    SmallVector<Value> next{mNew, lNew};
    Value corrV = e.splat(corr, vw);
    for (int64_t v = 0; v < numVecs(); ++v) {
      Value acc = e.mul(state[2 + v], corrV);
      for (auto [r, j] : llvm::enumerate(keys)) {
        SmallVector<Value> idx = valAt(j);
        idx.push_back(e.index(v * vw));
        acc = e.fma(e.splat(probs[r], vw), e.load(valMem, idx, vw), acc);
      }
      next.push_back(acc);
    }
    return next;
  }

  /// Attends to keys [lo, hi): blocks of `blockK`, then the remainder.
  SmallVector<Value> range(ValueRange state, Value lo, Value hi, Value keyMem,
                           const Locate &keyAt, Value valMem,
                           const Locate &valAt, const Visible &visible) {
    // An empty range may come with hi < lo (more queries than keys).
    hi = arith::MaxSIOp::create(e.b, e.loc, hi, lo);
    Value n = e.subi(hi, lo);
    Value full = e.addi(lo, e.muli(e.divi(n, e.index(blockK)),
                                   e.index(blockK)));
    SmallVector<Value> s = e.loop(
        lo, full, blockK, state, [&](Value j, ValueRange it) {
          SmallVector<Value> keys;
          for (int64_t r = 0; r < blockK; ++r)
            keys.push_back(e.addi(j, e.index(r)));
          return step(it, keys, keyMem, keyAt, valMem, valAt, visible);
        });
    return e.loop(full, hi, 1, s, [&](Value j, ValueRange it) {
      return step(it, {j}, keyMem, keyAt, valMem, valAt, visible);
    });
  }

  /// acc / l, or 0 where nothing was visible; stored to out[prefix, :].
  void finish(ValueRange state, Value out, SmallVector<Value> prefix) {
    Value l = state[1];
    Value any = e.cmpf(arith::CmpFPredicate::OGT, l, e.f32(0.0));
    Value inv = e.select(any, e.div(e.f32(1.0), l), e.f32(0.0));
    prefix.push_back(Value());
    for (int64_t v = 0; v < numVecs(); ++v) {
      prefix.back() = e.index(v * vw);
      e.store(e.mul(state[2 + v], e.splat(inv, vw)), out, prefix);
    }
  }
};

/// Loads q[prefix, :] as pre-scaled vectors.
SmallVector<Value> loadQuery(Emitter &e, Value mem, SmallVector<Value> prefix,
                             int64_t d, int64_t vw, double scale) {
  SmallVector<Value> q;
  prefix.push_back(Value());
  Value s = e.splat(e.f32(scale), vw);
  for (int64_t v = 0; v < d / vw; ++v) {
    prefix.back() = e.index(v * vw);
    q.push_back(e.mul(e.load(mem, prefix, vw), s));
  }
  return q;
}

LogicalResult emitEncodeDocs(EncodeDocsOp op, const KernelArgs &a, Emitter &e) {
  EncodeDocsArgs args = EncodeDocsArgs::of(op, a.operands, a.results);
  Value q = args.q, k = args.k, v = args.v, seg = args.segments;
  Value router = args.router, out = args.out, rotatedOut = args.rotatedKey;
  Value kbar = args.pooledKey, vbar = args.pooledValue,
        rbar = args.pooledRouter;
  Type storage = elementTypeOf(q);
  int64_t d = staticDim(q, 2), hq = staticDim(q, 1), hk = staticDim(k, 1);
  if (ShapedType::isDynamic(d) || ShapedType::isDynamic(hq) ||
      ShapedType::isDynamic(hk))
    return op.emitOpError() << "needs static heads and head dim for the cpu "
                               "lowering";
  int64_t vw = rowVectorWidth(op, d);
  // RoPE walks each half of the head dim: its vectors must divide d / 2.
  int64_t ropeVw = rowVectorWidth(op, d / 2);
  int64_t blockK = std::max<int64_t>(1, tileOf(op, "block_k", 1));
  double scale = scaleOf(op.getScaleAttr(), d);
  bool rope = static_cast<bool>(op.getRopeThetaAttr());
  Value zero = e.index(0), one = e.index(1);
  Value cosv, sinv;
  if (rope) {
    cosv = e.stackBuffer({d / 2}, e.f32Type());
    sinv = e.stackBuffer({d / 2}, e.f32Type());
  }

  // Tokens outside every segment: the attention output is 0 and a rotated
  // key is the key itself (msa.doc_attention, msa.rope). Outputs are fresh
  // buffers, so these rows are written too.
  Value nSeg = e.subi(e.dim(seg, 0), one);
  auto outside = [&](Value from, Value to) {
    e.loop(from, to, 1, [&](Value t) {
      e.loop(zero, e.index(hq), 1, [&](Value h) {
        e.loop(zero, e.index(d), vw, [&](Value x) {
          e.store(e.splat(e.f32(0.0), vw), out, {t, h, x});
        });
      });
      if (rotatedOut)
        e.loop(zero, e.index(hk), 1, [&](Value g) {
          e.loop(zero, e.index(d), vw, [&](Value x) {
            e.store(e.load(k, {t, g, x}, vw), rotatedOut, {t, g, x});
          });
        });
    });
  };

  // Work items 0..S-1 are the segments; item S (the grid has S + 1 items,
  // so there is one even without segments) writes the tokens outside them.
  auto segment = [&](Value s) {
    Value lo = e.loadIndex(seg, {s}), hi = e.loadIndex(seg, {e.addi(s, one)});
    Value n = e.subi(hi, lo);
    // Keys are read relative to `base`: the rotated-key scratch holds the
    // segment's tokens only.
    Value keyMem = k, base = zero, qMem = q;
    Value scratch;
    if (rope) {
      scratch = e.alloc({ShapedType::kDynamic, hk, d}, {n}, e.f32Type());
      keyMem = scratch;
      base = lo;
      qMem = out; // rotated queries are staged in the output rows
      double theta = op.getRopeThetaAttr().getValueAsDouble();
      e.loop(lo, hi, 1, [&](Value t) {
        Value rel = e.subi(t, lo);
        ropeTables(e, rel, d, theta, storage, cosv, sinv);
        e.loop(zero, e.index(hk), 1, [&](Value g) {
          ropeRotate(e, k, {t, g}, scratch, {rel, g}, d, ropeVw, storage, cosv,
                     sinv);
          if (rotatedOut)
            e.loop(zero, e.index(d), vw, [&](Value i) {
              e.store(e.load(scratch, {rel, g, i}, vw), rotatedOut, {t, g, i});
            });
        });
        e.loop(zero, e.index(hq), 1, [&](Value h) {
          ropeRotate(e, q, {t, h}, out, {t, h}, d, ropeVw, storage, cosv,
                     sinv);
        });
      });
    }

    // Causal attention inside the segment; query head h reads KV head h/G.
    Attend att{e, d, vw, blockK, {}};
    e.loop(zero, e.index(hq), 1, [&](Value h) {
      Value g = e.divi(h, e.index(hq / hk));
      e.loop(lo, hi, 1, [&](Value i) {
        att.q = loadQuery(e, qMem, {i, h}, d, vw, scale);
        // Rotated keys live in the segment's scratch (relative to `base`),
        // values in the operand.
        auto keyAt = [&](Value j) {
          return SmallVector<Value>{e.subi(j, base), g};
        };
        auto valAt = [&](Value j) { return SmallVector<Value>{j, g}; };
        SmallVector<Value> st = att.initial();
        st = att.range(st, lo, e.addi(i, one), keyMem, keyAt, v, valAt,
                       nullptr);
        att.finish(st, out, {i, h});
      });
    });

    if (op.getChunkSizeAttr()) {
      int64_t p = op.getChunkSizeAttr().getInt();
      int64_t firstSeg =
          op.getFirstPooledSegmentAttr() ? op.getFirstPooledSegmentAttr().getInt()
                                         : 0;
      Value first = e.index(firstSeg);
      e.ifThen(e.cmpi(Pred::sge, s, first), [&] {
        Value firstChunk = chunkOffsetOf(e, seg, first, s, e.index(p));
        poolSegment(e, keyMem, kbar, lo, hi, firstChunk, p, d, vw, false, base);
        poolSegment(e, v, vbar, lo, hi, firstChunk, p, d, vw, false, zero);
        if (rbar)
          poolSegment(e, router, rbar, lo, hi, firstChunk, p, d, vw,
                      op.getNormalizeRouter(), zero);
      });
    }
    if (scratch)
      e.dealloc(scratch);
  };
  e.loop(a.begin, a.end, 1, [&](Value s) {
    e.ifThenElse(
        e.cmpi(Pred::ult, s, nSeg), {},
        [&]() -> SmallVector<Value> {
          segment(s);
          return {};
        },
        [&]() -> SmallVector<Value> {
          outside(zero, e.loadIndex(seg, {zero}));
          outside(e.loadIndex(seg, {nSeg}), e.dim(q, 0));
          return {};
        });
  });
  return success();
}

LogicalResult emitMemoryAttention(MemoryAttentionOp op, const KernelArgs &a,
                                  Emitter &e) {
  MemoryAttentionArgs m = MemoryAttentionArgs::of(op, a.operands);
  Value q = m.q, positions = m.positions, out = a.results[0];

  Type storage = elementTypeOf(q);
  int64_t d = staticDim(q, 2), hq = staticDim(q, 1), hk = staticDim(m.localKey, 1);
  if (ShapedType::isDynamic(d) || ShapedType::isDynamic(hq) ||
      ShapedType::isDynamic(hk))
    return op.emitOpError() << "needs static heads and head dim for the cpu "
                               "lowering";
  int64_t vw = rowVectorWidth(op, d);
  // RoPE walks each half of the head dim: its vectors must divide d / 2.
  int64_t ropeVw = rowVectorWidth(op, d / 2);
  int64_t blockK = std::max<int64_t>(1, tileOf(op, "block_k", 1));
  double scale = scaleOf(op.getScaleAttr(), d);
  bool block = op.getCausal() == CausalMode::Block;
  Value hqI = e.index(hq);
  Value tokens = e.dim(q, 0);
  Value rotated, cosv, sinv;
  if (positions) {
    rotated = e.stackBuffer({d}, e.f32Type());
    cosv = e.stackBuffer({d / 2}, e.f32Type());
    sinv = e.stackBuffer({d / 2}, e.f32Type());
  }

  e.loop(a.begin, a.end, 1, [&](Value item) {
    Value t = e.divi(item, hqI), h = e.remi(item, hqI);
    Value g = e.divi(h, e.index(hq / hk));
    Attend att{e, d, vw, blockK, {}};
    if (positions) {
      int64_t base = op.getTemplateLenAttr().getInt() + op.getKCfgAttr().getInt();
      Value pos =
          cast<MemRefType>(positions.getType()).getRank() == 0
              ? e.addi(e.addi(e.index(base), e.loadIndex(positions, {})), t)
              : e.addi(e.index(base), e.loadIndex(positions, {t}));
      ropeTables(e, pos, d, op.getRopeThetaAttr().getValueAsDouble(), storage,
                 cosv, sinv);
      ropeRotate(e, q, {t, h}, rotated, {}, d, ropeVw, storage, cosv, sinv);
      att.q = loadQuery(e, rotated, {}, d, vw, scale);
    } else {
      att.q = loadQuery(e, q, {t, h}, d, vw, scale);
    }

    SmallVector<Value> st = attendMemoryRanges(e, m, block, t, tokens, g, att);
    att.finish(st, out, {t, h});
  });
  return success();
}

} // namespace

LogicalResult emitAttention(Operation *op, const KernelArgs &args, Emitter &e) {
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case<EncodeDocsOp>([&](auto o) { return emitEncodeDocs(o, args, e); })
      .Case<MemoryAttentionOp>(
          [&](auto o) { return emitMemoryAttention(o, args, e); })
      .Default([](Operation *) { return failure(); });
}

} // namespace msa::codegen::cpu
