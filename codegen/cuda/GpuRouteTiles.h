//===- GpuRouteTiles.h - what the tensor-core route bodies share -*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// route_topk's tensor-core bodies (mma.sync, GpuRouteTensorCore.cpp; wgmma,
// GpuRouteWarpgroup.cpp) both leave a warp with scores in the m16n8
// accumulator layout: rows (chunks) lane / 4 and lane / 4 + 8, columns
// (token, query head of the KV head's group) 2 (lane % 4) + {0, 1} of each
// 8-column tile. From there on they are the same: the head reduction over
// a group's adjacent columns, the token reduction (spec §4.3 steps 4-6),
// and the walk that reduces chunks into documents and keeps the best k
// (step 7).
//
//===----------------------------------------------------------------------===//

#ifndef MSA_CODEGEN_CUDA_GPUROUTETILES_H
#define MSA_CODEGEN_CUDA_GPUROUTETILES_H

#include "GpuRouting.h"

namespace msa::codegen::cuda {

/// mma.sync m16n8k16 and the accumulator layout: chunks per tile, columns
/// per tile, lanes per row (a quad) and rows per fragment half.
constexpr int64_t kRouteTileRows = 16, kRouteTileCols = 8;
constexpr int64_t kRouteQuad = 4, kRouteHalfRows = 8;

/// The token reduction of one lane's rows: value, and the count (mean) or
/// the slot of the value (last).
struct TokenFold {
  GpuEmitter &e;
  QueryReduce mode;
  Type storage;

  SmallVector<Value> init();
  /// Folds token `slot` (f32) with head-reduced score `v` where `valid`.
  SmallVector<Value> add(ArrayRef<Value> st, Value v, Value slot, Value valid);
  /// Combines with the partner lane `offset` away.
  SmallVector<Value> combine(ArrayRef<Value> st, int64_t offset);
  /// The chunk score (spec §4.3 step 6); no valid token scores lowest.
  Value finish(ArrayRef<Value> st);
};

struct RouteTiles {
  GpuEmitter &e;
  HeadReduce head;
  int64_t hq, group, k;
  Type storage;
  Value coff;
  bool meanChunks;
  TokenFold fold;

  Value headInit();
  Value headCombine(Value acc, Value v);
  /// What a chunk reduction starts from.
  Value chunkInit();
  /// The token states of the lane's two rows (fold.init() for each, in
  /// `states`) after folding the head-combined accumulators `acc` (four per
  /// 8-column tile, columns colBase + 8 nt + ...); `valid` tokens.
  SmallVector<Value> foldTokens(ArrayRef<SmallVector<Value>> acc,
                                Value colBase, Value valid,
                                mlir::ValueRange states);
  /// The chunk scores of the lane's two rows once the quad has combined
  /// its token states.
  std::pair<Value, Value> rowScores(mlir::ValueRange states);
  /// Folds chunk scores (lane l: `mine`, of chunk `chunk`) of [base,
  /// tileEnd) into the documents from it[2] on, it = {list score, list id,
  /// next document, partial}: documents ending by tileEnd are scored and
  /// inserted, one reaching past it keeps its partial.
  SmallVector<Value> walkDocuments(mlir::ValueRange it, Value mine, Value chunk,
                                   Value base, Value tileEnd, Value dB);
  /// Inserts the documents [it[2], dB) left after the last tile (without
  /// chunks): returns the list.
  SmallVector<Value> flush(mlir::ValueRange it, Value dB);
};

/// For every valid routing token (compacted: the s-th valid one takes
/// column slot s) and query head h, a warp per query head, in token order
/// so slots need no prefix sums: store(KV head h / group, column
/// s group + h % group, h, token).
void forEachStagedColumn(
    GpuEmitter &e, Value mask, Value tokens, int64_t hq, int64_t group,
    const std::function<void(Value, Value, Value, Value)> &store);

/// The query columns route_topk's wgmma body stages beside a key ring of
/// `stages` 8 KiB stages per warpgroup when the block's shared memory is
/// used up to `mark` bytes (a multiple of 8, at most 128), and whether
/// `columns` fit.
int64_t warpgroupRouteColumns(int64_t mark, int64_t hk, int64_t d,
                              int64_t warpgroups, int64_t stages);
bool warpgroupRouteFits(int64_t mark, int64_t hk, int64_t d,
                        int64_t warpgroups, int64_t stages, int64_t columns);
/// route_topk's wgmma body (GpuRouteWarpgroup.cpp) for `valid` routing
/// tokens, at most columns / group of them: the warp's best-k list.
SmallVector<Value> emitRouteWarpgroupBody(GpuEmitter &e, Route &r,
                                          RouteTiles &t, Value q, Value keys,
                                          Value mask, Value candS, Value valid,
                                          int64_t columns, int64_t stages);

} // namespace msa::codegen::cuda

#endif // MSA_CODEGEN_CUDA_GPUROUTETILES_H
