//===- GpuRouting.h - pieces shared by the cuda routing kernels -*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// What the CUDA-core route kernels (GpuEmitRouting.cpp) and the tensor-core
// route_topk (GpuRouteTensorCore.cpp) share: query preparation (spec §4.3
// steps 1-2) and the head reduction of one warp, candidate order, the
// document score, and the warps' sorted candidate lists with their merge.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_CODEGEN_CUDA_GPUROUTING_H
#define MSA_CODEGEN_CUDA_GPUROUTING_H

#include "GpuEmitters.h"

#include "msa/Codegen/HardwareLimits.h"
#include "msa/Codegen/KernelInterface.h"
#include "msa/Dialect/MsaOps.h"

namespace msa::codegen::cuda {

using mlir::ArrayRef;
using mlir::SmallVector;
using mlir::Type;
using mlir::Value;

struct Route {
  GpuEmitter &e;
  LaneSplit split;
  int64_t hq, hk, d;
  HeadReduce head;
  QueryReduce query;
  bool normalize, scale;
  Type storage;

  SmallVector<Value> slots(Value mem, SmallVector<Value> prefix) {
    return split.load(e, mem, std::move(prefix));
  }
  void storeSlots(ArrayRef<Value> v, Value mem, SmallVector<Value> prefix) {
    split.store(e, v, mem, std::move(prefix));
  }

  /// NORM and SCALE of one head vector (spec §4.3 steps 1-2), rounded as
  /// the reference rounds.
  SmallVector<Value> prepare(SmallVector<Value> v) {
    if (normalize) {
      Value ss = e.f32(0.0);
      for (Value x : v)
        ss = e.add(ss, e.reduceAdd(e.mul(x, x)));
      Value norm = e.round(e.sqrt(e.warpSum(ss)), storage);
      Value denom = e.splat(e.max(norm, e.f32(1e-12)), split.width);
      for (Value &x : v)
        x = e.round(e.div(x, denom), storage);
    }
    if (scale) {
      Value s = e.splat(
          e.f32(static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)))),
          split.width);
      for (Value &x : v)
        x = e.round(e.mul(x, s), storage);
    }
    return v;
  }

  /// Score of one routing token against a chunk whose key slots are `keys`
  /// (per KV head): head-reduced, rounded (spec §4.3 steps 3-5).
  Value tokenScore(const std::function<SmallVector<Value>(int64_t)> &queryOf,
                   ArrayRef<SmallVector<Value>> keys) {
    // Each lane's share of every head's dot product.
    SmallVector<Value> partial;
    for (int64_t h = 0; h < hq; ++h) {
      SmallVector<Value> q = queryOf(h);
      const SmallVector<Value> &k = keys[h / (hq / hk)];
      Value p = e.f32(0.0);
      for (int64_t s = 0; s < split.slots; ++s)
        p = e.add(p, e.reduceAdd(e.mul(q[s], k[s])));
      partial.push_back(p);
    }
    if (hq > kWarpSize)
      return reduceHeads(partial);
    // Transposing reduction: each butterfly step halves the values a lane
    // carries, sending the half its partner keeps, so n heads cost n - 1
    // shuffles instead of 5 n; lane l ends with head l >> (5 - log2 n).
    int64_t n = 1;
    while (n < hq)
      n *= 2;
    partial.resize(static_cast<size_t>(n), e.f32(0.0));
    Value lane = e.laneId();
    int64_t offset = kWarpSize / 2;
    for (; n > 1; n /= 2, offset /= 2) {
      Value upper =
          e.cmpi(mlir::arith::CmpIPredicate::ne,
                 e.remi(e.divi(lane, e.index(offset)), e.index(2)), e.index(0));
      SmallVector<Value> next;
      for (int64_t i = 0; i < n / 2; ++i) {
        Value lo = partial[i], hi = partial[i + n / 2];
        Value keep = e.select(upper, hi, lo), send = e.select(upper, lo, hi);
        next.push_back(e.add(keep, e.shuffleXor(send, offset)));
      }
      partial = next;
    }
    Value total = partial[0];
    for (; offset > 0; offset /= 2)
      total = e.add(total, e.shuffleXor(total, offset));
    // Head reduction over the lanes' distinct heads (the top bits of the
    // lane); padding heads are neutral.
    int64_t heads = 1;
    while (heads < hq)
      heads *= 2;
    int64_t shift = 0;
    while ((kWarpSize >> shift) > heads)
      ++shift;
    Value myHead = e.divi(lane, e.index(int64_t(1) << shift));
    Value real = e.cmpi(mlir::arith::CmpIPredicate::ult, myHead, e.index(hq));
    bool mean = head == HeadReduce::Mean;
    Value v = e.select(real, e.round(total, storage),
                       mean ? e.f32(0.0) : e.f32(kLowest));
    for (int64_t o = kWarpSize / 2; o >= (int64_t(1) << shift); o /= 2) {
      Value other = e.shuffleXor(v, o);
      v = mean ? e.add(v, other) : e.max(v, other);
    }
    if (mean)
      v = e.round(e.div(v, e.f32(static_cast<double>(hq))), storage);
    return v;
  }

  /// The head reduction with a warp sum per head (more heads than lanes).
  Value reduceHeads(ArrayRef<Value> partial) {
    Value acc = head == HeadReduce::Mean ? e.f32(0.0) : e.f32(kLowest);
    for (Value p : partial) {
      Value score = e.round(e.warpSum(p), storage);
      acc = head == HeadReduce::Mean ? e.add(acc, score) : e.max(acc, score);
    }
    if (head == HeadReduce::Mean)
      acc = e.round(e.div(acc, e.f32(static_cast<double>(hq))), storage);
    return acc;
  }
};

/// The better of two candidates: higher score, then lower id; id < 0 is
/// never better.
Value better(GpuEmitter &e, Value s, Value id, Value os, Value oid);
/// The warp's best (score, id) of every lane's candidate, in every lane.
std::pair<Value, Value> warpBest(GpuEmitter &e, Value s, Value id);
/// Whether (s, id) comes after (ps, pid) in (score desc, id asc) order.
Value after(GpuEmitter &e, Value s, Value id, Value ps, Value pid);
/// The document score from the sum or max of its chunks (spec §4.3 step
/// 7); `count` chunks, `storage` the rounding type.
Value finishDocScore(GpuEmitter &e, Value acc, Value count, bool mean,
                     Type storage);

/// Inserts document `doc` (index) with `score` into the warp's best-k list
/// {scores, ids} (lane l holds entry l, descending); documents come in
/// increasing id order, so an equal score already listed stays ahead.
SmallVector<Value> insertDocument(GpuEmitter &e, mlir::ValueRange list,
                                  Value score, Value doc, int64_t k);

/// The block's k candidates from the warps' lists (lane l holds entry l),
/// through listS/listI [warps, 32] in shared memory, written to
/// candS[blk, :] and candI[blk, :] by warp 0.
void mergeWarpLists(GpuEmitter &e, mlir::ValueRange list, int64_t k,
                    Value listS, Value listI, Value candS, Value candI,
                    Value blk);

/// The warps' best-k lists of route_topk on the tensor cores, where its
/// shapes allow (bf16, power-of-two GQA groups of at most 8, a head dim
/// divisible by 32): returns false without emitting anything otherwise,
/// failure (with an error on `op`) for tiles it cannot use.
/// More routing tokens than the staged queries hold run `fallback`, the
/// CUDA-core body, which returns its lists.
mlir::FailureOr<bool> emitRouteTopKTensorCore(
    RouteTopKOp op, const GpuKernelArgs &a, GpuEmitter &e,
    const std::function<SmallVector<Value>()> &fallback,
    SmallVector<Value> &list);

} // namespace msa::codegen::cuda

#endif // MSA_CODEGEN_CUDA_GPUROUTING_H
