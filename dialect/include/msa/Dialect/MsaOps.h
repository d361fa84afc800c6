//===- MsaOps.h - ops of the msa dialect ------------------------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_DIALECT_MSAOPS_H
#define MSA_DIALECT_MSAOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "msa/Dialect/MsaAttrs.h"
#include "msa/Dialect/MsaDialect.h"

#define GET_OP_CLASSES
#include "msa/Dialect/MsaOps.h.inc"

#endif // MSA_DIALECT_MSAOPS_H
