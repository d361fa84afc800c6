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
// Routing tokens are compacted (masked ones never reach the tensor cores).
// The entry below picks the body by the number of valid tokens: the wgmma
// body (GpuRouteWarpgroup.cpp) where the tiles ask for it and its staged
// columns hold them, else this one where its staged columns do, else the
// CUDA-core body.
//
//===----------------------------------------------------------------------===//

#include "GpuRouteTiles.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

namespace msa::codegen::cuda {

namespace {

/// mma.sync m16n8k16: chunks per A tile, columns per B tile, head-dim
/// elements per step.
constexpr int64_t kTileRows = kRouteTileRows, kTileCols = kRouteTileCols,
                  kStepK = 16;
/// Head-dim elements a lane loads at once: 16 bytes of bf16.
constexpr int64_t kLoadElems = 8;
constexpr int64_t kQuad = kRouteQuad, kHalfRows = kRouteHalfRows;
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

struct TensorCoreRoute {
  GpuEmitter &e;
  Route r;
  RouteTiles &t;
  Value q, keys, mask, candS;
  int64_t group, columns, passTiles;

  Value qs; ///< staged queries [hk, columns, d + pad]

  /// Prepared queries of the valid tokens, compacted: column slot group +
  /// (h % group) of KV head h / group. A warp per query head, walking the
  /// tokens in order so slots need no prefix sums; columns past the last
  /// valid token's up to the next column tile are zeros.
  void stage(Value tokens, Value valid) {
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
    forEachStagedColumn(e, mask, tokens, r.hq, group,
                        [&](Value g, Value col, Value h, Value t) {
                          r.storeSlots(r.prepare(r.slots(q, {t, h})), qs,
                                       {g, col});
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

  /// The chunk scores of rows (rowA, rowB), every pass's tokens folded.
  std::pair<Value, Value> scoreRows(Value rowA, Value rowB, Value validCols,
                                    Value valid) {
    Value zero = e.index(0);
    Value lane = e.laneId();
    Value quad = e.remi(lane, e.index(kQuad));
    Value quadOff = e.muli(quad, e.index(kLoadElems));
    Value colInTile = e.divi(lane, e.index(kQuad));
    int64_t passCols = passTiles * kTileCols;
    Value passes = e.ceilDiv(validCols, e.index(passCols));
    SmallVector<Value> init = t.fold.init();
    init.append(t.fold.init());
    // One pass over `tiles` column tiles, straight-line so the tiles'
    // independent mma chains interleave.
    auto pass = [&](int64_t tiles, Value colBase, Value active,
                    ValueRange it) -> SmallVector<Value> {
      SmallVector<SmallVector<Value>> acc(
          tiles, SmallVector<Value>(4, t.headInit()));
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
                out.push_back(t.headCombine(acc[nt][i], c[i]));
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
      return t.foldTokens(acc, colBase, valid, it);
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
    return t.rowScores(st);
  }

  SmallVector<Value> run(Value valid) {
    Value one = e.index(1);
    Value tokens = e.dim(q, 0);
    stage(tokens, valid);
    Value validCols = e.muli(valid, e.index(group));

    // This warp's documents: an even share of the block's.
    Value blk = e.blockIdx(), w = e.warpId();
    Value blocks = e.dim(candS, 0);
    Value docs = e.subi(e.dim(t.coff, 0), one);
    Value first = e.divi(e.muli(docs, blk), blocks);
    Value last = e.divi(e.muli(docs, e.addi(blk, one)), blocks);
    Value n = e.subi(last, first);
    Value warps = e.index(e.warps());
    Value dA = e.addi(first, e.divi(e.muli(n, w), warps));
    Value dB = e.addi(first, e.divi(e.muli(n, e.addi(w, one)), warps));
    Value cA = e.loadIndex(t.coff, {dA}), cB = e.loadIndex(t.coff, {dB});

    Value lane = e.laneId();
    Value r0 = e.divi(lane, e.index(kQuad));
    // Lane l < 16 holds chunk row l's score for the document walk.
    Value srcLane = e.muli(e.remi(lane, e.index(kHalfRows)), e.index(kQuad));
    Value upperHalf = e.cmpi(Pred::uge, lane, e.index(kHalfRows));
    Value lastRow = e.subi(cB, one);

    SmallVector<Value> init{e.f32(-INFINITY), e.i32(-1), dA, t.chunkInit()};
    SmallVector<Value> st =
        e.loop(cA, cB, kTileRows, init,
               [&](Value base, ValueRange it) -> SmallVector<Value> {
                 Value rowA = e.mini(e.addi(base, r0), lastRow);
                 Value rowB = e.mini(
                     e.addi(base, e.addi(r0, e.index(kHalfRows))), lastRow);
                 auto [scoreA, scoreB] =
                     scoreRows(rowA, rowB, validCols, valid);
                 Value fromA = e.shuffleIdx(scoreA, srcLane);
                 Value fromB = e.shuffleIdx(scoreB, srcLane);
                 Value mine = e.select(upperHalf, fromB, fromA);
                 Value chunk = e.addi(base, lane);
                 Value tileEnd = e.mini(e.addi(base, e.index(kTileRows)), cB);
                 return t.walkDocuments(it, mine, chunk, base, tileEnd, dB);
               });
    // Documents without chunks after the last tile (or a warp whose
    // documents have none).
    return t.flush(st, dB);
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
  RouteTiles tiles{e,
                   op.getHeadReduce(),
                   hq,
                   group,
                   op.getKAttr().getInt(),
                   storage,
                   a.operands[3],
                   op.getChunkReduce() == ChunkReduce::Mean,
                   TokenFold{e, op.getQueryReduce(), storage}};

  // wgmma: keys through a cp.async ring, both operands in shared memory.
  bool wg = tileOf(op, "wgmma", 0) == 1;
  int64_t wgColumns = 0, stages = 0;
  if (wg) {
    int64_t warpgroups = e.threads() / kWarpgroupThreads;
    int64_t mark = e.sharedMark();
    int64_t panels = d / kSwizzlePanelElems;
    stages = tileOf(op, "stages", 0);
    // A lane's query slot (split->width elements) must stay inside one
    // 16-byte chunk of the swizzled tile.
    bool shapes = d % kSwizzlePanelElems == 0 &&
                  kChunkElems % split->width == 0 &&
                  e.threads() % kWarpgroupThreads == 0 && stages >= 2 * panels;
    bool asked = tileOf(op, "staged_columns", 0) != 0;
    wgColumns = tileOf(op, "staged_columns",
                       shapes ? warpgroupRouteColumns(mark, hk, d, warpgroups,
                                                      stages)
                              : 0);
    // Heads too large for one token's columns beside the ring: mma.sync or
    // the CUDA cores take it, unless the tiles asked for that count.
    if (shapes && !asked && wgColumns < std::max(kTileCols, group)) {
      wg = false;
    } else if (!shapes || wgColumns < std::max(kTileCols, group) ||
               wgColumns % kTileCols != 0 ||
               !warpgroupRouteFits(mark, hk, d, warpgroups, stages,
                                   wgColumns)) {
      return op.emitOpError()
             << "wgmma routing tiles need a head dim of whole "
             << kSwizzlePanelElems << "-element panels (lanes' query slots in "
             << "16-byte chunks), whole warpgroups, stages >= 2 x panels and "
             << "staged_columns a multiple of " << kTileCols
             << " holding a token's " << group
             << " columns, all within shared memory; got head dim " << d
             << ", threads " << e.threads() << ", stages " << stages
             << ", staged_columns " << wgColumns;
    }
  }
  // mma.sync: on its own, or for more tokens than the wgmma body stages.
  int64_t colBytes = hk * (d + kRowPad) * 2;
  int64_t defaultColumns = kStagedQueryBytes / colBytes / kTileCols * kTileCols;
  int64_t columns =
      wg ? defaultColumns : tileOf(op, "staged_columns", defaultColumns);
  int64_t passTiles = tileOf(op, "pass_tiles",
                             std::min(kMaxPassTiles, columns / kTileCols));
  // Too few columns for one token of the group: the CUDA cores take it,
  // unless the tiles asked for that count.
  bool mma = columns >= std::max(kTileCols, group) ||
             (!wg && tileOf(op, "staged_columns", 0) != 0);
  if (mma && (columns < std::max(kTileCols, group) ||
              columns % kTileCols != 0 || passTiles < 1 ||
              passTiles * kTileCols > columns))
    return op.emitOpError()
           << "tensor-core routing tiles need staged_columns a multiple of "
           << kTileCols << " holding a token's " << group
           << " columns and pass_tiles in [1, staged_columns / " << kTileCols
           << "]; got staged_columns " << columns << ", pass_tiles "
           << passTiles;
  if (!wg && !mma)
    return false;
  TensorCoreRoute tc{e,     r,       tiles,   q,       keys,    mask,
                     a.results[0], group, columns, passTiles, Value()};

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
  Value validCols = e.muli(valid, e.index(group));
  Type f32 = e.f32Type(), i32 = e.b.getI32Type();
  int64_t mark = e.sharedMark();
  auto cudaCores = [&]() -> SmallVector<Value> {
    e.sharedRewind(mark);
    return fallback();
  };
  auto mmaOrCores = [&]() -> SmallVector<Value> {
    if (!mma)
      return cudaCores();
    e.sharedRewind(mark);
    return e.ifThenElse(e.cmpi(Pred::sle, validCols, e.index(columns)),
                        {f32, i32},
                        [&]() -> SmallVector<Value> { return tc.run(valid); },
                        cudaCores);
  };
  if (!wg) {
    list = mmaOrCores();
    return true;
  }
  list = e.ifThenElse(
      e.cmpi(Pred::sle, validCols, e.index(wgColumns)), {f32, i32},
      [&]() -> SmallVector<Value> {
        return emitRouteWarpgroupBody(e, r, tiles, q, keys, mask,
                                      a.results[0], valid, wgColumns, stages);
      },
      mmaOrCores);
  return true;
}

} // namespace msa::codegen::cuda
