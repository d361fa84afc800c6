//===- Passes.h - target code generation passes of msa ----------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_CODEGEN_PASSES_H
#define MSA_CODEGEN_PASSES_H

#include "msa/Dialect/MsaDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace msa {

#define GEN_PASS_DECL
#include "msa/Codegen/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "msa/Codegen/Passes.h.inc"

} // namespace msa

#endif // MSA_CODEGEN_PASSES_H
