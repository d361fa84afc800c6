//===- GpuEncodeTensorCore.cpp - encode_docs on the tensor cores ----------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// FlashAttention-2 on mma.sync m16n8k16 (bf16 in, f32 accumulate) for
// document-wise causal attention over packed documents.
//
// A block per (64 packed tokens, KV head g), a warp per (query head of g's
// group, 16 query rows): every query head of the group shares the K and V
// tiles, so each key tile is loaded and RoPE-rotated once per group instead
// of once per head. Prologue: the group's Q tile rotated into shared
// memory, and the tile's rotated keys to the key output. Body, per 64-key
// tile of [first key of the first row's document, end of the tile):
//   stage K rotated and V as they are, 16 bytes per thread and access;
//   S = Q K^T with A and B fragments read as words: the head dim is the
//     reduction dim, so lane (r, q) takes elements j 32 + q 8 .. + 8 of its
//     rows for both operands and no ldmatrix is needed;
//   document mask and scale on the accumulators, online softmax in the
//     log2 domain (row max and sum across the quad);
//   P from the accumulators as the A fragments of P V, V's B fragments by
//     ldmatrix.trans;
// then O / l, and the chunk-pooling epilogue shared with the CUDA-core
// kernel. The rotation is the reference's (cos and sin rounded to bf16,
// each product rounded), so keys match the CUDA-core kernel bit for bit;
// P is rounded to bf16 for the tensor cores as FlashAttention rounds it.
//
//===----------------------------------------------------------------------===//

#include "GpuAttention.h"

#include "msa/Codegen/HardwareLimits.h"
#include "msa/Codegen/KernelInterface.h"

#include <cmath>

using namespace mlir;

namespace msa::codegen::cuda {

namespace {

using Pred = arith::CmpIPredicate;

/// mma.sync m16n8k16: query rows per warp, key or head-dim columns per
/// accumulator tile, keys per P V step.
constexpr int64_t kWarpRows = 16, kTileCols = 8, kStepK = 16;
/// Lanes sharing a fragment row, and elements a lane reads at once (16
/// bytes of bf16).
constexpr int64_t kQuad = 4, kLoadElems = 8;
/// Elements of padding per shared row: 16 bytes put the 8 rows of one
/// fragment load (and of one ldmatrix) on distinct bank quarters.
constexpr int64_t kRowPad = 8;

struct EncodeTensorCore {
  EncodeDocsOp op;
  GpuEmitter &e;
  EncodeDocsArgs args;
  int64_t d, half, group, bm, bn;
  bool rope;
  double theta, scale;
  Type storage;
  Value seg, nSeg, tokens;

  VectorType vec8() { return VectorType::get({kLoadElems}, storage); }

  /// cos and sin (bf16) of position `pos` and frequencies [i0, i0 + w):
  /// the module's tables below kRopeTablePositions, computed beyond.
  std::pair<Value, Value> cosSin(Value pos, Value i0, int64_t w) {
    auto [cosT, sinT] = e.ropeTables(d, theta);
    VectorType vt = VectorType::get({w}, storage);
    SmallVector<Value> cs = e.ifThenElse(
        e.cmpi(Pred::slt, pos, e.index(kRopeTablePositions)), {vt, vt},
        [&]() -> SmallVector<Value> {
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

  // bf16 vector arithmetic, each operation rounded once as the reference
  // rounds its f32 results: a product of two bf16 is exact in f32, and so
  // is the rounding of a sum the reference rounds twice.
  Value mulV(Value a, Value b) {
    return arith::MulFOp::create(e.b, e.loc, a, b);
  }
  Value addV(Value a, Value b) {
    return arith::AddFOp::create(e.b, e.loc, a, b);
  }
  Value subV(Value a, Value b) {
    return arith::SubFOp::create(e.b, e.loc, a, b);
  }

  /// Elements [p0, p0 + 8) and [p0 + d/2, p0 + d/2 + 8) of src[t, head, :]
  /// rotated to position `pos` (or as they are), in bf16.
  std::pair<Value, Value> rotate8(Value src, Value t, Value head, Value p0,
                                  Value pos, bool rotate) {
    Value lo = e.loadRaw(src, {t, head, p0}, kLoadElems);
    Value hi = e.loadRaw(src, {t, head, e.addi(p0, e.index(half))}, kLoadElems);
    if (!rotate)
      return {lo, hi};
    auto [c, s] = cosSin(pos, p0, kLoadElems);
    return {subV(mulV(lo, c), mulV(hi, s)), addV(mulV(hi, c), mulV(lo, s))};
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
    Value xc = mulV(x, c), ps = mulV(p, s);
    Value out =
        arith::SelectOp::create(e.b, e.loc, low, subV(xc, ps), addV(xc, ps));
    Value wide = arith::ExtFOp::create(
        e.b, e.loc, VectorType::get({w}, e.f32Type()), out);
    // The pooling loads take a scalar for one element, as Emitter::load.
    return w == 1 ? Value(vector::ExtractOp::create(e.b, e.loc, wide, 0))
                  : wide;
  }

  /// rotate8 where `valid`, zeros elsewhere, stored to dst[prefix..., :].
  void stageRotated(Value src, Value t, Value head, Value p0, Value pos,
                    Value valid, Value dst, SmallVector<Value> prefix) {
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
    SmallVector<Value> lo(prefix), hi(prefix);
    lo.push_back(p0);
    hi.push_back(e.addi(p0, e.index(half)));
    e.storeAligned(v[0], dst, lo);
    e.storeAligned(v[1], dst, hi);
  }

  /// What masks one query row: its token, document start, and whether it
  /// is a token inside a document.
  struct Row {
    Value i, start, inside;
  };
  Row rowOf(Value i) {
    Value one = e.index(1);
    Value inTokens = e.cmpi(Pred::ult, i, tokens);
    SegmentOf sg = segmentOf(e, seg, nSeg, e.mini(i, e.subi(tokens, one)));
    return {i, sg.start, e.andI(inTokens, sg.inside)};
  }

  LogicalResult emit(Launch &launch) {
    Value zero = e.index(0), one = e.index(1);
    Value q = args.q, k = args.k, v = args.v;
    int64_t row = d + kRowPad, pairGroups = half / kLoadElems;
    Value qs = e.shared({group, bm, row}, storage);
    Value ks = e.shared({bn, row}, storage);
    Value vs = e.shared({bn, row}, storage);

    Value tiles = e.ceilDiv(tokens, e.index(bm));
    Value g = e.divi(e.blockIdx(), tiles);
    Value t0 = e.muli(e.remi(e.blockIdx(), tiles), e.index(bm));
    Value tid = e.threadIdx();

    // Prologue: the group's Q tile, rotated; rows outside documents zero.
    e.loop(tid, e.index(group * bm * pairGroups), e.threads(), [&](Value u) {
      Value hg = e.divi(u, e.index(bm * pairGroups));
      Value rest = e.remi(u, e.index(bm * pairGroups));
      Value r = e.divi(rest, e.index(pairGroups));
      Value p0 = e.muli(e.remi(rest, e.index(pairGroups)), e.index(kLoadElems));
      Row rw = rowOf(e.addi(t0, r));
      Value iSafe = e.mini(rw.i, e.subi(tokens, one));
      stageRotated(q, iSafe, e.addi(e.muli(g, e.index(group)), hg), p0,
                   e.subi(iSafe, rw.start), rw.inside, qs, {hg, r});
    });
    // The tile's keys rotated to the key output; tokens outside documents
    // keep their key.
    if (args.rotatedKey)
      e.loop(tid, e.index(bm * pairGroups), e.threads(), [&](Value u) {
        Value r = e.divi(u, e.index(pairGroups));
        Value p0 = e.muli(e.remi(u, e.index(pairGroups)), e.index(kLoadElems));
        Value i = e.addi(t0, r);
        e.ifThen(e.cmpi(Pred::ult, i, tokens), [&] {
          SegmentOf sg = segmentOf(e, seg, nSeg, i);
          SmallVector<Value> kv = e.ifThenElse(
              sg.inside, {vec8(), vec8()},
              [&]() -> SmallVector<Value> {
                auto [lo, hi] = rotate8(k, i, g, p0, e.subi(i, sg.start), rope);
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

    auto [kLo, kHi] = tileKeyRange(e, seg, nSeg, tokens, t0, bm);

    Value lane = e.laneId(), w = e.warpId();
    Value hg = e.divi(w, e.index(bm / kWarpRows));
    Value slice = e.remi(w, e.index(bm / kWarpRows));
    Value quad = e.remi(lane, e.index(kQuad));
    Value quadOff = e.muli(quad, e.index(kLoadElems));
    Value rA =
        e.addi(e.muli(slice, e.index(kWarpRows)), e.divi(lane, e.index(kQuad)));
    Value rB = e.addi(rA, e.index(kWarpRows / 2));
    Row rowA = rowOf(e.addi(t0, rA)), rowB = rowOf(e.addi(t0, rB));
    Value colInTile = e.divi(lane, e.index(kQuad));
    // ldmatrix rows: lanes 8-15 and 24-31 take the step's upper 8 keys,
    // lanes 16-31 the next 8 head-dim columns.
    Value ldKey = e.addi(
        e.remi(lane, e.index(8)),
        e.muli(e.remi(e.divi(lane, e.index(8)), e.index(2)), e.index(8)));
    Value ldCol = e.muli(e.divi(lane, e.index(16)), e.index(kTileCols));

    int64_t sTiles = bn / kTileCols, oTiles = d / kTileCols;
    int64_t loads = d / (kQuad * kLoadElems);
    double scaleLog2 = scale * M_LOG2E;
    Value noScore = e.f32(kNoScore), zeroF = e.f32(0.0);
    SmallVector<Value> init{noScore, noScore, zeroF, zeroF};
    for (int64_t i = 0; i < 4 * oTiles; ++i)
      init.push_back(zeroF);

    SmallVector<Value> st = e.loop(
        kLo, kHi, bn, init, [&](Value kt, ValueRange it) -> SmallVector<Value> {
          e.barrier();
          // Stage: K rotated, 8 pairs a thread; V as it is, 16 bytes.
          e.loop(tid, e.index(bn * pairGroups), e.threads(), [&](Value u) {
            Value c = e.divi(u, e.index(pairGroups));
            Value p0 =
                e.muli(e.remi(u, e.index(pairGroups)), e.index(kLoadElems));
            Value j = e.addi(kt, c);
            Value inKeys = e.cmpi(Pred::slt, j, kHi);
            Value jSafe = e.select(inKeys, j, kLo);
            Value pos = e.subi(jSafe, segmentOf(e, seg, nSeg, jSafe).start);
            stageRotated(k, jSafe, g, p0, pos, inKeys, ks, {c});
          });
          int64_t vecs = d / kLoadElems;
          e.loop(tid, e.index(bn * vecs), e.threads(), [&](Value u) {
            Value c = e.divi(u, e.index(vecs));
            Value x = e.muli(e.remi(u, e.index(vecs)), e.index(kLoadElems));
            Value j = e.addi(kt, c);
            Value inKeys = e.cmpi(Pred::slt, j, kHi);
            Value jSafe = e.select(inKeys, j, kLo);
            Value val = e.ifThenElse(
                inKeys, {VectorType::get({kLoadElems}, e.f32Type())},
                [&]() -> SmallVector<Value> {
                  return {e.loadAligned(v, {jSafe, g, x}, kLoadElems)};
                },
                [&]() -> SmallVector<Value> {
                  return {e.splat(zeroF, kLoadElems)};
                })[0];
            e.storeAligned(val, vs, {c, x});
          });
          e.barrier();

          // S = Q K^T, head-dim slices outermost so only one slice of Q
          // fragments is live beside S and O.
          SmallVector<SmallVector<Value>> s(sTiles,
                                            SmallVector<Value>(4, zeroF));
          for (int64_t j = 0; j < loads; ++j) {
            Value x = e.addi(e.index(j * kQuad * kLoadElems), quadOff);
            SmallVector<Value> qa =
                e.loadWords(qs, {hg, rA, x}, kLoadElems / 2);
            SmallVector<Value> qb =
                e.loadWords(qs, {hg, rB, x}, kLoadElems / 2);
            for (int64_t nt = 0; nt < sTiles; ++nt) {
              Value keyRow = e.addi(e.index(nt * kTileCols), colInTile);
              SmallVector<Value> bw =
                  e.loadWords(ks, {keyRow, x}, kLoadElems / 2);
              for (int64_t h = 0; h < 2; ++h)
                s[nt] = e.mmaBf16(
                    {qa[2 * h], qb[2 * h], qa[2 * h + 1], qb[2 * h + 1]},
                    {bw[2 * h], bw[2 * h + 1]}, s[nt]);
            }
          }

          // Mask and scale; online softmax per row (A: c0, c1; B: c2, c3).
          // Tiles every row of the warp sees whole (below the diagonal,
          // inside the rows' documents) skip the per-score mask.
          auto wholeTile = [&](const Row &rw) {
            Value last = e.addi(kt, e.index(bn - 1));
            return e.andI(rw.inside,
                          e.andI(e.cmpi(Pred::sge, kt, rw.start),
                                 e.andI(e.cmpi(Pred::sle, last, rw.i),
                                        e.cmpi(Pred::slt, last, kHi))));
          };
          Value whole = e.andI(wholeTile(rowA), wholeTile(rowB));
          Value wholeWarp =
              e.cmpf(arith::CmpFPredicate::OEQ,
                     e.warpSum(e.select(whole, e.f32(1.0), zeroF)),
                     e.f32(static_cast<double>(kWarpSize)));
          SmallVector<Type> sTypes(4 * sTiles, e.f32Type());
          SmallVector<Value> flat = e.ifThenElse(
              wholeWarp, sTypes,
              [&]() -> SmallVector<Value> {
                SmallVector<Value> out;
                for (int64_t nt = 0; nt < sTiles; ++nt)
                  for (int64_t i = 0; i < 4; ++i)
                    out.push_back(e.mul(s[nt][i], e.f32(scaleLog2)));
                return out;
              },
              [&]() -> SmallVector<Value> {
                SmallVector<Value> out;
                for (int64_t nt = 0; nt < sTiles; ++nt)
                  for (int64_t i = 0; i < 4; ++i) {
                    const Row &rw = i < 2 ? rowA : rowB;
                    Value key =
                        e.addi(e.addi(kt, e.index(nt * kTileCols + (i % 2))),
                               e.muli(quad, e.index(2)));
                    Value ok =
                        e.andI(rw.inside,
                               e.andI(e.cmpi(Pred::slt, key, kHi),
                                      e.andI(e.cmpi(Pred::sge, key, rw.start),
                                             e.cmpi(Pred::sle, key, rw.i))));
                    out.push_back(e.select(
                        ok, e.mul(s[nt][i], e.f32(scaleLog2)), noScore));
                  }
                return out;
              });
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
          Value mA = e.max(it[0], mxA), mB = e.max(it[1], mxB);
          Value corrA = e.exp2(e.sub(it[0], mA));
          Value corrB = e.exp2(e.sub(it[1], mB));
          Value sumA = zeroF, sumB = zeroF;
          for (int64_t nt = 0; nt < sTiles; ++nt)
            for (int64_t i = 0; i < 4; ++i) {
              Value m = i < 2 ? mA : mB;
              // Masked scores hold kNoScore: no predicates stay live.
              Value seen = e.cmpf(arith::CmpFPredicate::OGT, s[nt][i],
                                  e.f32(kNoScore / 2));
              Value p = e.select(seen, e.exp2(e.sub(s[nt][i], m)), zeroF);
              s[nt][i] = p;
              if (i < 2)
                sumA = e.add(sumA, p);
              else
                sumB = e.add(sumB, p);
            }
          SmallVector<Value> next{mA, mB, e.add(e.mul(it[2], corrA), sumA),
                                  e.add(e.mul(it[3], corrB), sumB)};
          SmallVector<SmallVector<Value>> o(oTiles);
          for (int64_t dt = 0; dt < oTiles; ++dt)
            for (int64_t i = 0; i < 4; ++i)
              o[dt].push_back(e.mul(it[4 + 4 * dt + i], i < 2 ? corrA : corrB));

          // O += P V: P's A fragments from the accumulators, V's B
          // fragments by ldmatrix.trans, two head-dim tiles per load.
          for (int64_t kk = 0; kk < bn / kStepK; ++kk) {
            SmallVector<Value> pa{
                e.packBf16(s[2 * kk][0], s[2 * kk][1]),
                e.packBf16(s[2 * kk][2], s[2 * kk][3]),
                e.packBf16(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                e.packBf16(s[2 * kk + 1][2], s[2 * kk + 1][3])};
            Value key = e.addi(e.index(kk * kStepK), ldKey);
            for (int64_t dt = 0; dt < oTiles; dt += 2) {
              SmallVector<Value> b = e.ldmatrixX4(
                  vs, {key, e.addi(e.index(dt * kTileCols), ldCol)}, true);
              o[dt] = e.mmaBf16(pa, {b[0], b[1]}, o[dt]);
              o[dt + 1] = e.mmaBf16(pa, {b[2], b[3]}, o[dt + 1]);
            }
          }
          for (auto &t : o)
            next.append(t.begin(), t.end());
          return next;
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
    finish(rowA, lA, 0);
    finish(rowB, lB, 2);

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
