// RUN: msa-opt %s -split-input-file -canonicalize | FileCheck %s

// The chunk_offsets folder and the rope and doc_reduce canonicalization
// patterns, each with the cases where they must not apply.

// Constant segments fold to constant chunk offsets: ceil(5/4), ceil(0/4) and
// ceil(9/4) chunks.
// CHECK-LABEL: func.func @chunk_offsets_constant(
// CHECK:         %[[COFF:.+]] = arith.constant dense<[0, 2, 2, 5]> : tensor<4xi32>
// CHECK-NOT:     msa.chunk_offsets
// CHECK:         return %[[COFF]] : tensor<4xi32>
func.func @chunk_offsets_constant() -> tensor<4xi32> {
  %segments = arith.constant dense<[0, 5, 5, 14]> : tensor<4xi32>
  %coff = msa.chunk_offsets %segments chunk_size = 4 : (tensor<4xi32>) -> tensor<4xi32>
  return %coff : tensor<4xi32>
}

// -----

// CHECK-LABEL: func.func @chunk_offsets_not_constant(
// CHECK-SAME:    %[[SEG:[^:]+]]: tensor<3xi32>)
// CHECK:         %[[COFF:.+]] = msa.chunk_offsets %[[SEG]] chunk_size = 4
// CHECK:         return %[[COFF]]
func.func @chunk_offsets_not_constant(%segments: tensor<3xi32>) -> tensor<3xi32> {
  %coff = msa.chunk_offsets %segments chunk_size = 4 : (tensor<3xi32>) -> tensor<3xi32>
  return %coff : tensor<3xi32>
}

// -----

// Descending offsets are a runtime error, not a fold.
// CHECK-LABEL: func.func @chunk_offsets_descending(
// CHECK:         %[[SEG:.+]] = arith.constant dense<[0, 8, 4]> : tensor<3xi32>
// CHECK:         %[[COFF:.+]] = msa.chunk_offsets %[[SEG]] chunk_size = 4
// CHECK:         return %[[COFF]]
func.func @chunk_offsets_descending() -> tensor<3xi32> {
  %segments = arith.constant dense<[0, 8, 4]> : tensor<3xi32>
  %coff = msa.chunk_offsets %segments chunk_size = 4 : (tensor<3xi32>) -> tensor<3xi32>
  return %coff : tensor<3xi32>
}

// -----

// A dynamic result type cannot hold the folded constant.
// CHECK-LABEL: func.func @chunk_offsets_dynamic_result(
// CHECK:         %[[SEG:.+]] = arith.constant dense<[0, 8, 12]> : tensor<3xi32>
// CHECK:         %[[COFF:.+]] = msa.chunk_offsets %[[SEG]] chunk_size = 4 : (tensor<3xi32>) -> tensor<?xi32>
// CHECK:         return %[[COFF]]
func.func @chunk_offsets_dynamic_result() -> tensor<?xi32> {
  %segments = arith.constant dense<[0, 8, 12]> : tensor<3xi32>
  %coff = msa.chunk_offsets %segments chunk_size = 4 : (tensor<3xi32>) -> tensor<?xi32>
  return %coff : tensor<?xi32>
}

// -----

// CHECK-LABEL: func.func @rope_consecutive_positions(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<3x4x16xbf16>)
// CHECK:         %[[START:.+]] = arith.constant dense<7> : tensor<i32>
// CHECK:         %[[ROT:.+]] = msa.rope %[[Q]], %[[START]] global theta = 1.000000e+04
// CHECK-SAME:      {k_cfg = 16 : i64, template_len = 3 : i64}
// CHECK-SAME:      : (tensor<3x4x16xbf16>, tensor<i32>) -> tensor<3x4x16xbf16>
// CHECK:         return %[[ROT]]
func.func @rope_consecutive_positions(%q: tensor<3x4x16xbf16>) -> tensor<3x4x16xbf16> {
  %pos = arith.constant dense<[7, 8, 9]> : tensor<3xi32>
  %r = msa.rope %q, %pos global theta = 1.0e+04 {template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<3x4x16xbf16>, tensor<3xi32>) -> tensor<3x4x16xbf16>
  return %r : tensor<3x4x16xbf16>
}

// -----

// CHECK-LABEL: func.func @rope_single_position(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<1x4x16xf32>)
// CHECK:         %[[START:.+]] = arith.constant dense<5> : tensor<i32>
// CHECK:         %[[ROT:.+]] = msa.rope %[[Q]], %[[START]] global
// CHECK-SAME:      : (tensor<1x4x16xf32>, tensor<i32>) -> tensor<1x4x16xf32>
// CHECK:         return %[[ROT]]
func.func @rope_single_position(%q: tensor<1x4x16xf32>) -> tensor<1x4x16xf32> {
  %pos = arith.constant dense<5> : tensor<1xi32>
  %r = msa.rope %q, %pos global theta = 1.0e+04 {template_len = 0 : i64, k_cfg = 0 : i64}
      : (tensor<1x4x16xf32>, tensor<1xi32>) -> tensor<1x4x16xf32>
  return %r : tensor<1x4x16xf32>
}

// -----

// CHECK-LABEL: func.func @rope_non_consecutive_positions(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<3x4x16xbf16>)
// CHECK:         %[[POS:.+]] = arith.constant dense<[7, 9, 10]> : tensor<3xi32>
// CHECK:         msa.rope %[[Q]], %[[POS]] global
// CHECK-SAME:      : (tensor<3x4x16xbf16>, tensor<3xi32>) -> tensor<3x4x16xbf16>
func.func @rope_non_consecutive_positions(%q: tensor<3x4x16xbf16>) -> tensor<3x4x16xbf16> {
  %pos = arith.constant dense<[7, 9, 10]> : tensor<3xi32>
  %r = msa.rope %q, %pos global theta = 1.0e+04 {template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<3x4x16xbf16>, tensor<3xi32>) -> tensor<3x4x16xbf16>
  return %r : tensor<3x4x16xbf16>
}

// -----

// CHECK-LABEL: func.func @rope_repeated_positions(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<3x4x16xbf16>)
// CHECK:         %[[POS:.+]] = arith.constant dense<5> : tensor<3xi32>
// CHECK:         msa.rope %[[Q]], %[[POS]] global
// CHECK-SAME:      : (tensor<3x4x16xbf16>, tensor<3xi32>) -> tensor<3x4x16xbf16>
func.func @rope_repeated_positions(%q: tensor<3x4x16xbf16>) -> tensor<3x4x16xbf16> {
  %pos = arith.constant dense<5> : tensor<3xi32>
  %r = msa.rope %q, %pos global theta = 1.0e+04 {template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<3x4x16xbf16>, tensor<3xi32>) -> tensor<3x4x16xbf16>
  return %r : tensor<3x4x16xbf16>
}

// -----

// In document mode the operand holds segment offsets, not positions.
// CHECK-LABEL: func.func @rope_document_mode(
// CHECK-SAME:    %[[K:[^:]+]]: tensor<3x2x16xbf16>)
// CHECK:         %[[SEG:.+]] = arith.constant dense<[0, 1, 2]> : tensor<3xi32>
// CHECK:         msa.rope %[[K]], %[[SEG]] document
// CHECK-SAME:      : (tensor<3x2x16xbf16>, tensor<3xi32>) -> tensor<3x2x16xbf16>
func.func @rope_document_mode(%k: tensor<3x2x16xbf16>) -> tensor<3x2x16xbf16> {
  %segments = arith.constant dense<[0, 1, 2]> : tensor<3xi32>
  %r = msa.rope %k, %segments document theta = 1.0e+04
      : (tensor<3x2x16xbf16>, tensor<3xi32>) -> tensor<3x2x16xbf16>
  return %r : tensor<3x2x16xbf16>
}

// -----

// CHECK-LABEL: func.func @rope_positions_not_constant(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<3x4x16xbf16>, %[[POS:[^:]+]]: tensor<3xi32>)
// CHECK:         msa.rope %[[Q]], %[[POS]] global
// CHECK-SAME:      : (tensor<3x4x16xbf16>, tensor<3xi32>) -> tensor<3x4x16xbf16>
func.func @rope_positions_not_constant(%q: tensor<3x4x16xbf16>,
    %pos: tensor<3xi32>) -> tensor<3x4x16xbf16> {
  %r = msa.rope %q, %pos global theta = 1.0e+04 {template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<3x4x16xbf16>, tensor<3xi32>) -> tensor<3x4x16xbf16>
  return %r : tensor<3x4x16xbf16>
}

// -----

// CHECK-LABEL: func.func @doc_reduce_single_chunks_cast(
// CHECK-SAME:    %[[S:[^:]+]]: tensor<?xbf16>)
// CHECK-NOT:     msa.doc_reduce
// CHECK:         %[[CAST:.+]] = tensor.cast %[[S]] : tensor<?xbf16> to tensor<2xbf16>
// CHECK-NOT:     msa.doc_reduce
// CHECK:         return %[[CAST]] : tensor<2xbf16>
func.func @doc_reduce_single_chunks_cast(%s: tensor<?xbf16>) -> tensor<2xbf16> {
  %coff = arith.constant dense<[0, 1, 2]> : tensor<3xi32>
  %d = msa.doc_reduce %s, %coff chunks(mean)
      : (tensor<?xbf16>, tensor<3xi32>) -> tensor<2xbf16>
  return %d : tensor<2xbf16>
}

// -----

// CHECK-LABEL: func.func @doc_reduce_single_chunks_same_type(
// CHECK-SAME:    %[[S:[^:]+]]: tensor<2xf32>)
// CHECK-NOT:     msa.doc_reduce
// CHECK-NOT:     tensor.cast
// CHECK:         return %[[S]] : tensor<2xf32>
func.func @doc_reduce_single_chunks_same_type(%s: tensor<2xf32>) -> tensor<2xf32> {
  %coff = arith.constant dense<[0, 1, 2]> : tensor<3xi32>
  %d = msa.doc_reduce %s, %coff chunks(max)
      : (tensor<2xf32>, tensor<3xi32>) -> tensor<2xf32>
  return %d : tensor<2xf32>
}

// -----

// CHECK-LABEL: func.func @doc_reduce_multi_chunk_doc(
// CHECK-SAME:    %[[S:[^:]+]]: tensor<?xbf16>)
// CHECK:         %[[COFF:.+]] = arith.constant dense<[0, 2, 3]> : tensor<3xi32>
// CHECK:         %[[D:.+]] = msa.doc_reduce %[[S]], %[[COFF]] chunks(max)
// CHECK:         return %[[D]]
func.func @doc_reduce_multi_chunk_doc(%s: tensor<?xbf16>) -> tensor<2xbf16> {
  %coff = arith.constant dense<[0, 2, 3]> : tensor<3xi32>
  %d = msa.doc_reduce %s, %coff chunks(max)
      : (tensor<?xbf16>, tensor<3xi32>) -> tensor<2xbf16>
  return %d : tensor<2xbf16>
}

// -----

// One chunk per document, but not starting at chunk 0.
// CHECK-LABEL: func.func @doc_reduce_offsets_not_from_zero(
// CHECK-SAME:    %[[S:[^:]+]]: tensor<?xbf16>)
// CHECK:         %[[COFF:.+]] = arith.constant dense<[1, 2, 3]> : tensor<3xi32>
// CHECK:         %[[D:.+]] = msa.doc_reduce %[[S]], %[[COFF]] chunks(max)
// CHECK:         return %[[D]]
func.func @doc_reduce_offsets_not_from_zero(%s: tensor<?xbf16>) -> tensor<2xbf16> {
  %coff = arith.constant dense<[1, 2, 3]> : tensor<3xi32>
  %d = msa.doc_reduce %s, %coff chunks(max)
      : (tensor<?xbf16>, tensor<3xi32>) -> tensor<2xbf16>
  return %d : tensor<2xbf16>
}

// -----

// CHECK-LABEL: func.func @doc_reduce_offsets_not_constant(
// CHECK-SAME:    %[[S:[^:]+]]: tensor<?xbf16>, %[[COFF:[^:]+]]: tensor<3xi32>)
// CHECK:         %[[D:.+]] = msa.doc_reduce %[[S]], %[[COFF]] chunks(max)
// CHECK:         return %[[D]]
func.func @doc_reduce_offsets_not_constant(%s: tensor<?xbf16>,
    %coff: tensor<3xi32>) -> tensor<2xbf16> {
  %d = msa.doc_reduce %s, %coff chunks(max)
      : (tensor<?xbf16>, tensor<3xi32>) -> tensor<2xbf16>
  return %d : tensor<2xbf16>
}

// -----

// The folded chunk offsets [0, 1, 2] make the reduction the identity.
// CHECK-LABEL: func.func @chunk_offsets_then_doc_reduce(
// CHECK-SAME:    %[[S:[^:]+]]: tensor<?xf16>)
// CHECK-NOT:     msa.
// CHECK:         %[[CAST:.+]] = tensor.cast %[[S]] : tensor<?xf16> to tensor<2xf16>
// CHECK-NOT:     msa.
// CHECK:         return %[[CAST]] : tensor<2xf16>
func.func @chunk_offsets_then_doc_reduce(%s: tensor<?xf16>) -> tensor<2xf16> {
  %segments = arith.constant dense<[0, 3, 7]> : tensor<3xi32>
  %coff = msa.chunk_offsets %segments chunk_size = 4 : (tensor<3xi32>) -> tensor<3xi32>
  %d = msa.doc_reduce %s, %coff chunks(mean)
      : (tensor<?xf16>, tensor<3xi32>) -> tensor<2xf16>
  return %d : tensor<2xf16>
}

// -----

// Static scores longer than the document count contradict the offsets: the
// identity rewrite does not apply (the mismatch is a runtime error).
// CHECK-LABEL: func.func @doc_reduce_scores_length_mismatch
func.func @doc_reduce_scores_length_mismatch(%s: tensor<5xbf16>) -> tensor<2xbf16> {
  %off = arith.constant dense<[0, 1, 2]> : tensor<3xi32>
  // CHECK: msa.doc_reduce
  %d = msa.doc_reduce %s, %off chunks(max) : (tensor<5xbf16>, tensor<3xi32>) -> tensor<2xbf16>
  return %d : tensor<2xbf16>
}
