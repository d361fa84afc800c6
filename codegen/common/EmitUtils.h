//===- EmitUtils.h - building blocks of the kernel lowerings ----*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A thin layer over OpBuilder for writing kernels as loops, shared by the
// cpu and cuda lowerings: constants, scf.for with and without loop-carried
// values, f32 vector loads and stores of bf16/f16/f32 memrefs, and the
// rounding that reproduces the reference's bf16 numerics. Every kernel
// computes in f32. The few operations whose lowering differs by target
// (exp, sqrt, max) are virtual.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_CODEGEN_COMMON_EMITUTILS_H
#define MSA_CODEGEN_COMMON_EMITUTILS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"

#include <functional>

namespace msa::codegen {

/// Below any attention score, but finite, so max/exp never see inf - inf.
inline constexpr double kNoScore = -1e30;
/// The lowest finite bf16: the reference's routing mask value (spec §4.3
/// step 4), also what a document without routing tokens scores.
inline constexpr double kLowest = -3.3895313892515355e38;
/// Routing scores at or below this are never selected (spec §4.4).
inline constexpr double kUnselectable = -1e9;

/// An attention op's softmax scale: its `scale` attribute, or 1 / sqrt(d).
double scaleOf(mlir::FloatAttr scale, int64_t d);

/// The memref arguments of one kernel and its work-item range.
struct KernelArgs {
  llvm::SmallVector<mlir::Value> operands; ///< memrefs, in op operand order
  llvm::SmallVector<mlir::Value> results;  ///< memrefs, in op result order
  mlir::Value begin, end;                  ///< index
};

class Emitter {
public:
  Emitter(mlir::OpBuilder &b, mlir::Location loc) : b(b), loc(loc) {}
  virtual ~Emitter() = default;

  mlir::OpBuilder &b;
  mlir::Location loc;

  mlir::Value index(int64_t v);
  mlir::Value f32(double v);
  mlir::Value i32(int64_t v);
  /// Size of dimension `d` of a memref, as index.
  mlir::Value dim(mlir::Value memref, int64_t d);

  /// scf.for lb..ub step `step` without loop-carried values.
  void loop(mlir::Value lb, mlir::Value ub, int64_t step,
            const std::function<void(mlir::Value)> &body);
  /// scf.for with loop-carried values; returns the final values.
  llvm::SmallVector<mlir::Value>
  loop(mlir::Value lb, mlir::Value ub, int64_t step, mlir::ValueRange init,
       const std::function<llvm::SmallVector<mlir::Value>(mlir::Value,
                                                          mlir::ValueRange)>
           &body);
  /// scf.if without results.
  void ifThen(mlir::Value cond, const std::function<void()> &then);
  /// scf.if with results of `types`.
  llvm::SmallVector<mlir::Value>
  ifThenElse(mlir::Value cond, mlir::TypeRange types,
             const std::function<llvm::SmallVector<mlir::Value>()> &then,
             const std::function<llvm::SmallVector<mlir::Value>()> &otherwise);

  /// Loads `width` elements (width 1: a scalar) as f32.
  mlir::Value load(mlir::Value memref, mlir::ValueRange idx, int64_t width = 1);
  /// Stores an f32 scalar or vector into a memref of any float type,
  /// rounding to its element type.
  void store(mlir::Value value, mlir::Value memref, mlir::ValueRange idx);
  /// Loads an integer element as index.
  mlir::Value loadIndex(mlir::Value memref, mlir::ValueRange idx);
  /// Loads an i1 element.
  mlir::Value loadBool(mlir::Value memref, mlir::ValueRange idx);

  /// f32 (scalar or vector) rounded to `storage` and back: the reference's
  /// rounding points. Identity for f32 storage.
  mlir::Value round(mlir::Value v, mlir::Type storage);
  /// Broadcast a scalar to `width` lanes (or itself for width 1).
  mlir::Value splat(mlir::Value scalar, int64_t width);
  /// Sum of the lanes (or the scalar itself).
  mlir::Value reduceAdd(mlir::Value v);
  mlir::Value reduceMax(mlir::Value v);
  /// a * b + c, lanewise.
  mlir::Value fma(mlir::Value a, mlir::Value b, mlir::Value c);

  mlir::Value add(mlir::Value a, mlir::Value b);
  mlir::Value sub(mlir::Value a, mlir::Value b);
  mlir::Value mul(mlir::Value a, mlir::Value b);
  mlir::Value div(mlir::Value a, mlir::Value b);
  virtual mlir::Value max(mlir::Value a, mlir::Value c);
  virtual mlir::Value exp(mlir::Value a);
  virtual mlir::Value sqrt(mlir::Value a);
  mlir::Value select(mlir::Value c, mlir::Value a, mlir::Value b);
  mlir::Value cmpf(mlir::arith::CmpFPredicate p, mlir::Value a, mlir::Value b);
  mlir::Value cmpi(mlir::arith::CmpIPredicate p, mlir::Value a, mlir::Value b);
  mlir::Value addi(mlir::Value a, mlir::Value b);
  mlir::Value subi(mlir::Value a, mlir::Value b);
  mlir::Value muli(mlir::Value a, mlir::Value b);
  mlir::Value divi(mlir::Value a, mlir::Value b);
  mlir::Value remi(mlir::Value a, mlir::Value b);
  mlir::Value mini(mlir::Value a, mlir::Value b);
  mlir::Value maxi(mlir::Value a, mlir::Value b);
  /// ceil(a / b) for non-negative index values.
  mlir::Value ceilDiv(mlir::Value a, mlir::Value b);
  mlir::Value indexToF32(mlir::Value i);
  mlir::Value indexToI32(mlir::Value i);

  /// A stack (alloca) f32 or i32 buffer of static shape.
  mlir::Value stackBuffer(llvm::ArrayRef<int64_t> shape, mlir::Type elem);
  /// A heap buffer with dynamic leading sizes; free it with dealloc.
  mlir::Value alloc(llvm::ArrayRef<int64_t> shape, mlir::ValueRange dynSizes,
                    mlir::Type elem);
  void dealloc(mlir::Value m);

  mlir::Type f32Type();
};

/// `m` viewed as [rows, last]: leading dims collapsed, or a unit row added
/// to a 1-D memref.
mlir::Value collapseToRows(Emitter &e, mlir::Value m);

/// Element type of a memref value.
mlir::Type elementTypeOf(mlir::Value memref);
/// Static size of dimension `d`, or ShapedType::kDynamic.
int64_t staticDim(mlir::Value memref, int64_t d);

} // namespace msa::codegen

#endif // MSA_CODEGEN_COMMON_EMITUTILS_H
