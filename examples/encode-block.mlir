// Stage 1 of one layer over a block of packed documents (msa-semantics.md
// §3): per-head k_norm, document-wise RoPE, block-diagonal causal attention,
// and chunk mean pooling of K, V and router K into the bank layout.
//
//   msa-opt examples/encode-block.mlir --msa-graph-cleanup
func.func @encode_block(%normed: tensor<?x64xbf16>, %wq: tensor<64x64xbf16>,
                        %wk: tensor<32x64xbf16>, %wv: tensor<32x64xbf16>,
                        %wrk: tensor<32x64xbf16>, %qnorm: tensor<16xbf16>,
                        %knorm: tensor<16xbf16>, %segments: tensor<?xi32>,
                        %docSegments: tensor<?xi32>)
    -> (tensor<?x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>,
        tensor<2x?x16xbf16>) {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %normed, %c0 : tensor<?x64xbf16>
  %q2 = msa.linear %normed, %wq : (tensor<?x64xbf16>, tensor<64x64xbf16>) -> tensor<?x64xbf16>
  %k2 = msa.linear %normed, %wk : (tensor<?x64xbf16>, tensor<32x64xbf16>) -> tensor<?x32xbf16>
  %v2 = msa.linear %normed, %wv : (tensor<?x64xbf16>, tensor<32x64xbf16>) -> tensor<?x32xbf16>
  %rk2 = msa.linear %normed, %wrk : (tensor<?x64xbf16>, tensor<32x64xbf16>) -> tensor<?x32xbf16>
  %q3 = tensor.expand_shape %q2 [[0], [1, 2]] output_shape [%n, 4, 16] : tensor<?x64xbf16> into tensor<?x4x16xbf16>
  %k3 = tensor.expand_shape %k2 [[0], [1, 2]] output_shape [%n, 2, 16] : tensor<?x32xbf16> into tensor<?x2x16xbf16>
  %v3 = tensor.expand_shape %v2 [[0], [1, 2]] output_shape [%n, 2, 16] : tensor<?x32xbf16> into tensor<?x2x16xbf16>
  %rk3 = tensor.expand_shape %rk2 [[0], [1, 2]] output_shape [%n, 2, 16] : tensor<?x32xbf16> into tensor<?x2x16xbf16>
  %qn = msa.rms_norm %q3, %qnorm epsilon = 1.0e-06 : (tensor<?x4x16xbf16>, tensor<16xbf16>) -> tensor<?x4x16xbf16>
  %kn = msa.rms_norm %k3, %knorm epsilon = 1.0e-06 : (tensor<?x2x16xbf16>, tensor<16xbf16>) -> tensor<?x2x16xbf16>
  %qr = msa.rope %qn, %segments document theta = 1.0e+04 : (tensor<?x4x16xbf16>, tensor<?xi32>) -> tensor<?x4x16xbf16>
  %kr = msa.rope %kn, %segments document theta = 1.0e+04 : (tensor<?x2x16xbf16>, tensor<?xi32>) -> tensor<?x2x16xbf16>
  %o = msa.doc_attention %qr, %kr, %v3, %segments : (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?xi32>) -> tensor<?x4x16xbf16>
  %kbar = msa.chunk_pool %kr, %docSegments chunk_size = 4 : (tensor<?x2x16xbf16>, tensor<?xi32>) -> tensor<2x?x16xbf16>
  %vbar = msa.chunk_pool %v3, %docSegments chunk_size = 4 : (tensor<?x2x16xbf16>, tensor<?xi32>) -> tensor<2x?x16xbf16>
  %rkbar = msa.chunk_pool %rk3, %docSegments chunk_size = 4 : (tensor<?x2x16xbf16>, tensor<?xi32>) -> tensor<2x?x16xbf16>
  return %o, %kbar, %vbar, %rkbar : tensor<?x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>
}
