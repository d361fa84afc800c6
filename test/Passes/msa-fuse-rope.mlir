// RUN: msa-opt %s -split-input-file -msa-fuse-rope | FileCheck %s

// Document mode: a doc_attention of queries and keys rotated over its own
// segments with one theta becomes an encode_docs that rotates in its
// prologue. Global mode: a sparse_attention or memory_attention whose queries
// are a global rope used nowhere else takes the rope's positions, theta,
// template_len and k_cfg. Then the cases the pass leaves alone.

// CHECK-LABEL: func.func @doc_rope_fused(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<9x4x16xbf16>, %[[K:[^:]+]]: tensor<9x2x16xbf16>,
// CHECK-SAME:    %[[V:[^:]+]]: tensor<9x2x16xbf16>, %[[SEG:[^:]+]]: tensor<3xi32>)
// CHECK-NOT:     msa.rope
// CHECK:         %[[O:.+]] = msa.encode_docs %[[Q]], %[[K]], %[[V]], %[[SEG]]
// CHECK-SAME:      {rope_theta = 1.000000e+04 : f64, scale = 2.500000e-01 : f64}
// CHECK-SAME:      -> tensor<9x4x16xbf16>
// CHECK-NOT:     msa.rope
// CHECK:         return %[[O]] : tensor<9x4x16xbf16>
func.func @doc_rope_fused(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>) -> tensor<9x4x16xbf16> {
  %qr = msa.rope %q, %seg document theta = 1.0e+04
      : (tensor<9x4x16xbf16>, tensor<3xi32>) -> tensor<9x4x16xbf16>
  %kr = msa.rope %k, %seg document theta = 1.0e+04
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<9x2x16xbf16>
  %o = msa.doc_attention %qr, %kr, %v, %seg {scale = 2.5e-01 : f64}
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>,
         tensor<3xi32>) -> tensor<9x4x16xbf16>
  return %o : tensor<9x4x16xbf16>
}

// -----

// Rotated keys that chunk pooling reads after the attention: the kernel
// returns them (emit_rotated_key) and the pool reads that result.
// CHECK-LABEL: func.func @doc_rope_key_used_after(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<?x4x16xf16>, %[[K:[^:]+]]: tensor<?x2x16xf16>,
// CHECK-SAME:    %[[V:[^:]+]]: tensor<?x2x16xf16>, %[[SEG:[^:]+]]: tensor<?xi32>)
// CHECK-NOT:     msa.rope
// CHECK:         %[[E:.+]]:2 = msa.encode_docs %[[Q]], %[[K]], %[[V]], %[[SEG]]
// CHECK-SAME:      {emit_rotated_key, rope_theta = 5.000000e+05 : f64}
// CHECK-SAME:      -> (tensor<?x4x16xf16>, tensor<?x2x16xf16>)
// CHECK:         %[[KB:.+]] = msa.chunk_pool %[[E]]#1, %[[SEG]] chunk_size = 4
// CHECK:         return %[[E]]#0, %[[KB]]
func.func @doc_rope_key_used_after(%q: tensor<?x4x16xf16>, %k: tensor<?x2x16xf16>,
    %v: tensor<?x2x16xf16>, %seg: tensor<?xi32>)
    -> (tensor<?x4x16xf16>, tensor<2x?x16xf16>) {
  %qr = msa.rope %q, %seg document theta = 5.0e+05
      : (tensor<?x4x16xf16>, tensor<?xi32>) -> tensor<?x4x16xf16>
  %kr = msa.rope %k, %seg document theta = 5.0e+05
      : (tensor<?x2x16xf16>, tensor<?xi32>) -> tensor<?x2x16xf16>
  %o = msa.doc_attention %qr, %kr, %v, %seg
      : (tensor<?x4x16xf16>, tensor<?x2x16xf16>, tensor<?x2x16xf16>,
         tensor<?xi32>) -> tensor<?x4x16xf16>
  %kb = msa.chunk_pool %kr, %seg chunk_size = 4
      : (tensor<?x2x16xf16>, tensor<?xi32>) -> tensor<2x?x16xf16>
  return %o, %kb : tensor<?x4x16xf16>, tensor<2x?x16xf16>
}

// -----

// A user of the rotated keys before the attention could not read a result
// of the kernel that replaces it: no fusion.
// CHECK-LABEL: func.func @doc_rope_key_used_before(
// CHECK:         %[[QR:.+]] = msa.rope
// CHECK:         %[[KR:.+]] = msa.rope
// CHECK:         msa.chunk_pool %[[KR]]
// CHECK:         msa.doc_attention %[[QR]], %[[KR]]
// CHECK-NOT:     msa.encode_docs
func.func @doc_rope_key_used_before(%q: tensor<?x4x16xf16>, %k: tensor<?x2x16xf16>,
    %v: tensor<?x2x16xf16>, %seg: tensor<?xi32>)
    -> (tensor<?x4x16xf16>, tensor<2x?x16xf16>) {
  %qr = msa.rope %q, %seg document theta = 5.0e+05
      : (tensor<?x4x16xf16>, tensor<?xi32>) -> tensor<?x4x16xf16>
  %kr = msa.rope %k, %seg document theta = 5.0e+05
      : (tensor<?x2x16xf16>, tensor<?xi32>) -> tensor<?x2x16xf16>
  %kb = msa.chunk_pool %kr, %seg chunk_size = 4
      : (tensor<?x2x16xf16>, tensor<?xi32>) -> tensor<2x?x16xf16>
  %o = msa.doc_attention %qr, %kr, %v, %seg
      : (tensor<?x4x16xf16>, tensor<?x2x16xf16>, tensor<?x2x16xf16>,
         tensor<?xi32>) -> tensor<?x4x16xf16>
  return %o, %kb : tensor<?x4x16xf16>, tensor<2x?x16xf16>
}

// -----

// Both ropes restart at other segments than the attention's.
// CHECK-LABEL: func.func @doc_rope_other_segments(
// CHECK-SAME:    %[[SEG:[^:]+]]: tensor<3xi32>, %[[OTHER:[^:]+]]: tensor<3xi32>)
// CHECK:         %[[QR:.+]] = msa.rope %{{[^ ,)]+}}, %[[OTHER]] document
// CHECK:         %[[KR:.+]] = msa.rope %{{[^ ,)]+}}, %[[OTHER]] document
// CHECK:         msa.doc_attention %[[QR]], %[[KR]], %{{[^ ,)]+}}, %[[SEG]]
// CHECK-NOT:     msa.encode_docs
func.func @doc_rope_other_segments(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>, %other: tensor<3xi32>)
    -> tensor<9x4x16xbf16> {
  %qr = msa.rope %q, %other document theta = 1.0e+04
      : (tensor<9x4x16xbf16>, tensor<3xi32>) -> tensor<9x4x16xbf16>
  %kr = msa.rope %k, %other document theta = 1.0e+04
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<9x2x16xbf16>
  %o = msa.doc_attention %qr, %kr, %v, %seg
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>,
         tensor<3xi32>) -> tensor<9x4x16xbf16>
  return %o : tensor<9x4x16xbf16>
}

// -----

// Only the keys restart at other segments.
// CHECK-LABEL: func.func @doc_rope_key_other_segments(
// CHECK:         msa.rope
// CHECK:         msa.rope
// CHECK:         msa.doc_attention
// CHECK-NOT:     msa.encode_docs
func.func @doc_rope_key_other_segments(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>, %other: tensor<3xi32>)
    -> tensor<9x4x16xbf16> {
  %qr = msa.rope %q, %seg document theta = 1.0e+04
      : (tensor<9x4x16xbf16>, tensor<3xi32>) -> tensor<9x4x16xbf16>
  %kr = msa.rope %k, %other document theta = 1.0e+04
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<9x2x16xbf16>
  %o = msa.doc_attention %qr, %kr, %v, %seg
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>,
         tensor<3xi32>) -> tensor<9x4x16xbf16>
  return %o : tensor<9x4x16xbf16>
}

// -----

// CHECK-LABEL: func.func @doc_rope_different_thetas(
// CHECK:         msa.rope %{{[^ ,)]+}}, %{{[^ ,)]+}} document theta = 1.000000e+04
// CHECK:         msa.rope %{{[^ ,)]+}}, %{{[^ ,)]+}} document theta = 1.000000e+06
// CHECK:         msa.doc_attention
// CHECK-NOT:     msa.encode_docs
func.func @doc_rope_different_thetas(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>) -> tensor<9x4x16xbf16> {
  %qr = msa.rope %q, %seg document theta = 1.0e+04
      : (tensor<9x4x16xbf16>, tensor<3xi32>) -> tensor<9x4x16xbf16>
  %kr = msa.rope %k, %seg document theta = 1.0e+06
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<9x2x16xbf16>
  %o = msa.doc_attention %qr, %kr, %v, %seg
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>,
         tensor<3xi32>) -> tensor<9x4x16xbf16>
  return %o : tensor<9x4x16xbf16>
}

// -----

// Rotated queries read by something else (routing by the queries
// themselves): no fusion.
// CHECK-LABEL: func.func @doc_rope_query_used_elsewhere(
// CHECK:         %[[QR:.+]] = msa.rope
// CHECK:         %[[KR:.+]] = msa.rope
// CHECK:         %[[O:.+]] = msa.doc_attention %[[QR]], %[[KR]]
// CHECK-NOT:     msa.encode_docs
// CHECK:         return %[[O]], %[[QR]]
func.func @doc_rope_query_used_elsewhere(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>)
    -> (tensor<9x4x16xbf16>, tensor<9x4x16xbf16>) {
  %qr = msa.rope %q, %seg document theta = 1.0e+04
      : (tensor<9x4x16xbf16>, tensor<3xi32>) -> tensor<9x4x16xbf16>
  %kr = msa.rope %k, %seg document theta = 1.0e+04
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<9x2x16xbf16>
  %o = msa.doc_attention %qr, %kr, %v, %seg
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>,
         tensor<3xi32>) -> tensor<9x4x16xbf16>
  return %o, %qr : tensor<9x4x16xbf16>, tensor<9x4x16xbf16>
}

// -----

// CHECK-LABEL: func.func @doc_rope_query_only(
// CHECK:         %[[QR:.+]] = msa.rope
// CHECK:         msa.doc_attention %[[QR]]
// CHECK-NOT:     msa.encode_docs
func.func @doc_rope_query_only(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>) -> tensor<9x4x16xbf16> {
  %qr = msa.rope %q, %seg document theta = 1.0e+04
      : (tensor<9x4x16xbf16>, tensor<3xi32>) -> tensor<9x4x16xbf16>
  %o = msa.doc_attention %qr, %k, %v, %seg
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>,
         tensor<3xi32>) -> tensor<9x4x16xbf16>
  return %o : tensor<9x4x16xbf16>
}

// -----

// Global-mode ropes are not the document-wise prologue of encode_docs.
// CHECK-LABEL: func.func @doc_attention_global_rope(
// CHECK:         msa.rope %{{[^ ,)]+}}, %{{[^ ,)]+}} global
// CHECK:         msa.rope %{{[^ ,)]+}}, %{{[^ ,)]+}} global
// CHECK:         msa.doc_attention
// CHECK-NOT:     msa.encode_docs
func.func @doc_attention_global_rope(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>, %start: tensor<i32>)
    -> tensor<9x4x16xbf16> {
  %qr = msa.rope %q, %start global theta = 1.0e+04 {template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<9x4x16xbf16>, tensor<i32>) -> tensor<9x4x16xbf16>
  %kr = msa.rope %k, %start global theta = 1.0e+04 {template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<9x2x16xbf16>, tensor<i32>) -> tensor<9x2x16xbf16>
  %o = msa.doc_attention %qr, %kr, %v, %seg
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>,
         tensor<3xi32>) -> tensor<9x4x16xbf16>
  return %o : tensor<9x4x16xbf16>
}

// -----

// CHECK-LABEL: func.func @sparse_global_rope(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<5x4x16xbf16>, %[[TK:[^:]+]]: tensor<3x2x16xbf16>,
// CHECK-SAME:    %[[TV:[^:]+]]: tensor<3x2x16xbf16>, %[[MK:[^:]+]]: tensor<2x?x16xbf16>,
// CHECK-SAME:    %[[MV:[^:]+]]: tensor<2x?x16xbf16>, %[[K:[^:]+]]: tensor<5x2x16xbf16>,
// CHECK-SAME:    %[[V:[^:]+]]: tensor<5x2x16xbf16>, %[[VALID:[^:]+]]: tensor<5xi1>,
// CHECK-SAME:    %[[START:[^:]+]]: tensor<i32>)
// CHECK-NOT:     msa.rope
// CHECK-NOT:     msa.sparse_attention
// CHECK:         %[[O:.+]] = msa.memory_attention %[[Q]], template(%[[TK]], %[[TV]])
// CHECK-SAME:      memory(%[[MK]], %[[MV]]) local(%[[K]], %[[V]], %[[VALID]])
// CHECK-SAME:      rope(%[[START]]) causal = bottom_right
// CHECK-SAME:      {k_cfg = 16 : i64, rope_theta = 1.000000e+04 : f64,
// CHECK-SAME:      scale = 2.500000e-01 : f64, template_len = 3 : i64}
// CHECK:         return %[[O]]
func.func @sparse_global_rope(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %mk: tensor<2x?x16xbf16>, %mv: tensor<2x?x16xbf16>,
    %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>,
    %start: tensor<i32>) -> tensor<5x4x16xbf16> {
  %qr = msa.rope %q, %start global theta = 1.0e+04 {template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<5x4x16xbf16>, tensor<i32>) -> tensor<5x4x16xbf16>
  %o = msa.sparse_attention %qr, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right {scale = 2.5e-01 : f64}
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return %o : tensor<5x4x16xbf16>
}

// -----

// Per-token positions (rank 1), no memory operands.
// CHECK-LABEL: func.func @sparse_global_rope_positions(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<?x4x16xbf16>,
// CHECK-SAME:    %[[POS:[^:]+]]: tensor<?xi32>)
// CHECK-NOT:     msa.rope
// CHECK:         msa.memory_attention %[[Q]], template(%{{[^ ,)]+}}, %{{[^ ,)]+}}) local(%{{[^ ,)]+}}, %{{[^ ,)]+}}, %{{[^ ,)]+}})
// CHECK-SAME:      rope(%[[POS]]) causal = block
// CHECK-SAME:      {k_cfg = 8 : i64, rope_theta = 1.000000e+04 : f64, template_len = 3 : i64}
func.func @sparse_global_rope_positions(%q: tensor<?x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %k: tensor<?x2x16xbf16>, %v: tensor<?x2x16xbf16>,
    %valid: tensor<?xi1>, %pos: tensor<?xi32>) -> tensor<?x4x16xbf16> {
  %qr = msa.rope %q, %pos global theta = 1.0e+04 {template_len = 3 : i64, k_cfg = 8 : i64}
      : (tensor<?x4x16xbf16>, tensor<?xi32>) -> tensor<?x4x16xbf16>
  %o = msa.sparse_attention %qr, template(%tk, %tv) local(%k, %v, %valid) causal = block
      : (tensor<?x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?xi1>) -> tensor<?x4x16xbf16>
  return %o : tensor<?x4x16xbf16>
}

// -----

// Global keys go to the KV cache: the kernel never rotates keys.
// CHECK-LABEL: func.func @sparse_global_rope_keys(
// CHECK:         %[[KR:.+]] = msa.rope %{{[^ ,)]+}}, %{{[^ ,)]+}} global
// CHECK:         msa.sparse_attention %{{[^ ,)]+}}, template(%{{[^ ,)]+}}, %{{[^ ,)]+}}) local(%[[KR]],
// CHECK-NOT:     msa.memory_attention
func.func @sparse_global_rope_keys(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>,
    %valid: tensor<5xi1>, %start: tensor<i32>) -> tensor<5x4x16xbf16> {
  %kr = msa.rope %k, %start global theta = 1.0e+04 {template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<5x2x16xbf16>, tensor<i32>) -> tensor<5x2x16xbf16>
  %o = msa.sparse_attention %q, template(%tk, %tv) local(%kr, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return %o : tensor<5x4x16xbf16>
}

// -----

// CHECK-LABEL: func.func @sparse_global_rope_query_used_elsewhere(
// CHECK:         %[[QR:.+]] = msa.rope %{{[^ ,)]+}}, %{{[^ ,)]+}} global
// CHECK:         %[[O:.+]] = msa.sparse_attention %[[QR]]
// CHECK-NOT:     msa.memory_attention
// CHECK:         return %[[O]], %[[QR]]
func.func @sparse_global_rope_query_used_elsewhere(%q: tensor<5x4x16xbf16>,
    %tk: tensor<3x2x16xbf16>, %tv: tensor<3x2x16xbf16>, %k: tensor<5x2x16xbf16>,
    %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>, %start: tensor<i32>)
    -> (tensor<5x4x16xbf16>, tensor<5x4x16xbf16>) {
  %qr = msa.rope %q, %start global theta = 1.0e+04 {template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<5x4x16xbf16>, tensor<i32>) -> tensor<5x4x16xbf16>
  %o = msa.sparse_attention %qr, template(%tk, %tv) local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return %o, %qr : tensor<5x4x16xbf16>, tensor<5x4x16xbf16>
}

// -----

// A document-mode rope of the queries is not the global prologue.
// CHECK-LABEL: func.func @sparse_document_rope_query(
// CHECK:         %[[QR:.+]] = msa.rope %{{[^ ,)]+}}, %{{[^ ,)]+}} document
// CHECK:         msa.sparse_attention %[[QR]]
// CHECK-NOT:     msa.memory_attention
func.func @sparse_document_rope_query(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>,
    %valid: tensor<5xi1>, %seg: tensor<2xi32>) -> tensor<5x4x16xbf16> {
  %qr = msa.rope %q, %seg document theta = 1.0e+04
      : (tensor<5x4x16xbf16>, tensor<2xi32>) -> tensor<5x4x16xbf16>
  %o = msa.sparse_attention %qr, template(%tk, %tv) local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return %o : tensor<5x4x16xbf16>
}

// -----

// A memory_attention without a prologue (selection and append kept).
// CHECK-LABEL: func.func @memory_global_rope(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<5x4x16xbf16>,
// CHECK-SAME:    %[[COFF:[^:]+]]: tensor<?xi32>, %[[IDX:[^:]+]]: tensor<2xi32>, %[[N:[^:]+]]: tensor<i32>,
// CHECK-SAME:    %[[AK:[^:]+]]: tensor<1x2x16xbf16>, %[[AV:[^:]+]]: tensor<1x2x16xbf16>, %[[AVALID:[^:]+]]: tensor<1xi1>,
// CHECK-SAME:    %[[START:[^:]+]]: tensor<i32>)
// CHECK-NOT:     msa.rope
// CHECK:         msa.memory_attention %[[Q]], template
// CHECK-SAME:      select(%[[COFF]], %[[IDX]], %[[N]])
// CHECK-SAME:      append(%[[AK]], %[[AV]], %[[AVALID]]) rope(%[[START]]) causal = block
// CHECK-SAME:      {k_cfg = 16 : i64, rope_theta = 1.000000e+04 : f64, template_len = 3 : i64}
func.func @memory_global_rope(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %bk: tensor<2x?x16xbf16>, %bv: tensor<2x?x16xbf16>,
    %coff: tensor<?xi32>, %idx: tensor<2xi32>, %n: tensor<i32>,
    %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>,
    %ak: tensor<1x2x16xbf16>, %av: tensor<1x2x16xbf16>, %avalid: tensor<1xi1>,
    %start: tensor<i32>) -> tensor<5x4x16xbf16> {
  %qr = msa.rope %q, %start global theta = 1.0e+04 {template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<5x4x16xbf16>, tensor<i32>) -> tensor<5x4x16xbf16>
  %o = msa.memory_attention %qr, template(%tk, %tv) memory(%bk, %bv)
      select(%coff, %idx, %n) local(%k, %v, %valid) append(%ak, %av, %avalid)
      causal = block
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<?xi32>, tensor<2xi32>,
         tensor<i32>, tensor<5x2x16xbf16>, tensor<5x2x16xbf16>, tensor<5xi1>,
         tensor<1x2x16xbf16>, tensor<1x2x16xbf16>, tensor<1xi1>) -> tensor<5x4x16xbf16>
  return %o : tensor<5x4x16xbf16>
}

// -----

// A memory_attention that already rotates its queries keeps the rope in
// front of it (a second prologue would lose the first rotation).
// CHECK-LABEL: func.func @memory_already_rotates(
// CHECK:         %[[QR:.+]] = msa.rope %{{[^ ,)]+}}, %{{[^ ,)]+}} global
// CHECK:         msa.memory_attention %[[QR]], template
// CHECK-SAME:      rope(%{{[^ ,)]+}}) causal = bottom_right
func.func @memory_already_rotates(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>,
    %valid: tensor<5xi1>, %start: tensor<i32>) -> tensor<5x4x16xbf16> {
  %qr = msa.rope %q, %start global theta = 1.0e+04 {template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<5x4x16xbf16>, tensor<i32>) -> tensor<5x4x16xbf16>
  %o = msa.memory_attention %qr, template(%tk, %tv) local(%k, %v, %valid)
      rope(%start) causal = bottom_right
      {rope_theta = 1.0e+04 : f64, template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5x2x16xbf16>, tensor<5xi1>, tensor<i32>)
      -> tensor<5x4x16xbf16>
  return %o : tensor<5x4x16xbf16>
}

// -----

// CHECK-LABEL: func.func @no_msa_ops(
// CHECK:         arith.addi
func.func @no_msa_ops(%a: i32) -> i32 {
  %b = arith.addi %a, %a : i32
  return %b : i32
}
