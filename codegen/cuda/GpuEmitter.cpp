//===- GpuEmitter.cpp - building blocks of the cuda kernel lowerings ------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "GpuEmitter.h"

#include "msa/Codegen/HardwareLimits.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/SymbolTable.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace mlir;

namespace msa::codegen::cuda {

namespace {

/// Shared-memory tiles start on 16-byte boundaries: the widest access.
constexpr int64_t kSharedAlignment = kCudaMaxVectorBytes;

Attribute workgroupSpace(MLIRContext *ctx) {
  return gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
}

/// The suffix naming a module's RoPE constants for (head dim, theta as
/// its f32 bits).
std::string ropeSuffix(int64_t headDim, float theta) {
  uint32_t bits;
  std::memcpy(&bits, &theta, sizeof(bits));
  return "_d" + std::to_string(headDim) + "_t" + std::to_string(bits);
}

/// inv_freq[k] = 1 / theta^(2k / d) in f32: ropeInvFreq in
/// runtime/src/reference/Kernels.cpp, evaluated here.
SmallVector<float> ropeInvFreq(int64_t headDim, float theta) {
  SmallVector<float> inv;
  for (int64_t k = 0; k < headDim / 2; ++k)
    inv.push_back(1.0f / std::pow(theta, static_cast<float>(2 * k) /
                                             static_cast<float>(headDim)));
  return inv;
}

} // namespace

GpuEmitter::GpuEmitter(OpBuilder &b, Location loc, gpu::GPUModuleOp module,
                       int64_t threads)
    : Emitter(b, loc), module_(module), threads_(threads) {}

int64_t GpuEmitter::warps() const { return threads_ / kWarpSize; }

Value GpuEmitter::threadIdx() {
  return gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
}

void GpuEmitter::forEachItem(int64_t count,
                             const std::function<void(Value)> &body,
                             bool unrolled) {
  // A loop unless asked: unrolled inside a key loop, LLVM hoists every
  // round's addresses out of it, and the encode kernel's staging then
  // spills at 128 registers.
  if (!unrolled) {
    loop(threadIdx(), index(count), threads_, body);
    return;
  }
  Value t = threadIdx();
  for (int64_t first = 0; first < count; first += threads_) {
    Value u = addi(t, index(first));
    if (first + threads_ <= count)
      body(u);
    else
      ifThen(cmpi(arith::CmpIPredicate::ult, u, index(count)),
             [&] { body(u); });
  }
}

Value GpuEmitter::blockIdx() {
  return gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
}

Value GpuEmitter::laneId() { return remi(threadIdx(), index(kWarpSize)); }

Value GpuEmitter::warpId() { return divi(threadIdx(), index(kWarpSize)); }

void GpuEmitter::barrier() { gpu::BarrierOp::create(b, loc); }

Value GpuEmitter::shuffleXor(Value v, int64_t offset) {
  auto s = gpu::ShuffleOp::create(b, loc, v, static_cast<int32_t>(offset),
                                  static_cast<int32_t>(kWarpSize),
                                  gpu::ShuffleMode::XOR);
  return s.getShuffleResult();
}

Value GpuEmitter::shuffleIdx(Value v, Value lane) {
  Value laneI32 = indexToI32(lane);
  auto s = gpu::ShuffleOp::create(b, loc, v, laneI32, i32(kWarpSize),
                                  gpu::ShuffleMode::IDX);
  return s.getShuffleResult();
}

Value GpuEmitter::warpSum(Value v) {
  for (int64_t o = kWarpSize / 2; o > 0; o /= 2)
    v = add(v, shuffleXor(v, o));
  return v;
}

Value GpuEmitter::warpMax(Value v) {
  for (int64_t o = kWarpSize / 2; o > 0; o /= 2)
    v = max(v, shuffleXor(v, o));
  return v;
}

Value GpuEmitter::warpVote(Value pred, bool all) {
  return NVVM::VoteSyncOp::create(
      b, loc, b.getI1Type(),
      arith::ConstantIntOp::create(b, loc, b.getI32Type(), -1), pred,
      all ? NVVM::VoteSyncKind::all : NVVM::VoteSyncKind::any);
}

Value GpuEmitter::shared(ArrayRef<int64_t> shape, Type elem,
                         int64_t alignBytes) {
  MLIRContext *ctx = b.getContext();
  if (!sharedBase_) {
    // Created once at the top of the kernel so every tile dominates its
    // uses.
    OpBuilder::InsertionGuard g(b);
    auto fn = b.getInsertionBlock()->getParentOp();
    while (!isa<gpu::GPUFuncOp>(fn))
      fn = fn->getParentOp();
    b.setInsertionPointToStart(&cast<gpu::GPUFuncOp>(fn).getBody().front());
    sharedBase_ = gpu::DynamicSharedMemoryOp::create(
        b, loc,
        MemRefType::get({ShapedType::kDynamic}, b.getI8Type(), AffineMap(),
                        workgroupSpace(ctx)));
  }
  int64_t elems = 1;
  for (int64_t d : shape)
    elems *= d;
  int64_t bytes =
      elems * static_cast<int64_t>(elem.getIntOrFloatBitWidth() / 8);
  int64_t align = std::max(alignBytes, kSharedAlignment);
  int64_t offset = (sharedBytes_ + align - 1) / align * align;
  sharedBytes_ = offset;
  sharedBytes_ +=
      (bytes + kSharedAlignment - 1) / kSharedAlignment * kSharedAlignment;
  sharedHigh_ = std::max(sharedHigh_, sharedBytes_);
  auto type = MemRefType::get(shape, elem, AffineMap(), workgroupSpace(ctx));
  return memref::ViewOp::create(b, loc, type, sharedBase_, index(offset),
                                ValueRange{});
}

Value GpuEmitter::loadAligned(Value memref, ValueRange idx, int64_t width,
                              int64_t alignBytes) {
  if (width == 1)
    return load(memref, idx, 1);
  Type elem = elementTypeOf(memref);
  int64_t bytes =
      width * static_cast<int64_t>(elem.getIntOrFloatBitWidth() / 8);
  auto v = vector::LoadOp::create(b, loc, VectorType::get({width}, elem),
                                  memref, idx);
  v.setAlignment(static_cast<uint64_t>(alignBytes ? alignBytes : bytes));
  if (elem.isF32())
    return v.getResult();
  return arith::ExtFOp::create(b, loc, VectorType::get({width}, f32Type()),
                               v.getResult());
}

void GpuEmitter::storeAligned(Value value, Value memref, ValueRange idx,
                              int64_t alignBytes) {
  auto vt = dyn_cast<VectorType>(value.getType());
  if (!vt) {
    store(value, memref, idx);
    return;
  }
  Type elem = elementTypeOf(memref);
  if (vt.getElementType() != elem)
    value = arith::TruncFOp::create(
        b, loc, VectorType::get(vt.getShape(), elem), value);
  int64_t bytes = vt.getNumElements() *
                  static_cast<int64_t>(elem.getIntOrFloatBitWidth() / 8);
  auto s = vector::StoreOp::create(b, loc, value, memref, idx);
  s.setAlignment(static_cast<uint64_t>(alignBytes ? alignBytes : bytes));
}

Value GpuEmitter::loadRaw(Value memref, ValueRange idx, int64_t width) {
  Type elem = elementTypeOf(memref);
  auto v = vector::LoadOp::create(b, loc, VectorType::get({width}, elem),
                                  memref, idx);
  // Vectors start at multiples of their length (width & -width: the
  // largest power of two dividing it).
  v.setAlignment(static_cast<uint64_t>((width & -width) *
                                       (elem.getIntOrFloatBitWidth() / 8)));
  return v;
}

SmallVector<Value> GpuEmitter::loadWords(Value memref, ValueRange idx,
                                         int64_t words) {
  Value w = vector::BitCastOp::create(b, loc,
                                      VectorType::get({words}, b.getI32Type()),
                                      loadRaw(memref, idx, 2 * words));
  SmallVector<Value> out;
  for (int64_t i = 0; i < words; ++i)
    out.push_back(vector::ExtractOp::create(b, loc, w, i));
  return out;
}

SmallVector<Value> GpuEmitter::mmaBf16(ArrayRef<Value> a, ArrayRef<Value> bw,
                                       ArrayRef<Value> c) {
  Type f32 = f32Type();
  auto result =
      LLVM::LLVMStructType::getLiteral(b.getContext(), {f32, f32, f32, f32});
  Value d = NVVM::MmaOp::create(
      b, loc, result, a, bw, c, ArrayRef<int64_t>{16, 8, 16}, std::nullopt,
      std::nullopt,
      std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16, NVVM::MMATypes::bf16},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  SmallVector<Value> out;
  for (int64_t i = 0; i < 4; ++i)
    out.push_back(LLVM::ExtractValueOp::create(b, loc, d, i));
  return out;
}

Value GpuEmitter::packBf16(Value lo, Value hi) {
  Value v = vector::FromElementsOp::create(
      b, loc, VectorType::get({2}, f32Type()), ValueRange{lo, hi});
  Value h =
      arith::TruncFOp::create(b, loc, VectorType::get({2}, b.getBF16Type()), v);
  Value w = vector::BitCastOp::create(b, loc,
                                      VectorType::get({1}, b.getI32Type()), h);
  return vector::ExtractOp::create(b, loc, w, 0);
}

Value GpuEmitter::pointerTo(Value memref, ValueRange idx, unsigned space) {
  auto type = cast<MemRefType>(memref.getType());
  auto meta = memref::ExtractStridedMetadataOp::create(b, loc, memref);
  Value offset = meta.getOffset();
  for (unsigned i = 0; i < idx.size(); ++i)
    offset = addi(offset, muli(idx[i], meta.getStrides()[i]));
  int64_t bytes = type.getElementTypeBitWidth() / 8;
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref);
  Value addr = arith::IndexCastOp::create(b, loc, b.getI64Type(),
                                          addi(base, muli(offset, index(bytes))));
  auto ptrIn = [&](unsigned as) {
    return LLVM::LLVMPointerType::get(b.getContext(), as);
  };
  // Shared tiles live in the shared window already; kernel arguments are
  // generic pointers, cast to the global space as cvta.to.global would.
  bool isShared = type.getMemorySpace() != nullptr;
  Value ptr = LLVM::IntToPtrOp::create(b, loc, ptrIn(isShared ? space : 0), addr);
  if (!isShared && space != 0)
    ptr = LLVM::AddrSpaceCastOp::create(b, loc, ptrIn(space), ptr);
  return ptr;
}

void GpuEmitter::copyAsync16(Value dst, ValueRange dstIdx, Value src,
                             ValueRange srcIdx, Value valid) {
  // cp.async.cg (L2 only: the tile is read once per block) of 16 bytes,
  // reading none and zero-filling where !valid.
  Value size = arith::SelectOp::create(
      b, loc, valid, arith::ConstantIntOp::create(b, loc, b.getI32Type(), 16),
      arith::ConstantIntOp::create(b, loc, b.getI32Type(), 0));
  NVVM::CpAsyncOp::create(b, loc, pointerTo(dst, dstIdx, 3),
                          pointerTo(src, srcIdx, 1), 16,
                          NVVM::LoadCacheModifierKind::CG, size);
}

void GpuEmitter::copyAsyncCommit() { NVVM::CpAsyncCommitGroupOp::create(b, loc); }

void GpuEmitter::copyAsyncWait(int64_t pending) {
  NVVM::CpAsyncWaitGroupOp::create(b, loc, static_cast<int32_t>(pending));
}

SmallVector<Value> GpuEmitter::ldmatrixX4(Value tile, ValueRange idx,
                                          bool transpose) {
  Value ptr = pointerTo(tile, idx, 3);
  Type i32 = b.getI32Type();
  auto result =
      LLVM::LLVMStructType::getLiteral(b.getContext(), {i32, i32, i32, i32});
  Value m = NVVM::LdMatrixOp::create(
      b, loc, result, ptr, 4,
      transpose ? NVVM::MMALayout::col : NVVM::MMALayout::row,
      NVVM::LdStMatrixShapeAttr::get(b.getContext(), 8, 8),
      NVVM::LdStMatrixEltType::B16);
  SmallVector<Value> out;
  for (int64_t i = 0; i < 4; ++i)
    out.push_back(LLVM::ExtractValueOp::create(b, loc, m, i));
  return out;
}

Value GpuEmitter::exp2(Value a) {
  return LLVM::CallIntrinsicOp::create(
             b, loc, f32Type(), b.getStringAttr("llvm.nvvm.ex2.approx.ftz.f"),
             ValueRange{a})
      .getResult(0);
}

Value GpuEmitter::exp(Value a) {
  auto scalar = [&](Value x) -> Value {
    Value y = mul(x, f32(M_LOG2E));
    return LLVM::CallIntrinsicOp::create(
               b, loc, f32Type(), b.getStringAttr("llvm.nvvm.ex2.approx.ftz.f"),
               ValueRange{y})
        .getResult(0);
  };
  auto vt = dyn_cast<VectorType>(a.getType());
  if (!vt)
    return scalar(a);
  Value out = a;
  for (int64_t i = 0; i < vt.getNumElements(); ++i) {
    Value x = vector::ExtractOp::create(b, loc, a, i);
    out = vector::InsertOp::create(b, loc, scalar(x), out, i);
  }
  return out;
}

Value GpuEmitter::sqrt(Value a) {
  return LLVM::CallIntrinsicOp::create(b, loc, f32Type(),
                                       b.getStringAttr("llvm.nvvm.sqrt.rn.f"),
                                       ValueRange{a})
      .getResult(0);
}

Value GpuEmitter::max(Value a, Value c) {
  if (isa<VectorType>(a.getType()))
    return select(cmpf(arith::CmpFPredicate::OGE, a, c), a, c);
  return LLVM::CallIntrinsicOp::create(b, loc, f32Type(),
                                       b.getStringAttr("llvm.maxnum.f32"),
                                       ValueRange{a, c})
      .getResult(0);
}

std::pair<Value, Value> GpuEmitter::sinCos(Value x) {
  // j = round(x * 2/pi); r = x - j pi/2 with pi/2 split in three parts so
  // each product is exact; then the polynomials on [-pi/4, pi/4] and the
  // quadrant's sign and swap.
  Value y = mul(x, f32(0.636619772f));
  Value half =
      select(cmpf(arith::CmpFPredicate::OLT, y, f32(0.0)), f32(-0.5), f32(0.5));
  Value q = arith::FPToSIOp::create(b, loc, b.getI32Type(), add(y, half));
  Value j = arith::SIToFPOp::create(b, loc, f32Type(), q);
  Value r = fma(j, f32(-1.57079601e+00f), x);
  r = fma(j, f32(-3.13916473e-07f), r);
  r = fma(j, f32(-5.39030253e-15f), r);
  Value s = mul(r, r);
  Value ps = fma(f32(2.86567956e-6f), s, f32(-1.98559923e-4f));
  ps = fma(ps, s, f32(8.33338592e-3f));
  ps = fma(ps, s, f32(-1.66666672e-1f));
  Value sinR = fma(mul(ps, s), r, r);
  Value pc = fma(f32(2.44677067e-5f), s, f32(-1.38877297e-3f));
  pc = fma(pc, s, f32(4.16666567e-2f));
  pc = fma(pc, s, f32(-5.00000000e-1f));
  Value cosR = fma(pc, s, f32(1.0));
  Value quadrant = arith::AndIOp::create(b, loc, q, i32(3));
  Value odd = cmpi(arith::CmpIPredicate::eq,
                   arith::AndIOp::create(b, loc, quadrant, i32(1)), i32(1));
  // Quadrants 1 and 3 swap sin and cos; sin is negative in 2 and 3, cos in
  // 1 and 2.
  Value sinBase = select(odd, cosR, sinR);
  Value cosBase = select(odd, sinR, cosR);
  Value sinNeg = cmpi(arith::CmpIPredicate::uge, quadrant, i32(2));
  Value cosNeg = orI(cmpi(arith::CmpIPredicate::eq, quadrant, i32(1)),
                     cmpi(arith::CmpIPredicate::eq, quadrant, i32(2)));
  Value sinV = select(sinNeg, arith::NegFOp::create(b, loc, sinBase), sinBase);
  Value cosV = select(cosNeg, arith::NegFOp::create(b, loc, cosBase), cosBase);
  return {sinV, cosV};
}

std::pair<Value, Value> GpuEmitter::ropeTables(int64_t headDim, double theta) {
  int64_t half = headDim / 2;
  float thetaF = static_cast<float>(theta);
  std::string suffix = ropeSuffix(headDim, thetaF);
  Type bf16 = b.getBF16Type();
  auto type = MemRefType::get({kRopeTablePositions, half}, bf16);
  if (!SymbolTable::lookupSymbolIn(module_, "msa_rope_cos" + suffix)) {
    // rope in runtime/src/reference/Kernels.cpp: f32 angles, the C
    // library's cosf and sinf, rounded to nearest even.
    SmallVector<float> inv = ropeInvFreq(headDim, thetaF);
    auto toBf16 = [](float v) {
      llvm::APFloat f(v);
      bool lost;
      f.convert(llvm::APFloat::BFloat(), llvm::APFloat::rmNearestTiesToEven,
                &lost);
      return static_cast<uint16_t>(f.bitcastToAPInt().getZExtValue());
    };
    std::vector<uint16_t> cosV, sinV;
    cosV.reserve(kRopeTablePositions * half);
    sinV.reserve(kRopeTablePositions * half);
    for (int64_t pos = 0; pos < kRopeTablePositions; ++pos)
      for (int64_t k = 0; k < half; ++k) {
        float angle = static_cast<float>(pos) * inv[k];
        cosV.push_back(toBf16(std::cos(angle)));
        sinV.push_back(toBf16(std::sin(angle)));
      }
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(module_.getBody());
    auto tensor = RankedTensorType::get({kRopeTablePositions, half}, bf16);
    for (auto [name, values] :
         {std::pair{"msa_rope_cos", &cosV}, std::pair{"msa_rope_sin", &sinV}})
      memref::GlobalOp::create(
          b, loc, name + suffix, b.getStringAttr("private"), type,
          DenseElementsAttr::getFromRawBuffer(
              tensor,
              ArrayRef<char>(reinterpret_cast<const char *>(values->data()),
                             values->size() * sizeof(uint16_t))),
          /*constant=*/true, b.getI64IntegerAttr(16));
  }
  return {memref::GetGlobalOp::create(b, loc, type, "msa_rope_cos" + suffix),
          memref::GetGlobalOp::create(b, loc, type, "msa_rope_sin" + suffix)};
}

Value GpuEmitter::invFreq(int64_t headDim, double theta, Value i) {
  int64_t half = headDim / 2;
  float thetaF = static_cast<float>(theta);
  std::string name = "msa_inv_freq" + ropeSuffix(headDim, thetaF);
  auto type = MemRefType::get({half}, f32Type());
  if (!SymbolTable::lookupSymbolIn(module_, name)) {
    SmallVector<float> values = ropeInvFreq(headDim, thetaF);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(module_.getBody());
    memref::GlobalOp::create(
        b, loc, name, b.getStringAttr("private"), type,
        DenseElementsAttr::get(RankedTensorType::get({half}, f32Type()),
                               ArrayRef<float>(values)),
        /*constant=*/true, IntegerAttr());
  }
  Value table = memref::GetGlobalOp::create(b, loc, type, name);
  return memref::LoadOp::create(b, loc, table, ValueRange{i});
}

std::pair<Value, Value> GpuEmitter::ropeCosSin(Value pos, int64_t headDim,
                                               double theta, Value i,
                                               Type storage) {
  Value angle = mul(indexToF32(pos), invFreq(headDim, theta, i));
  auto [s, c] = sinCos(angle);
  return {round(c, storage), round(s, storage)};
}

Value GpuEmitter::i1(bool v) {
  return arith::ConstantIntOp::create(b, loc, v ? 1 : 0, 1);
}
Value GpuEmitter::andI(Value a, Value c) {
  return arith::AndIOp::create(b, loc, a, c);
}
Value GpuEmitter::orI(Value a, Value c) {
  return arith::OrIOp::create(b, loc, a, c);
}
Value GpuEmitter::notI(Value a) {
  return arith::XOrIOp::create(b, loc, a, i1(true));
}

Value GpuEmitter::upperSegment(Value offsets, Value n, Value t) {
  // Binary lifting: pos ends on the last s with offsets[s] <= t. Offsets
  // are sorted, so each step either moves pos up by 2^bit or not. From -1,
  // bits below bitlength(n) reach n - 1 and no further steps are needed.
  Value n64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), n);
  Value bits = arith::IndexCastOp::create(
      b, loc, b.getIndexType(),
      arith::SubIOp::create(
          b, loc, arith::ConstantIntOp::create(b, loc, b.getI64Type(), 64),
          math::CountLeadingZerosOp::create(b, loc, n64)));
  SmallVector<Value> st =
      loop(index(0), bits, 1, {index(-1)},
           [&](Value iter, ValueRange it) -> SmallVector<Value> {
             Value bit = subi(subi(bits, index(1)), iter);
             Value step = arith::ShLIOp::create(b, loc, index(1), bit);
             Value cand = addi(it[0], step);
             Value inRange = cmpi(arith::CmpIPredicate::slt, cand, n);
             SmallVector<Value> r = ifThenElse(
                 inRange, {b.getIndexType()},
                 [&]() -> SmallVector<Value> {
                   Value v = loadIndex(offsets, {cand});
                   return {select(cmpi(arith::CmpIPredicate::sle, v, t), cand,
                                  it[0])};
                 },
                 [&]() -> SmallVector<Value> { return {it[0]}; });
             return r;
           });
  return st[0];
}

FailureOr<LaneSplit> LaneSplit::of(Operation *op, int64_t d) {
  LaneSplit s;
  if (d % kWarpSize == 0) {
    s.width = std::min<int64_t>(d / kWarpSize, kCudaMaxVectorBytes / 2);
    s.slots = d / (kWarpSize * s.width);
    return s;
  }
  if (d < kWarpSize) {
    s.active = d;
    return s;
  }
  return op->emitOpError() << "head dim " << d
                           << " is neither below 32 nor a multiple of 32 "
                              "(cuda lowering)";
}

Value LaneSplit::offset(GpuEmitter &e, int64_t slot) const {
  return e.addi(e.muli(e.laneId(), e.index(width)),
                e.index(slot * kWarpSize * width));
}

Value LaneSplit::holds(GpuEmitter &e) const {
  if (active == kWarpSize)
    return e.i1(true);
  return e.cmpi(arith::CmpIPredicate::ult, e.laneId(), e.index(active));
}

SmallVector<Value> LaneSplit::load(GpuEmitter &e, Value mem,
                                   SmallVector<Value> prefix) const {
  SmallVector<Value> v;
  prefix.push_back(Value());
  for (int64_t k = 0; k < slots; ++k) {
    prefix.back() = offset(e, k);
    if (active == kWarpSize) {
      v.push_back(e.loadAligned(mem, prefix, width));
      continue;
    }
    // Idle lanes read element 0 and contribute nothing.
    Value h = holds(e);
    SmallVector<Value> idx(prefix);
    idx.back() = e.select(h, idx.back(), e.index(0));
    v.push_back(e.select(h, e.load(mem, idx, 1), e.f32(0.0)));
  }
  return v;
}

void LaneSplit::store(GpuEmitter &e, ArrayRef<Value> values, Value mem,
                      SmallVector<Value> prefix) const {
  prefix.push_back(Value());
  e.ifThen(holds(e), [&] {
    for (int64_t k = 0; k < slots; ++k) {
      prefix.back() = offset(e, k);
      e.storeAligned(values[k], mem, prefix);
    }
  });
}

} // namespace msa::codegen::cuda
