//===- InitAll.h - registration of everything msa tools load ----*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The one place that says which dialects and passes the msa tools know
// (torch-mlir pattern); msa-opt and msa-compile call only these.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_INITALL_H
#define MSA_INITALL_H

#include "mlir/IR/DialectRegistry.h"

namespace msa {

/// Adds the msa dialect and the upstream dialects msa IR mixes with.
void registerAllDialects(mlir::DialectRegistry &registry);

/// Registers the msa passes, the msa pipelines and the upstream passes used
/// in them.
void registerAllPasses();

} // namespace msa

#endif // MSA_INITALL_H
