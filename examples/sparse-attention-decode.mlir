// Stage 2 and stage 3 attention (msa-semantics.md §4.2, §5): queries attend
// to the template prefix, the memory chunks selected in this router layer,
// and the local context. Prefill aligns causality bottom-right; a decode
// step sees every valid key, its own block included.
//
//   msa-opt examples/sparse-attention-decode.mlir
func.func @prefill(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
                   %tv: tensor<3x2x16xbf16>, %mk: tensor<2x?x16xbf16>,
                   %mv: tensor<2x?x16xbf16>, %k: tensor<5x2x16xbf16>,
                   %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>) -> tensor<5x4x16xbf16> {
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return %o : tensor<5x4x16xbf16>
}

func.func @decode_step(%q: tensor<1x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
                       %tv: tensor<3x2x16xbf16>, %cache_k: tensor<?x2x16xbf16>,
                       %cache_v: tensor<?x2x16xbf16>, %valid: tensor<?xi1>) -> tensor<1x4x16xbf16> {
  // A non-router layer: no memory operands.
  %o = msa.sparse_attention %q, template(%tk, %tv)
      local(%cache_k, %cache_v, %valid) causal = block
      : (tensor<1x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?xi1>) -> tensor<1x4x16xbf16>
  return %o : tensor<1x4x16xbf16>
}
