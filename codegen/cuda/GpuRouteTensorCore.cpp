//===- GpuRouteTensorCore.cpp - route_topk on the tensor cores ------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// route_topk reads every router key once, so it is bound by HBM only if the
// scores cost less than the bytes: at MSA-4B's 4 routing tokens a chunk's
// 2 KB of keys meet 16K multiply-adds, more than the CUDA cores retire in
// the time HBM delivers them. Here the scores are mma.sync m16n8k16 tiles:
//
//   A (16 x 16) = 16 consecutive chunks' keys of one KV head, straight from
//                 global memory into registers (16-byte loads per lane);
//   B (16 x 8)  = 8 columns of prepared routing queries, a column per
//                 (valid routing token, query head of the KV head's group),
//                 staged once per block in shared memory;
//   C (16 x 8)  = f32 dot products, rounded to bf16 per head (spec §4.3
//                 step 3) and reduced over KV heads in registers.
//
// The head dim is the reduction dim, so the order in which a lane's
// registers cover it is free as long as A and B agree: lane (r, q) loads
// 16 bytes at j 32 + q 8 of its two rows for every j, and step s uses
// words 2 (s % 2), 2 (s % 2) + 1 of load s / 2 as its k pairs (2q, 2q+1)
// and (2q+8, 2q+9). B columns are read the same way, so no ldmatrix.
//
// After the KV heads, the group's heads (adjacent columns: in-lane, then
// shuffles across the quad) finish the head reduction, the lane's tokens
// fold into the token reduction (step 6) and the quad combines; each warp
// then has 16 chunk scores. A warp owns a contiguous run of documents and
// walks it in 16-chunk tiles; documents are reduced across tiles (step 7)
// and inserted into the warp's best-k list as they end.
//
// Routing tokens are compacted (masked ones never reach the tensor cores);
// more valid tokens than the staged columns hold take the CUDA-core body.
//
//===----------------------------------------------------------------------===//

#include "GpuRouting.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

namespace msa::codegen::cuda {

namespace {

using Pred = arith::CmpIPredicate;
using FPred = arith::CmpFPredicate;

/// mma.sync m16n8k16: chunks per A tile, columns per B tile, head-dim
/// elements per step.
constexpr int64_t kTileRows = 16, kTileCols = 8, kStepK = 16;
/// Head-dim elements a lane loads at once: 16 bytes of bf16.
constexpr int64_t kLoadElems = 8;
/// Lanes per row of a fragment (a quad) and rows per fragment half.
constexpr int64_t kQuad = 4, kHalfRows = 8;
/// Elements of padding per staged query row: 16 bytes move the 8 rows a
/// load instruction reads onto distinct bank quarters.
constexpr int64_t kRowPad = 8;
/// Shared memory for the staged query columns: 18 routing tokens of
/// MSA-4B (32 heads x 128), one block per SM with the candidate lists.
constexpr int64_t kStagedQueryBytes = 160 * 1024;
/// Column tiles per pass: registers for 8 x 4 accumulators and as many
/// head-reduced partials.
constexpr int64_t kMaxPassTiles = 8;
/// Column tiles whose mma chains run straight-line together: more keep
/// every tile's B fragments live at once and spill.
constexpr int64_t kStraightTiles = 4;

/// The token reduction of one lane's rows: value, and the count (mean) or
/// the slot of the value (last).
struct TokenFold {
  GpuEmitter &e;
  QueryReduce mode;
  Type storage;

  SmallVector<Value> init() {
    switch (mode) {
    case QueryReduce::Max:
      return {e.f32(kLowest), e.f32(0.0)};
    case QueryReduce::Mean:
      return {e.f32(0.0), e.f32(0.0)};
    case QueryReduce::Last:
      return {e.f32(kLowest), e.f32(-1.0)};
    }
    return {};
  }

  /// Folds token `slot` (f32) with head-reduced score `v` where `valid`.
  SmallVector<Value> add(ArrayRef<Value> st, Value v, Value slot, Value valid) {
    switch (mode) {
    case QueryReduce::Max:
      return {e.select(valid, e.max(st[0], v), st[0]), st[1]};
    case QueryReduce::Mean:
      return {e.select(valid, e.add(st[0], v), st[0]),
              e.select(valid, e.add(st[1], e.f32(1.0)), st[1])};
    case QueryReduce::Last: {
      Value later = e.andI(valid, e.cmpf(FPred::OGT, slot, st[1]));
      return {e.select(later, v, st[0]), e.select(later, slot, st[1])};
    }
    }
    return {};
  }

  /// Combines with the partner lane `offset` away.
  SmallVector<Value> combine(ArrayRef<Value> st, int64_t offset) {
    Value ov = e.shuffleXor(st[0], offset), o1 = e.shuffleXor(st[1], offset);
    switch (mode) {
    case QueryReduce::Max:
      return {e.max(st[0], ov), st[1]};
    case QueryReduce::Mean:
      return {e.add(st[0], ov), e.add(st[1], o1)};
    case QueryReduce::Last: {
      Value later = e.cmpf(FPred::OGT, o1, st[1]);
      return {e.select(later, ov, st[0]), e.select(later, o1, st[1])};
    }
    }
    return {};
  }

  /// The chunk score (spec §4.3 step 6); no valid token scores lowest.
  Value finish(ArrayRef<Value> st) {
    if (mode != QueryReduce::Mean)
      return st[0];
    Value any = e.cmpf(FPred::OGT, st[1], e.f32(0.0));
    Value mean =
        e.round(e.div(st[0], e.select(any, st[1], e.f32(1.0))), storage);
    return e.select(any, mean, e.f32(kLowest));
  }
};

struct TensorCoreRoute {
  RouteTopKOp op;
  GpuEmitter &e;
  Route r;
  Value q, keys, mask, coff, candS;
  int64_t group, columns, passTiles, k;

  Value qs; ///< staged queries [hk, columns, d + pad]

  /// Prepared queries of the valid tokens, compacted: column slot group +
  /// (h % group) of KV head h / group. A warp per query head, walking the
  /// tokens in order so slots need no prefix sums; columns past the last
  /// valid token's up to the next column tile are zeros.
  void stage(Value tokens, Value valid) {
    Value zero = e.index(0), one = e.index(1);
    int64_t row = r.d + kRowPad;
    qs = e.shared({r.hk, columns, row}, r.storage);
    Value used = e.muli(valid, e.index(group));
    Value padEnd =
        e.mini(e.muli(e.ceilDiv(used, e.index(kTileCols)), e.index(kTileCols)),
               e.index(columns));
    Value padCols = e.subi(padEnd, used);
    e.loop(e.threadIdx(), e.muli(e.index(r.hk), e.muli(padCols, e.index(row))),
           e.threads(), [&](Value u) {
             Value x = e.remi(u, e.index(row));
             Value rest = e.divi(u, e.index(row));
             Value col = e.addi(used, e.remi(rest, padCols));
             Value g = e.divi(rest, padCols);
             e.store(e.f32(0.0), qs, {g, col, x});
           });
    e.loop(e.warpId(), e.index(r.hq), e.warps(), [&](Value h) {
      Value g = e.divi(h, e.index(group));
      Value inGroup = e.remi(h, e.index(group));
      e.loop(zero, tokens, 1, {zero}, [&](Value t, ValueRange slot) {
        Value isValid = e.loadBool(mask, {t});
        e.ifThen(isValid, [&] {
          Value col = e.addi(e.muli(slot[0], e.index(group)), inGroup);
          r.storeSlots(r.prepare(r.slots(q, {t, h})), qs, {g, col});
        });
        return SmallVector<Value>{
            e.select(isValid, e.addi(slot[0], one), slot[0])};
      });
    });
    e.barrier();
  }

  /// The lane's A words of KV head g for chunk rows rowA and rowB: per
  /// 16-byte load j, four words of each row.
  struct Rows {
    SmallVector<SmallVector<Value>> a, b;
  };
  Rows loadKeys(int64_t g, Value rowA, Value rowB, Value quadOff) {
    Rows rows;
    Value gI = e.index(g);
    for (int64_t j = 0; j < r.d / (kQuad * kLoadElems); ++j) {
      Value x = e.addi(e.index(j * kQuad * kLoadElems), quadOff);
      rows.a.push_back(e.loadWords(keys, {gI, rowA, x}, kLoadElems / 2));
      rows.b.push_back(e.loadWords(keys, {gI, rowB, x}, kLoadElems / 2));
    }
    return rows;
  }

  /// Accumulators of one column tile for KV head g: the scores of rows
  /// (rowA, rowB) against columns colTile + [0, 8), rounded to bf16.
  SmallVector<Value> tileScores(const Rows &rows, int64_t g, Value colRow,
                                Value quadOff) {
    SmallVector<Value> c(4, e.f32(0.0));
    Value gI = e.index(g);
    for (int64_t j = 0; j < r.d / (kQuad * kLoadElems); ++j) {
      Value x = e.addi(e.index(j * kQuad * kLoadElems), quadOff);
      SmallVector<Value> bw = e.loadWords(qs, {gI, colRow, x}, kLoadElems / 2);
      for (int64_t h = 0; h < kLoadElems / 4; ++h) {
        SmallVector<Value> a{rows.a[j][2 * h], rows.b[j][2 * h],
                             rows.a[j][2 * h + 1], rows.b[j][2 * h + 1]};
        c = e.mmaBf16(a, {bw[2 * h], bw[2 * h + 1]}, c);
      }
    }
    for (Value &v : c)
      v = e.round(v, r.storage);
    return c;
  }

  Value headCombine(Value acc, Value v) {
    return r.head == HeadReduce::Mean ? e.add(acc, v) : e.max(acc, v);
  }

  /// The token-folded state of rows (rowA, rowB) after every pass.
  std::pair<SmallVector<Value>, SmallVector<Value>>
  scoreRows(Value rowA, Value rowB, Value validCols, Value valid,
            TokenFold &fold) {
    Value zero = e.index(0), one = e.index(1);
    Value lane = e.laneId();
    Value quad = e.remi(lane, e.index(kQuad));
    Value quadOff = e.muli(quad, e.index(kLoadElems));
    Value colInTile = e.divi(lane, e.index(kQuad));
    int64_t passCols = passTiles * kTileCols;
    Value passes = e.ceilDiv(validCols, e.index(passCols));
    SmallVector<Value> init = fold.init();
    init.append(fold.init());
    // One pass over `tiles` column tiles, straight-line so the tiles'
    // independent mma chains interleave.
    auto pass = [&](int64_t tiles, Value colBase, Value active,
                    ValueRange it) -> SmallVector<Value> {
      Value headInit = r.head == HeadReduce::Mean ? e.f32(0.0) : e.f32(kLowest);
      SmallVector<SmallVector<Value>> acc(tiles,
                                          SmallVector<Value>(4, headInit));
      Rows rows = loadKeys(0, rowA, rowB, quadOff);
      for (int64_t g = 0; g < r.hk; ++g) {
        // The next head's keys are in flight while this one's tiles run.
        Rows next;
        if (g + 1 < r.hk)
          next = loadKeys(g + 1, rowA, rowB, quadOff);
        // Groups of kStraightTiles column tiles run straight-line (their
        // mma chains interleave); later groups only where columns are.
        for (int64_t g0 = 0; g0 < tiles; g0 += kStraightTiles) {
          int64_t g1 = std::min(tiles, g0 + kStraightTiles);
          auto group = [&]() -> SmallVector<Value> {
            SmallVector<Value> out;
            for (int64_t nt = g0; nt < g1; ++nt) {
              // Columns past the valid ones only feed masked tokens;
              // rows past the staged ones are clamped, not read.
              Value colRow = e.mini(
                  e.addi(e.addi(colBase, e.index(nt * kTileCols)), colInTile),
                  e.index(columns - 1));
              SmallVector<Value> c = tileScores(rows, g, colRow, quadOff);
              for (int64_t i = 0; i < 4; ++i)
                out.push_back(headCombine(acc[nt][i], c[i]));
            }
            return out;
          };
          SmallVector<Value> out;
          if (g0 == 0) {
            out = group();
          } else {
            SmallVector<Value> keep;
            for (int64_t nt = g0; nt < g1; ++nt)
              keep.append(acc[nt].begin(), acc[nt].end());
            out = e.ifThenElse(e.cmpi(Pred::sgt, active, e.index(g0)),
                               SmallVector<Type>(keep.size(), e.f32Type()),
                               group, [&]() { return keep; });
          }
          for (int64_t nt = g0; nt < g1; ++nt)
            for (int64_t i = 0; i < 4; ++i)
              acc[nt][i] = out[4 * (nt - g0) + i];
        }
        rows = std::move(next);
      }
      // Finish the head reduction over the group's adjacent columns
      // and fold each distinct token once.
      SmallVector<Value> next(it.begin(), it.end());
      for (int64_t nt = 0; nt < tiles; ++nt) {
        Value col0 = e.addi(e.addi(colBase, e.index(nt * kTileCols)),
                            e.muli(quad, e.index(2)));
        for (int64_t half = 0; half < 2; ++half) {
          ArrayRef<Value> pair(acc[nt].data() + 2 * half, 2);
          SmallVector<Value> values, cols;
          Value representative = e.i1(true);
          if (group == 1) {
            values = {pair[0], pair[1]};
            cols = {col0, e.addi(col0, one)};
          } else {
            Value v = headCombine(pair[0], pair[1]);
            for (int64_t o = 1; 2 * o < group; o *= 2)
              v = headCombine(v, e.shuffleXor(v, o));
            values = {v};
            cols = {col0};
            if (group > 2)
              representative =
                  e.cmpi(Pred::eq, e.remi(quad, e.index(group / 2)), zero);
          }
          for (size_t i = 0; i < values.size(); ++i) {
            Value v = values[i];
            if (r.head == HeadReduce::Mean)
              v = e.round(e.div(v, e.f32(static_cast<double>(r.hq))),
                          r.storage);
            Value slot = e.divi(cols[i], e.index(group));
            Value ok = e.andI(representative, e.cmpi(Pred::ult, slot, valid));
            SmallVector<Value> folded =
                fold.add(ArrayRef<Value>(next).slice(2 * half, 2), v,
                         e.indexToF32(slot), ok);
            next[2 * half] = folded[0];
            next[2 * half + 1] = folded[1];
          }
        }
      }
      return next;
    };
    // Passes of passTiles column tiles; the last (or only) one takes the
    // smallest power-of-two variant that covers its valid columns.
    SmallVector<int64_t> variants;
    for (int64_t n = 1; n < std::min(passTiles, kStraightTiles); n *= 2)
      variants.push_back(n);
    variants.push_back(passTiles);
    SmallVector<Value> st =
        e.loop(zero, passes, 1, init,
               [&](Value p, ValueRange it) -> SmallVector<Value> {
                 Value colBase = e.muli(p, e.index(passCols));
                 Value active =
                     e.ceilDiv(e.subi(validCols, colBase), e.index(kTileCols));
                 SmallVector<Type> types(it.getTypes());
                 std::function<SmallVector<Value>(size_t)> choose =
                     [&](size_t v) -> SmallVector<Value> {
                   if (v + 1 == variants.size())
                     return pass(variants[v], colBase, active, it);
                   return e.ifThenElse(
                       e.cmpi(Pred::sle, active, e.index(variants[v])), types,
                       [&]() { return pass(variants[v], colBase, active, it); },
                       [&]() { return choose(v + 1); });
                 };
                 return choose(0);
               });
    SmallVector<Value> a(st.begin(), st.begin() + 2),
        b(st.begin() + 2, st.end());
    for (int64_t o = 1; o < kQuad; o *= 2) {
      a = fold.combine(a, o);
      b = fold.combine(b, o);
    }
    return {a, b};
  }

  SmallVector<Value> run(Value valid) {
    Value one = e.index(1);
    Value tokens = e.dim(q, 0);
    stage(tokens, valid);
    Value validCols = e.muli(valid, e.index(group));
    bool meanChunks = op.getChunkReduce() == ChunkReduce::Mean;
    Value chunkInit = meanChunks ? e.f32(0.0) : e.f32(kLowest);
    TokenFold fold{e, r.query, r.storage};

    // This warp's documents: an even share of the block's.
    Value blk = e.blockIdx(), w = e.warpId();
    Value blocks = e.dim(candS, 0);
    Value docs = e.subi(e.dim(coff, 0), one);
    Value first = e.divi(e.muli(docs, blk), blocks);
    Value last = e.divi(e.muli(docs, e.addi(blk, one)), blocks);
    Value n = e.subi(last, first);
    Value warps = e.index(e.warps());
    Value dA = e.addi(first, e.divi(e.muli(n, w), warps));
    Value dB = e.addi(first, e.divi(e.muli(n, e.addi(w, one)), warps));
    Value cA = e.loadIndex(coff, {dA}), cB = e.loadIndex(coff, {dB});

    Value lane = e.laneId();
    Value r0 = e.divi(lane, e.index(kQuad));
    // Lane l < 16 holds chunk row l's score for the document walk.
    Value srcLane = e.muli(e.remi(lane, e.index(kHalfRows)), e.index(kQuad));
    Value upperHalf = e.cmpi(Pred::uge, lane, e.index(kHalfRows));
    Value lastRow = e.subi(cB, one);

    SmallVector<Value> init{e.f32(-INFINITY), e.i32(-1), dA, chunkInit};
    SmallVector<Value> st =
        e.loop(cA, cB, kTileRows, init,
               [&](Value base, ValueRange it) -> SmallVector<Value> {
                 Value rowA = e.mini(e.addi(base, r0), lastRow);
                 Value rowB = e.mini(
                     e.addi(base, e.addi(r0, e.index(kHalfRows))), lastRow);
                 auto [sa, sb] = scoreRows(rowA, rowB, validCols, valid, fold);
                 Value scoreA = fold.finish(sa), scoreB = fold.finish(sb);
                 Value fromA = e.shuffleIdx(scoreA, srcLane);
                 Value fromB = e.shuffleIdx(scoreB, srcLane);
                 Value mine = e.select(upperHalf, fromB, fromA);
                 Value chunk = e.addi(base, lane);
                 Value tileEnd = e.mini(e.addi(base, e.index(kTileRows)), cB);
                 return walkDocuments(it, mine, chunk, base, tileEnd, dB,
                                      chunkInit, meanChunks);
               });
    // Documents without chunks after the last tile (or a warp whose
    // documents have none).
    SmallVector<Value> flushed =
        e.loop(st[2], dB, 1, {st[0], st[1]},
               [&](Value j, ValueRange top) -> SmallVector<Value> {
                 Value a = e.loadIndex(coff, {j});
                 Value b = e.loadIndex(coff, {e.addi(j, one)});
                 Value score = finishDocScore(e, chunkInit, e.subi(b, a),
                                              meanChunks, r.storage);
                 return insertDocument(e, top, score, j, k);
               });
    return flushed;
  }

  /// Folds the tile's chunk scores (lane l: chunk `chunk`, l < 16) into
  /// the documents from it[2] on: documents ending in the tile are scored
  /// and inserted, one reaching past it keeps its partial in it[3].
  SmallVector<Value> walkDocuments(ValueRange it, Value mine, Value chunk,
                                   Value base, Value tileEnd, Value dB,
                                   Value chunkInit, bool meanChunks) {
    Value one = e.index(1);
    Type f32 = e.f32Type(), i32 = e.b.getI32Type(), idx = e.b.getIndexType();
    SmallVector<Type> types{f32, i32, idx, f32, e.b.getI1Type()};
    SmallVector<Value> init(it.begin(), it.end());
    init.push_back(e.i1(false));
    Value docsEnd = e.subi(e.dim(coff, 0), one);
    auto loop = scf::WhileOp::create(e.b, e.loc, types, init);
    SmallVector<Location> locs(types.size(), e.loc);
    {
      OpBuilder::InsertionGuard guard(e.b);
      Block *before = e.b.createBlock(&loop.getBefore(), {}, types, locs);
      e.b.setInsertionPointToStart(before);
      Value j = before->getArgument(2);
      Value stop = before->getArgument(4);
      Value inRange = e.cmpi(Pred::slt, j, dB);
      Value jSafe = e.mini(j, e.subi(docsEnd, one));
      Value a = e.loadIndex(coff, {jSafe});
      Value b = e.loadIndex(coff, {e.addi(jSafe, one)});
      Value touches =
          e.orI(e.cmpi(Pred::slt, a, tileEnd), e.cmpi(Pred::sle, b, tileEnd));
      Value go = e.andI(e.notI(stop), e.andI(inRange, touches));
      scf::ConditionOp::create(e.b, e.loc, go, before->getArguments());

      Block *after = e.b.createBlock(&loop.getAfter(), {}, types, locs);
      e.b.setInsertionPointToStart(after);
      ValueRange s = after->getArguments();
      Value jj = s[2];
      Value a2 = e.loadIndex(coff, {jj});
      Value b2 = e.loadIndex(coff, {e.addi(jj, one)});
      Value lo = e.maxi(a2, base), hi = e.mini(b2, tileEnd);
      Value mineIn =
          e.andI(e.cmpi(Pred::sge, chunk, lo), e.cmpi(Pred::slt, chunk, hi));
      Value part = e.select(mineIn, mine, chunkInit);
      part = meanChunks ? e.warpSum(part) : e.warpMax(part);
      Value carry = meanChunks ? e.add(s[3], part) : e.max(s[3], part);
      Value ends = e.cmpi(Pred::sle, b2, tileEnd);
      SmallVector<Value> out = e.ifThenElse(
          ends, {f32, i32, idx, f32, e.b.getI1Type()},
          [&]() -> SmallVector<Value> {
            Value score =
                finishDocScore(e, carry, e.subi(b2, a2), meanChunks, r.storage);
            SmallVector<Value> top =
                insertDocument(e, ValueRange{s[0], s[1]}, score, jj, k);
            return {top[0], top[1], e.addi(jj, one), chunkInit, e.i1(false)};
          },
          [&]() -> SmallVector<Value> {
            return {s[0], s[1], jj, carry, e.i1(true)};
          });
      scf::YieldOp::create(e.b, e.loc, out);
    }
    return {loop.getResult(0), loop.getResult(1), loop.getResult(2),
            loop.getResult(3)};
  }
};

} // namespace

FailureOr<bool> emitRouteTopKTensorCore(
    RouteTopKOp op, const GpuKernelArgs &a, GpuEmitter &e,
    const std::function<SmallVector<Value>()> &fallback,
    SmallVector<Value> &list) {
  Value q = a.operands[0], keys = a.operands[1], mask = a.operands[2];
  Type storage = elementTypeOf(q);
  int64_t hq = staticDim(q, 1), hk = staticDim(keys, 0), d = staticDim(q, 2);
  if (!storage.isBF16() || ShapedType::isDynamic(hq) ||
      ShapedType::isDynamic(hk) || ShapedType::isDynamic(d) || hq % hk != 0 ||
      d % (kQuad * kLoadElems) != 0 || d % kStepK != 0 ||
      tileOf(op, "tensor_cores", 1) == 0)
    return false;
  int64_t group = hq / hk;
  if (group > kTileCols || (group & (group - 1)) != 0)
    return false;
  int64_t colBytes = hk * (d + kRowPad) * 2;
  int64_t columns =
      tileOf(op, "staged_columns",
             kStagedQueryBytes / colBytes / kTileCols * kTileCols);
  // Too few columns for one token of the group: the CUDA cores take it,
  // unless the tiles asked for that count.
  if (columns < std::max(kTileCols, group) &&
      tileOf(op, "staged_columns", 0) == 0)
    return false;
  int64_t passTiles = tileOf(op, "pass_tiles",
                             std::min(kMaxPassTiles, columns / kTileCols));
  if (columns < std::max(kTileCols, group) || columns % kTileCols != 0 ||
      passTiles < 1 || passTiles * kTileCols > columns)
    return op.emitOpError()
           << "tensor-core routing tiles need staged_columns a multiple of "
           << kTileCols << " holding a token's " << group
           << " columns and pass_tiles in [1, staged_columns / " << kTileCols
           << "]; got staged_columns " << columns << ", pass_tiles "
           << passTiles;
  FailureOr<LaneSplit> split = LaneSplit::of(op, d);
  if (failed(split))
    return failure();

  Route r{e,
          *split,
          hq,
          hk,
          d,
          op.getHeadReduce(),
          op.getQueryReduce(),
          op.getNormalize(),
          op.getScale(),
          storage};
  TensorCoreRoute tc{op,
                     e,
                     r,
                     q,
                     keys,
                     mask,
                     a.operands[3],
                     a.results[0],
                     group,
                     columns,
                     passTiles,
                     op.getKAttr().getInt(),
                     Value()};

  // Valid routing tokens, counted by every warp alike.
  Value tokens = e.dim(q, 0);
  SmallVector<Value> count = e.loop(
      e.laneId(), tokens, kWarpSize, {e.f32(0.0)},
      [&](Value t, ValueRange c) -> SmallVector<Value> {
        return {e.select(e.loadBool(mask, {t}), e.add(c[0], e.f32(1.0)), c[0])};
      });
  Value validF = e.warpSum(count[0]);
  Value valid = arith::IndexCastOp::create(
      e.b, e.loc, e.b.getIndexType(),
      arith::FPToSIOp::create(e.b, e.loc, e.b.getI32Type(), validF));
  Value fits =
      e.cmpi(Pred::sle, e.muli(valid, e.index(group)), e.index(columns));
  int64_t mark = e.sharedMark();
  list = e.ifThenElse(
      fits, {e.f32Type(), e.b.getI32Type()},
      [&]() -> SmallVector<Value> { return tc.run(valid); },
      [&]() -> SmallVector<Value> {
        e.sharedRewind(mark);
        return fallback();
      });
  return true;
}

} // namespace msa::codegen::cuda
