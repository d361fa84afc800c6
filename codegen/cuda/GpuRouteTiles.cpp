//===- GpuRouteTiles.cpp - what the tensor-core route bodies share --------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "GpuRouteTiles.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

namespace msa::codegen::cuda {

void forEachStagedColumn(
    GpuEmitter &e, Value mask, Value tokens, int64_t hq, int64_t group,
    const std::function<void(Value, Value, Value, Value)> &store) {
  Value zero = e.index(0), one = e.index(1);
  e.loop(e.warpId(), e.index(hq), e.warps(), [&](Value h) {
    Value g = e.divi(h, e.index(group));
    Value inGroup = e.remi(h, e.index(group));
    e.loop(zero, tokens, 1, {zero}, [&](Value t, ValueRange slot) {
      Value isValid = e.loadBool(mask, {t});
      e.ifThen(isValid, [&] {
        store(g, e.addi(e.muli(slot[0], e.index(group)), inGroup), h, t);
      });
      return SmallVector<Value>{
          e.select(isValid, e.addi(slot[0], one), slot[0])};
    });
  });
}

SmallVector<Value> TokenFold::init() {
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

SmallVector<Value> TokenFold::add(ArrayRef<Value> st, Value v, Value slot,
                                  Value valid) {
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

SmallVector<Value> TokenFold::combine(ArrayRef<Value> st, int64_t offset) {
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

Value TokenFold::finish(ArrayRef<Value> st) {
  if (mode != QueryReduce::Mean)
    return st[0];
  Value any = e.cmpf(FPred::OGT, st[1], e.f32(0.0));
  Value mean =
      e.round(e.div(st[0], e.select(any, st[1], e.f32(1.0))), storage);
  return e.select(any, mean, e.f32(kLowest));
}

Value RouteTiles::headInit() {
  return head == HeadReduce::Mean ? e.f32(0.0) : e.f32(kLowest);
}

Value RouteTiles::headCombine(Value acc, Value v) {
  return head == HeadReduce::Mean ? e.add(acc, v) : e.max(acc, v);
}

Value RouteTiles::chunkInit() {
  return meanChunks ? e.f32(0.0) : e.f32(kLowest);
}

SmallVector<Value> RouteTiles::foldTokens(ArrayRef<SmallVector<Value>> acc,
                                          Value colBase, Value valid,
                                          ValueRange states) {
  Value zero = e.index(0), one = e.index(1);
  Value quad = e.remi(e.laneId(), e.index(kRouteQuad));
  SmallVector<Value> next(states.begin(), states.end());
  for (size_t nt = 0; nt < acc.size(); ++nt) {
    Value col0 = e.addi(
        e.addi(colBase, e.index(static_cast<int64_t>(nt) * kRouteTileCols)),
        e.muli(quad, e.index(2)));
    for (int64_t half = 0; half < 2; ++half) {
      ArrayRef<Value> pair(acc[nt].data() + 2 * half, 2);
      SmallVector<Value> values, cols;
      Value representative = e.i1(true);
      if (group == 1) {
        values = {pair[0], pair[1]};
        cols = {col0, e.addi(col0, one)};
      } else {
        // The group's heads are adjacent columns: in-lane, then across
        // the quad.
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
        if (head == HeadReduce::Mean)
          v = e.round(e.div(v, e.f32(static_cast<double>(hq))), storage);
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
}

std::pair<Value, Value> RouteTiles::rowScores(ValueRange states) {
  SmallVector<Value> a(states.begin(), states.begin() + 2),
      b(states.begin() + 2, states.end());
  for (int64_t o = 1; o < kRouteQuad; o *= 2) {
    a = fold.combine(a, o);
    b = fold.combine(b, o);
  }
  return {fold.finish(a), fold.finish(b)};
}

SmallVector<Value> RouteTiles::walkDocuments(ValueRange it, Value mine,
                                             Value chunk, Value base,
                                             Value tileEnd, Value dB) {
  Value one = e.index(1);
  Value init0 = chunkInit();
  Type f32 = e.f32Type(), i32 = e.b.getI32Type(), idx = e.b.getIndexType();
  SmallVector<Type> types{f32, i32, idx, f32, e.b.getI1Type()};
  SmallVector<Value> init(it.begin(), it.end());
  init.push_back(e.i1(false));
  Value docsEnd = e.subi(e.dim(coff, 0), one);
  // The document's bounds go from the condition to the body: one pair of
  // dependent loads an iteration.
  SmallVector<Type> bodyTypes(types);
  bodyTypes.append({idx, idx});
  auto loop = scf::WhileOp::create(e.b, e.loc, bodyTypes, init);
  SmallVector<Location> locs(types.size(), e.loc);
  SmallVector<Location> bodyLocs(bodyTypes.size(), e.loc);
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
    SmallVector<Value> forward(before->getArguments());
    forward.append({a, b});
    scf::ConditionOp::create(e.b, e.loc, go, forward);

    Block *after = e.b.createBlock(&loop.getAfter(), {}, bodyTypes, bodyLocs);
    e.b.setInsertionPointToStart(after);
    ValueRange s = after->getArguments();
    Value jj = s[2];
    // j < dB here, so j is jSafe.
    Value a2 = s[5], b2 = s[6];
    Value lo = e.maxi(a2, base), hi = e.mini(b2, tileEnd);
    Value mineIn =
        e.andI(e.cmpi(Pred::sge, chunk, lo), e.cmpi(Pred::slt, chunk, hi));
    Value part = e.select(mineIn, mine, init0);
    part = meanChunks ? e.warpSum(part) : e.warpMax(part);
    Value carry = meanChunks ? e.add(s[3], part) : e.max(s[3], part);
    Value ends = e.cmpi(Pred::sle, b2, tileEnd);
    SmallVector<Value> out = e.ifThenElse(
        ends, {f32, i32, idx, f32, e.b.getI1Type()},
        [&]() -> SmallVector<Value> {
          Value score =
              finishDocScore(e, carry, e.subi(b2, a2), meanChunks, storage);
          SmallVector<Value> top =
              insertDocument(e, ValueRange{s[0], s[1]}, score, jj, k);
          return {top[0], top[1], e.addi(jj, one), chunkInit(), e.i1(false)};
        },
        [&]() -> SmallVector<Value> {
          return {s[0], s[1], jj, carry, e.i1(true)};
        });
    scf::YieldOp::create(e.b, e.loc, out);
  }
  return {loop.getResult(0), loop.getResult(1), loop.getResult(2),
          loop.getResult(3)};
}

SmallVector<Value> RouteTiles::flush(ValueRange it, Value dB) {
  Value one = e.index(1);
  return e.loop(it[2], dB, 1, {it[0], it[1]},
                [&](Value j, ValueRange top) -> SmallVector<Value> {
                  Value a = e.loadIndex(coff, {j});
                  Value b = e.loadIndex(coff, {e.addi(j, one)});
                  Value score = finishDocScore(e, chunkInit(), e.subi(b, a),
                                               meanChunks, storage);
                  return insertDocument(e, top, score, j, k);
                });
}

} // namespace msa::codegen::cuda
