// RUN: msa-opt %s -split-input-file -msa-fuse-routing | FileCheck %s
// RUN: msa-opt %s -split-input-file -msa-fuse-routing=blocks=8 \
// RUN:   | FileCheck %s --check-prefix=BLOCKS8
// RUN: not msa-opt %s -split-input-file -msa-fuse-routing=blocks=0 2>&1 \
// RUN:   | FileCheck %s --check-prefix=ZERO
// RUN: not msa-opt %s -split-input-file -msa-fuse-routing=blocks=-3 2>&1 \
// RUN:   | FileCheck %s --check-prefix=NEGATIVE

// topk(doc_reduce(route_scores)) becomes route_topk, with `blocks` rows of
// f32 candidates, and topk_merge. Then the cases where the chunk or document
// scores have other users, and the error for blocks <= 0.

// ZERO:     error: msa-fuse-routing: expected blocks to be positive, got 0
// NEGATIVE: error: msa-fuse-routing: expected blocks to be positive, got -3

// CHECK-LABEL: func.func @route(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<5x4x16xbf16>, %[[KB:[^:]+]]: tensor<2x?x16xbf16>,
// CHECK-SAME:    %[[MASK:[^:]+]]: tensor<5xi1>, %[[COFF:[^:]+]]: tensor<3xi32>)
// CHECK-NOT:     msa.route_scores
// CHECK-NOT:     msa.doc_reduce
// CHECK:         %[[S:.+]], %[[I:.+]] = msa.route_topk %[[Q]], %[[KB]], %[[MASK]], %[[COFF]]
// CHECK-SAME:      heads(mean) tokens(max) chunks(max) k = 2 scale
// CHECK-SAME:      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>, tensor<3xi32>)
// CHECK-SAME:      -> (tensor<64x2xf32>, tensor<64x2xi32>)
// CHECK:         %[[IDX:.+]], %{{.+}}, %[[N:.+]] = msa.topk_merge %[[S]], %[[I]] k = 2
// CHECK-SAME:      : (tensor<64x2xf32>, tensor<64x2xi32>)
// CHECK-SAME:      -> (tensor<2xi32>, tensor<2xf32>, tensor<i32>)
// CHECK-NOT:     msa.topk
// CHECK:         return %[[IDX]], %[[N]] : tensor<2xi32>, tensor<i32>
// BLOCKS8-LABEL: func.func @route(
// BLOCKS8:         msa.route_topk
// BLOCKS8-SAME:      -> (tensor<8x2xf32>, tensor<8x2xi32>)
// BLOCKS8:         msa.topk_merge
// BLOCKS8-SAME:      : (tensor<8x2xf32>, tensor<8x2xi32>)
func.func @route(%q: tensor<5x4x16xbf16>, %kb: tensor<2x?x16xbf16>, %mask: tensor<5xi1>,
    %coff: tensor<3xi32>) -> (tensor<2xi32>, tensor<i32>) {
  %s = msa.route_scores %q, %kb, %mask heads(mean) tokens(max) scale
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
  %d = msa.doc_reduce %s, %coff chunks(max)
      : (tensor<?xbf16>, tensor<3xi32>) -> tensor<2xbf16>
  %idx, %n = msa.topk %d k = 2 : (tensor<2xbf16>) -> (tensor<2xi32>, tensor<i32>)
  return %idx, %n : tensor<2xi32>, tensor<i32>
}

// -----

// The other reductions and flags carry over; f16 document scores give f32
// candidates too.
// CHECK-LABEL: func.func @route_normalize_mean(
// CHECK:         %[[S:.+]], %[[I:.+]] = msa.route_topk
// CHECK-SAME:      heads(max) tokens(last) chunks(mean) k = 4 normalize
// CHECK-SAME:      : (tensor<?x8x32xf16>, tensor<2x?x32xf16>, tensor<?xi1>, tensor<?xi32>)
// CHECK-SAME:      -> (tensor<64x4xf32>, tensor<64x4xi32>)
// CHECK:         msa.topk_merge %[[S]], %[[I]] k = 4
// CHECK-SAME:      -> (tensor<4xi32>, tensor<4xf32>, tensor<i32>)
// BLOCKS8-LABEL: func.func @route_normalize_mean(
// BLOCKS8:         -> (tensor<8x4xf32>, tensor<8x4xi32>)
func.func @route_normalize_mean(%q: tensor<?x8x32xf16>, %kb: tensor<2x?x32xf16>,
    %mask: tensor<?xi1>, %coff: tensor<?xi32>) -> (tensor<4xi32>, tensor<i32>) {
  %s = msa.route_scores %q, %kb, %mask heads(max) tokens(last) normalize
      : (tensor<?x8x32xf16>, tensor<2x?x32xf16>, tensor<?xi1>) -> tensor<?xf16>
  %d = msa.doc_reduce %s, %coff chunks(mean)
      : (tensor<?xf16>, tensor<?xi32>) -> tensor<?xf16>
  %idx, %n = msa.topk %d k = 4 : (tensor<?xf16>) -> (tensor<4xi32>, tensor<i32>)
  return %idx, %n : tensor<4xi32>, tensor<i32>
}

// -----

// The chunk scores are returned as well: they must exist, no fusion.
// CHECK-LABEL: func.func @chunk_scores_used_elsewhere(
// CHECK:         %[[S:.+]] = msa.route_scores
// CHECK:         msa.doc_reduce %[[S]]
// CHECK:         msa.topk
// CHECK-NOT:     msa.route_topk
// CHECK:         return %{{.+}}, %[[S]]
func.func @chunk_scores_used_elsewhere(%q: tensor<5x4x16xbf16>, %kb: tensor<2x?x16xbf16>,
    %mask: tensor<5xi1>, %coff: tensor<3xi32>)
    -> (tensor<2xi32>, tensor<i32>, tensor<?xbf16>) {
  %s = msa.route_scores %q, %kb, %mask heads(mean) tokens(max) scale
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
  %d = msa.doc_reduce %s, %coff chunks(max)
      : (tensor<?xbf16>, tensor<3xi32>) -> tensor<2xbf16>
  %idx, %n = msa.topk %d k = 2 : (tensor<2xbf16>) -> (tensor<2xi32>, tensor<i32>)
  return %idx, %n, %s : tensor<2xi32>, tensor<i32>, tensor<?xbf16>
}

// -----

// CHECK-LABEL: func.func @doc_scores_used_elsewhere(
// CHECK:         msa.route_scores
// CHECK:         %[[D:.+]] = msa.doc_reduce
// CHECK:         msa.topk %[[D]]
// CHECK-NOT:     msa.route_topk
// CHECK:         return %{{.+}}, %[[D]]
func.func @doc_scores_used_elsewhere(%q: tensor<5x4x16xbf16>, %kb: tensor<2x?x16xbf16>,
    %mask: tensor<5xi1>, %coff: tensor<3xi32>)
    -> (tensor<2xi32>, tensor<i32>, tensor<2xbf16>) {
  %s = msa.route_scores %q, %kb, %mask heads(mean) tokens(max) scale
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
  %d = msa.doc_reduce %s, %coff chunks(max)
      : (tensor<?xbf16>, tensor<3xi32>) -> tensor<2xbf16>
  %idx, %n = msa.topk %d k = 2 : (tensor<2xbf16>) -> (tensor<2xi32>, tensor<i32>)
  return %idx, %n, %d : tensor<2xi32>, tensor<i32>, tensor<2xbf16>
}

// -----

// A top-k of scores that are not document reductions of router scores.
// CHECK-LABEL: func.func @topk_of_plain_scores(
// CHECK:         msa.topk
// CHECK-NOT:     msa.route_topk
// CHECK-NOT:     msa.topk_merge
func.func @topk_of_plain_scores(%d: tensor<?xf32>) -> (tensor<2xi32>, tensor<i32>) {
  %idx, %n = msa.topk %d k = 2 : (tensor<?xf32>) -> (tensor<2xi32>, tensor<i32>)
  return %idx, %n : tensor<2xi32>, tensor<i32>
}

// -----

// A doc_reduce of something other than route_scores.
// CHECK-LABEL: func.func @topk_of_reduced_plain_scores(
// CHECK:         msa.doc_reduce
// CHECK:         msa.topk
// CHECK-NOT:     msa.route_topk
func.func @topk_of_reduced_plain_scores(%s: tensor<?xf32>, %coff: tensor<3xi32>)
    -> (tensor<2xi32>, tensor<i32>) {
  %d = msa.doc_reduce %s, %coff chunks(max)
      : (tensor<?xf32>, tensor<3xi32>) -> tensor<2xf32>
  %idx, %n = msa.topk %d k = 2 : (tensor<2xf32>) -> (tensor<2xi32>, tensor<i32>)
  return %idx, %n : tensor<2xi32>, tensor<i32>
}
