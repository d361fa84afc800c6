// RUN: msa-opt %s -split-input-file -msa-fuse-pooling | FileCheck %s

// The key and value chunk_pools of an encode attention (doc_attention or an
// encode_docs without an epilogue) over the attention's segments, or a suffix
// slice of them, become its pooling epilogue; a third pool over the same
// segments becomes the router-key epilogue. Then the cases the pass leaves
// alone: pools of other segments or chunk sizes, only one pool, pools read
// before the attention.

// The suffix slice segments[1:] (the template head is not pooled), written
// as the importer does: size = dim(segments, 0) - 1.
// CHECK-LABEL: func.func @doc_attention_suffix_pools(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<?x4x16xbf16>, %[[K:[^:]+]]: tensor<?x2x16xbf16>,
// CHECK-SAME:    %[[V:[^:]+]]: tensor<?x2x16xbf16>, %[[SEG:[^:]+]]: tensor<?xi32>)
// CHECK-NOT:     msa.doc_attention
// CHECK:         %[[E:.+]]:3 = msa.encode_docs %[[Q]], %[[K]], %[[V]], %[[SEG]]
// CHECK-SAME:      {chunk_size = 4 : i64, first_pooled_segment = 1 : i64}
// CHECK-SAME:      -> (tensor<?x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>)
// CHECK-NOT:     msa.chunk_pool
// CHECK:         return %[[E]]#0, %[[E]]#1, %[[E]]#2
func.func @doc_attention_suffix_pools(%q: tensor<?x4x16xbf16>, %k: tensor<?x2x16xbf16>,
    %v: tensor<?x2x16xbf16>, %seg: tensor<?xi32>)
    -> (tensor<?x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %dim = tensor.dim %seg, %c0 : tensor<?xi32>
  %m = arith.subi %dim, %c1 : index
  %docs = tensor.extract_slice %seg[1] [%m] [1] : tensor<?xi32> to tensor<?xi32>
  %o = msa.doc_attention %q, %k, %v, %seg
      : (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<?x2x16xbf16>,
         tensor<?xi32>) -> tensor<?x4x16xbf16>
  %kb = msa.chunk_pool %k, %docs chunk_size = 4
      : (tensor<?x2x16xbf16>, tensor<?xi32>) -> tensor<2x?x16xbf16>
  %vb = msa.chunk_pool %v, %docs chunk_size = 4
      : (tensor<?x2x16xbf16>, tensor<?xi32>) -> tensor<2x?x16xbf16>
  return %o, %kb, %vb : tensor<?x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>
}

// -----

// Pools over the attention's own segments: every segment is pooled.
// CHECK-LABEL: func.func @doc_attention_all_segments(
// CHECK:         %[[E:.+]]:3 = msa.encode_docs
// CHECK-SAME:      {chunk_size = 2 : i64, first_pooled_segment = 0 : i64, scale = 5.000000e-01 : f64}
// CHECK-NOT:     msa.chunk_pool
// CHECK:         return %[[E]]#0, %[[E]]#1, %[[E]]#2
func.func @doc_attention_all_segments(%q: tensor<9x4x16xf32>, %k: tensor<9x2x16xf32>,
    %v: tensor<9x2x16xf32>, %seg: tensor<3xi32>)
    -> (tensor<9x4x16xf32>, tensor<2x?x16xf32>, tensor<2x?x16xf32>) {
  %o = msa.doc_attention %q, %k, %v, %seg {scale = 5.0e-01 : f64}
      : (tensor<9x4x16xf32>, tensor<9x2x16xf32>, tensor<9x2x16xf32>,
         tensor<3xi32>) -> tensor<9x4x16xf32>
  %kb = msa.chunk_pool %k, %seg chunk_size = 2
      : (tensor<9x2x16xf32>, tensor<3xi32>) -> tensor<2x?x16xf32>
  %vb = msa.chunk_pool %v, %seg chunk_size = 2
      : (tensor<9x2x16xf32>, tensor<3xi32>) -> tensor<2x?x16xf32>
  return %o, %kb, %vb : tensor<9x4x16xf32>, tensor<2x?x16xf32>, tensor<2x?x16xf32>
}

// -----

// A static suffix slice of static segments.
// CHECK-LABEL: func.func @static_suffix(
// CHECK:         msa.encode_docs
// CHECK-SAME:      {chunk_size = 4 : i64, first_pooled_segment = 2 : i64}
// CHECK-NOT:     msa.chunk_pool
func.func @static_suffix(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<4xi32>)
    -> (tensor<9x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>) {
  %docs = tensor.extract_slice %seg[2] [2] [1] : tensor<4xi32> to tensor<2xi32>
  %o = msa.doc_attention %q, %k, %v, %seg
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>,
         tensor<4xi32>) -> tensor<9x4x16xbf16>
  %kb = msa.chunk_pool %k, %docs chunk_size = 4
      : (tensor<9x2x16xbf16>, tensor<2xi32>) -> tensor<2x?x16xbf16>
  %vb = msa.chunk_pool %v, %docs chunk_size = 4
      : (tensor<9x2x16xbf16>, tensor<2xi32>) -> tensor<2x?x16xbf16>
  return %o, %kb, %vb : tensor<9x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>
}

// -----

// An encode_docs with a RoPE prologue: the key pool reads its rotated keys,
// which nothing else needs afterwards, so emit_rotated_key goes. Of two
// normalised router pools defined before the attention, the later one (the
// router keys of this layer) becomes the router epilogue.
// CHECK-LABEL: func.func @encode_rotated_keys_and_router(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<?x4x16xbf16>, %[[K:[^:]+]]: tensor<?x2x16xbf16>,
// CHECK-SAME:    %[[V:[^:]+]]: tensor<?x2x16xbf16>, %[[SEG:[^:]+]]: tensor<?xi32>,
// CHECK-SAME:    %[[X:[^:]+]]: tensor<?x2x16xbf16>, %[[Y:[^:]+]]: tensor<?x2x16xbf16>)
// CHECK:         %[[DOCS:.+]] = tensor.extract_slice %[[SEG]][1]
// CHECK:         %[[OLD:.+]] = arith.addf %[[X]], %[[X]]
// CHECK:         %[[RK:.+]] = arith.addf %[[Y]], %[[Y]]
// CHECK:         %[[E:.+]]:4 = msa.encode_docs %[[Q]], %[[K]], %[[V]], %[[SEG]] router(%[[RK]])
// CHECK-SAME:      {chunk_size = 4 : i64, first_pooled_segment = 1 : i64, normalize_router,
// CHECK-SAME:      rope_theta = 1.000000e+04 : f64}
// CHECK-SAME:      -> (tensor<?x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>)
// CHECK:         %[[OLDB:.+]] = msa.chunk_pool %[[OLD]], %[[DOCS]] chunk_size = 4 normalize
// CHECK:         return %[[E]]#0, %[[E]]#1, %[[E]]#2, %[[E]]#3, %[[OLDB]]
func.func @encode_rotated_keys_and_router(%q: tensor<?x4x16xbf16>, %k: tensor<?x2x16xbf16>,
    %v: tensor<?x2x16xbf16>, %seg: tensor<?xi32>, %x: tensor<?x2x16xbf16>,
    %y: tensor<?x2x16xbf16>)
    -> (tensor<?x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>,
        tensor<2x?x16xbf16>, tensor<2x?x16xbf16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %dim = tensor.dim %seg, %c0 : tensor<?xi32>
  %m = arith.subi %dim, %c1 : index
  %docs = tensor.extract_slice %seg[1] [%m] [1] : tensor<?xi32> to tensor<?xi32>
  %rk_old = arith.addf %x, %x : tensor<?x2x16xbf16>
  %rk = arith.addf %y, %y : tensor<?x2x16xbf16>
  %o, %kr = msa.encode_docs %q, %k, %v, %seg {rope_theta = 1.0e+04 : f64, emit_rotated_key}
      : (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?xi32>)
        -> (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>)
  %kb = msa.chunk_pool %kr, %docs chunk_size = 4
      : (tensor<?x2x16xbf16>, tensor<?xi32>) -> tensor<2x?x16xbf16>
  %vb = msa.chunk_pool %v, %docs chunk_size = 4
      : (tensor<?x2x16xbf16>, tensor<?xi32>) -> tensor<2x?x16xbf16>
  %rb_old = msa.chunk_pool %rk_old, %docs chunk_size = 4 normalize
      : (tensor<?x2x16xbf16>, tensor<?xi32>) -> tensor<2x?x16xbf16>
  %rb = msa.chunk_pool %rk, %docs chunk_size = 4 normalize
      : (tensor<?x2x16xbf16>, tensor<?xi32>) -> tensor<2x?x16xbf16>
  return %o, %kb, %vb, %rb, %rb_old
      : tensor<?x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>,
        tensor<2x?x16xbf16>, tensor<2x?x16xbf16>
}

// -----

// Rotated keys that something besides the pool reads stay a result.
// CHECK-LABEL: func.func @encode_rotated_keys_kept(
// CHECK:         %[[E:.+]]:4 = msa.encode_docs
// CHECK-SAME:      {chunk_size = 4 : i64, emit_rotated_key, first_pooled_segment = 0 : i64,
// CHECK-SAME:      rope_theta = 1.000000e+04 : f64}
// CHECK-SAME:      -> (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>)
// CHECK-NOT:     msa.chunk_pool
// CHECK:         return %[[E]]#0, %[[E]]#1, %[[E]]#2, %[[E]]#3
func.func @encode_rotated_keys_kept(%q: tensor<?x4x16xbf16>, %k: tensor<?x2x16xbf16>,
    %v: tensor<?x2x16xbf16>, %seg: tensor<?xi32>)
    -> (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>) {
  %o, %kr = msa.encode_docs %q, %k, %v, %seg {rope_theta = 1.0e+04 : f64, emit_rotated_key}
      : (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?xi32>)
        -> (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>)
  %kb = msa.chunk_pool %kr, %seg chunk_size = 4
      : (tensor<?x2x16xbf16>, tensor<?xi32>) -> tensor<2x?x16xbf16>
  %vb = msa.chunk_pool %v, %seg chunk_size = 4
      : (tensor<?x2x16xbf16>, tensor<?xi32>) -> tensor<2x?x16xbf16>
  return %o, %kr, %kb, %vb
      : tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>
}

// -----

// A RoPE encode_docs that does not return its rotated keys: a pool of the
// un-rotated key operand is not its epilogue.
// CHECK-LABEL: func.func @encode_rope_unrotated_pool(
// CHECK:         msa.encode_docs %{{[^ ,]+}}, %{{[^ ,]+}}, %{{[^ ,]+}}, %{{[^ ,]+}} {rope_theta = 1.000000e+04 : f64}
// CHECK:         msa.chunk_pool
// CHECK:         msa.chunk_pool
func.func @encode_rope_unrotated_pool(%q: tensor<?x4x16xbf16>, %k: tensor<?x2x16xbf16>,
    %v: tensor<?x2x16xbf16>, %seg: tensor<?xi32>)
    -> (tensor<?x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>) {
  %o = msa.encode_docs %q, %k, %v, %seg {rope_theta = 1.0e+04 : f64}
      : (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?xi32>)
        -> tensor<?x4x16xbf16>
  %kb = msa.chunk_pool %k, %seg chunk_size = 4
      : (tensor<?x2x16xbf16>, tensor<?xi32>) -> tensor<2x?x16xbf16>
  %vb = msa.chunk_pool %v, %seg chunk_size = 4
      : (tensor<?x2x16xbf16>, tensor<?xi32>) -> tensor<2x?x16xbf16>
  return %o, %kb, %vb : tensor<?x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>
}

// -----

// The slice stops before the last segment.
// CHECK-LABEL: func.func @slice_not_to_the_end(
// CHECK:         %[[DOCS:.+]] = tensor.extract_slice
// CHECK:         msa.doc_attention
// CHECK:         msa.chunk_pool %{{[^ ,]+}}, %[[DOCS]]
// CHECK:         msa.chunk_pool %{{[^ ,]+}}, %[[DOCS]]
// CHECK-NOT:     msa.encode_docs
func.func @slice_not_to_the_end(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<4xi32>)
    -> (tensor<9x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>) {
  %docs = tensor.extract_slice %seg[1] [2] [1] : tensor<4xi32> to tensor<2xi32>
  %o = msa.doc_attention %q, %k, %v, %seg
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>,
         tensor<4xi32>) -> tensor<9x4x16xbf16>
  %kb = msa.chunk_pool %k, %docs chunk_size = 4
      : (tensor<9x2x16xbf16>, tensor<2xi32>) -> tensor<2x?x16xbf16>
  %vb = msa.chunk_pool %v, %docs chunk_size = 4
      : (tensor<9x2x16xbf16>, tensor<2xi32>) -> tensor<2x?x16xbf16>
  return %o, %kb, %vb : tensor<9x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>
}

// -----

// A dynamic slice of dim(segments) - 2 entries from offset 1 also stops one
// segment short.
// CHECK-LABEL: func.func @dynamic_slice_not_to_the_end(
// CHECK:         msa.doc_attention
// CHECK:         msa.chunk_pool
// CHECK:         msa.chunk_pool
// CHECK-NOT:     msa.encode_docs
func.func @dynamic_slice_not_to_the_end(%q: tensor<?x4x16xbf16>, %k: tensor<?x2x16xbf16>,
    %v: tensor<?x2x16xbf16>, %seg: tensor<?xi32>)
    -> (tensor<?x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>) {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %dim = tensor.dim %seg, %c0 : tensor<?xi32>
  %m = arith.subi %dim, %c2 : index
  %docs = tensor.extract_slice %seg[1] [%m] [1] : tensor<?xi32> to tensor<?xi32>
  %o = msa.doc_attention %q, %k, %v, %seg
      : (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<?x2x16xbf16>,
         tensor<?xi32>) -> tensor<?x4x16xbf16>
  %kb = msa.chunk_pool %k, %docs chunk_size = 4
      : (tensor<?x2x16xbf16>, tensor<?xi32>) -> tensor<2x?x16xbf16>
  %vb = msa.chunk_pool %v, %docs chunk_size = 4
      : (tensor<?x2x16xbf16>, tensor<?xi32>) -> tensor<2x?x16xbf16>
  return %o, %kb, %vb : tensor<?x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>
}

// -----

// CHECK-LABEL: func.func @other_segments(
// CHECK-SAME:    %[[SEG:[^:]+]]: tensor<3xi32>, %[[OTHER:[^:]+]]: tensor<3xi32>)
// CHECK:         msa.doc_attention %{{[^ ,]+}}, %{{[^ ,]+}}, %{{[^ ,]+}}, %[[SEG]]
// CHECK:         msa.chunk_pool %{{[^ ,]+}}, %[[OTHER]]
// CHECK:         msa.chunk_pool %{{[^ ,]+}}, %[[OTHER]]
// CHECK-NOT:     msa.encode_docs
func.func @other_segments(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>, %other: tensor<3xi32>)
    -> (tensor<9x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>) {
  %o = msa.doc_attention %q, %k, %v, %seg
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>,
         tensor<3xi32>) -> tensor<9x4x16xbf16>
  %kb = msa.chunk_pool %k, %other chunk_size = 4
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<2x?x16xbf16>
  %vb = msa.chunk_pool %v, %other chunk_size = 4
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<2x?x16xbf16>
  return %o, %kb, %vb : tensor<9x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>
}

// -----

// CHECK-LABEL: func.func @mismatched_chunk_size(
// CHECK:         msa.doc_attention
// CHECK:         msa.chunk_pool %{{[^ ,]+}}, %{{[^ ,]+}} chunk_size = 4
// CHECK:         msa.chunk_pool %{{[^ ,]+}}, %{{[^ ,]+}} chunk_size = 8
// CHECK-NOT:     msa.encode_docs
func.func @mismatched_chunk_size(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>)
    -> (tensor<9x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>) {
  %o = msa.doc_attention %q, %k, %v, %seg
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>,
         tensor<3xi32>) -> tensor<9x4x16xbf16>
  %kb = msa.chunk_pool %k, %seg chunk_size = 4
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<2x?x16xbf16>
  %vb = msa.chunk_pool %v, %seg chunk_size = 8
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<2x?x16xbf16>
  return %o, %kb, %vb : tensor<9x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>
}

// -----

// CHECK-LABEL: func.func @only_key_pooled(
// CHECK:         msa.doc_attention
// CHECK:         msa.chunk_pool
// CHECK-NOT:     msa.encode_docs
func.func @only_key_pooled(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>)
    -> (tensor<9x4x16xbf16>, tensor<2x?x16xbf16>) {
  %o = msa.doc_attention %q, %k, %v, %seg
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>,
         tensor<3xi32>) -> tensor<9x4x16xbf16>
  %kb = msa.chunk_pool %k, %seg chunk_size = 4
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<2x?x16xbf16>
  return %o, %kb : tensor<9x4x16xbf16>, tensor<2x?x16xbf16>
}

// -----

// Keys and values are one tensor with one pool: that pool is not both the
// key and the value epilogue.
// CHECK-LABEL: func.func @same_key_and_value_one_pool(
// CHECK:         msa.doc_attention
// CHECK:         msa.chunk_pool
// CHECK-NOT:     msa.encode_docs
func.func @same_key_and_value_one_pool(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %seg: tensor<3xi32>) -> (tensor<9x4x16xbf16>, tensor<2x?x16xbf16>) {
  %o = msa.doc_attention %q, %k, %k, %seg
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>,
         tensor<3xi32>) -> tensor<9x4x16xbf16>
  %kb = msa.chunk_pool %k, %seg chunk_size = 4
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<2x?x16xbf16>
  return %o, %kb : tensor<9x4x16xbf16>, tensor<2x?x16xbf16>
}

// -----

// A normalised key pool is not the K̄ epilogue.
// CHECK-LABEL: func.func @normalized_key_pool(
// CHECK:         msa.doc_attention
// CHECK:         msa.chunk_pool %{{[^ ,]+}}, %{{[^ ,]+}} chunk_size = 4 normalize
// CHECK-NOT:     msa.encode_docs
func.func @normalized_key_pool(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>)
    -> (tensor<9x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>) {
  %o = msa.doc_attention %q, %k, %v, %seg
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>,
         tensor<3xi32>) -> tensor<9x4x16xbf16>
  %kb = msa.chunk_pool %k, %seg chunk_size = 4 normalize
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<2x?x16xbf16>
  %vb = msa.chunk_pool %v, %seg chunk_size = 4
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<2x?x16xbf16>
  return %o, %kb, %vb : tensor<9x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>
}

// -----

// A pooled key read before the attention could not read a result of the
// kernel that replaces it.
// CHECK-LABEL: func.func @pool_read_before_attention(
// CHECK:         %[[KB:.+]] = msa.chunk_pool
// CHECK:         arith.addf %[[KB]], %[[KB]]
// CHECK:         msa.doc_attention
// CHECK-NOT:     msa.encode_docs
func.func @pool_read_before_attention(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>)
    -> (tensor<9x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>) {
  %kb = msa.chunk_pool %k, %seg chunk_size = 4
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<2x?x16xbf16>
  %kb2 = arith.addf %kb, %kb : tensor<2x?x16xbf16>
  %o = msa.doc_attention %q, %k, %v, %seg
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>,
         tensor<3xi32>) -> tensor<9x4x16xbf16>
  %vb = msa.chunk_pool %v, %seg chunk_size = 4
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<2x?x16xbf16>
  return %o, %kb2, %vb : tensor<9x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>
}

// -----

// A third pool of a tensor computed after the attention is not its router
// epilogue: keys and values fuse, that pool stays.
// CHECK-LABEL: func.func @router_keys_after_attention(
// CHECK:         %[[E:.+]]:3 = msa.encode_docs
// CHECK-NOT:     router(
// CHECK:         %[[R:.+]] = arith.addf
// CHECK:         %[[RB:.+]] = msa.chunk_pool %[[R]]
// CHECK:         return %[[E]]#0, %[[E]]#1, %[[E]]#2, %[[RB]]
func.func @router_keys_after_attention(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>, %x: tensor<9x2x16xbf16>)
    -> (tensor<9x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>) {
  %o = msa.doc_attention %q, %k, %v, %seg
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>,
         tensor<3xi32>) -> tensor<9x4x16xbf16>
  %kb = msa.chunk_pool %k, %seg chunk_size = 4
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<2x?x16xbf16>
  %vb = msa.chunk_pool %v, %seg chunk_size = 4
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<2x?x16xbf16>
  %r = arith.addf %x, %x : tensor<9x2x16xbf16>
  %rb = msa.chunk_pool %r, %seg chunk_size = 4
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<2x?x16xbf16>
  return %o, %kb, %vb, %rb
      : tensor<9x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>
}

// -----

// An encode_docs that already pools is left as it is.
// CHECK-LABEL: func.func @encode_already_pools(
// CHECK:         %[[E:.+]]:3 = msa.encode_docs
// CHECK-SAME:      {chunk_size = 4 : i64, first_pooled_segment = 1 : i64}
// CHECK:         %[[KB:.+]] = msa.chunk_pool
// CHECK:         %[[VB:.+]] = msa.chunk_pool
// CHECK:         return %[[E]]#0, %[[E]]#1, %[[E]]#2, %[[KB]], %[[VB]]
func.func @encode_already_pools(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>)
    -> (tensor<9x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>,
        tensor<2x?x16xbf16>, tensor<2x?x16xbf16>) {
  %o, %kb0, %vb0 = msa.encode_docs %q, %k, %v, %seg
      {chunk_size = 4 : i64, first_pooled_segment = 1 : i64}
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>, tensor<3xi32>)
        -> (tensor<9x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>)
  %kb = msa.chunk_pool %k, %seg chunk_size = 2
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<2x?x16xbf16>
  %vb = msa.chunk_pool %v, %seg chunk_size = 2
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<2x?x16xbf16>
  return %o, %kb0, %vb0, %kb, %vb
      : tensor<9x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>,
        tensor<2x?x16xbf16>, tensor<2x?x16xbf16>
}
