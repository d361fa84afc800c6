//===- EmitUtils.cpp - building blocks of the kernel lowerings ------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "EmitUtils.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

using namespace mlir;

namespace msa::codegen {

Type elementTypeOf(Value memref) {
  return cast<MemRefType>(memref.getType()).getElementType();
}

int64_t staticDim(Value memref, int64_t d) {
  return cast<MemRefType>(memref.getType()).getDimSize(d);
}

Value collapseToRows(Emitter &e, Value m) {
  auto t = cast<MemRefType>(m.getType());
  if (t.getRank() == 2)
    return m;
  if (t.getRank() == 1)
    return memref::ExpandShapeOp::create(
        e.b, e.loc, MemRefType::get({1, t.getDimSize(0)}, t.getElementType()),
        m, ArrayRef<ReassociationIndices>{{0, 1}},
        ArrayRef<OpFoldResult>{
            e.b.getIndexAttr(1),
            t.isDynamicDim(0)
                ? OpFoldResult(e.dim(m, 0))
                : OpFoldResult(e.b.getIndexAttr(t.getDimSize(0)))});
  ReassociationIndices lead;
  for (int64_t d = 0; d + 1 < t.getRank(); ++d)
    lead.push_back(d);
  return memref::CollapseShapeOp::create(
      e.b, e.loc, m, ArrayRef<ReassociationIndices>{lead, {t.getRank() - 1}});
}

Type Emitter::f32Type() { return b.getF32Type(); }

Value Emitter::index(int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

Value Emitter::f32(double v) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
}

Value Emitter::i32(int64_t v) {
  return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(v));
}

Value Emitter::dim(Value memref, int64_t d) {
  return memref::DimOp::create(b, loc, memref, d);
}

void Emitter::loop(Value lb, Value ub, int64_t step,
                   const std::function<void(Value)> &body) {
  auto forOp = scf::ForOp::create(b, loc, lb, ub, index(step));
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(forOp.getBody());
  body(forOp.getInductionVar());
}

SmallVector<Value> Emitter::loop(
    Value lb, Value ub, int64_t step, ValueRange init,
    const std::function<SmallVector<Value>(Value, ValueRange)> &body) {
  auto forOp = scf::ForOp::create(
      b, loc, lb, ub, index(step), init,
      [&](OpBuilder &nested, Location l, Value iv, ValueRange args) {
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        SmallVector<Value> next = body(iv, args);
        scf::YieldOp::create(b, l, next);
      });
  return SmallVector<Value>(forOp.getResults());
}

void Emitter::ifThen(Value cond, const std::function<void()> &then) {
  auto ifOp = scf::IfOp::create(b, loc, cond, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(ifOp.thenBlock());
  then();
}

SmallVector<Value>
Emitter::ifThenElse(Value cond, TypeRange types,
                    const std::function<SmallVector<Value>()> &then,
                    const std::function<SmallVector<Value>()> &otherwise) {
  auto ifOp = scf::IfOp::create(b, loc, types, cond, /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard g(b);
    // Without results the builder already put an empty scf.yield in each
    // block; build before it.
    auto fill = [&](Block *block,
                    const std::function<SmallVector<Value>()> &f) {
      if (types.empty()) {
        b.setInsertionPoint(block->getTerminator());
        (void)f();
      } else {
        b.setInsertionPointToStart(block);
        scf::YieldOp::create(b, loc, f());
      }
    };
    fill(ifOp.thenBlock(), then);
    fill(ifOp.elseBlock(), otherwise);
  }
  return SmallVector<Value>(ifOp.getResults());
}

Value Emitter::load(Value memref, ValueRange idx, int64_t width) {
  Type elem = elementTypeOf(memref);
  Value v;
  Type loaded;
  if (width == 1) {
    v = memref::LoadOp::create(b, loc, memref, idx);
    loaded = f32Type();
  } else {
    v = vector::LoadOp::create(b, loc, VectorType::get({width}, elem), memref,
                               idx);
    loaded = VectorType::get({width}, f32Type());
  }
  if (elem.isF32())
    return v;
  return arith::ExtFOp::create(b, loc, loaded, v);
}

void Emitter::store(Value value, Value memref, ValueRange idx) {
  Type elem = elementTypeOf(memref);
  if (!elem.isF32()) {
    Type t = elem;
    if (auto vt = dyn_cast<VectorType>(value.getType()))
      t = VectorType::get(vt.getShape(), elem);
    value = arith::TruncFOp::create(b, loc, t, value);
  }
  if (isa<VectorType>(value.getType()))
    vector::StoreOp::create(b, loc, value, memref, idx);
  else
    memref::StoreOp::create(b, loc, value, memref, idx);
}

Value Emitter::loadIndex(Value memref, ValueRange idx) {
  Value v = memref::LoadOp::create(b, loc, memref, idx);
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
}

Value Emitter::loadBool(Value memref, ValueRange idx) {
  return memref::LoadOp::create(b, loc, memref, idx);
}

Value Emitter::round(Value v, Type storage) {
  if (storage.isF32())
    return v;
  Type narrow = storage, wide = v.getType();
  if (auto vt = dyn_cast<VectorType>(wide))
    narrow = VectorType::get(vt.getShape(), storage);
  Value n = arith::TruncFOp::create(b, loc, narrow, v);
  return arith::ExtFOp::create(b, loc, wide, n);
}

Value Emitter::splat(Value scalar, int64_t width) {
  if (width == 1)
    return scalar;
  return vector::BroadcastOp::create(
      b, loc, VectorType::get({width}, scalar.getType()), scalar);
}

Value Emitter::reduceAdd(Value v) {
  if (!isa<VectorType>(v.getType()))
    return v;
  return vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, v);
}

Value Emitter::reduceMax(Value v) {
  if (!isa<VectorType>(v.getType()))
    return v;
  return vector::ReductionOp::create(b, loc, vector::CombiningKind::MAXNUMF, v);
}

Value Emitter::fma(Value a, Value x, Value c) {
  if (isa<VectorType>(a.getType()))
    return vector::FMAOp::create(b, loc, a, x, c);
  return math::FmaOp::create(b, loc, a, x, c);
}

Value Emitter::add(Value a, Value c) {
  return arith::AddFOp::create(b, loc, a, c);
}
Value Emitter::sub(Value a, Value c) {
  return arith::SubFOp::create(b, loc, a, c);
}
Value Emitter::mul(Value a, Value c) {
  return arith::MulFOp::create(b, loc, a, c);
}
Value Emitter::div(Value a, Value c) {
  return arith::DivFOp::create(b, loc, a, c);
}
Value Emitter::max(Value a, Value c) {
  return arith::MaxNumFOp::create(b, loc, a, c);
}
Value Emitter::exp(Value a) { return math::ExpOp::create(b, loc, a); }
Value Emitter::sqrt(Value a) { return math::SqrtOp::create(b, loc, a); }
Value Emitter::select(Value c, Value a, Value x) {
  return arith::SelectOp::create(b, loc, c, a, x);
}
Value Emitter::cmpf(arith::CmpFPredicate p, Value a, Value c) {
  return arith::CmpFOp::create(b, loc, p, a, c);
}
Value Emitter::cmpi(arith::CmpIPredicate p, Value a, Value c) {
  return arith::CmpIOp::create(b, loc, p, a, c);
}
Value Emitter::addi(Value a, Value c) {
  return arith::AddIOp::create(b, loc, a, c);
}
Value Emitter::subi(Value a, Value c) {
  return arith::SubIOp::create(b, loc, a, c);
}
Value Emitter::muli(Value a, Value c) {
  return arith::MulIOp::create(b, loc, a, c);
}
Value Emitter::divi(Value a, Value c) {
  return arith::DivUIOp::create(b, loc, a, c);
}
Value Emitter::remi(Value a, Value c) {
  return arith::RemUIOp::create(b, loc, a, c);
}
Value Emitter::mini(Value a, Value c) {
  return arith::MinSIOp::create(b, loc, a, c);
}
Value Emitter::maxi(Value a, Value c) {
  return arith::MaxSIOp::create(b, loc, a, c);
}
Value Emitter::ceilDiv(Value a, Value c) {
  return arith::CeilDivUIOp::create(b, loc, a, c);
}
Value Emitter::indexToF32(Value i) {
  Value i64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), i);
  return arith::SIToFPOp::create(b, loc, f32Type(), i64);
}
Value Emitter::indexToI32(Value i) {
  return arith::IndexCastOp::create(b, loc, b.getI32Type(), i);
}

Value Emitter::stackBuffer(ArrayRef<int64_t> shape, Type elem) {
  return memref::AllocaOp::create(b, loc, MemRefType::get(shape, elem));
}

Value Emitter::alloc(ArrayRef<int64_t> shape, ValueRange dynSizes, Type elem) {
  return memref::AllocOp::create(b, loc, MemRefType::get(shape, elem),
                                 dynSizes);
}

void Emitter::dealloc(Value m) { memref::DeallocOp::create(b, loc, m); }

double scaleOf(mlir::FloatAttr scale, int64_t d) {
  return scale ? scale.getValueAsDouble()
               : 1.0 / std::sqrt(static_cast<double>(d));
}

} // namespace msa::codegen
