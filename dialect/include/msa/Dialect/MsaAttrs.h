//===- MsaAttrs.h - enums of the msa dialect --------------------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_DIALECT_MSAATTRS_H
#define MSA_DIALECT_MSAATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

#include "msa/Dialect/MsaEnums.h.inc"

#endif // MSA_DIALECT_MSAATTRS_H
