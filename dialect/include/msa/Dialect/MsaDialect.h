//===- MsaDialect.h - the msa dialect ---------------------------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_DIALECT_MSADIALECT_H
#define MSA_DIALECT_MSADIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "msa/Dialect/MsaDialect.h.inc"

#endif // MSA_DIALECT_MSADIALECT_H
