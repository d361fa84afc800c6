//===- MsaOps.td - graph-level ops of the msa dialect ------*- tablegen -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The graph level (design.md §4): tensors, target independent. The model
// importer writes these ops and researchers write them by hand. Fusion passes
// turn them into kernel-level ops.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_DIALECT_MSAOPS_TD
#define MSA_DIALECT_MSAOPS_TD

include "msa/Dialect/MsaBase.td"
include "msa/Dialect/MsaAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/OpAsmInterface.td"

//===----------------------------------------------------------------------===//
// Dense parts of the Qwen3 block
//===----------------------------------------------------------------------===//

def Msa_RmsNormOp : Msa_Op<"rms_norm", [Pure]> {
  let summary = "RMSNorm over the last dimension";
  let description = [{
    `y = w * round(x * rsqrt(mean(x^2) + epsilon))` with the normalisation
    computed in f32 and rounded to the element type before the weight is
    applied (spec §1.1). The weight has the length of the input's last
    dimension; per-head norms (`q_norm`, `k_norm`) are this op on
    `[tokens, heads, head_dim]` with a `[head_dim]` weight.

    ```mlir
    %y = msa.rms_norm %x, %w epsilon = 1.0e-06
        : (tensor<7x64xbf16>, tensor<64xbf16>) -> tensor<7x64xbf16>
    ```
  }];
  let arguments = (ins Msa_FloatTensor:$input, Msa_Float1D:$weight,
                       F64Attr:$epsilon);
  let results = (outs Msa_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `epsilon` `=` $epsilon attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Msa_LinearOp : Msa_Op<"linear", [Pure]> {
  let summary = "y = x W^T, with W in the checkpoint's [out, in] layout";
  let description = [{
    A bias-free projection (every Qwen3 projection has none). The weight keeps
    the Hugging Face `[out_features, in_features]` layout so weights are
    never transposed on load. Accumulation is f32; the result is rounded to
    its element type.

    ```mlir
    %q = msa.linear %x, %wq
        : (tensor<7x64xbf16>, tensor<64x64xbf16>) -> tensor<7x64xbf16>
    ```
  }];
  let arguments = (ins Msa_Float2D:$input, Msa_Float2D:$weight);
  let results = (outs Msa_Float2D:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Msa_SwiGluOp : Msa_Op<"swiglu", [Pure]> {
  let summary = "silu(gate) * up, the Qwen3 MLP activation";
  let description = [{
    `round(silu(gate)) * up`, with silu evaluated in f32 and rounded to the
    element type, then the product rounded again (PyTorch's bf16 semantics).

    ```mlir
    %h = msa.swiglu %gate, %up
        : (tensor<7x128xbf16>, tensor<7x128xbf16>) -> tensor<7x128xbf16>
    ```
  }];
  let arguments = (ins Msa_Float2D:$gate, Msa_Float2D:$up);
  let results = (outs Msa_Float2D:$result);
  let assemblyFormat = [{
    $gate `,` $up attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Msa_EmbeddingOp : Msa_Op<"embedding", [Pure]> {
  let summary = "rows of the embedding table selected by token ids";
  let description = [{
    ```mlir
    %x = msa.embedding %table[%ids]
        : (tensor<512x64xbf16>, tensor<7xi32>) -> tensor<7x64xbf16>
    ```
    An id outside `[0, vocab)` is a runtime error, never a silent clamp.
  }];
  let arguments = (ins Msa_Float2D:$table, Msa_I32Vector:$ids);
  let results = (outs Msa_Float2D:$result);
  let assemblyFormat = [{
    $table `[` $ids `]` attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Positions and document-wise encoding (stage 1)
//===----------------------------------------------------------------------===//

def Msa_RopeOp : Msa_Op<"rope", [Pure]> {
  let summary = "rotate-half rotary position embedding";
  let description = [{
    Rotates `[tokens, heads, head_dim]` with NeoX rotate-half RoPE:
    `inv_freq_i = theta^(-2i/d)`, angles in f32, cos/sin rounded to the
    element type, `x' = x cos + rotate_half(x) sin` (spec §1.1).

    Positions depend on `mode` (spec §6):
    - `document`: `positions` holds segment offsets (rank 1, `S + 1`
      entries); token `t` of segment `s` is at `t - positions[s]`, so every
      document restarts at 0. Tokens outside the segments are not rotated.
    - `global`: the active context starts at `template_len + k_cfg`;
      `positions` is either a rank-0 index of the first token in the active
      context (token `t` is at `template_len + k_cfg + index + t`) or a rank-1
      index per token (token `t` is at `template_len + k_cfg + positions[t]`).

    ```mlir
    %kr = msa.rope %k, %segments document theta = 1.0e+04
        : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<9x2x16xbf16>
    %qr = msa.rope %q, %start global theta = 1.0e+04
        {template_len = 3 : i64, k_cfg = 16 : i64}
        : (tensor<5x4x16xbf16>, tensor<i32>) -> tensor<5x4x16xbf16>
    ```
  }];
  let arguments = (ins Msa_Float3D:$input, Msa_I32Tensor:$positions,
                       Msa_RopeMode:$mode, F64Attr:$theta,
                       OptionalAttr<I64Attr>:$template_len,
                       OptionalAttr<I64Attr>:$k_cfg);
  let results = (outs Msa_Float3D:$result);
  let assemblyFormat = [{
    $input `,` $positions $mode `theta` `=` $theta attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

def Msa_DocAttentionOp : Msa_Op<"doc_attention", [Pure]> {
  let summary = "block-diagonal causal attention over packed documents";
  let description = [{
    Each segment attends causally to itself only (spec §3.2), so a packed
    batch of documents gives the same result as encoding each alone. Query
    head `h` reads KV head `h / G` with `G = query_heads / kv_heads`. Tokens
    outside the segments produce 0. `scale` defaults to `1/sqrt(head_dim)`.

    ```mlir
    %o = msa.doc_attention %q, %k, %v, %segments
        : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>,
           tensor<3xi32>) -> tensor<9x4x16xbf16>
    ```
  }];
  let arguments = (ins Msa_Float3D:$query, Msa_Float3D:$key,
                       Msa_Float3D:$value, Msa_I32Vector:$segments,
                       OptionalAttr<F64Attr>:$scale);
  let results = (outs Msa_Float3D:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $segments attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Msa_ChunkPoolOp : Msa_Op<"chunk_pool", [Pure]> {
  let summary = "mean pooling of each segment's tokens into chunks of P";
  let description = [{
    Segment `s` of `n` tokens yields `ceil(n / P)` chunks; chunk `c` is the
    f32 mean of tokens `[cP, min((c + 1)P, n))` of that segment divided by
    its true count (a partial last chunk is not padded), rounded to the
    element type (spec §3.4). Chunks never straddle segments. With
    `normalize`, each pooled `(chunk, head)` vector is then divided by
    `max(||v||_2, 1e-12)` (spec §3.5). The result is head-major
    `[heads, chunks, head_dim]`, the memory-bank layout. Tokens before
    `segments[0]` or after `segments[S]` (the template head) are not pooled.

    ```mlir
    %kbar = msa.chunk_pool %k, %segments chunk_size = 4
        : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<2x?x16xbf16>
    ```
  }];
  let arguments = (ins Msa_Float3D:$input, Msa_I32Vector:$segments,
                       I64Attr:$chunk_size, UnitAttr:$normalize);
  let results = (outs Msa_Float3D:$result);
  let assemblyFormat = [{
    $input `,` $segments `chunk_size` `=` $chunk_size (`normalize` $normalize^)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Msa_ChunkOffsetsOp : Msa_Op<"chunk_offsets", [Pure]> {
  let summary = "first chunk of each segment on the flat chunk axis";
  let description = [{
    `result[0] = 0`, `result[s + 1] = result[s] + ceil(len_s / P)`: the
    chunk→document table of spec §3.3 in offset form (chunks of a document
    are contiguous). Folds when the segments are constant.

    ```mlir
    %coff = msa.chunk_offsets %segments chunk_size = 4
        : (tensor<3xi32>) -> tensor<3xi32>
    ```
  }];
  let arguments = (ins Msa_I32Vector:$segments, I64Attr:$chunk_size);
  let results = (outs Msa_I32Vector:$result);
  let assemblyFormat = [{
    $segments `chunk_size` `=` $chunk_size attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Routing (stage 2)
//===----------------------------------------------------------------------===//

def Msa_RouteScoresOp : Msa_Op<"route_scores", [Pure]> {
  let summary = "router scores of every chunk, reduced over heads and tokens";
  let description = [{
    For routing-query token `t` (`mask[t]` set), query head `h` and chunk
    `c` (spec §4.3):
    1. with `normalize`, `q := q / max(||q||, 1e-12)`;
    2. with `scale`, `q := round(q / sqrt(head_dim))`;
    3. `s[t, h, c] = round(q[t, h] . keys[h / G, c])` (f32 accumulation);
    4. tokens with `mask[t] = 0` score the lowest finite value;
    5. `heads(mean|max)` reduces over `h` (f32 accumulation, rounded);
    6. `tokens(max|mean|last)` reduces over routing-query tokens.
    The result holds one score per chunk. Keys are head-major.

    ```mlir
    %s = msa.route_scores %qr, %kr, %mask heads(mean) tokens(max) scale
        : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>)
          -> tensor<?xbf16>
    ```
  }];
  let arguments = (ins Msa_Float3D:$query, Msa_Float3D:$keys, Msa_Mask:$mask,
                       Msa_HeadReduce:$head_reduce,
                       Msa_QueryReduce:$query_reduce,
                       UnitAttr:$normalize, UnitAttr:$scale);
  let results = (outs Msa_Float1D:$result);
  let assemblyFormat = [{
    $query `,` $keys `,` $mask `heads` `(` $head_reduce `)`
    `tokens` `(` $query_reduce `)` (`normalize` $normalize^)?
    (`scale` $scale^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Msa_DocReduceOp : Msa_Op<"doc_reduce", [Pure]> {
  let summary = "document scores from chunk scores";
  let description = [{
    `result[j]` is the max or the arithmetic mean of `scores[c]` over the
    chunks `[chunk_offsets[j], chunk_offsets[j + 1])` of document `j`
    (spec §4.3 step 7).

    ```mlir
    %d = msa.doc_reduce %s, %coff chunks(max)
        : (tensor<?xbf16>, tensor<3xi32>) -> tensor<2xbf16>
    ```
  }];
  let arguments = (ins Msa_Float1D:$scores, Msa_I32Vector:$chunk_offsets,
                       Msa_ChunkReduce:$method);
  let results = (outs Msa_Float1D:$result);
  let assemblyFormat = [{
    $scores `,` $chunk_offsets `chunks` `(` $method `)` attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

def Msa_TopKOp : Msa_Op<"topk", [Pure]> {
  let summary = "the k best documents, in ascending document order";
  let description = [{
    Selects `k_eff = min(k, N)` documents with the highest scores; scores at
    or below -1e9 are never selected; ties go to the lower document id
    (spec §4.4, a documented choice). `indices` lists the selected documents
    in ascending id order (the order their chunks are assembled in, §4.5),
    padded with -1; `count` is how many were selected.

    ```mlir
    %idx, %n = msa.topk %d k = 2
        : (tensor<?xbf16>) -> (tensor<2xi32>, tensor<i32>)
    ```
  }];
  let arguments = (ins Msa_Float1D:$scores, I64Attr:$k);
  let results = (outs Msa_I32Vector:$indices, Msa_I32Scalar:$count);
  let assemblyFormat = [{
    $scores `k` `=` $k attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Msa_GatherChunksOp : Msa_Op<"gather_chunks", [Pure]> {
  let summary = "the pooled chunks of the selected documents";
  let description = [{
    Concatenates, for each selected document in the order of `indices`
    (the first `count` entries), all its chunks in order (spec §4.5). The
    result is head-major like the bank. Fusion folds this op into
    `msa.sparse_attention`, which then reads the bank by index.

    ```mlir
    %kc = msa.gather_chunks %kbar[%idx, %n], %coff
        : (tensor<2x?x16xbf16>, tensor<2xi32>, tensor<i32>, tensor<3xi32>)
          -> tensor<2x?x16xbf16>
    ```
  }];
  let arguments = (ins Msa_Float3D:$source, Msa_I32Vector:$indices,
                       Msa_I32Scalar:$count, Msa_I32Vector:$chunk_offsets);
  let results = (outs Msa_Float3D:$result);
  let assemblyFormat = [{
    $source `[` $indices `,` $count `]` `,` $chunk_offsets attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Msa_SparseAttentionOp : Msa_Op<"sparse_attention",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "attention over [template; memory chunks; local context]";
  let description = [{
    Each query attends to the concatenation of (spec §4.2, §5):
    - the template prefix keys (token-major), always visible;
    - the memory chunks (head-major, optional: non-router layers have none),
      always visible, carrying their own document-wise RoPE phases;
    - the local keys (token-major) whose `valid` bit is set, masked by
      `causal`: `bottom_right` lets query `i` of `T` see local key `j` iff
      `j <= L - T + i` (prefill); `block` lets it see every valid local key,
      its own block included (decode, the reference's non-causal block).
    GQA as in `msa.doc_attention`. `scale` defaults to `1/sqrt(head_dim)`.

    ```mlir
    %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
        local(%k, %v, %valid) causal = bottom_right
        : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
           tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<5x2x16xbf16>,
           tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
    ```
  }];
  let arguments = (ins Msa_Float3D:$query,
                       Msa_Float3D:$template_key, Msa_Float3D:$template_value,
                       Optional<Msa_Float3D>:$memory_key,
                       Optional<Msa_Float3D>:$memory_value,
                       Msa_Float3D:$local_key, Msa_Float3D:$local_value,
                       Msa_Mask:$local_valid,
                       Msa_CausalMode:$causal, OptionalAttr<F64Attr>:$scale);
  let results = (outs Msa_Float3D:$result);
  let assemblyFormat = [{
    $query `,` `template` `(` $template_key `,` $template_value `)`
    (`memory` `(` $memory_key^ `,` $memory_value `)`)?
    `local` `(` $local_key `,` $local_value `,` $local_valid `)`
    `causal` `=` $causal attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

include "msa/Dialect/MsaKernelOps.td"

#endif // MSA_DIALECT_MSAOPS_TD
