//===- GpuEncodeTensorCore.cpp - encode_docs on the tensor cores ----------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// FlashAttention for document-wise causal attention over packed documents,
// on Hopper's wgmma (tiles with wgmma = 1, head dims of whole 64-element
// panels) or on mma.sync m16n8k16 (bf16 in, f32 accumulate).
//
// A block per (64 packed tokens, KV head g); per query head of g's group a
// warpgroup (wgmma: the 64 rows are its m64) or four warps of 16 rows
// (mma.sync): every query head of the group shares the K and V tiles, so
// each key tile is loaded and RoPE-rotated once per group instead of once
// per head.
//
// Prologue: a table of the 64 rows' document starts (one search per row;
// nothing in the key loop searches), the first key tile's copies issued,
// the group's Q tile rotated into shared memory, the tile's rotated keys to
// the key output.
//
// Key loop, per 64-key tile of [first key of the first row's document, end
// of the tile), double-buffered with one barrier a tile: the tile's copies
// are waited for and the thread that copied a K pair rotates it into this
// buffer's K tile; past the barrier cp.async brings the next tile's K, V
// and the RoPE table rows of its keys' positions into the other buffers
// while the warps compute on this one. Each warp(group) takes the tile
// `sub_keys` keys at a time:
//   S = Q K^T (wgmma from swizzled shared tiles; or ldmatrix fragments);
//   the document mask on the accumulators (i32 bounds per row), skipped
//     when the warp sees the whole sub-tile, and sub-tiles no row of the
//     warp (wgmma: warpgroup) sees skipped;
//   online softmax in the log2 domain with FlashAttention-4's lazy
//     rescale (the running max moves only when a row's grows past 2^8);
//   O += P V with P from the accumulators (wgmma: V read MN-major from
//     shared memory; mma.sync: V's B fragments by ldmatrix.trans).
// Then O / l, and the chunk-pooling epilogue shared with the CUDA-core
// kernel. The rotation is the reference's (cos and sin rounded to bf16,
// each product rounded), so keys match the CUDA-core kernel bit for bit;
// P is rounded to bf16 for the tensor cores as FlashAttention rounds it.
//
//===----------------------------------------------------------------------===//

#include "GpuAttention.h"

#include "msa/Codegen/HardwareLimits.h"
#include "msa/Codegen/KernelInterface.h"

#include <cmath>
#include <tuple>

using namespace mlir;

namespace msa::codegen::cuda {

namespace {

/// mma.sync m16n8k16: query rows per warp, key or head-dim columns per
/// accumulator tile, keys per P V step.
constexpr int64_t kWarpRows = 16, kTileCols = 8, kStepK = 16;
/// Lanes sharing a fragment row, and elements a lane reads at once (16
/// bytes of bf16).
constexpr int64_t kQuad = 4, kLoadElems = 8;
/// Keys a warp scores and folds into its softmax at once: 32 keep S at 16
/// registers, so S, O (64 at head dim 128) and the fragments fit the 128
/// registers a thread has at 512 threads a block without spilling.
constexpr int64_t kSubKeys = 32;
/// wgmma keeps no fragments in registers: S of a whole 64-key tile fits.
constexpr int64_t kWgmmaSubKeys = 64;
/// How far (log2) a row's max may grow before the running max and O are
/// rescaled: P below 2^8 loses nothing in f32 sums or bf16 P V operands.
constexpr double kLazyRescaleLog2 = 8.0;
/// Elements of padding per shared row: 16 bytes put the 8 rows of one
/// fragment load (and of one ldmatrix) on distinct bank quarters.
constexpr int64_t kRowPad = 8;

struct EncodeTensorCore {
  EncodeDocsOp op;
  GpuEmitter &e;
  EncodeDocsArgs args;
  int64_t d, half, group, bm, bn;
  /// wgmma (a warpgroup per group head) instead of mma.sync.
  bool wg;
  /// Keys scored and folded into the softmax at once.
  int64_t sub;
  /// The key loop's copies and rotations as straight-line code (LLVM then
  /// hoists their addresses, at the cost of registers).
  bool unrolledStaging;
  bool rope;
  double theta, scale;
  Type storage;
  Value seg, nSeg, tokens;

  VectorType vec8() { return VectorType::get({kLoadElems}, storage); }

  /// Accumulators as the thread holds them, one group of 4 (c0-c3 of an
  /// m16n8 tile) per 8 columns.
  static SmallVector<SmallVector<Value>> quads(ArrayRef<Value> flat) {
    SmallVector<SmallVector<Value>> out;
    for (size_t i = 0; i < flat.size(); i += 4)
      out.emplace_back(flat.begin() + i, flat.begin() + i + 4);
    return out;
  }
  /// P's A fragment of 16-key step kk (keys 16 kk .. 16 kk + 15), made
  /// from the score accumulators: mma.sync's and wgmma's register layout.
  SmallVector<Value> pFragment(const SmallVector<SmallVector<Value>> &p,
                               int64_t kk) {
    return {e.packBf16(p[2 * kk][0], p[2 * kk][1]),
            e.packBf16(p[2 * kk][2], p[2 * kk][3]),
            e.packBf16(p[2 * kk + 1][0], p[2 * kk + 1][1]),
            e.packBf16(p[2 * kk + 1][2], p[2 * kk + 1][3])};
  }

  /// The shape of a tile of `rows` head vectors under `prefix` dims: rows
  /// padded for ldmatrix, or wgmma's 128-byte swizzled panels.
  SmallVector<int64_t> tileShape(SmallVector<int64_t> prefix, int64_t rows) {
    if (wg)
      return GpuEmitter::swizzledShape(std::move(prefix), rows, d);
    prefix.append({rows, d + kRowPad});
    return prefix;
  }
  /// Where element `col` (a multiple of 8) of row `r` of such a tile is.
  SmallVector<Value> at(SmallVector<Value> prefix, Value r, Value col) {
    if (wg)
      return e.swizzledIndex(std::move(prefix), r, col);
    prefix.append({r, col});
    return prefix;
  }

  /// cos and sin (bf16) of position `pos` and frequencies [i0, i0 + w):
  /// the module's tables below kRopeTablePositions (or `staged`, those
  /// table rows already copied to shared memory), computed beyond.
  std::pair<Value, Value>
  cosSin(Value pos, Value i0, int64_t w,
         const std::function<std::pair<Value, Value>()> &staged = {}) {
    auto [cosT, sinT] = e.ropeTables(d, theta);
    VectorType vt = VectorType::get({w}, storage);
    SmallVector<Value> cs = e.ifThenElse(
        e.cmpi(Pred::slt, pos, e.index(kRopeTablePositions)), {vt, vt},
        [&]() -> SmallVector<Value> {
          if (staged) {
            auto [c, s] = staged();
            return {c, s};
          }
          return {e.loadRaw(cosT, {pos, i0}, w), e.loadRaw(sinT, {pos, i0}, w)};
        },
        [&]() -> SmallVector<Value> {
          // A vector even for w = 1 (splat would give a scalar).
          Value c = vector::BroadcastOp::create(
              e.b, e.loc, VectorType::get({w}, e.f32Type()), e.f32(0.0));
          Value s = c;
          for (int64_t l = 0; l < w; ++l) {
            auto [cl, sl] =
                e.ropeCosSin(pos, d, theta, e.addi(i0, e.index(l)), storage);
            c = vector::InsertOp::create(e.b, e.loc, cl, c, l);
            s = vector::InsertOp::create(e.b, e.loc, sl, s, l);
          }
          return {arith::TruncFOp::create(e.b, e.loc, vt, c),
                  arith::TruncFOp::create(e.b, e.loc, vt, s)};
        });
    return {cs[0], cs[1]};
  }


  /// Elements [p0, p0 + 8) (`lo`) and [p0 + d/2, p0 + d/2 + 8) (`hi`) of a
  /// head vector rotated to position `pos`, in bf16.
  std::pair<Value, Value>
  rotatePair(Value lo, Value hi, Value p0, Value pos,
             const std::function<std::pair<Value, Value>()> &staged = {}) {
    auto [c, s] = cosSin(pos, p0, kLoadElems, staged);
    // bf16 vector arithmetic, each operation rounded once as the reference
    // rounds its f32 results: a product of two bf16 is exact in f32, and so
    // is the rounding of a sum the reference rounds twice.
    return {e.sub(e.mul(lo, c), e.mul(hi, s)), e.add(e.mul(hi, c), e.mul(lo, s))};
  }

  /// rotatePair of src[t, head, :] (or its elements as they are).
  std::pair<Value, Value> rotate8(Value src, Value t, Value head, Value p0,
                                  Value pos, bool rotate) {
    Value lo = e.loadRaw(src, {t, head, p0}, kLoadElems);
    Value hi = e.loadRaw(src, {t, head, e.addi(p0, e.index(half))}, kLoadElems);
    if (!rotate)
      return {lo, hi};
    return rotatePair(lo, hi, p0, pos);
  }

  /// Elements [e0, e0 + w) of k[tok, g, :] rotated to `pos`, as f32: the
  /// pooling epilogue's key loads.
  Value rotatedKey(Value tok, Value g, Value pos, Value e0, int64_t w) {
    Value low = e.cmpi(Pred::ult, e0, e.index(half));
    Value i0 = e.select(low, e0, e.subi(e0, e.index(half)));
    Value partner = e.select(low, e.addi(e0, e.index(half)), i0);
    Value x = e.loadRaw(args.k, {tok, g, e0}, w);
    Value p = e.loadRaw(args.k, {tok, g, partner}, w);
    auto [c, s] = cosSin(pos, i0, w);
    Value xc = e.mul(x, c), ps = e.mul(p, s);
    Value out =
        e.select(low, e.sub(xc, ps), e.add(xc, ps));
    Value wide = arith::ExtFOp::create(
        e.b, e.loc, VectorType::get({w}, e.f32Type()), out);
    // The pooling loads take a scalar for one element, as Emitter::load.
    return w == 1 ? Value(vector::ExtractOp::create(e.b, e.loc, wide, 0))
                  : wide;
  }

  /// rotate8 where `valid`, zeros elsewhere, stored to row `r` of the tile
  /// dst[prefix...].
  void stageRotated(Value src, Value t, Value head, Value p0, Value pos,
                    Value valid, Value dst, SmallVector<Value> prefix,
                    Value r) {
    SmallVector<Value> v = e.ifThenElse(
        valid, {vec8(), vec8()},
        [&]() -> SmallVector<Value> {
          auto [lo, hi] = rotate8(src, t, head, p0, pos, rope);
          return {lo, hi};
        },
        [&]() -> SmallVector<Value> {
          Value z = arith::ConstantOp::create(
              e.b, e.loc,
              DenseElementsAttr::get(vec8(), e.b.getFloatAttr(storage, 0.0)));
          return {z, z};
        });
    e.storeAligned(v[0], dst, at(prefix, r, p0));
    e.storeAligned(v[1], dst, at(prefix, r, e.addi(p0, e.index(half))));
  }

  /// What masks one query row: its token, document start, and whether it
  /// is a token inside a document.
  struct Row {
    Value i, start, inside;
  };
  /// Row `r` of the tile from the table of document starts.
  Row rowAt(Value starts, Value t0, Value r) {
    Value start = e.loadIndex(starts, {r});
    return {e.addi(t0, r), start, e.cmpi(Pred::sge, start, e.index(0))};
  }

  /// The keys of a tile a row sees, [lo, hi] as i32 offsets from the
  /// tile's first key (empty when lo > hi): 32-bit values the mask and the
  /// skips compare with constants, worked out per tile from the table so
  /// no 64-bit row values stay live across the key loop.
  struct Keys {
    Value lo, hi;
  };
  Keys keysOf(Value starts, Value t0, Value r, Value kt, Value kHi) {
    Value start = memref::LoadOp::create(e.b, e.loc, starts, ValueRange{r});
    Value kt32 = e.indexToI32(kt);
    Value lo = e.subi(e.maxi(start, kt32), kt32);
    Value hi = e.indexToI32(
        e.subi(e.mini(e.addi(t0, r), e.subi(kHi, e.index(1))), kt));
    // Rows outside documents (start -1) see nothing.
    lo = e.select(e.cmpi(Pred::sge, start, e.i32(0)), lo, e.i32(bn));
    return {lo, hi};
  }

  // The warp's view, set by emit: shared tiles, its rows, and where each
  // lane points its ldmatrix rows.
  Value qs, ks, vs, hg, quad, qRow, qCol, kKey, kCol, ldKey, ldCol;
  Value rA, rB;

  /// S = Q K^T of keys [a, a + sub) for the warp's 16 rows (mma.sync):
  /// per 16-wide head-dim step one ldmatrix of Q and one per two key tiles,
  /// fragments in the order mma takes them. The next step's fragments are
  /// loaded before this step's mma: with 16 warps an SM, ldmatrix latency
  /// is otherwise exposed on every step.
  SmallVector<SmallVector<Value>> scoresMma(Value buf, int64_t a) {
    int64_t sTiles = sub / kTileCols;
    Value zeroF = e.f32(0.0);
    SmallVector<SmallVector<Value>> s(sTiles, SmallVector<Value>(4, zeroF));
    auto fragments = [&](int64_t kk) {
      Value col = e.index(kk * kStepK);
      SmallVector<SmallVector<Value>> f{
          e.ldmatrixX4(qs, {hg, qRow, e.addi(col, qCol)}, false)};
      for (int64_t nt = 0; nt < sTiles; nt += 2)
        f.push_back(e.ldmatrixX4(
            ks,
            {buf, e.addi(e.index(a + nt * kTileCols), kKey), e.addi(col, kCol)},
            false));
      return f;
    };
    SmallVector<SmallVector<Value>> cur = fragments(0);
    for (int64_t kk = 0; kk < d / kStepK; ++kk) {
      SmallVector<SmallVector<Value>> next;
      if (kk + 1 < d / kStepK)
        next = fragments(kk + 1);
      for (int64_t nt = 0; nt < sTiles; nt += 2) {
        const SmallVector<Value> &kb = cur[1 + nt / 2];
        s[nt] = e.mmaBf16(cur[0], {kb[0], kb[1]}, s[nt]);
        s[nt + 1] = e.mmaBf16(cur[0], {kb[2], kb[3]}, s[nt + 1]);
      }
      cur = std::move(next);
    }

    return s;
  }

  /// The wgmma descriptor of the panel of a swizzled tile holding element
  /// `col`, from `row` on (K-major: A of Q K^T and B).
  GpuEmitter::WgmmaDesc kMajor(Value tile, SmallVector<Value> prefix,
                               int64_t row, int64_t col) {
    prefix.append({e.index(col / kSwizzlePanelElems), e.index(row), e.index(0)});
    return {e.kMajorDescriptor(tile, prefix)};
  }

  /// S = Q K^T of keys [a, a + sub) for the warpgroup's 64 rows, Q
  /// and K read from shared memory by wgmma; the warp's 16 rows come back
  /// in mma.sync's accumulator layout.
  SmallVector<SmallVector<Value>> scoresWgmma(Value buf, int64_t a) {
    SmallVector<GpuEmitter::WgmmaDesc> aDescs, bDescs;
    for (int64_t kk = 0; kk < d / kStepK; ++kk) {
      int64_t col = kk * kStepK;
      // One base descriptor a panel; the steps inside it advance it.
      if (col % kSwizzlePanelElems == 0) {
        aDescs.push_back(kMajor(qs, {hg}, 0, col));
        bDescs.push_back(kMajor(ks, {buf}, a, col));
        continue;
      }
      int64_t units = (col % kSwizzlePanelElems) * 2 / kWgmmaDescUnitBytes;
      aDescs.push_back({aDescs[kk - 1].base, units});
      bDescs.push_back({bDescs[kk - 1].base, units});
    }
    return quads(e.wgmmaWait(
        e.wgmma({}, sub, aDescs, {}, bDescs, /*transposeB=*/false)));
  }

  /// O += P V for keys [a, a + sub) by wgmma: P from the accumulators
  /// in registers, V (MN-major: keys are rows, head dims contiguous) from
  /// shared memory, its panels of 64 head dims a whole tile apart.
  SmallVector<SmallVector<Value>> pvWgmma(
      const SmallVector<SmallVector<Value>> &p,
      const SmallVector<SmallVector<Value>> &o, Value buf, int64_t a) {
    SmallVector<SmallVector<Value>> aRegs;
    SmallVector<GpuEmitter::WgmmaDesc> bDescs;
    SmallVector<Value> acc;
    Value v0 = e.wgmmaDescriptor(
        e.sharedAddress(vs, {buf, e.index(0), e.index(a), e.index(0)}),
        bn * kSwizzleBytes, kSwizzleAtomRows * kSwizzleBytes);
    for (int64_t kk = 0; kk < sub / kStepK; ++kk) {
      aRegs.push_back(pFragment(p, kk));
      bDescs.push_back({v0, kk * kStepK * kSwizzleBytes / kWgmmaDescUnitBytes});
    }
    for (auto &t : o)
      acc.append(t.begin(), t.end());
    return quads(
        e.wgmmaWait(e.wgmma(acc, d, {}, aRegs, bDescs, /*transposeB=*/true)));
  }

  /// Keys [a, a + sub) of the staged tile for the warp's 16 rows and
  /// query head: S = Q K^T, mask, online softmax in the log2 domain,
  /// O += P V. State: row max (raw scores) of rows A and B, their row sums,
  /// then O.
  SmallVector<Value> subTile(ValueRange it, Value buf, Keys keyA, Keys keyB,
                             int64_t a) {
    int64_t sTiles = sub / kTileCols, oTiles = d / kTileCols;
    double scaleLog2 = scale * M_LOG2E;
    Value noScore = e.f32(kNoScore), zeroF = e.f32(0.0);
    SmallVector<SmallVector<Value>> s = wg ? scoresWgmma(buf, a) : scoresMma(buf, a);

    // The document mask on the accumulators (A: c0, c1; B: c2, c3), unless
    // every row of the warp sees the whole tile (below the diagonal, inside
    // the rows' documents).
    auto wholeTile = [&](const Keys &r) {
      return e.andI(e.cmpi(Pred::sle, r.lo, e.i32(a)),
                    e.cmpi(Pred::sge, r.hi, e.i32(a + sub - 1)));
    };
    Value wholeWarp = e.warpVote(e.andI(wholeTile(keyA), wholeTile(keyB)), true);
    SmallVector<Type> sTypes(4 * sTiles, e.f32Type());
    SmallVector<Value> flat = e.ifThenElse(
        wholeWarp, sTypes,
        [&]() -> SmallVector<Value> {
          SmallVector<Value> out;
          for (auto &t : s)
            out.append(t.begin(), t.end());
          return out;
        },
        [&]() -> SmallVector<Value> {
          // Bounds as offsets from the lane's first column (2 quad), so each
          // score is two compares with a constant and a select.
          Value col0 = e.indexToI32(e.muli(quad, e.index(2)));
          auto bounds = [&](const Keys &r) {
            return std::pair<Value, Value>{e.subi(r.lo, col0),
                                           e.subi(r.hi, col0)};
          };
          auto [loA, hiA] = bounds(keyA);
          auto [loB, hiB] = bounds(keyB);
          SmallVector<Value> out;
          for (int64_t nt = 0; nt < sTiles; ++nt)
            for (int64_t i = 0; i < 4; ++i) {
              Value off = e.i32(a + nt * kTileCols + (i % 2));
              Value ok =
                  e.andI(e.cmpi(Pred::sge, off, i < 2 ? loA : loB),
                         e.cmpi(Pred::sle, off, i < 2 ? hiA : hiB));
              out.push_back(e.select(ok, s[nt][i], noScore));
            }
          return out;
        });

    // Online softmax; scale folded into the exponent (one fma a score).
    Value mxA = noScore, mxB = noScore;
    for (int64_t nt = 0; nt < sTiles; ++nt)
      for (int64_t i = 0; i < 4; ++i) {
        s[nt][i] = flat[4 * nt + i];
        if (i < 2)
          mxA = e.max(mxA, s[nt][i]);
        else
          mxB = e.max(mxB, s[nt][i]);
      }
    for (int64_t o = 1; o < kQuad; o *= 2) {
      mxA = e.max(mxA, e.shuffleXor(mxA, o));
      mxB = e.max(mxB, e.shuffleXor(mxB, o));
    }
    // The running max moves only when a row's grows by more than
    // 2^kLazyRescaleLog2 (FlashAttention-4's lazy rescale): P stays below
    // that power of two, exact enough in f32 and bf16, and most sub-tiles
    // skip rescaling O. The final O / l uses one max per row either way.
    Value c = e.f32(scaleLog2);
    auto near = [&](Value mx, Value old) {
      return e.cmpf(arith::CmpFPredicate::OLE, e.mul(e.sub(mx, old), c),
                    e.f32(kLazyRescaleLog2));
    };
    Value keep = e.warpVote(e.andI(near(mxA, it[0]), near(mxB, it[1])), true);
    Value mA = e.select(keep, it[0], e.max(it[0], mxA));
    Value mB = e.select(keep, it[1], e.max(it[1], mxB));
    // -max in the log2 domain; 0 for a row without a score yet, so its
    // masked scores (kNoScore) still give 0 and no predicate stays live.
    auto negBase = [&](Value m) {
      return e.select(e.cmpf(arith::CmpFPredicate::OEQ, m, noScore), zeroF,
                      e.mul(m, e.f32(-scaleLog2)));
    };
    Value nA = negBase(mA), nB = negBase(mB);
    Value corrA = e.exp2(e.fma(it[0], c, nA));
    Value corrB = e.exp2(e.fma(it[1], c, nB));
    Value sumA = zeroF, sumB = zeroF;
    for (int64_t nt = 0; nt < sTiles; ++nt)
      for (int64_t i = 0; i < 4; ++i) {
        Value p = e.exp2(e.fma(s[nt][i], c, i < 2 ? nA : nB));
        s[nt][i] = p;
        if (i < 2)
          sumA = e.add(sumA, p);
        else
          sumB = e.add(sumB, p);
      }
    SmallVector<Value> next{mA, mB, e.fma(it[2], corrA, sumA),
                            e.fma(it[3], corrB, sumB)};
    Value same = keep;
    SmallVector<Type> oTypes(4 * oTiles, e.f32Type());
    SmallVector<Value> scaled = e.ifThenElse(
        same, oTypes,
        [&]() -> SmallVector<Value> {
          return SmallVector<Value>(it.begin() + 4, it.end());
        },
        [&]() -> SmallVector<Value> {
          SmallVector<Value> out;
          for (int64_t dt = 0; dt < oTiles; ++dt)
            for (int64_t i = 0; i < 4; ++i)
              out.push_back(
                  e.mul(it[4 + 4 * dt + i], i < 2 ? corrA : corrB));
          return out;
        });
    SmallVector<SmallVector<Value>> o = quads(scaled);

    if (wg) {
      for (auto &t : pvWgmma(s, o, buf, a))
        next.append(t.begin(), t.end());
      return next;
    }
    // O += P V: P's A fragments from the accumulators, V's B fragments by
    // ldmatrix.trans, two head-dim tiles per load, each load issued
    // kVLoadsAhead loads before its mma (as the S fragments above).
    constexpr int64_t kVLoadsAhead = 2;
    int64_t steps = sub / kStepK, perStep = oTiles / 2;
    auto vFragment = [&](int64_t n) {
      Value key = e.addi(e.index(a + (n / perStep) * kStepK), ldKey);
      Value col = e.addi(e.index((n % perStep) * 2 * kTileCols), ldCol);
      return e.ldmatrixX4(vs, {buf, key, col}, true);
    };
    SmallVector<SmallVector<Value>> vf;
    for (int64_t n = 0; n < kVLoadsAhead; ++n)
      vf.push_back(vFragment(n));
    SmallVector<Value> pa;
    for (int64_t n = 0; n < steps * perStep; ++n) {
      int64_t kk = n / perStep, dt = 2 * (n % perStep);
      if (dt == 0)
        pa = pFragment(s, kk);
      if (n + kVLoadsAhead < steps * perStep)
        vf.push_back(vFragment(n + kVLoadsAhead));
      const SmallVector<Value> &b = vf[n];
      o[dt] = e.mmaBf16(pa, {b[0], b[1]}, o[dt]);
      o[dt + 1] = e.mmaBf16(pa, {b[2], b[3]}, o[dt + 1]);
    }
    for (auto &t : o)
      next.append(t.begin(), t.end());
    return next;
  }

  /// The staged key tile for the warp, sub at a time; sub-tiles none
  /// of the warp's rows sees (a later document's rows in a tile that
  /// straddles two, keys past the diagonal) are skipped.
  SmallVector<Value> tile(ValueRange it, Value buf, Keys keyA, Keys keyB) {
    SmallVector<Value> cur(it.begin(), it.end());
    SmallVector<Type> types(cur.size(), e.f32Type());
    for (int64_t a = 0; a < bn; a += sub) {
      auto sees = [&](const Keys &r) {
        return e.andI(e.cmpi(Pred::sle, r.lo, r.hi),
                      e.andI(e.cmpi(Pred::sle, r.lo, e.i32(a + sub - 1)),
                             e.cmpi(Pred::sge, r.hi, e.i32(a))));
      };
      // wgmma is issued by the whole warpgroup: it skips together.
      Value mine = e.orI(sees(keyA), sees(keyB));
      Value busy =
          wg ? e.warpgroupVoteAny(
                   mine, e.indexToI32(e.addi(
                             hg, e.index(kFirstWarpgroupBarrier))))
             : e.warpVote(mine, false);
      cur = e.ifThenElse(
          busy, types,
          [&]() -> SmallVector<Value> {
            return subTile(cur, buf, keyA, keyB, a);
          },
          [&]() -> SmallVector<Value> { return cur; });
    }
    return cur;
  }

  LogicalResult emit(Launch &launch) {
    Value zero = e.index(0), one = e.index(1);
    Value q = args.q, k = args.k, v = args.v;
    int64_t pairGroups = half / kLoadElems;
    // K and V tiles double-buffered: cp.async fills one pair while the
    // warps compute on the other. K arrives raw and is rotated into ks.
    // wgmma's swizzled tiles start on swizzle atoms.
    int64_t align = wg ? kTmaSwizzleAlignmentBytes : 0;
    qs = e.shared(tileShape({group}, bm), storage, align);
    Value kraw = e.shared({2, bn, d}, storage);
    // The RoPE table rows of the staged keys' positions, copied with them
    // so the rotation waits on shared memory, not on global loads.
    Value cosS = rope ? e.shared({2, bn, half}, storage) : Value();
    Value sinS = rope ? e.shared({2, bn, half}, storage) : Value();
    ks = e.shared(tileShape({2}, bn), storage, align);
    vs = e.shared(tileShape({2}, bn), storage, align);
    Value starts = e.shared({bm}, e.b.getI32Type());

    Value tiles = e.ceilDiv(tokens, e.index(bm));
    Value g = e.divi(e.blockIdx(), tiles);
    Value t0 = e.muli(e.remi(e.blockIdx(), tiles), e.index(bm));

    // Each row's document start (-1 outside documents), searched once per
    // row: the Q and K stages read it instead of searching per element.
    e.forEachItem(bm, [&](Value r) {
      Value i = e.addi(t0, r);
      SegmentOf sg = segmentOf(e, seg, nSeg, e.mini(i, e.subi(tokens, one)));
      Value in = e.andI(e.cmpi(Pred::ult, i, tokens), sg.inside);
      memref::StoreOp::create(
          e.b, e.loc, e.indexToI32(e.select(in, sg.start, e.index(-1))),
          starts, ValueRange{r});
    });
    e.barrier();

    auto [kLo, kHi] = tileKeyRange(e, seg, nSeg, tokens, t0, bm);
    // The copies of the key tile at kt into buffer `buf`: K as (lo, hi)
    // pairs, so the thread that copies a pair rotates it; keys past kHi
    // zero-filled (a masked P is 0, and 0 times V must not be NaN).
    int64_t vecs = d / kLoadElems;
    auto keyOf = [&](Value kt, Value c) {
      Value j = e.addi(kt, c);
      Value inKeys = e.cmpi(Pred::slt, j, kHi);
      return std::pair<Value, Value>{e.select(inKeys, j, kLo), inKeys};
    };
    // A key's position in its document: its document starts at kLo before
    // the tile's rows (they are all in the first row's document), at its
    // row's start within.
    auto positionOf = [&](Value j) {
      Value before = e.cmpi(Pred::slt, j, t0);
      Value inTile =
          e.loadIndex(starts, {e.select(before, zero, e.subi(j, t0))});
      return e.subi(j, e.select(before, kLo, inTile));
    };
    auto issue = [&](Value kt, Value buf) {
      e.forEachItem(bn * pairGroups, [&](Value u) {
        Value c = e.divi(u, e.index(pairGroups));
        Value p0 = e.muli(e.remi(u, e.index(pairGroups)), e.index(kLoadElems));
        Value p1 = e.addi(p0, e.index(half));
        auto [j, in] = keyOf(kt, c);
        e.copyAsync16(kraw, {buf, c, p0}, k, {j, g, p0}, in);
        e.copyAsync16(kraw, {buf, c, p1}, k, {j, g, p1}, in);
        if (rope) {
          auto [cosT, sinT] = e.ropeTables(d, theta);
          Value pos = positionOf(j);
          Value inTable = e.cmpi(Pred::slt, pos, e.index(kRopeTablePositions));
          Value row = e.select(inTable, pos, zero);
          e.copyAsync16(cosS, {buf, c, p0}, cosT, {row, p0}, inTable);
          e.copyAsync16(sinS, {buf, c, p0}, sinT, {row, p0}, inTable);
        }
      }, unrolledStaging);
      e.forEachItem(bn * vecs, [&](Value u) {
        Value c = e.divi(u, e.index(vecs));
        Value x = e.muli(e.remi(u, e.index(vecs)), e.index(kLoadElems));
        auto [j, in] = keyOf(kt, c);
        e.copyAsync16(vs, at({buf}, c, x), v, {j, g, x}, in);
      }, unrolledStaging);
    };
    // The thread's own pairs of buffer `buf` rotated into ks.
    auto rotateStaged = [&](Value kt, Value buf) {
      e.forEachItem(bn * pairGroups, [&](Value u) {
        Value c = e.divi(u, e.index(pairGroups));
        Value p0 = e.muli(e.remi(u, e.index(pairGroups)), e.index(kLoadElems));
        Value p1 = e.addi(p0, e.index(half));
        Value lo = e.loadRaw(kraw, {buf, c, p0}, kLoadElems);
        Value hi = e.loadRaw(kraw, {buf, c, p1}, kLoadElems);
        if (rope)
          std::tie(lo, hi) = rotatePair(
              lo, hi, p0, positionOf(keyOf(kt, c).first), [&] {
                return std::pair<Value, Value>{
                    e.loadRaw(cosS, {buf, c, p0}, kLoadElems),
                    e.loadRaw(sinS, {buf, c, p0}, kLoadElems)};
              });
        e.storeAligned(lo, ks, at({buf}, c, p0));
        e.storeAligned(hi, ks, at({buf}, c, p1));
      }, unrolledStaging);
    };

    // The first key tile's copies fly while the prologue runs.
    e.ifThen(e.cmpi(Pred::slt, kLo, kHi), [&] { issue(kLo, zero); });
    e.copyAsyncCommit();

    // Prologue: the group's Q tile, rotated; rows outside documents zero.
    e.forEachItem(group * bm * pairGroups, [&](Value u) {
      Value hg = e.divi(u, e.index(bm * pairGroups));
      Value rest = e.remi(u, e.index(bm * pairGroups));
      Value r = e.divi(rest, e.index(pairGroups));
      Value p0 = e.muli(e.remi(rest, e.index(pairGroups)), e.index(kLoadElems));
      Row rw = rowAt(starts, t0, r);
      Value iSafe = e.mini(rw.i, e.subi(tokens, one));
      stageRotated(q, iSafe, e.addi(e.muli(g, e.index(group)), hg), p0,
                   e.subi(iSafe, rw.start), rw.inside, qs, {hg}, r);
    }, /*unrolled=*/true);
    // The tile's keys rotated to the key output; tokens outside documents
    // keep their key.
    if (args.rotatedKey)
      e.forEachItem(bm * pairGroups, [&](Value u) {
        Value r = e.divi(u, e.index(pairGroups));
        Value p0 = e.muli(e.remi(u, e.index(pairGroups)), e.index(kLoadElems));
        Row rw = rowAt(starts, t0, r);
        Value i = rw.i;
        e.ifThen(e.cmpi(Pred::ult, i, tokens), [&] {
          SmallVector<Value> kv = e.ifThenElse(
              rw.inside, {vec8(), vec8()},
              [&]() -> SmallVector<Value> {
                auto [lo, hi] = rotate8(k, i, g, p0, e.subi(i, rw.start), rope);
                return {lo, hi};
              },
              [&]() -> SmallVector<Value> {
                auto [lo, hi] = rotate8(k, i, g, p0, zero, false);
                return {lo, hi};
              });
          e.storeAligned(kv[0], args.rotatedKey, {i, g, p0});
          e.storeAligned(kv[1], args.rotatedKey,
                         {i, g, e.addi(p0, e.index(half))});
        });
      });

    Value lane = e.laneId(), w = e.warpId();
    hg = e.divi(w, e.index(bm / kWarpRows));
    Value slice = e.remi(w, e.index(bm / kWarpRows));
    quad = e.remi(lane, e.index(kQuad));
    rA = e.addi(e.muli(slice, e.index(kWarpRows)), e.divi(lane, e.index(kQuad)));
    rB = e.addi(rA, e.index(kWarpRows / 2));
    // ldmatrix rows (each lane addresses one 8-element row of the four 8x8
    // matrices, lanes 8m..8m+7 matrix m):
    //  Q (A fragments): rows 0-15 of the warp's slice, head-dim columns
    //    +0 (lanes 0-15) and +8 (lanes 16-31);
    //  K (B fragments of two key tiles): keys +0 (lanes 0-15) and +8,
    //    head-dim columns +0 and +8 alternating every 8 lanes;
    //  V (transposed B fragments of two head-dim tiles): keys +0 and +8
    //    alternating every 8 lanes, head-dim columns +0 and +8 (lanes 16-31).
    Value half16 = e.divi(lane, e.index(16));
    qRow = e.addi(e.muli(slice, e.index(kWarpRows)),
                        e.remi(lane, e.index(16)));
    qCol = e.muli(half16, e.index(8));
    kKey = e.addi(e.muli(half16, e.index(8)), e.remi(lane, e.index(8)));
    kCol =
        e.muli(e.remi(e.divi(lane, e.index(8)), e.index(2)), e.index(8));
    ldKey = e.addi(
        e.remi(lane, e.index(8)),
        e.muli(e.remi(e.divi(lane, e.index(8)), e.index(2)), e.index(8)));
    ldCol = e.muli(half16, e.index(kTileCols));

    int64_t oTiles = d / kTileCols;
    Value noScore = e.f32(kNoScore), zeroF = e.f32(0.0);
    SmallVector<Value> init{noScore, noScore, zeroF, zeroF};
    for (int64_t i = 0; i < 4 * oTiles; ++i)
      init.push_back(zeroF);

    SmallVector<Value> st = e.loop(
        kLo, kHi, bn, init, [&](Value kt, ValueRange it) -> SmallVector<Value> {
          Value buf = e.remi(e.divi(e.subi(kt, kLo), e.index(bn)), e.index(2));
          // This tile's copies (the one group in flight) landed; its keys
          // rotated into ks[buf]. One barrier a tile: past it every warp
          // has both this tile staged and the previous one computed, so
          // the next tile's copies may refill the other buffers.
          e.copyAsyncWait(0);
          rotateStaged(kt, buf);
          // wgmma reads shared memory through the async proxy.
          if (wg)
            e.fenceProxyAsyncShared();
          e.barrier();
          Value next = e.addi(kt, e.index(bn));
          e.ifThen(e.cmpi(Pred::slt, next, kHi),
                   [&] { issue(next, e.subi(one, buf)); });
          e.copyAsyncCommit();

          return tile(it, buf, keysOf(starts, t0, rA, kt, kHi),
                      keysOf(starts, t0, rB, kt, kHi));
        });

    // O / l for rows inside documents, 0 for the others.
    Value lA = st[2], lB = st[3];
    for (int64_t o = 1; o < kQuad; o *= 2) {
      lA = e.add(lA, e.shuffleXor(lA, o));
      lB = e.add(lB, e.shuffleXor(lB, o));
    }
    Value h = e.addi(e.muli(g, e.index(group)), hg);
    auto finish = [&](const Row &rw, Value l, int64_t first) {
      e.ifThen(e.cmpi(Pred::ult, rw.i, tokens), [&] {
        Value any =
            e.andI(rw.inside, e.cmpf(arith::CmpFPredicate::OGT, l, zeroF));
        Value inv = e.select(any, e.div(e.f32(1.0), l), zeroF);
        for (int64_t dt = 0; dt < oTiles; ++dt) {
          Value pair = vector::FromElementsOp::create(
              e.b, e.loc, VectorType::get({2}, e.f32Type()),
              ValueRange{e.mul(st[4 + 4 * dt + first], inv),
                         e.mul(st[4 + 4 * dt + first + 1], inv)});
          Value col = e.addi(e.index(dt * kTileCols), e.muli(quad, e.index(2)));
          e.storeAligned(pair, args.out, {rw.i, h, col});
        }
      });
    };
    finish(rowAt(starts, t0, rA), lA, 0);
    finish(rowAt(starts, t0, rB), lB, 2);

    RotatedKeyLoad fast;
    if (rope)
      fast = [&](Value tok, Value pos, Value e0, int64_t w) {
        return rotatedKey(tok, g, pos, e0, w);
      };
    emitEncodePooling(op, args, e, g, t0, bm, fast);

    launch.threads = e.threads();
    launch.itemsPerBlock = 1;
    launch.grid = {{0, 0, 0, bm}, {1, 1, 0, 1}};
    return success();
  }
};

} // namespace

LogicalResult emitEncodeDocsTensorCore(EncodeDocsOp op, const GpuKernelArgs &a,
                                       GpuEmitter &e, Launch &launch) {
  EncodeDocsArgs args = EncodeDocsArgs::of(op, a.operands, a.results);
  int64_t group = tensorCoreGroupOf(op);
  int64_t bm = tileOf(op, "block_m", 64), bn = tileOf(op, "block_n", 64);
  int64_t d = staticDim(args.q, 2);
  bool wg = tileOf(op, "wgmma", 0) == 1;
  int64_t sub = tileOf(op, "sub_keys", wg ? kWgmmaSubKeys : kSubKeys);
  if (sub <= 0 || sub % kStepK != 0 || bn % sub != 0)
    return op.emitOpError() << "sub_keys must be a multiple of " << kStepK
                            << " dividing block_n; got sub_keys " << sub
                            << ", block_n " << bn;
  if (wg && (bm != kWgmmaRows || d % kSwizzlePanelElems != 0))
    return op.emitOpError()
           << "wgmma tiles need block_m " << kWgmmaRows
           << " (a warpgroup per group head) and a head dim that is a "
              "multiple of "
           << kSwizzlePanelElems << "; got block_m " << bm << ", head dim " << d;
  if (group == 0 || bm % kWarpRows != 0 || bn % kStepK != 0 ||
      e.threads() != kWarpSize * group * (bm / kWarpRows))
    return op.emitOpError()
           << "tensor-core tiles need a bf16 encode_docs with head dim 32-128 "
              "(a multiple of 32), GQA group 1, 2 or 4, block_m a multiple of "
           << kWarpRows << ", block_n of " << kStepK
           << " and a warp per (group head, " << kWarpRows
           << " rows); got threads " << e.threads() << ", block_m " << bm
           << ", block_n " << bn;
  Value one = e.index(1);
  EncodeTensorCore k{
      op,
      e,
      args,
      d,
      d / 2,
      group,
      bm,
      bn,
      wg,
      sub,
      tileOf(op, "unrolled_staging", 0) == 1,
      static_cast<bool>(op.getRopeThetaAttr()),
      op.getRopeThetaAttr() ? op.getRopeThetaAttr().getValueAsDouble() : 0.0,
      scaleOf(op.getScaleAttr(), d),
      elementTypeOf(args.q),
      args.segments,
      e.subi(e.dim(args.segments, 0), one),
      e.dim(args.q, 0)};
  return k.emit(launch);
}

} // namespace msa::codegen::cuda
