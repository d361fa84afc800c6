//===- GpuRouteWarpgroup.cpp - route_topk on Hopper's wgmma ---------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// route_topk reads every router key once. With mma.sync the scores of 16
// routing tokens cost as much time as HBM takes to deliver the keys, and a
// warp waits for its keys before it multiplies, so the two add up (52 % of
// HBM bandwidth at 16 tokens on an H200). Here a warpgroup scores 64 chunks
// at once with wgmma, both operands in shared memory:
//
//   A (64 x d)  = 64 consecutive chunks' keys of one KV head, a ring stage
//                 per 64-element panel of the head dim (P of them), filled
//                 by cp.async `stages - P` panels ahead, so HBM streams
//                 while the tensor cores work;
//   B (64 x N)  = the prepared routing queries of that KV head, a column per
//                 (valid routing token, query head of the group), staged
//                 once per block, N the smallest variant holding them;
//   D (64 x N)  = f32, rounded to bf16 per head (spec §4.3 step 3) and
//                 reduced over KV heads in registers.
//
// Both are 128-byte swizzled tiles, as encode_docs' (GpuEmitter::
// swizzledIndex). A warp's D rows arrive in mma.sync's accumulator layout,
// so the head, token and chunk reductions are GpuRouteTiles'. A warpgroup
// owns a contiguous run of documents; its four warps' chunk scores meet in
// shared memory and the first warp walks them into documents and its best-k
// list while the ring keeps loading.
//
//===----------------------------------------------------------------------===//

#include "GpuRouteTiles.h"

using namespace mlir;

namespace msa::codegen::cuda {

namespace {

/// The widest wgmma N of the body: its accumulators and the head-reduced
/// partials (N / 2 registers each) stay within 255 registers a thread; at
/// N = 256 they spill.
constexpr int64_t kMaxColumns = 128;
static_assert(kMaxColumns <= kWgmmaMaxN, "wgmma's N");

/// Shared memory of the key ring and of a tile's chunk scores.
int64_t ringBytes(int64_t warpgroups, int64_t stages) {
  return warpgroups * stages * kWgmmaRows * kSwizzlePanelElems * 2;
}
int64_t scoreBytes(int64_t warpgroups) {
  return warpgroups * kWgmmaRows * 4;
}
/// The first swizzled tile starts at the next swizzle alignment after
/// `mark`; the query tile (whole 8-row atoms) and the ring keep it.
int64_t alignedMark(int64_t mark) {
  return (mark + kTmaSwizzleAlignmentBytes - 1) / kTmaSwizzleAlignmentBytes *
         kTmaSwizzleAlignmentBytes;
}

struct WarpgroupRoute {
  GpuEmitter &e;
  Route &r;
  RouteTiles &t;
  Value q, keys, mask, candS;
  int64_t columns, stages;

  int64_t panels() const { return r.d / kSwizzlePanelElems; }
  int64_t stepsPerTile() const { return r.hk * panels(); }

  Value qs;     ///< staged queries [hk, panels, columns, 64], swizzled
  Value ring;   ///< key stages [warpgroups, stages, 1, 64, 64], swizzled
  Value scores; ///< the chunk scores of a tile [warpgroups, 64]

  /// The prepared queries of the valid tokens, compacted as the mma.sync
  /// body stages them (column slot group + h % group of KV head h /
  /// group), and zeros in the columns past them.
  void stage(Value tokens, Value valid) {
    int64_t group = t.group;
    qs = e.shared(GpuEmitter::swizzledShape({r.hk}, columns, r.d), r.storage,
                  kTmaSwizzleAlignmentBytes);
    Value used = e.muli(valid, e.index(group));
    Value padCols = e.subi(e.index(columns), used);
    int64_t chunks = r.d / kChunkElems;
    // Whole rows of zeros, 16 bytes a store; any chunk order fills them.
    e.loop(e.threadIdx(), e.muli(e.index(r.hk * chunks), padCols),
           e.threads(), [&](Value u) {
             Value x = e.muli(e.remi(u, e.index(chunks)),
                              e.index(kChunkElems));
             Value rest = e.divi(u, e.index(chunks));
             Value col = e.addi(used, e.remi(rest, padCols));
             Value g = e.divi(rest, padCols);
             e.storeAligned(e.splat(e.f32(0.0), kChunkElems), qs,
                            e.swizzledIndex({g}, col, x));
           });
    forEachStagedColumn(
        e, mask, tokens, r.hq, group, [&](Value g, Value col, Value h, Value t) {
          SmallVector<Value> v = r.prepare(r.slots(q, {t, h}));
          // A lane's slot is `width` elements (dividing 8) from a multiple
          // of width: inside one 16-byte chunk.
          for (int64_t k = 0; k < r.split.slots; ++k) {
            Value x = r.split.offset(e, k);
            Value x0 = e.muli(e.divi(x, e.index(kChunkElems)),
                              e.index(kChunkElems));
            SmallVector<Value> idx = e.swizzledIndex({g}, col, x0);
            idx.back() = e.addi(idx.back(), e.subi(x, x0));
            e.storeAligned(v[k], qs, idx);
          }
        });
    e.barrier();
  }

  /// Issues the copies of ring step `step` of the warpgroup (tile step /
  /// stepsPerTile, KV head and panel from the rest) into its stage, zeros
  /// for chunks past cB; one commit group, so the waits count steps.
  void load(Value wgI, Value tid, Value step, Value cA, Value cB) {
    Value tile = e.divi(step, e.index(stepsPerTile()));
    Value within = e.remi(step, e.index(stepsPerTile()));
    Value g = e.divi(within, e.index(panels()));
    Value p = e.remi(within, e.index(panels()));
    Value slot = e.remi(step, e.index(stages));
    Value base = e.addi(cA, e.muli(tile, e.index(kWgmmaRows)));
    int64_t perRow = kSwizzlePanelElems / kChunkElems;
    for (int64_t i = 0; i < kWgmmaRows * perRow / kWarpgroupThreads; ++i) {
      Value c = e.addi(tid, e.index(i * kWarpgroupThreads));
      Value row = e.divi(c, e.index(perRow));
      Value x = e.muli(e.remi(c, e.index(perRow)), e.index(kChunkElems));
      Value chunk = e.addi(base, row);
      // Steps past the last tile start at or past cB too.
      Value ok = e.cmpi(Pred::slt, chunk, cB);
      Value src = e.select(ok, chunk, e.index(0));
      e.copyAsync16(ring, e.swizzledIndex({wgI, slot}, row, x), keys,
                    {g, src, e.addi(e.muli(p, e.index(kSwizzlePanelElems)), x)}, ok);
    }
    e.copyAsyncCommit();
  }

  /// The K-major descriptors of a panel's k-steps: one base, the rest
  /// advanced inside the wgmma statement.
  SmallVector<GpuEmitter::WgmmaDesc> panelDescs(Value tile,
                                                SmallVector<Value> at) {
    Value base = e.kMajorDescriptor(tile, at);
    SmallVector<GpuEmitter::WgmmaDesc> descs;
    for (int64_t kk = 0; kk < kSwizzlePanelElems / kWgmmaBf16K; ++kk)
      descs.push_back({base, kk * kWgmmaBf16K * 2 / kWgmmaDescUnitBytes});
    return descs;
  }

  /// The warpgroup's documents with an `n`-column wgmma: the list of this
  /// warp (the first warp of the warpgroup walks; the others keep none).
  SmallVector<Value> body(int64_t n, Value valid, Value wgI, Value tid,
                          Value barrier, Value walker, Value dA, Value dB,
                          Value cA, Value cB) {
    Value zero = e.index(0);
    Value lane = e.laneId();
    Value warpInGroup = e.remi(e.warpId(), e.index(kWarpgroupWarps));
    Value r0 = e.divi(lane, e.index(kRouteQuad));
    Value rowA = e.addi(e.muli(warpInGroup, e.index(kRouteTileRows)), r0);
    Value tiles = e.ceilDiv(e.subi(cB, cA), e.index(kWgmmaRows));
    Type f32 = e.f32Type();

    SmallVector<Value> init{e.f32(-INFINITY), e.i32(-1), dA, t.chunkInit()};
    SmallVector<Value> st = e.loop(
        zero, tiles, 1, init,
        [&](Value ti, ValueRange it) -> SmallVector<Value> {
          Value base = e.addi(cA, e.muli(ti, e.index(kWgmmaRows)));
          SmallVector<Value> headInit(n / 2, t.headInit());
          SmallVector<Value> head = e.loop(
              zero, e.index(r.hk), 1, headInit,
              [&](Value g, ValueRange hacc) -> SmallVector<Value> {
                // Head g's panels are ring steps first .. first + P - 1.
                Value first = e.muli(
                    e.addi(e.muli(ti, e.index(r.hk)), g), e.index(panels()));
                // They have landed for every thread, and the stages the
                // next copies overwrite were read by the previous head's
                // wgmma, waited for before this barrier.
                e.copyAsyncWait(stages - 2 * panels());
                e.fenceProxyAsyncShared();
                e.namedBarrier(barrier, kWarpgroupThreads);
                for (int64_t p = 0; p < panels(); ++p)
                  load(wgI, tid,
                       e.addi(first, e.index(stages - panels() + p)), cA, cB);
                // One wgmma group over the head dim: the panels' k-steps.
                SmallVector<GpuEmitter::WgmmaDesc> aDescs, bDescs;
                for (int64_t p = 0; p < panels(); ++p) {
                  Value slot =
                      e.remi(e.addi(first, e.index(p)), e.index(stages));
                  aDescs.append(panelDescs(ring, {wgI, slot, zero, zero, zero}));
                  bDescs.append(panelDescs(qs, {g, e.index(p), zero, zero}));
                }
                SmallVector<Value> acc = e.wgmmaWait(
                    e.wgmma({}, n, aDescs, {}, bDescs, /*transposeB=*/false));
                SmallVector<Value> out;
                for (int64_t i = 0; i < n / 2; ++i)
                  out.push_back(
                      t.headCombine(hacc[i], e.round(acc[i], r.storage)));
                return out;
              });
          SmallVector<SmallVector<Value>> quads;
          for (int64_t i = 0; i < n / 2; i += 4)
            quads.emplace_back(head.begin() + i, head.begin() + i + 4);
          SmallVector<Value> states = t.fold.init();
          states.append(t.fold.init());
          auto [scoreA, scoreB] =
              t.rowScores(t.foldTokens(quads, zero, valid, states));
          e.ifThen(e.cmpi(Pred::eq, e.remi(lane, e.index(kRouteQuad)), zero),
                   [&] {
                     e.store(scoreA, scores, {wgI, rowA});
                     e.store(scoreB, scores,
                             {wgI, e.addi(rowA, e.index(kRouteHalfRows))});
                   });
          e.namedBarrier(barrier, kWarpgroupThreads);
          SmallVector<Type> types{f32, e.b.getI32Type(), e.b.getIndexType(),
                                  f32};
          return e.ifThenElse(
              walker, types,
              [&]() -> SmallVector<Value> {
                SmallVector<Value> s(it.begin(), it.end());
                for (int64_t h = 0; h < kWgmmaRows; h += kWarpSize) {
                  Value sub = e.addi(base, e.index(h));
                  Value mine = e.load(
                      scores, {wgI, e.addi(lane, e.index(h))});
                  Value end = e.mini(e.addi(sub, e.index(kWarpSize)), cB);
                  s = t.walkDocuments(s, mine, e.addi(sub, lane), sub, end,
                                      dB);
                }
                return s;
              },
              [&]() -> SmallVector<Value> {
                return SmallVector<Value>(it.begin(), it.end());
              });
        });
    // The ring's last copies (zero fills past cB) land before the
    // warpgroup moves on.
    e.copyAsyncWait(0);
    return e.ifThenElse(
        walker, {f32, e.b.getI32Type()},
        [&]() -> SmallVector<Value> { return t.flush(st, dB); },
        [&]() -> SmallVector<Value> {
          return {e.f32(-INFINITY), e.i32(-1)};
        });
  }

  SmallVector<Value> run(Value valid) {
    Value one = e.index(1);
    stage(e.dim(q, 0), valid);
    int64_t warpgroups = e.threads() / kWarpgroupThreads;
    ring = e.shared(GpuEmitter::swizzledShape({warpgroups, stages},
                                              kWgmmaRows, kSwizzlePanelElems),
                    r.storage, kTmaSwizzleAlignmentBytes);
    scores = e.shared({warpgroups, kWgmmaRows}, e.f32Type());

    // This warpgroup's documents: an even share of the block's.
    Value blk = e.blockIdx();
    Value wgI = e.divi(e.warpId(), e.index(kWarpgroupWarps));
    Value tid = e.remi(e.threadIdx(), e.index(kWarpgroupThreads));
    Value barrier = e.indexToI32(e.addi(wgI, e.index(kFirstWarpgroupBarrier)));
    Value walker = e.cmpi(
        Pred::eq, e.remi(e.warpId(), e.index(kWarpgroupWarps)), e.index(0));
    Value blocks = e.dim(candS, 0);
    Value docs = e.subi(e.dim(t.coff, 0), one);
    Value first = e.divi(e.muli(docs, blk), blocks);
    Value last = e.divi(e.muli(docs, e.addi(blk, one)), blocks);
    Value nDocs = e.subi(last, first);
    Value wgs = e.index(warpgroups);
    Value dA = e.addi(first, e.divi(e.muli(nDocs, wgI), wgs));
    Value dB = e.addi(first, e.divi(e.muli(nDocs, e.addi(wgI, one)), wgs));
    Value cA = e.loadIndex(t.coff, {dA}), cB = e.loadIndex(t.coff, {dB});

    // The ring's first stages in flight before the variant is chosen: a
    // head's panels are read while the next heads' stages - P load.
    for (int64_t s = 0; s < stages - panels(); ++s)
      load(wgI, tid, e.index(s), cA, cB);

    // The smallest variant holding the valid columns (powers of two from
    // 8, then all staged columns): N is part of the instruction.
    SmallVector<int64_t> variants;
    for (int64_t n = kRouteTileCols; n < columns; n *= 2)
      variants.push_back(n);
    variants.push_back(columns);
    Value validCols = e.muli(valid, e.index(t.group));
    std::function<SmallVector<Value>(size_t)> choose =
        [&](size_t v) -> SmallVector<Value> {
      auto emit = [&]() {
        return body(variants[v], valid, wgI, tid, barrier, walker, dA, dB, cA,
                    cB);
      };
      if (v + 1 == variants.size())
        return emit();
      return e.ifThenElse(
          e.cmpi(Pred::sle, validCols, e.index(variants[v])),
          {e.f32Type(), e.b.getI32Type()}, emit,
          [&]() { return choose(v + 1); });
    };
    return choose(0);
  }
};

} // namespace

int64_t warpgroupRouteColumns(int64_t mark, int64_t hk, int64_t d,
                              int64_t warpgroups, int64_t stages) {
  int64_t left = kSm90MaxSmemPerBlockBytes - alignedMark(mark) -
                 ringBytes(warpgroups, stages) - scoreBytes(warpgroups);
  if (left <= 0)
    return 0;
  int64_t cols = left / (hk * d * 2) / kRouteTileCols * kRouteTileCols;
  return std::min(cols, kMaxColumns);
}

bool warpgroupRouteFits(int64_t mark, int64_t hk, int64_t d,
                        int64_t warpgroups, int64_t stages, int64_t columns) {
  return columns <= kMaxColumns &&
         alignedMark(mark) + hk * d * 2 * columns +
                 ringBytes(warpgroups, stages) + scoreBytes(warpgroups) <=
             kSm90MaxSmemPerBlockBytes;
}

SmallVector<Value> emitRouteWarpgroupBody(GpuEmitter &e, Route &r,
                                          RouteTiles &t, Value q, Value keys,
                                          Value mask, Value candS, Value valid,
                                          int64_t columns, int64_t stages) {
  WarpgroupRoute wg{e, r, t, q, keys, mask, candS, columns, stages,
                    Value(), Value(), Value()};
  return wg.run(valid);
}

} // namespace msa::codegen::cuda
