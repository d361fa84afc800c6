// Stage 2 routing in one router layer (msa-semantics.md §4.3-§4.5): router
// scores of every chunk reduced over heads (mean) and routing tokens (max),
// chunk scores reduced to document scores (max), top-k documents, and their
// pooled chunks gathered for sparse attention. The consecutive global
// positions fold to a start index; constant segments fold to chunk offsets.
//
//   msa-opt examples/routing-topk.mlir --msa-graph-cleanup
func.func @route(%q: tensor<5x4x16xbf16>, %routerKeys: tensor<2x?x16xbf16>,
                 %keys: tensor<2x?x16xbf16>, %mask: tensor<5xi1>)
    -> (tensor<2xi32>, tensor<i32>, tensor<2x?x16xbf16>, tensor<5x4x16xbf16>) {
  %pos = arith.constant dense<[0, 1, 2, 3, 4]> : tensor<5xi32>
  %qr = msa.rope %q, %pos global theta = 1.0e+04 {template_len = 3 : i64, k_cfg = 2 : i64}
      : (tensor<5x4x16xbf16>, tensor<5xi32>) -> tensor<5x4x16xbf16>
  %segments = arith.constant dense<[0, 9, 13, 30]> : tensor<4xi32>
  %coff = msa.chunk_offsets %segments chunk_size = 4 : (tensor<4xi32>) -> tensor<4xi32>
  %s = msa.route_scores %qr, %routerKeys, %mask heads(mean) tokens(max) scale
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
  %d = msa.doc_reduce %s, %coff chunks(max) : (tensor<?xbf16>, tensor<4xi32>) -> tensor<3xbf16>
  %idx, %n = msa.topk %d k = 2 : (tensor<3xbf16>) -> (tensor<2xi32>, tensor<i32>)
  %kc = msa.gather_chunks %keys[%idx, %n], %coff
      : (tensor<2x?x16xbf16>, tensor<2xi32>, tensor<i32>, tensor<4xi32>) -> tensor<2x?x16xbf16>
  return %idx, %n, %kc, %qr : tensor<2xi32>, tensor<i32>, tensor<2x?x16xbf16>, tensor<5x4x16xbf16>
}
