//===- VerifyUtils.h - shared pieces of the msa op verifiers ----*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// "expected X, got Y" checks used by the graph-level and the kernel-level
// op verifiers, so both report shapes, heads and types the same way.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_DIALECT_LIB_VERIFYUTILS_H
#define MSA_DIALECT_LIB_VERIFYUTILS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/STLExtras.h"

#include <string>

namespace msa::detail {

using namespace mlir;


inline RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// "[5, 2, ?]".
inline std::string shapeString(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (i)
      s += ", ";
    s += ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d);
  }
  return s + "]";
}

inline std::string dimString(int64_t d) {
  return ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d);
}

/// Two extents conflict only when both are known.
inline bool conflict(int64_t a, int64_t b) {
  return !ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b;
}

inline bool shapesConflict(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  if (a.size() != b.size())
    return true;
  for (auto [x, y] : llvm::zip(a, b))
    if (conflict(x, y))
      return true;
  return false;
}

/// `name` must have the element type of `ref` (named `refName`).
inline LogicalResult verifySameElementType(Operation *op, StringRef name, Value v,
                                    StringRef refName, Value ref) {
  Type got = tensorType(v).getElementType();
  Type want = tensorType(ref).getElementType();
  if (got == want)
    return success();
  // "the query's", "the scores'".
  const char *possessive = refName.ends_with("s") ? "'" : "'s";
  return op->emitOpError() << "expected " << name << " element type " << want
                           << " (the " << refName << possessive << "), got "
                           << got;
}

/// `name` must have the shape `want` (described by `why`).
inline LogicalResult verifyShape(Operation *op, StringRef name, Value v,
                          ArrayRef<int64_t> want, StringRef why) {
  ArrayRef<int64_t> got = tensorType(v).getShape();
  if (!shapesConflict(got, want))
    return success();
  return op->emitOpError() << "expected " << name << " shape "
                           << shapeString(want) << " (" << why << "), got "
                           << shapeString(got);
}

/// GQA: the query heads must be a multiple of the KV heads.
inline LogicalResult verifyGqa(Operation *op, int64_t queryHeads, int64_t kvHeads,
                        StringRef kvName) {
  if (ShapedType::isDynamic(queryHeads) || ShapedType::isDynamic(kvHeads))
    return success();
  if (kvHeads > 0 && queryHeads % kvHeads == 0)
    return success();
  return op->emitOpError() << "expected query heads (" << queryHeads
                           << ") to be a multiple of " << kvName << " heads ("
                           << kvHeads << ")";
}

/// `name`'s head dim must equal the query's.
inline LogicalResult verifyHeadDim(Operation *op, StringRef name, int64_t got,
                            int64_t want) {
  if (!conflict(got, want))
    return success();
  return op->emitOpError() << "expected " << name << " head dim " << want
                           << " (the query's), got " << got;
}

inline LogicalResult verifyPositive(Operation *op, StringRef name, int64_t value) {
  if (value > 0)
    return success();
  return op->emitOpError() << "expected " << name << " to be positive, got "
                           << value;
}

inline LogicalResult verifyScale(Operation *op, FloatAttr scale) {
  if (!scale || scale.getValueAsDouble() > 0.0)
    return success();
  return op->emitOpError() << "expected scale to be positive, got "
                           << scale.getValueAsDouble();
}

} // namespace msa::detail

#endif // MSA_DIALECT_LIB_VERIFYUTILS_H
