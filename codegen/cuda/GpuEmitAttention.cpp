//===- GpuEmitAttention.cpp - cuda kernels of the attention ops -----------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// encode_docs: a block per (tile of block_m packed tokens, query head), two
// threads per query row. Prologue: the Q tile rotated (document-wise RoPE)
// into shared memory. Body: key tiles of block_n rows, rotated as they are
// staged, scores S = Q K^T and P = softmax(S) through shared memory with the
// online-softmax rescaling of FlashAttention-2, O += P V in registers.
// Epilogue of the first query head of each KV group: the rotated keys of
// the tile's tokens and the chunk means (K, V, router K) of the chunks that
// start in it. The arithmetic is f32 on CUDA cores; tensor cores replace
// the two products without changing the tiles.
//
// memory_attention: a warp per (token, head), the head dim across its
// lanes, one online-softmax pass over the template, the selected memory
// chunks read in place, the local and the appended keys.
//
//===----------------------------------------------------------------------===//

#include "GpuAttention.h"

#include "common/EncodeDocsArgs.h"
#include "common/MemoryAttention.h"

#include "msa/Codegen/HardwareLimits.h"
#include "msa/Codegen/KernelInterface.h"
#include "msa/Dialect/MsaOps.h"

#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;

namespace msa::codegen::cuda {

namespace {

/// Elements of padding after each shared-memory row: 16 bytes of bf16
/// moves consecutive rows four banks apart.
constexpr int64_t kRowPad = 8;
/// Keys a memory_attention warp loads at once (see WarpAttend::range).
constexpr int64_t kKeysAhead = 4;

/// Online-softmax state of one warp: running max, running sum and the
/// lane's accumulator slots.
struct WarpAttend {
  GpuEmitter &e;
  LaneSplit split;
  SmallVector<Value> q; ///< the lane's query slots, pre-scaled
  /// This warp takes keys lo + part, lo + part + parts, ... of each range
  /// (split-K: `parts` warps share one query's keys), except the selected
  /// documents' chunks (`docKeys`), which attendMemoryRanges splits by
  /// document and each warp walks whole.
  Value part;
  int64_t parts = 1;
  Value docKeys;

  SmallVector<Value> initial() {
    SmallVector<Value> s{e.f32(kNoScore), e.f32(0.0)};
    for (int64_t k = 0; k < split.slots; ++k)
      s.push_back(e.splat(e.f32(0.0), split.width));
    return s;
  }

  /// Memref and index prefix (all but the last dim) of key j's vector.
  using Locate = std::function<SmallVector<Value>(Value)>;
  using Visible = std::function<Value(Value)>;

  SmallVector<Value> loadSlots(Value mem, SmallVector<Value> prefix) {
    return split.load(e, mem, std::move(prefix));
  }

  /// One key (its K and V slots loaded) folded into the state where `ok`.
  SmallVector<Value> step(ValueRange st, ArrayRef<Value> k, ArrayRef<Value> v,
                          Value ok) {
    Value partial = e.f32(0.0);
    for (int64_t s = 0; s < split.slots; ++s)
      partial = e.add(partial, e.reduceAdd(e.mul(q[s], k[s])));
    Value score = e.select(ok, e.warpSum(partial), e.f32(kNoScore));
    Value mNew = e.max(st[0], score);
    Value corr = e.exp(e.sub(st[0], mNew));
    Value p = e.select(ok, e.exp(e.sub(score, mNew)), e.f32(0.0));
    SmallVector<Value> next{mNew, e.add(e.mul(st[1], corr), p)};
    for (int64_t s = 0; s < split.slots; ++s)
      next.push_back(e.fma(e.splat(p, split.width), v[s],
                           e.mul(st[2 + s], e.splat(corr, split.width))));
    return next;
  }

  SmallVector<Value> range(ValueRange st, Value lo, Value hi, Value keyMem,
                           const Locate &keyAt, Value valMem,
                           const Locate &valAt, const Visible &visible) {
    hi = e.maxi(hi, lo);
    int64_t stride = 1;
    if (part && keyMem != docKeys) {
      lo = e.addi(lo, part);
      stride = parts;
    }
    // kKeysAhead keys a round, their K and V loads issued together: one
    // key at a time a warp waits out a global load's latency per key.
    Value first = lo;
    return e.loop(lo, hi, stride * kKeysAhead, st, [&](Value j, ValueRange it) {
      SmallVector<Value> js, in;
      SmallVector<SmallVector<Value>> ks, vs;
      for (int64_t u = 0; u < kKeysAhead; ++u) {
        Value ju = e.addi(j, e.index(u * stride));
        Value inside = e.cmpi(Pred::slt, ju, hi);
        js.push_back(e.select(inside, ju, first));
        in.push_back(inside);
        ks.push_back(loadSlots(keyMem, keyAt(js.back())));
        vs.push_back(loadSlots(valMem, valAt(js.back())));
      }
      SmallVector<Value> cur(it.begin(), it.end());
      for (int64_t u = 0; u < kKeysAhead; ++u) {
        Value ok = in[u];
        if (visible)
          ok = e.andI(ok, visible(js[u]));
        cur = step(cur, ks[u], vs[u], ok);
      }
      return cur;
    });
  }

  /// acc / l, or 0 where nothing was visible, to out[prefix, :].
  void finish(ValueRange st, Value out, SmallVector<Value> prefix) {
    Value any = e.cmpf(FPred::OGT, st[1], e.f32(0.0));
    Value inv = e.select(any, e.div(e.f32(1.0), st[1]), e.f32(0.0));
    SmallVector<Value> o;
    for (int64_t s = 0; s < split.slots; ++s)
      o.push_back(e.mul(st[2 + s], e.splat(inv, split.width)));
    split.store(e, o, out, std::move(prefix));
  }
};

LogicalResult emitMemoryAttention(MemoryAttentionOp op, const GpuKernelArgs &a,
                                  GpuEmitter &e, Launch &launch) {
  MemoryAttentionArgs m = MemoryAttentionArgs::of(op, a.operands);
  Value q = m.q, positions = m.positions, out = a.results[0];
  Type storage = elementTypeOf(q);
  int64_t d = staticDim(q, 2), hq = staticDim(q, 1),
          hk = staticDim(m.localKey, 1);
  if (ShapedType::isDynamic(d) || ShapedType::isDynamic(hq) ||
      ShapedType::isDynamic(hk))
    return op.emitOpError()
           << "needs static heads and head dim for the cuda lowering";
  FailureOr<LaneSplit> split = LaneSplit::of(op, d);
  if (failed(split))
    return failure();
  int64_t rowsPerBlock = tileOf(op, "rows_per_block", 4);
  int64_t parts = tileOf(op, "key_splits", 1);
  if (parts < 1 || e.threads() != kWarpSize * rowsPerBlock * parts)
    return op.emitOpError()
           << "memory_attention tiles need threads = " << kWarpSize
           << " x rows_per_block x key_splits; got threads " << e.threads()
           << ", rows_per_block " << rowsPerBlock << ", key_splits " << parts;
  double scale = scaleOf(op.getScaleAttr(), d);
  bool block = op.getCausal() == CausalMode::Block;
  Value zero = e.index(0);
  Value tokens = e.dim(q, 0);

  // A (token, query head) per `parts` warps; with more than one, each
  // leaves its partial softmax state in shared memory and the first
  // combines them.
  Value w = e.warpId();
  Value slot = e.divi(w, e.index(parts)), part = e.remi(w, e.index(parts));
  Value item = e.addi(e.muli(e.blockIdx(), e.index(rowsPerBlock)), slot);
  Value valid = e.cmpi(Pred::ult, item, e.muli(tokens, e.index(hq)));
  Value t = e.divi(item, e.index(hq)), h = e.remi(item, e.index(hq));
  Type f32 = e.f32Type();
  Value stats = parts > 1 ? e.shared({rowsPerBlock, parts, 2}, f32) : Value();
  Value accs = parts > 1 ? e.shared({rowsPerBlock, parts, d}, f32) : Value();
  WarpAttend att{e, *split, {}, parts > 1 ? part : Value(), parts,
                 m.indices ? m.memoryKey : Value()};
  e.ifThen(valid, [&] {
    Value g = e.divi(h, e.index(hq / hk));
    Value scaleV = e.splat(e.f32(scale), split->width);
    if (positions) {
      int64_t base =
          op.getTemplateLenAttr().getInt() + op.getKCfgAttr().getInt();
      Value pos =
          cast<MemRefType>(positions.getType()).getRank() == 0
              ? e.addi(e.addi(e.index(base), e.loadIndex(positions, {})), t)
              : e.addi(e.index(base), e.loadIndex(positions, {t}));
      double theta = op.getRopeThetaAttr().getValueAsDouble();
      for (int64_t s = 0; s < split->slots; ++s) {
        // Each element of the lane's slot, rotated on its own.
        Value v = e.splat(e.f32(0.0), split->width);
        Value base0 = split->offset(e, s);
        Value holds = split->holds(e);
        for (int64_t k = 0; k < split->width; ++k) {
          Value el = e.select(holds, e.addi(base0, e.index(k)), zero);
          Value r = rotatedElement(e, q, t, h, el, pos, d, theta, storage);
          v = split->width == 1
                  ? r
                  : vector::InsertOp::create(e.b, e.loc, r, v, k).getResult();
        }
        att.q.push_back(e.mul(v, scaleV));
      }
    } else {
      for (Value v : att.loadSlots(q, {t, h}))
        att.q.push_back(e.mul(v, scaleV));
    }
    SmallVector<Value> st = attendMemoryRanges(
        e, m, block, t, tokens, g, att,
        DocumentSplit{parts > 1 ? part : Value(), parts});
    if (parts == 1) {
      att.finish(st, out, {t, h});
      return;
    }
    e.ifThen(e.cmpi(Pred::eq, e.laneId(), zero), [&] {
      e.store(st[0], stats, {slot, part, zero});
      e.store(st[1], stats, {slot, part, e.index(1)});
    });
    split->store(e, SmallVector<Value>(st.begin() + 2, st.end()), accs,
                 {slot, part});
  });
  if (parts > 1) {
    e.barrier();
    e.ifThen(e.andI(valid, e.cmpi(Pred::eq, part, zero)), [&] {
      // The parts' states rescaled to the largest max and summed.
      SmallVector<Value> mx(parts);
      Value top = e.f32(kNoScore);
      for (int64_t p = 0; p < parts; ++p) {
        mx[p] = e.load(stats, {slot, e.index(p), zero});
        top = e.max(top, mx[p]);
      }
      SmallVector<Value> st{top, e.f32(0.0)};
      for (int64_t k = 0; k < split->slots; ++k)
        st.push_back(e.splat(e.f32(0.0), split->width));
      for (int64_t p = 0; p < parts; ++p) {
        Value c = e.exp(e.sub(mx[p], top));
        st[1] = e.fma(e.load(stats, {slot, e.index(p), e.index(1)}), c, st[1]);
        SmallVector<Value> acc = split->load(e, accs, {slot, e.index(p)});
        for (int64_t k = 0; k < split->slots; ++k)
          st[2 + k] = e.fma(acc[k], e.splat(c, split->width), st[2 + k]);
      }
      att.finish(st, out, {t, h});
    });
  }
  launch.threads = e.threads();
  launch.itemsPerBlock = rowsPerBlock;
  launch.grid = {{0, 0, 0, 1}, {0, 1, 0, 1}};
  return success();
}

} // namespace

Value rotatedElement(GpuEmitter &e, Value src, Value t, Value head, Value el,
                     Value pos, int64_t d, double theta, Type storage) {
  Value half = e.index(d / 2);
  Value low = e.cmpi(Pred::ult, el, half);
  Value freq = e.select(low, el, e.subi(el, half));
  Value partner = e.select(low, e.addi(el, half), e.subi(el, half));
  auto [c, s] = e.ropeCosSin(pos, d, theta, freq, storage);
  Value x = e.load(src, {t, head, el});
  Value p = e.load(src, {t, head, partner});
  Value signedP = e.select(low, arith::NegFOp::create(e.b, e.loc, p), p);
  return e.round(e.add(e.round(e.mul(x, c), storage),
                       e.round(e.mul(signedP, s), storage)),
                 storage);
}

SegmentOf segmentOf(GpuEmitter &e, Value seg, Value nSeg, Value t) {
  Value zero = e.index(0), one = e.index(1);
  Value s = e.upperSegment(seg, nSeg, t);
  Value safe = e.maxi(s, zero);
  Value start = e.loadIndex(seg, {safe});
  // Without segments (nSeg = 0) there is no end to read.
  Value end = e.loadIndex(seg, {e.mini(e.addi(safe, one), nSeg)});
  Value inside = e.andI(e.cmpi(Pred::sge, s, zero), e.cmpi(Pred::slt, t, end));
  return {s, start, end, inside};
}

std::pair<Value, Value> tileKeyRange(GpuEmitter &e, Value seg, Value nSeg,
                                     Value tokens, Value t0, int64_t bm) {
  // Rows [t0, t0 + bm) inside segments are [max(t0, seg0), min(.., segS));
  // their keys start where the first one's segment does.
  Value seg0 = e.loadIndex(seg, {e.index(0)});
  Value segS = e.loadIndex(seg, {nSeg});
  Value firstIn = e.maxi(t0, seg0);
  Value kHi = e.mini(e.mini(e.addi(t0, e.index(bm)), tokens), segS);
  Value anyInside = e.cmpi(Pred::slt, firstIn, kHi);
  Value kLo = e.ifThenElse(
      anyInside, {e.b.getIndexType()},
      [&]() -> SmallVector<Value> {
        return {segmentOf(e, seg, nSeg, firstIn).start};
      },
      [&]() -> SmallVector<Value> { return {kHi}; })[0];
  return {kLo, kHi};
}

void emitEncodePooling(EncodeDocsOp op, const EncodeDocsArgs &args,
                       GpuEmitter &e, Value g, Value t0, int64_t bm,
                       const RotatedKeyLoad &rotated) {
  if (!op.getChunkSizeAttr())
    return;
  Value k = args.k, v = args.v, seg = args.segments, router = args.router;
  Value kbar = args.pooledKey, vbar = args.pooledValue,
        rbar = args.pooledRouter;
  Type storage = elementTypeOf(args.q);
  int64_t d = staticDim(args.q, 2);
  bool rope = static_cast<bool>(op.getRopeThetaAttr());
  double theta = rope ? op.getRopeThetaAttr().getValueAsDouble() : 0.0;
  Value zero = e.index(0), one = e.index(1);
  Value zeroF = e.f32(0.0);
  Value tokens = e.dim(args.q, 0);
  Value nSeg = e.subi(e.dim(seg, 0), one);
  LaneSplit poolSplit = *LaneSplit::of(op, d);
  int64_t p = op.getChunkSizeAttr().getInt();
  int64_t firstSeg = op.getFirstPooledSegmentAttr()
                         ? op.getFirstPooledSegmentAttr().getInt()
                         : 0;
  e.loop(e.warpId(), e.index(bm), e.warps(), [&](Value rr) {
    Value t = e.addi(t0, rr);
    e.ifThen(e.cmpi(Pred::ult, t, tokens), [&] {
      SegmentOf sg = segmentOf(e, seg, nSeg, t);
      Value rel = e.subi(t, sg.start);
      Value starts = e.andI(
          sg.inside, e.andI(e.cmpi(Pred::sge, sg.index, e.index(firstSeg)),
                            e.cmpi(Pred::eq, e.remi(rel, e.index(p)), zero)));
      e.ifThen(starts, [&] {
        Value chunk =
            e.addi(gpuChunkOffsetOf(e, seg, e.index(firstSeg), sg.index, p),
                   e.divi(rel, e.index(p)));
        Value count = e.mini(e.index(p), e.subi(sg.end, t));
        int64_t pw = poolSplit.width;
        auto rotatedK = [&](Value tok, Value e0, int64_t w) -> Value {
          Value pos = e.subi(tok, sg.start);
          if (rope && rotated)
            return rotated(tok, pos, e0, w);
          Value vec = e.splat(zeroF, w);
          for (int64_t l = 0; l < w; ++l) {
            Value el = e.addi(e0, e.index(l));
            Value x =
                rope ? rotatedElement(e, k, tok, g, el, pos, d, theta, storage)
                     : e.load(k, {tok, g, el});
            vec = w == 1 ? x
                         : vector::InsertOp::create(e.b, e.loc, x, vec, l)
                               .getResult();
          }
          return vec;
        };
        warpPoolChunk(e, rotatedK, kbar, g, chunk, t, count, d, pw, false);
        warpPoolChunk(
            e,
            [&](Value tok, Value e0, int64_t w) {
              return e.loadAligned(v, {tok, g, e0}, w);
            },
            vbar, g, chunk, t, count, d, pw, false);
        if (rbar)
          warpPoolChunk(
              e,
              [&](Value tok, Value e0, int64_t w) {
                return e.loadAligned(router, {tok, g, e0}, w);
              },
              rbar, g, chunk, t, count, d, pw, op.getNormalizeRouter());
      });
    });
  });
}

namespace {

LogicalResult emitEncodeDocs(EncodeDocsOp op, const GpuKernelArgs &a,
                             GpuEmitter &e, Launch &launch) {
  if (tileOf(op, "tensor_cores", 0) == 1)
    return emitEncodeDocsTensorCore(op, a, e, launch);
  EncodeDocsArgs args = EncodeDocsArgs::of(op, a.operands, a.results);
  Value q = args.q, k = args.k, v = args.v, seg = args.segments;
  Value out = args.out, rotatedOut = args.rotatedKey;
  Type storage = elementTypeOf(q);
  int64_t d = staticDim(q, 2), hq = staticDim(q, 1), hk = staticDim(k, 1);
  if (ShapedType::isDynamic(d) || ShapedType::isDynamic(hq) ||
      ShapedType::isDynamic(hk))
    return op.emitOpError()
           << "needs static heads and head dim for the cuda lowering";
  int64_t bm = tileOf(op, "block_m", 64), bn = tileOf(op, "block_n", 64);
  if (e.threads() != 2 * bm || bn % 2 != 0 || d % 4 != 0)
    return op.emitOpError()
           << "cuda tiles need threads = 2 block_m, an even block_n and a "
              "head dim divisible by 4; got threads "
           << e.threads() << ", block_m " << bm << ", block_n " << bn
           << ", head dim " << d;
  int64_t vw = gpuVectorWidth(op, d / 2);
  // The pooling epilogue spreads the head dim over a warp's lanes.
  if (failed(LaneSplit::of(op, d)))
    return failure();
  int64_t group = hq / hk, half = d / 2, quarter = d / 4;
  double scale = scaleOf(op.getScaleAttr(), d);
  bool rope = static_cast<bool>(op.getRopeThetaAttr());
  double theta = rope ? op.getRopeThetaAttr().getValueAsDouble() : 0.0;
  Value zero = e.index(0), one = e.index(1);
  Value zeroF = e.f32(0.0);

  int64_t row = d + kRowPad;
  Value qs = e.shared({bm, row}, storage);
  Value ks = e.shared({bn, row}, storage);
  Value vs = e.shared({bn, row}, storage);
  Value ps = e.shared({bm, bn + 1}, e.f32Type());

  Value tokens = e.dim(q, 0);
  Value nSeg = e.subi(e.dim(seg, 0), one);
  Value tiles = e.ceilDiv(tokens, e.index(bm));
  Value h = e.divi(e.blockIdx(), tiles);
  Value t0 = e.muli(e.remi(e.blockIdx(), tiles), e.index(bm));
  Value g = e.divi(h, e.index(group));
  Value firstOfGroup = e.cmpi(Pred::eq, e.remi(h, e.index(group)), zero);
  Value tid = e.threadIdx();
  Value myRow = e.divi(tid, e.index(2)), hf = e.remi(tid, e.index(2));
  Value i = e.addi(t0, myRow);
  Value inTokens = e.cmpi(Pred::ult, i, tokens);
  SegmentOf mine = segmentOf(e, seg, nSeg, e.mini(i, e.subi(tokens, one)));
  Value rowInside = e.andI(inTokens, mine.inside);
  Value myPos = e.subi(i, mine.start);

  auto [kLo, kHi] = tileKeyRange(e, seg, nSeg, tokens, t0, bm);

  // The element pairs (p, p + d/2) a thread of a row pair rotates.
  Value pairLo = e.muli(hf, e.index(quarter));
  auto rotateRowInto = [&](Value src, Value t, Value head, Value pos,
                           Value valid, Value dst, ValueRange dstPrefix) {
    e.loop(pairLo, e.addi(pairLo, e.index(quarter)), 1, [&](Value p) {
      Value hiEl = e.addi(p, e.index(half));
      SmallVector<Value> lo(dstPrefix), up(dstPrefix);
      lo.push_back(p);
      up.push_back(hiEl);
      e.ifThenElse(
          valid, {},
          [&]() -> SmallVector<Value> {
            Value x0 = e.load(src, {t, head, p});
            Value x1 = e.load(src, {t, head, hiEl});
            if (!rope) {
              e.store(x0, dst, lo);
              e.store(x1, dst, up);
              return {};
            }
            auto [c, s] = e.ropeCosSin(pos, d, theta, p, storage);
            Value neg1 = arith::NegFOp::create(e.b, e.loc, x1);
            e.store(e.round(e.add(e.round(e.mul(x0, c), storage),
                                  e.round(e.mul(neg1, s), storage)),
                            storage),
                    dst, lo);
            e.store(e.round(e.add(e.round(e.mul(x1, c), storage),
                                  e.round(e.mul(x0, s), storage)),
                            storage),
                    dst, up);
            return {};
          },
          [&]() -> SmallVector<Value> {
            e.store(zeroF, dst, lo);
            e.store(zeroF, dst, up);
            return {};
          });
    });
  };

  // Prologue: the rotated Q tile; rows outside segments are zeros.
  rotateRowInto(q, e.mini(i, e.subi(tokens, one)), h, myPos, rowInside, qs,
                {myRow});
  // The first query head of a group writes its KV head's rotated keys:
  // rows outside segments keep the key as it is.
  if (rotatedOut)
    e.ifThen(e.andI(firstOfGroup, inTokens), [&] {
      e.ifThenElse(
          rowInside, {},
          [&]() -> SmallVector<Value> {
            rotateRowInto(k, i, g, myPos, e.i1(true), rotatedOut, {i, g});
            return {};
          },
          [&]() -> SmallVector<Value> {
            e.loop(pairLo, e.addi(pairLo, e.index(quarter)), 1, [&](Value p) {
              Value hiEl = e.addi(p, e.index(half));
              e.store(e.load(k, {i, g, p}), rotatedOut, {i, g, p});
              e.store(e.load(k, {i, g, hiEl}), rotatedOut, {i, g, hiEl});
            });
            return {};
          });
    });

  // Body: key tiles [kt, kt + bn) of [kLo, kHi).
  int64_t nAcc = half / vw;
  SmallVector<Value> init{e.f32(kNoScore), zeroF};
  for (int64_t x = 0; x < nAcc; ++x)
    init.push_back(e.splat(zeroF, vw));
  Value colLo = e.muli(hf, e.index(bn / 2));
  Value dimLo = e.muli(hf, e.index(half));
  SmallVector<Value> st = e.loop(
      kLo, kHi, bn, init, [&](Value kt, ValueRange it) -> SmallVector<Value> {
        e.barrier();
        // Stage the tile: a row pair per key row, rotated K and plain V.
        e.loop(myRow, e.index(bn), e.threads() / 2, [&](Value c) {
          Value j = e.addi(kt, c);
          Value inKeys = e.cmpi(Pred::slt, j, kHi);
          Value jSafe = e.select(inKeys, j, kLo);
          Value kpos = e.subi(j, segmentOf(e, seg, nSeg, jSafe).start);
          rotateRowInto(k, jSafe, g, kpos, inKeys, ks, {c});
          e.loop(dimLo, e.addi(dimLo, e.index(half)), vw, [&](Value x) {
            Type valType = vw == 1 ? e.f32Type()
                                   : Type(VectorType::get({vw}, e.f32Type()));
            Value val = e.ifThenElse(
                inKeys, {valType},
                [&]() -> SmallVector<Value> {
                  return {vw == 1 ? e.load(v, {jSafe, g, x})
                                  : e.loadAligned(v, {jSafe, g, x}, vw)};
                },
                [&]() -> SmallVector<Value> {
                  return {e.splat(zeroF, vw)};
                })[0];
            if (vw == 1)
              e.store(val, vs, {c, x});
            else
              e.storeAligned(val, vs, {c, x});
          });
        });
        e.barrier();
        // Scores of this thread's half of the row's columns.
        Value scaleF = e.f32(scale);
        SmallVector<Value> rowMax = e.loop(
            zero, e.index(bn / 2), 1, {e.f32(kNoScore)},
            [&](Value cc, ValueRange mx) -> SmallVector<Value> {
              Value c = e.addi(colLo, cc);
              Value j = e.addi(kt, c);
              SmallVector<Value> dot = e.loop(
                  zero, e.index(d), vw, {zeroF},
                  [&](Value x, ValueRange acc) -> SmallVector<Value> {
                    Value qv = vw == 1 ? e.load(qs, {myRow, x})
                                       : e.loadAligned(qs, {myRow, x}, vw);
                    Value kv = vw == 1 ? e.load(ks, {c, x})
                                       : e.loadAligned(ks, {c, x}, vw);
                    Value sum = acc[0];
                    for (int64_t l = 0; l < vw; ++l) {
                      Value ql = vw == 1 ? qv
                                         : vector::ExtractOp::create(
                                               e.b, e.loc, qv, l)
                                               .getResult();
                      Value kl = vw == 1 ? kv
                                         : vector::ExtractOp::create(
                                               e.b, e.loc, kv, l)
                                               .getResult();
                      sum = e.fma(ql, kl, sum);
                    }
                    return {sum};
                  });
              Value visible = e.andI(
                  rowInside,
                  e.andI(e.cmpi(Pred::slt, j, kHi),
                         e.andI(e.cmpi(Pred::sge, j, mine.start),
                                e.cmpi(Pred::sle, j, i))));
              Value s = e.select(visible, e.mul(dot[0], scaleF),
                                 e.f32(kNoScore));
              memref::StoreOp::create(e.b, e.loc, s, ps, ValueRange{myRow, c});
              return {e.max(mx[0], s)};
            });
        Value m = e.max(rowMax[0], e.shuffleXor(rowMax[0], 1));
        Value mNew = e.max(it[0], m);
        Value corr = e.exp(e.sub(it[0], mNew));
        SmallVector<Value> rowSum = e.loop(
            zero, e.index(bn / 2), 1, {zeroF},
            [&](Value cc, ValueRange sum) -> SmallVector<Value> {
              Value c = e.addi(colLo, cc);
              Value s = memref::LoadOp::create(e.b, e.loc, ps,
                                               ValueRange{myRow, c});
              Value p = e.select(e.cmpf(FPred::OGT, s, e.f32(kNoScore / 2)),
                                 e.exp(e.sub(s, mNew)), zeroF);
              memref::StoreOp::create(e.b, e.loc, p, ps, ValueRange{myRow, c});
              return {e.add(sum[0], p)};
            });
        Value l = e.add(e.mul(it[1], corr),
                        e.add(rowSum[0], e.shuffleXor(rowSum[0], 1)));
        // The partner's probabilities are in shared memory too.
        e.barrier();
        SmallVector<Value> acc;
        Value corrV = e.splat(corr, vw);
        for (int64_t x = 0; x < nAcc; ++x)
          acc.push_back(e.mul(it[2 + x], corrV));
        acc = e.loop(zero, e.index(bn), 1, acc,
                     [&](Value c, ValueRange a2) -> SmallVector<Value> {
                       Value p = memref::LoadOp::create(e.b, e.loc, ps,
                                                        ValueRange{myRow, c});
                       Value pV = e.splat(p, vw);
                       SmallVector<Value> next;
                       for (int64_t x = 0; x < nAcc; ++x) {
                         Value col = e.addi(dimLo, e.index(x * vw));
                         Value vv = vw == 1 ? e.load(vs, {c, col})
                                            : e.loadAligned(vs, {c, col}, vw);
                         next.push_back(e.fma(pV, vv, a2[x]));
                       }
                       return next;
                     });
        SmallVector<Value> next{mNew, l};
        next.append(acc.begin(), acc.end());
        return next;
      });

  // acc / l for rows inside segments, 0 for the others.
  e.ifThen(inTokens, [&] {
    Value any = e.andI(rowInside, e.cmpf(FPred::OGT, st[1], zeroF));
    Value inv = e.select(any, e.div(e.f32(1.0), st[1]), zeroF);
    for (int64_t x = 0; x < nAcc; ++x) {
      Value col = e.addi(dimLo, e.index(x * vw));
      Value o = e.mul(st[2 + x], e.splat(inv, vw));
      if (vw == 1)
        e.store(o, out, {i, h, col});
      else
        e.storeAligned(o, out, {i, h, col});
    }
  });

  // Epilogue: chunk means of the chunks that start in this tile, by the
  // first query head of each group.
  e.ifThen(firstOfGroup, [&] { emitEncodePooling(op, args, e, g, t0, bm); });

  launch.threads = e.threads();
  launch.itemsPerBlock = 1;
  launch.grid = {{0, 0, 0, bm}, {0, 1, 0, 1}};
  return success();
}

} // namespace

LogicalResult emitGpuAttention(Operation *op, const GpuKernelArgs &args,
                               GpuEmitter &e, Launch &launch) {
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case<EncodeDocsOp>(
          [&](auto o) { return emitEncodeDocs(o, args, e, launch); })
      .Case<MemoryAttentionOp>(
          [&](auto o) { return emitMemoryAttention(o, args, e, launch); })
      .Default([](Operation *) { return failure(); });
}

} // namespace msa::codegen::cuda
