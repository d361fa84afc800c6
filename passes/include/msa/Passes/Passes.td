//===- Passes.td - transformations on msa IR ---------------*- tablegen -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Every msa pass, alphabetical. Each record names its anchor op, states its
// preconditions and postconditions, and has one file and one lit test named
// after its flag.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_PASSES_PASSES_TD
#define MSA_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def MsaCanonicalizePass : Pass<"msa-canonicalize", "::mlir::ModuleOp"> {
  let summary = "Fold and canonicalize msa ops only";
  let description = [{
    Applies the msa dialect's folders and canonicalization patterns, and
    nothing from other dialects, to a fixed point. Upstream `canonicalize`
    applies them too; this pass exists so a pipeline can normalise msa IR
    without also rewriting the tensor and arith ops around it (whose
    canonical forms change between LLVM releases).

    Precondition: verified IR. Postcondition: `global` RoPE with consecutive
    constant positions takes a rank-0 start; `msa.chunk_offsets` of constant
    segments is a constant; `msa.doc_reduce` of one-chunk documents is gone.

    ```mlir
    // Before
    %p = arith.constant dense<[0, 1, 2]> : tensor<3xi32>
    %r = msa.rope %x, %p global theta = 1.0e+04
        {k_cfg = 16 : i64, template_len = 3 : i64} : ...
    // After
    %s = arith.constant dense<0> : tensor<i32>
    %r = msa.rope %x, %s global theta = 1.0e+04
        {k_cfg = 16 : i64, template_len = 3 : i64} : ...
    ```
  }];
  let dependentDialects = ["::msa::MsaDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
  let statistics = [
    Statistic<"numRewrites", "num-rewrites",
              "Number of times the msa patterns changed the IR">
  ];
}

#endif // MSA_PASSES_PASSES_TD
