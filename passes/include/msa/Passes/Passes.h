//===- Passes.h - transformations on msa IR ---------------------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_PASSES_PASSES_H
#define MSA_PASSES_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include "msa/Dialect/MsaDialect.h"

namespace msa {

#define GEN_PASS_DECL
#include "msa/Passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "msa/Passes/Passes.h.inc"

} // namespace msa

#endif // MSA_PASSES_PASSES_H
