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

def MsaFormKernelsPass : Pass<"msa-form-kernels", "::mlir::ModuleOp"> {
  let summary = "Rewrite unfused attention ops into their kernel-level form";
  let description = [{
    Runs after the fusion passes: an `msa.doc_attention` that no fusion
    claimed becomes an `msa.encode_docs` with no prologue or epilogue, and an
    `msa.sparse_attention` becomes an `msa.memory_attention` whose memory
    operands (if any) are attended whole, with no selection. Afterwards the
    target lowerings see one attention family per stage.

    Precondition: the fusion passes have run (they match the graph-level
    forms). Postcondition: no `msa.doc_attention` or `msa.sparse_attention`
    remains.
  }];
  let dependentDialects = ["::msa::MsaDialect"];
}

def MsaFuseAssemblyPass : Pass<"msa-fuse-assembly", "::mlir::ModuleOp"> {
  let summary = "Read selected memory chunks by index inside sparse attention";
  let description = [{
    Context assembly ("interleave" of template, selected memory chunks and
    local KV) folds into the attention kernel's KV loop: an
    `msa.sparse_attention` whose memory operands are two `msa.gather_chunks`
    of a bank's keys and values with the same selection becomes an
    `msa.memory_attention` that reads the bank through that selection. No
    gathered copy of the chunks is ever made. Likewise local keys, values and
    validity that are row-wise `tensor.concat`s of a KV cache and a decode
    step's new tokens become the kernel's local and append groups, so the
    cache is never copied to grow it.

    Precondition: verified graph IR. Does not apply when the two gathers
    use different selections or offsets, or when a gather has other users
    (its copy is needed anyway).
  }];
  let dependentDialects = ["::msa::MsaDialect", "::mlir::tensor::TensorDialect"];
}

def MsaFusePoolingPass : Pass<"msa-fuse-pooling", "::mlir::ModuleOp"> {
  let summary = "Fuse chunk pooling of K, V and router K into the encode epilogue";
  let description = [{
    Stage 1 pools the keys (after RoPE), the values and the router keys of
    every document into chunks of P (spec §3.3-§3.4). When an
    `msa.encode_docs` (or an unfused `msa.doc_attention`) produces or reads
    those keys and values, the `msa.chunk_pool` ops over the same segments
    (the attention segments from some index on, written as a
    `tensor.extract_slice` of them) become its epilogue: pooled outputs of
    the one kernel, whose keys and values never leave the kernel
    un-pooled. A third `msa.chunk_pool` over the same segments of another
    `[tokens, kv_heads, head_dim]` tensor becomes the router-key epilogue.

    Does not apply when the key and value pools are not both present, when
    they pool other segments, or when their P differ.
  }];
  let dependentDialects = ["::msa::MsaDialect", "::mlir::tensor::TensorDialect"];
}

def MsaFuseRopePass : Pass<"msa-fuse-rope", "::mlir::ModuleOp"> {
  let summary = "Fuse RoPE into attention prologues";
  let description = [{
    Document mode (stage 1): `msa.doc_attention` of `msa.rope`-rotated
    queries and keys, both rotated over the attention's own segments with
    the same theta, becomes an `msa.encode_docs` that rotates in its
    prologue. If the rotated keys have other users (chunk pooling, caches),
    the kernel also returns them (`emit_rotated_key`).

    Global mode (stages 2 and 3): an `msa.sparse_attention` or
    `msa.memory_attention` whose queries are global-mode `msa.rope` results
    used nowhere else rotates them itself.

    Does not apply when the rotated queries have other users (routing by
    the queries themselves, spec §4.3 without a decoupled router), when the
    ropes use other segments or thetas, or for keys in global mode (they go
    to the KV cache).
  }];
  let dependentDialects = ["::msa::MsaDialect"];
}

def MsaFuseRoutingPass : Pass<"msa-fuse-routing", "::mlir::ModuleOp"> {
  let summary = "Fuse scores, reductions and top-k into one streaming kernel";
  let description = [{
    `msa.topk(msa.doc_reduce(msa.route_scores(...)))` becomes
    `msa.route_topk`, which streams the keys once and keeps per-block top-k
    candidates, followed by `msa.topk_merge`. The scores of every chunk are
    never materialised, let alone the `[tokens x heads x chunks]` products.

    Does not apply when the chunk or document scores have other users.
  }];
  let options = [
    Option<"blocks", "blocks", "int64_t", /*default=*/"64",
           "Number of candidate blocks (independent work items) per row">
  ];
  let dependentDialects = ["::msa::MsaDialect"];
}

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
