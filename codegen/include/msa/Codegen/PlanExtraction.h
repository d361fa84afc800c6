//===- PlanExtraction.h - execution plans from outlined msa IR --*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// After msa-outline-kernels, an entry function is a straight line of
// dispatches, GEMMs (msa.linear), reshapes and row slices over tensors. Plan
// extraction turns it into the manifest's flat step list over numbered
// buffers with symbolic shapes (docs/bundle-format.md), and describes every
// kernel function's signature and grid.
//
// Shapes: a dynamic dimension of an entry argument is named by the
// argument's `msa.dims` attribute (an array of strings, "" for static dims)
// or gets the name "<arg>.<dim>"; shapes flow through the ops; a
// data-dependent size (the chunk count of pooled results) is named by the
// `msa.dims` attribute of the function result that carries it, and the
// caller binds it. Argument `msa.weight = "name"` marks a checkpoint tensor;
// `msa.name` names inputs and results.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_CODEGEN_PLANEXTRACTION_H
#define MSA_CODEGEN_PLANEXTRACTION_H

#include "msa/runtime/Json.h"

#include "mlir/IR/BuiltinOps.h"

namespace msa::codegen {

struct ExtractedPlans {
  runtime::JsonValue kernels; ///< The manifest's "kernels" array.
  runtime::JsonValue entries; ///< The manifest's "entries" object.
};

/// Extracts the plans of every entry function and the signatures of every
/// kernel function of `module`. Errors are reported on the offending op.
mlir::FailureOr<ExtractedPlans> extractPlans(mlir::ModuleOp module);

} // namespace msa::codegen

#endif // MSA_CODEGEN_PLANEXTRACTION_H
