//===- GpuWarpgroupMma.cpp - Hopper wgmma as inline PTX -------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// wgmma.mma_async, its fence, commit and wait, and the shared-memory
// descriptors, written as inline PTX: LLVM 22's nvvm.wgmma.mma_async has no
// register-A form (FlashAttention's P V takes P from registers), and one
// asm statement per group keeps LLVM from placing moves of in-flight
// accumulators between an issue and its wait. The wait takes the
// accumulators as tied operands, so code reading them depends on it.
//
//===----------------------------------------------------------------------===//

#include "GpuEmitter.h"

#include "msa/Codegen/HardwareLimits.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

#include <string>

using namespace mlir;

namespace msa::codegen::cuda {

namespace {

/// Descriptor fields (PTX ISA 9.7.15.5.1.2): addresses and offsets in
/// 16-byte units; start address bits 0-13, leading offset 16-29, stride
/// offset 32-45, swizzle mode 62-63 (1: 128-byte swizzle).
constexpr int64_t kDescUnitBytes = kWgmmaDescUnitBytes;
constexpr int64_t kDescFieldMask = (1 << 14) - 1;
constexpr int64_t kDescLeadingShift = 16, kDescStrideShift = 32,
                  kDescSwizzleShift = 62;
constexpr int64_t kDescSwizzle128B = 1;

/// A side-effecting inline PTX statement (AT&T dialect, as NVPTX takes it).
LLVM::InlineAsmOp inlinePtx(OpBuilder &b, Location loc, Type result,
                            ValueRange operands, StringRef text,
                            StringRef constraints) {
  return LLVM::InlineAsmOp::create(
      b, loc, result, operands, text, constraints, /*has_side_effects=*/true,
      /*is_align_stack=*/false, LLVM::tailcallkind::TailCallKind::None,
      LLVM::AsmDialectAttr::get(b.getContext(), LLVM::AsmDialect::AD_ATT),
      ArrayAttr());
}

/// "{$first, ..., $first + count - 1}"
std::string registerList(int64_t first, int64_t count) {
  std::string s = "{";
  for (int64_t i = 0; i < count; ++i)
    s += (i ? ", $" : "$") + std::to_string(first + i);
  return s + "}";
}

/// `count` constraints `kind` ("=f"), or tied to outputs [0, count).
std::string constraints(const std::string &kind, int64_t count, bool tied) {
  std::string s;
  for (int64_t i = 0; i < count; ++i)
    s += (s.empty() ? "" : ",") + (tied ? std::to_string(i) : kind);
  return s;
}

} // namespace

SmallVector<int64_t> GpuEmitter::swizzledShape(SmallVector<int64_t> prefix,
                                               int64_t rows, int64_t cols) {
  prefix.append({cols / kSwizzlePanelElems, rows, kSwizzlePanelElems});
  return prefix;
}

SmallVector<Value> GpuEmitter::swizzledIndex(SmallVector<Value> prefix,
                                             Value r, Value col) {
  Value chunk = remi(divi(col, index(kChunkElems)), index(kSwizzleAtomRows));
  Value swizzled =
      arith::XOrIOp::create(b, loc, chunk, remi(r, index(kSwizzleAtomRows)));
  prefix.append({divi(col, index(kSwizzlePanelElems)), r,
                 muli(swizzled, index(kChunkElems))});
  return prefix;
}

void GpuEmitter::namedBarrier(Value id, int64_t count) {
  inlinePtx(b, loc, Type(), ValueRange{id},
            "bar.sync $0, " + std::to_string(count) + ";", "r");
}

Value GpuEmitter::sharedAddress(Value tile, ValueRange idx) {
  return LLVM::PtrToIntOp::create(b, loc, b.getI64Type(),
                                  pointerTo(tile, idx, kSharedAddressSpace));
}

Value GpuEmitter::kMajorDescriptor(Value tile, ValueRange idx) {
  return wgmmaDescriptor(sharedAddress(tile, idx), kDescUnitBytes,
                         kSwizzleAtomRows * kSwizzleBytes);
}

Value GpuEmitter::wgmmaDescriptor(Value address, int64_t leadingBytes,
                                  int64_t strideBytes) {
  Type i64 = b.getI64Type();
  auto c = [&](int64_t v) {
    return arith::ConstantIntOp::create(b, loc, i64, v).getResult();
  };
  int64_t fields =
      ((leadingBytes / kDescUnitBytes) & kDescFieldMask) << kDescLeadingShift |
      ((strideBytes / kDescUnitBytes) & kDescFieldMask) << kDescStrideShift |
      kDescSwizzle128B << kDescSwizzleShift;
  Value start = arith::AndIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, address, c(4)),
      c(kDescFieldMask));
  return arith::OrIOp::create(b, loc, start, c(fields));
}

SmallVector<Value> GpuEmitter::wgmma(ArrayRef<Value> acc, int64_t n,
                                     ArrayRef<WgmmaDesc> aDescs,
                                     ArrayRef<SmallVector<Value>> aRegs,
                                     ArrayRef<WgmmaDesc> bDescs,
                                     bool transposeB) {
  int64_t outs = n / 2, steps = static_cast<int64_t>(bDescs.size());
  bool regA = !aRegs.empty();
  std::string shape = "m" + std::to_string(kWgmmaRows) + "n" +
                      std::to_string(n) + "k16";
  std::string cons = constraints("=f", outs, false);
  SmallVector<Value> operands;
  if (!acc.empty()) {
    cons += "," + constraints("", outs, true);
    operands.append(acc.begin(), acc.end());
  }
  auto operand = [&](Value v, const char *kind) {
    for (size_t i = acc.size(); i < operands.size(); ++i)
      if (operands[i] == v)
        return "$" + std::to_string(outs + static_cast<int64_t>(i));
    cons += std::string(",") + kind;
    operands.push_back(v);
    return "$" + std::to_string(outs + static_cast<int64_t>(operands.size()) -
                                1);
  };
  std::string asmText = "{\n.reg .pred p;\n.reg .b64 da, db;\n"
                        "setp.ne.b32 p, 0, 0;\nwgmma.fence.sync.aligned;\n";
  // A descriptor operand, advanced into `tmp` when it must be.
  auto descriptor = [&](const WgmmaDesc &dsc, const char *tmp) {
    std::string base = operand(dsc.base, "l");
    if (dsc.units == 0)
      return base;
    asmText += std::string("add.s64 ") + tmp + ", " + base + ", " +
               std::to_string(dsc.units) + ";\n";
    return std::string(tmp);
  };
  for (int64_t k = 0; k < steps; ++k) {
    std::string a;
    if (regA) {
      a = "{";
      for (int64_t w = 0; w < 4; ++w)
        a += (w ? ", " : "") + operand(aRegs[k][w], "r");
      a += "}";
    } else {
      a = descriptor(aDescs[k], "da");
    }
    std::string bd = descriptor(bDescs[k], "db");
    // scale-d false (D = A B) on the first step of a zero-started group;
    // the A-from-shared form takes a transpose-A immediate, the other not.
    std::string scaleD = (k == 0 && acc.empty()) ? "p" : "1";
    asmText += "wgmma.mma_async.sync.aligned." + shape +
               ".f32.bf16.bf16 " + registerList(0, outs) + ", " + a + ", " +
               bd + ", " + scaleD + ", 1, 1" + (regA ? "" : ", 0") + ", " +
               (transposeB ? "1" : "0") + ";\n";
  }
  asmText += "wgmma.commit_group.sync.aligned;\n}";
  SmallVector<Type> fields(outs, f32Type());
  auto result = LLVM::LLVMStructType::getLiteral(b.getContext(), fields);
  auto op = inlinePtx(b, loc, result, operands, asmText, cons);
  SmallVector<Value> out;
  for (int64_t i = 0; i < outs; ++i)
    out.push_back(LLVM::ExtractValueOp::create(b, loc, op.getResult(0), i));
  return out;
}

SmallVector<Value> GpuEmitter::wgmmaWait(ArrayRef<Value> values) {
  int64_t count = static_cast<int64_t>(values.size());
  std::string cons = constraints("=f", count, false);
  if (count)
    cons += "," + constraints("", count, true);
  Type result;
  if (count == 1)
    result = f32Type();
  else if (count > 1)
    result = LLVM::LLVMStructType::getLiteral(
        b.getContext(), SmallVector<Type>(count, f32Type()));
  auto op = inlinePtx(b, loc, result, values,
                      "wgmma.wait_group.sync.aligned 0;", cons);
  if (count == 1)
    return {op.getResult(0)};
  SmallVector<Value> out;
  for (int64_t i = 0; i < count; ++i)
    out.push_back(LLVM::ExtractValueOp::create(b, loc, op.getResult(0), i));
  return out;
}

void GpuEmitter::fenceProxyAsyncShared() {
  inlinePtx(b, loc, Type(), ValueRange{}, "fence.proxy.async.shared::cta;",
            "");
}

Value GpuEmitter::warpgroupVoteAny(Value pred, Value barrier) {
  Type i32 = b.getI32Type();
  Value word = arith::ExtUIOp::create(b, loc, i32, pred);
  std::string text = "{\n.reg .pred p, q;\nsetp.ne.b32 q, $1, 0;\n"
                     "bar.red.or.pred p, $2, " +
                     std::to_string(kWarpgroupThreads) +
                     ", q;\nselp.u32 $0, 1, 0, p;\n}";
  auto op = inlinePtx(b, loc, i32, ValueRange{word, barrier}, text, "=r,r,r");
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne,
                               op.getResult(0),
                               arith::ConstantIntOp::create(b, loc, i32, 0));
}

} // namespace msa::codegen::cuda
