//===- MsaDialect.cpp - the msa dialect -----------------------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/Dialect/MsaDialect.h"
#include "msa/Dialect/MsaOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace msa;

#include "msa/Dialect/MsaDialect.cpp.inc"

void MsaDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "msa/Dialect/MsaOps.cpp.inc"
      >();
}

Operation *MsaDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                           Type type, Location loc) {
  // Folders produce dense integer tensors (chunk offsets); arith owns them.
  return arith::ConstantOp::materialize(builder, value, type, loc);
}
