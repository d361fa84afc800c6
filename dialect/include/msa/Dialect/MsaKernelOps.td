//===- MsaKernelOps.td - kernel-level ops of the msa dialect -*- tablegen -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The kernel level (design.md §4): what fusion produces. Each op is one
// kernel family with its fused prologue and epilogue, still on tensors so
// verifiers and canonicalizers apply; msa-outline-kernels moves each into a
// kernel function on memrefs, where the target lowering turns it into loops.
// Tile sizes are the discardable dictionary `msa.tiles` ({vector_width,
// block_k, ...}) that msa-assign-tiles sets from KernelConfig, so a
// researcher can override them in the IR.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_DIALECT_MSAKERNELOPS_TD
#define MSA_DIALECT_MSAKERNELOPS_TD

include "msa/Dialect/MsaBase.td"
include "msa/Dialect/MsaAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"

def Msa_EncodeDocsOp : Msa_Op<"encode_docs",
    [Pure]> {
  let summary = "stage-1 attention with a RoPE prologue and a pooling epilogue";
  let description = [{
    One kernel family for stage 1 (spec §3): for every segment of
    `segments`,
    - prologue: with `rope_theta`, document-wise RoPE of `query` and `key`
      (positions restart in each segment);
    - body: causal attention inside the segment (GQA), as
      `msa.doc_attention`;
    - epilogue: with `chunk_size`, chunk means of the rotated keys, the
      values and, if given, `router_key` (L2-normalised with
      `normalize_router`), over the segments from `first_pooled_segment` on
      (the template head is segment 0 and is not pooled), as
      `msa.chunk_pool`.
    Results, in order: the attention output; with `emit_rotated_key`, the
    rotated keys (for other users); with `chunk_size`, the pooled keys and
    values; with `router_key`, the pooled router keys. Pooled results are
    head-major `[kv_heads, chunks, head_dim]`.

    ```mlir
    %o, %kr, %kb, %vb, %rb = msa.encode_docs %q, %k, %v, %segments
        router(%rk) {rope_theta = 1.0e+04, emit_rotated_key,
        chunk_size = 4 : i64, first_pooled_segment = 1 : i64}
        : (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<?x2x16xbf16>,
           tensor<?xi32>, tensor<?x2x16xbf16>)
          -> (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<2x?x16xbf16>,
              tensor<2x?x16xbf16>, tensor<2x?x16xbf16>)
    ```
  }];
  let arguments = (ins Msa_Float3D:$query, Msa_Float3D:$key,
                       Msa_Float3D:$value, Msa_I32Vector:$segments,
                       Optional<Msa_Float3D>:$router_key,
                       OptionalAttr<F64Attr>:$scale,
                       OptionalAttr<F64Attr>:$rope_theta,
                       OptionalAttr<I64Attr>:$chunk_size,
                       OptionalAttr<I64Attr>:$first_pooled_segment,
                       UnitAttr:$normalize_router,
                       UnitAttr:$emit_rotated_key);
  // The optional results follow from the attributes and the router operand,
  // so they are one variadic list with named accessors.
  let results = (outs Variadic<Msa_Float3D>:$outputs);
  let extraClassDeclaration = [{
    /// Number of results the attributes and operands call for.
    unsigned getExpectedNumResults() {
      return 1 + (getEmitRotatedKey() ? 1 : 0) +
             (getChunkSizeAttr() ? 2 : 0) + (getRouterKey() ? 1 : 0);
    }
    ::mlir::Value getResult() { return getOutputs()[0]; }
    ::mlir::Value getRotatedKey() {
      return getEmitRotatedKey() ? getOutputs()[1] : ::mlir::Value();
    }
    unsigned getPooledIndex() { return getEmitRotatedKey() ? 2 : 1; }
    ::mlir::Value getPooledKey() {
      return getChunkSizeAttr() ? getOutputs()[getPooledIndex()]
                                : ::mlir::Value();
    }
    ::mlir::Value getPooledValue() {
      return getChunkSizeAttr() ? getOutputs()[getPooledIndex() + 1]
                                : ::mlir::Value();
    }
    ::mlir::Value getPooledRouterKey() {
      return getRouterKey() && getChunkSizeAttr()
                 ? getOutputs()[getPooledIndex() + 2]
                 : ::mlir::Value();
    }
  }];
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $segments
    (`router` `(` $router_key^ `)`)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Msa_RouteTopKOp : Msa_Op<"route_topk", [Pure]> {
  let summary = "streaming router scores and per-block top-k candidates";
  let description = [{
    The fused routing kernel of one router layer (spec §4.3-§4.4). The
    documents are split into `blocks` contiguous ranges; for each range the
    kernel streams the keys of its chunks once, computes
    `route_scores` (NORM, SCALE, head and token reductions), reduces chunk
    scores to document scores (`chunks(max|mean)`) and keeps the range's
    best `k` documents, never materialising the
    `[tokens x heads x chunks]` scores. Results: per block, the candidates'
    scores and document ids, best first, padded with the lowest score and
    id -1. `msa.topk_merge` turns the candidates into the selection.

    ```mlir
    %s, %i = msa.route_topk %qr, %kr, %mask, %coff heads(mean) tokens(max)
        chunks(max) k = 16 scale
        : (tensor<5x32x128xbf16>, tensor<8x?x128xbf16>, tensor<5xi1>,
           tensor<?xi32>) -> (tensor<64x16xf32>, tensor<64x16xi32>)
    ```
  }];
  let arguments = (ins Msa_Float3D:$query, Msa_Float3D:$keys, Msa_Mask:$mask,
                       Msa_I32Vector:$chunk_offsets,
                       Msa_HeadReduce:$head_reduce,
                       Msa_QueryReduce:$query_reduce,
                       Msa_ChunkReduce:$chunk_reduce, I64Attr:$k,
                       UnitAttr:$normalize, UnitAttr:$scale);
  let results = (outs Msa_Float2D:$candidate_scores,
                      TensorRankOf<[I32], [2]>:$candidate_ids);
  let assemblyFormat = [{
    $query `,` $keys `,` $mask `,` $chunk_offsets
    `heads` `(` $head_reduce `)` `tokens` `(` $query_reduce `)`
    `chunks` `(` $chunk_reduce `)` `k` `=` $k
    (`normalize` $normalize^)? (`scale` $scale^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Msa_TopKMergeOp : Msa_Op<"topk_merge", [Pure]> {
  let summary = "the k best of per-block (or per-GPU) top-k candidates";
  let description = [{
    Merges candidate lists (rows of `scores`/`ids`, id -1 = empty) into the
    final selection with the rules of `msa.topk`: at most `k` documents,
    scores at or below -1e9 never, ties to the lower id; `indices` in
    ascending id order padded with -1, `selected_scores` in the same order,
    `count` selected. The same merge serves Memory Parallel, where each row
    is a GPU's candidates.

    ```mlir
    %idx, %sc, %n = msa.topk_merge %s, %i k = 16
        : (tensor<64x16xf32>, tensor<64x16xi32>)
          -> (tensor<16xi32>, tensor<16xf32>, tensor<i32>)
    ```
  }];
  let arguments = (ins Msa_Float2D:$scores, TensorRankOf<[I32], [2]>:$ids,
                       I64Attr:$k);
  let results = (outs Msa_I32Vector:$indices, Msa_Float1D:$selected_scores,
                      Msa_I32Scalar:$count);
  let assemblyFormat = [{
    $scores `,` $ids `k` `=` $k attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Msa_MemoryAttentionOp : Msa_Op<"memory_attention",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "sparse attention reading the memory bank by index";
  let description = [{
    `msa.sparse_attention` with context assembly fused in (spec §4.2, §4.5,
    §5): the memory part is read straight from the bank, `[kv_heads,
    chunks, head_dim]`, through the selection (`indices`, first `count`
    entries, each a document whose chunks are
    `[chunk_offsets[j], chunk_offsets[j+1])`), so no gathered copy exists.
    Without a selection every chunk of the memory operand is attended.
    With `rope_theta` the queries are rotated in the prologue with global
    positions `template_len + k_cfg + positions`, as `msa.rope` global.
    An `append` group continues the local keys (a decode step's own tokens
    after the KV cache), so the cache is never copied to grow it; causality
    counts positions over local and appended keys together.

    ```mlir
    %o = msa.memory_attention %q, template(%tk, %tv)
        memory(%bk, %bv) select(%coff, %idx, %n) local(%k, %v, %valid)
        rope(%start) causal = bottom_right
        {rope_theta = 1.0e+04, template_len = 3 : i64, k_cfg = 16 : i64}
        : (...) -> tensor<5x4x16xbf16>
    ```
  }];
  let arguments = (ins Msa_Float3D:$query,
                       Msa_Float3D:$template_key, Msa_Float3D:$template_value,
                       Optional<Msa_Float3D>:$memory_key,
                       Optional<Msa_Float3D>:$memory_value,
                       Optional<Msa_I32Vector>:$chunk_offsets,
                       Optional<Msa_I32Vector>:$indices,
                       Optional<Msa_I32Scalar>:$count,
                       Msa_Float3D:$local_key, Msa_Float3D:$local_value,
                       Msa_Mask:$local_valid,
                       Optional<Msa_Float3D>:$append_key,
                       Optional<Msa_Float3D>:$append_value,
                       Optional<Msa_Mask>:$append_valid,
                       Optional<Msa_I32Tensor>:$positions,
                       Msa_CausalMode:$causal, OptionalAttr<F64Attr>:$scale,
                       OptionalAttr<F64Attr>:$rope_theta,
                       OptionalAttr<I64Attr>:$template_len,
                       OptionalAttr<I64Attr>:$k_cfg);
  let results = (outs Msa_Float3D:$result);
  let assemblyFormat = [{
    $query `,` `template` `(` $template_key `,` $template_value `)`
    (`memory` `(` $memory_key^ `,` $memory_value `)`)?
    (`select` `(` $chunk_offsets^ `,` $indices `,` $count `)`)?
    `local` `(` $local_key `,` $local_value `,` $local_valid `)`
    (`append` `(` $append_key^ `,` $append_value `,` $append_valid `)`)?
    (`rope` `(` $positions^ `)`)?
    `causal` `=` $causal attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Msa_DispatchOp : Msa_Op<"dispatch",
    [DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "a launch of an outlined kernel function";
  let description = [{
    Calls the kernel function `callee` (a `func.func` marked `msa.kernel`,
    whose arguments are memrefs for the operands, then for the results,
    then the work-item range) on fresh result tensors. Execution plans are
    extracted from entry functions made of dispatches, `msa.linear` GEMMs
    and reshapes.

    ```mlir
    %y = msa.dispatch @k0_rms_norm(%x, %w)
        : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$callee,
                       Variadic<AnyRankedTensor>:$operands);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    $callee `(` $operands `)` attr-dict `:` functional-type($operands, $results)
  }];
}

#endif // MSA_DIALECT_MSAKERNELOPS_TD
