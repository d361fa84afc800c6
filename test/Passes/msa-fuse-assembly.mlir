// RUN: msa-opt %s -split-input-file -msa-fuse-assembly | FileCheck %s

// Memory operands that are two gather_chunks of a bank with one selection
// become the memory/select groups of an msa.memory_attention that reads the
// bank by index; local keys, values and validity that are row-wise
// tensor.concats of a cache and new tokens become its local and append
// groups, for a memory_attention or a sparse_attention alike. Then the
// cases the pass leaves alone.

// CHECK-LABEL: func.func @sparse_gathers(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<5x4x16xbf16>, %[[TK:[^:]+]]: tensor<3x2x16xbf16>,
// CHECK-SAME:    %[[TV:[^:]+]]: tensor<3x2x16xbf16>, %[[BK:[^:]+]]: tensor<2x?x16xbf16>,
// CHECK-SAME:    %[[BV:[^:]+]]: tensor<2x?x16xbf16>, %[[IDX:[^:]+]]: tensor<2xi32>,
// CHECK-SAME:    %[[N:[^:]+]]: tensor<i32>, %[[COFF:[^:]+]]: tensor<4xi32>,
// CHECK-SAME:    %[[K:[^:]+]]: tensor<5x2x16xbf16>, %[[V:[^:]+]]: tensor<5x2x16xbf16>,
// CHECK-SAME:    %[[VALID:[^:]+]]: tensor<5xi1>)
// CHECK-NOT:     msa.gather_chunks
// CHECK-NOT:     msa.sparse_attention
// CHECK:         %[[O:.+]] = msa.memory_attention %[[Q]], template(%[[TK]], %[[TV]])
// CHECK-SAME:      memory(%[[BK]], %[[BV]]) select(%[[COFF]], %[[IDX]], %[[N]])
// CHECK-SAME:      local(%[[K]], %[[V]], %[[VALID]]) causal = bottom_right
// CHECK-SAME:      {scale = 2.500000e-01 : f64}
// CHECK-SAME:      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
// CHECK-SAME:      tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<4xi32>, tensor<2xi32>,
// CHECK-SAME:      tensor<i32>, tensor<5x2x16xbf16>, tensor<5x2x16xbf16>, tensor<5xi1>)
// CHECK-SAME:      -> tensor<5x4x16xbf16>
// CHECK:         return %[[O]]
func.func @sparse_gathers(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %bk: tensor<2x?x16xbf16>, %bv: tensor<2x?x16xbf16>,
    %idx: tensor<2xi32>, %n: tensor<i32>, %coff: tensor<4xi32>,
    %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>)
    -> tensor<5x4x16xbf16> {
  %mk = msa.gather_chunks %bk[%idx, %n], %coff
      : (tensor<2x?x16xbf16>, tensor<2xi32>, tensor<i32>, tensor<4xi32>) -> tensor<2x?x16xbf16>
  %mv = msa.gather_chunks %bv[%idx, %n], %coff
      : (tensor<2x?x16xbf16>, tensor<2xi32>, tensor<i32>, tensor<4xi32>) -> tensor<2x?x16xbf16>
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right {scale = 2.5e-01 : f64}
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return %o : tensor<5x4x16xbf16>
}

// -----

// What msa-fuse-rope makes of a sparse_attention first: a memory_attention
// attending gathered memory whole. Its RoPE prologue stays.
// CHECK-LABEL: func.func @memory_gathers_with_rope(
// CHECK-SAME:    %[[BK:[^:]+]]: tensor<2x?x16xbf16>, %[[BV:[^:]+]]: tensor<2x?x16xbf16>,
// CHECK-SAME:    %[[IDX:[^:]+]]: tensor<2xi32>, %[[N:[^:]+]]: tensor<i32>, %[[COFF:[^:]+]]: tensor<?xi32>,
// CHECK-SAME:    %[[START:[^:]+]]: tensor<i32>)
// CHECK-NOT:     msa.gather_chunks
// CHECK:         msa.memory_attention
// CHECK-SAME:      memory(%[[BK]], %[[BV]]) select(%[[COFF]], %[[IDX]], %[[N]])
// CHECK-SAME:      rope(%[[START]]) causal = bottom_right
// CHECK-SAME:      {k_cfg = 16 : i64, rope_theta = 1.000000e+04 : f64, template_len = 3 : i64}
func.func @memory_gathers_with_rope(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>,
    %valid: tensor<5xi1>, %bk: tensor<2x?x16xbf16>, %bv: tensor<2x?x16xbf16>,
    %idx: tensor<2xi32>, %n: tensor<i32>, %coff: tensor<?xi32>, %start: tensor<i32>)
    -> tensor<5x4x16xbf16> {
  %mk = msa.gather_chunks %bk[%idx, %n], %coff
      : (tensor<2x?x16xbf16>, tensor<2xi32>, tensor<i32>, tensor<?xi32>) -> tensor<2x?x16xbf16>
  %mv = msa.gather_chunks %bv[%idx, %n], %coff
      : (tensor<2x?x16xbf16>, tensor<2xi32>, tensor<i32>, tensor<?xi32>) -> tensor<2x?x16xbf16>
  %o = msa.memory_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) rope(%start) causal = bottom_right
      {rope_theta = 1.0e+04 : f64, template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>, tensor<i32>) -> tensor<5x4x16xbf16>
  return %o : tensor<5x4x16xbf16>
}

// -----

// Decode: the local keys, values and validity are the KV cache followed by
// the step's new tokens.
// CHECK-LABEL: func.func @concat_to_append(
// CHECK-SAME:    %[[CK:[^:]+]]: tensor<?x2x16xbf16>, %[[CV:[^:]+]]: tensor<?x2x16xbf16>,
// CHECK-SAME:    %[[CVALID:[^:]+]]: tensor<?xi1>, %[[NK:[^:]+]]: tensor<?x2x16xbf16>,
// CHECK-SAME:    %[[NV:[^:]+]]: tensor<?x2x16xbf16>, %[[NVALID:[^:]+]]: tensor<?xi1>,
// CHECK-SAME:    %[[POS:[^:]+]]: tensor<?xi32>)
// CHECK-NOT:     tensor.concat
// CHECK:         %[[O:.+]] = msa.memory_attention %{{[^ ,]+}}, template(%{{[^ ,]+}}, %{{[^ ,)]+}})
// CHECK-SAME:      local(%[[CK]], %[[CV]], %[[CVALID]]) append(%[[NK]], %[[NV]], %[[NVALID]])
// CHECK-SAME:      rope(%[[POS]]) causal = block
// CHECK:         return %[[O]]
func.func @concat_to_append(%q: tensor<?x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %ck: tensor<?x2x16xbf16>, %cv: tensor<?x2x16xbf16>,
    %cvalid: tensor<?xi1>, %nk: tensor<?x2x16xbf16>, %nv: tensor<?x2x16xbf16>,
    %nvalid: tensor<?xi1>, %pos: tensor<?xi32>) -> tensor<?x4x16xbf16> {
  %k = tensor.concat dim(0) %ck, %nk
      : (tensor<?x2x16xbf16>, tensor<?x2x16xbf16>) -> tensor<?x2x16xbf16>
  %v = tensor.concat dim(0) %cv, %nv
      : (tensor<?x2x16xbf16>, tensor<?x2x16xbf16>) -> tensor<?x2x16xbf16>
  %valid = tensor.concat dim(0) %cvalid, %nvalid
      : (tensor<?xi1>, tensor<?xi1>) -> tensor<?xi1>
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid)
      rope(%pos) causal = block
      {rope_theta = 1.0e+04 : f64, template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<?x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?xi1>, tensor<?xi32>)
      -> tensor<?x4x16xbf16>
  return %o : tensor<?x4x16xbf16>
}

// -----

// Both fusions on one op: gathered memory and a concatenated cache. The
// validity concat has a second user, which keeps it.
// CHECK-LABEL: func.func @gathers_and_concat(
// CHECK-SAME:    %[[BK:[^:]+]]: tensor<2x?x16xbf16>, %[[BV:[^:]+]]: tensor<2x?x16xbf16>,
// CHECK-SAME:    %[[IDX:[^:]+]]: tensor<2xi32>, %[[N:[^:]+]]: tensor<i32>, %[[COFF:[^:]+]]: tensor<4xi32>,
// CHECK-SAME:    %[[CK:[^:]+]]: tensor<4x2x16xbf16>, %[[CV:[^:]+]]: tensor<4x2x16xbf16>,
// CHECK-SAME:    %[[CVALID:[^:]+]]: tensor<4xi1>, %[[NK:[^:]+]]: tensor<1x2x16xbf16>,
// CHECK-SAME:    %[[NV:[^:]+]]: tensor<1x2x16xbf16>, %[[NVALID:[^:]+]]: tensor<1xi1>)
// CHECK:         %[[VALID:.+]] = tensor.concat dim(0) %[[CVALID]], %[[NVALID]]
// CHECK-NOT:     tensor.concat
// CHECK-NOT:     msa.gather_chunks
// CHECK:         %[[O:.+]] = msa.memory_attention
// CHECK-SAME:      memory(%[[BK]], %[[BV]]) select(%[[COFF]], %[[IDX]], %[[N]])
// CHECK-SAME:      local(%[[CK]], %[[CV]], %[[CVALID]]) append(%[[NK]], %[[NV]], %[[NVALID]])
// CHECK-SAME:      causal = block
// CHECK:         return %[[O]], %[[VALID]]
func.func @gathers_and_concat(%q: tensor<1x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %bk: tensor<2x?x16xbf16>, %bv: tensor<2x?x16xbf16>,
    %idx: tensor<2xi32>, %n: tensor<i32>, %coff: tensor<4xi32>,
    %ck: tensor<4x2x16xbf16>, %cv: tensor<4x2x16xbf16>, %cvalid: tensor<4xi1>,
    %nk: tensor<1x2x16xbf16>, %nv: tensor<1x2x16xbf16>, %nvalid: tensor<1xi1>)
    -> (tensor<1x4x16xbf16>, tensor<5xi1>) {
  %mk = msa.gather_chunks %bk[%idx, %n], %coff
      : (tensor<2x?x16xbf16>, tensor<2xi32>, tensor<i32>, tensor<4xi32>) -> tensor<2x?x16xbf16>
  %mv = msa.gather_chunks %bv[%idx, %n], %coff
      : (tensor<2x?x16xbf16>, tensor<2xi32>, tensor<i32>, tensor<4xi32>) -> tensor<2x?x16xbf16>
  %k = tensor.concat dim(0) %ck, %nk
      : (tensor<4x2x16xbf16>, tensor<1x2x16xbf16>) -> tensor<5x2x16xbf16>
  %v = tensor.concat dim(0) %cv, %nv
      : (tensor<4x2x16xbf16>, tensor<1x2x16xbf16>) -> tensor<5x2x16xbf16>
  %valid = tensor.concat dim(0) %cvalid, %nvalid
      : (tensor<4xi1>, tensor<1xi1>) -> tensor<5xi1>
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = block
      : (tensor<1x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<1x4x16xbf16>
  return %o, %valid : tensor<1x4x16xbf16>, tensor<5xi1>
}

// -----

// CHECK-LABEL: func.func @gathers_different_indices(
// CHECK:         msa.gather_chunks
// CHECK:         msa.gather_chunks
// CHECK:         msa.sparse_attention
// CHECK-NOT:     msa.memory_attention
func.func @gathers_different_indices(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %bk: tensor<2x?x16xbf16>, %bv: tensor<2x?x16xbf16>,
    %idx: tensor<2xi32>, %idx2: tensor<2xi32>, %n: tensor<i32>, %coff: tensor<4xi32>,
    %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>)
    -> tensor<5x4x16xbf16> {
  %mk = msa.gather_chunks %bk[%idx, %n], %coff
      : (tensor<2x?x16xbf16>, tensor<2xi32>, tensor<i32>, tensor<4xi32>) -> tensor<2x?x16xbf16>
  %mv = msa.gather_chunks %bv[%idx2, %n], %coff
      : (tensor<2x?x16xbf16>, tensor<2xi32>, tensor<i32>, tensor<4xi32>) -> tensor<2x?x16xbf16>
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return %o : tensor<5x4x16xbf16>
}

// -----

// CHECK-LABEL: func.func @gathers_different_counts(
// CHECK:         msa.gather_chunks
// CHECK:         msa.gather_chunks
// CHECK:         msa.sparse_attention
// CHECK-NOT:     msa.memory_attention
func.func @gathers_different_counts(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %bk: tensor<2x?x16xbf16>, %bv: tensor<2x?x16xbf16>,
    %idx: tensor<2xi32>, %n: tensor<i32>, %n2: tensor<i32>, %coff: tensor<4xi32>,
    %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>)
    -> tensor<5x4x16xbf16> {
  %mk = msa.gather_chunks %bk[%idx, %n], %coff
      : (tensor<2x?x16xbf16>, tensor<2xi32>, tensor<i32>, tensor<4xi32>) -> tensor<2x?x16xbf16>
  %mv = msa.gather_chunks %bv[%idx, %n2], %coff
      : (tensor<2x?x16xbf16>, tensor<2xi32>, tensor<i32>, tensor<4xi32>) -> tensor<2x?x16xbf16>
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return %o : tensor<5x4x16xbf16>
}

// -----

// CHECK-LABEL: func.func @gathers_different_offsets(
// CHECK:         msa.gather_chunks
// CHECK:         msa.gather_chunks
// CHECK:         msa.sparse_attention
// CHECK-NOT:     msa.memory_attention
func.func @gathers_different_offsets(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %bk: tensor<2x?x16xbf16>, %bv: tensor<2x?x16xbf16>,
    %idx: tensor<2xi32>, %n: tensor<i32>, %coff: tensor<4xi32>, %coff2: tensor<4xi32>,
    %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>)
    -> tensor<5x4x16xbf16> {
  %mk = msa.gather_chunks %bk[%idx, %n], %coff
      : (tensor<2x?x16xbf16>, tensor<2xi32>, tensor<i32>, tensor<4xi32>) -> tensor<2x?x16xbf16>
  %mv = msa.gather_chunks %bv[%idx, %n], %coff2
      : (tensor<2x?x16xbf16>, tensor<2xi32>, tensor<i32>, tensor<4xi32>) -> tensor<2x?x16xbf16>
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return %o : tensor<5x4x16xbf16>
}

// -----

// A gathered copy that something else reads is made anyway.
// CHECK-LABEL: func.func @gather_used_elsewhere(
// CHECK:         %[[MK:.+]] = msa.gather_chunks
// CHECK:         msa.gather_chunks
// CHECK:         %[[O:.+]] = msa.sparse_attention
// CHECK-NOT:     msa.memory_attention
// CHECK:         return %[[O]], %[[MK]]
func.func @gather_used_elsewhere(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %bk: tensor<2x?x16xbf16>, %bv: tensor<2x?x16xbf16>,
    %idx: tensor<2xi32>, %n: tensor<i32>, %coff: tensor<4xi32>,
    %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>)
    -> (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>) {
  %mk = msa.gather_chunks %bk[%idx, %n], %coff
      : (tensor<2x?x16xbf16>, tensor<2xi32>, tensor<i32>, tensor<4xi32>) -> tensor<2x?x16xbf16>
  %mv = msa.gather_chunks %bv[%idx, %n], %coff
      : (tensor<2x?x16xbf16>, tensor<2xi32>, tensor<i32>, tensor<4xi32>) -> tensor<2x?x16xbf16>
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return %o, %mk : tensor<5x4x16xbf16>, tensor<2x?x16xbf16>
}

// -----

// Memory that is not gathered (the bank itself) stays as written.
// CHECK-LABEL: func.func @sparse_no_gathers(
// CHECK:         msa.sparse_attention
// CHECK-NOT:     msa.memory_attention
func.func @sparse_no_gathers(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %mk: tensor<2x?x16xbf16>, %mv: tensor<2x?x16xbf16>,
    %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>)
    -> tensor<5x4x16xbf16> {
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return %o : tensor<5x4x16xbf16>
}

// -----

// The validity is not a concatenation: nothing to split.
// CHECK-LABEL: func.func @concat_valid_not_concat(
// CHECK:         tensor.concat
// CHECK:         tensor.concat
// CHECK:         msa.memory_attention
// CHECK-NOT:     append(
func.func @concat_valid_not_concat(%q: tensor<1x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %ck: tensor<4x2x16xbf16>, %cv: tensor<4x2x16xbf16>,
    %nk: tensor<1x2x16xbf16>, %nv: tensor<1x2x16xbf16>, %valid: tensor<5xi1>)
    -> tensor<1x4x16xbf16> {
  %k = tensor.concat dim(0) %ck, %nk
      : (tensor<4x2x16xbf16>, tensor<1x2x16xbf16>) -> tensor<5x2x16xbf16>
  %v = tensor.concat dim(0) %cv, %nv
      : (tensor<4x2x16xbf16>, tensor<1x2x16xbf16>) -> tensor<5x2x16xbf16>
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid) causal = block
      : (tensor<1x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<1x4x16xbf16>
  return %o : tensor<1x4x16xbf16>
}

// -----

// Keys concatenated along the heads are not a cache and new tokens.
// CHECK-LABEL: func.func @concat_along_heads(
// CHECK:         tensor.concat dim(1)
// CHECK:         tensor.concat dim(1)
// CHECK:         msa.memory_attention
// CHECK-NOT:     append(
func.func @concat_along_heads(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %k0: tensor<5x1x16xbf16>, %k1: tensor<5x1x16xbf16>,
    %v0: tensor<5x1x16xbf16>, %v1: tensor<5x1x16xbf16>, %va: tensor<4xi1>,
    %vb: tensor<1xi1>) -> tensor<5x4x16xbf16> {
  %k = tensor.concat dim(1) %k0, %k1
      : (tensor<5x1x16xbf16>, tensor<5x1x16xbf16>) -> tensor<5x2x16xbf16>
  %v = tensor.concat dim(1) %v0, %v1
      : (tensor<5x1x16xbf16>, tensor<5x1x16xbf16>) -> tensor<5x2x16xbf16>
  %valid = tensor.concat dim(0) %va, %vb : (tensor<4xi1>, tensor<1xi1>) -> tensor<5xi1>
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid) causal = block
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return %o : tensor<5x4x16xbf16>
}

// -----

// Three parts are not a cache and one step.
// CHECK-LABEL: func.func @concat_three_parts(
// CHECK:         tensor.concat
// CHECK:         msa.memory_attention
// CHECK-NOT:     append(
func.func @concat_three_parts(%q: tensor<1x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %a: tensor<2x2x16xbf16>, %b: tensor<2x2x16xbf16>,
    %c: tensor<1x2x16xbf16>, %va: tensor<2xi1>, %vc: tensor<1xi1>)
    -> tensor<1x4x16xbf16> {
  %k = tensor.concat dim(0) %a, %b, %c
      : (tensor<2x2x16xbf16>, tensor<2x2x16xbf16>, tensor<1x2x16xbf16>) -> tensor<5x2x16xbf16>
  %valid = tensor.concat dim(0) %va, %va, %vc
      : (tensor<2xi1>, tensor<2xi1>, tensor<1xi1>) -> tensor<5xi1>
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %k, %valid) causal = block
      : (tensor<1x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<1x4x16xbf16>
  return %o : tensor<1x4x16xbf16>
}

// -----

// The validity splits after 3 rows, the keys after 4: the parts do not
// line up, so there is no cache/new-tokens split to use.
// CHECK-LABEL: func.func @concat_split_mismatch(
// CHECK:         %[[K:.+]] = tensor.concat
// CHECK:         %[[V:.+]] = tensor.concat
// CHECK:         %[[VALID:.+]] = tensor.concat
// CHECK:         msa.memory_attention %{{[^ ,]+}}, template(%{{[^ ,]+}}, %{{[^ ,)]+}}) local(%[[K]], %[[V]], %[[VALID]]) causal = block
func.func @concat_split_mismatch(%q: tensor<1x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %ck: tensor<4x2x16xbf16>, %cv: tensor<4x2x16xbf16>,
    %nk: tensor<1x2x16xbf16>, %nv: tensor<1x2x16xbf16>, %va: tensor<3xi1>,
    %vb: tensor<2xi1>) -> tensor<1x4x16xbf16> {
  %k = tensor.concat dim(0) %ck, %nk
      : (tensor<4x2x16xbf16>, tensor<1x2x16xbf16>) -> tensor<5x2x16xbf16>
  %v = tensor.concat dim(0) %cv, %nv
      : (tensor<4x2x16xbf16>, tensor<1x2x16xbf16>) -> tensor<5x2x16xbf16>
  %valid = tensor.concat dim(0) %va, %vb : (tensor<3xi1>, tensor<2xi1>) -> tensor<5xi1>
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid) causal = block
      : (tensor<1x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<1x4x16xbf16>
  return %o : tensor<1x4x16xbf16>
}

// -----

// A sparse_attention without gathered memory or a RoPE prologue but with a
// concatenated cache becomes a memory_attention with an append group.
// CHECK-LABEL: func.func @sparse_concat_to_append(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<1x4x16xbf16>, %[[TK:[^:]+]]: tensor<3x2x16xbf16>,
// CHECK-SAME:    %[[TV:[^:]+]]: tensor<3x2x16xbf16>, %[[CK:[^:]+]]: tensor<4x2x16xbf16>,
// CHECK-SAME:    %[[CV:[^:]+]]: tensor<4x2x16xbf16>, %[[NK:[^:]+]]: tensor<1x2x16xbf16>,
// CHECK-SAME:    %[[NV:[^:]+]]: tensor<1x2x16xbf16>, %[[VA:[^:]+]]: tensor<4xi1>,
// CHECK-SAME:    %[[VB:[^:]+]]: tensor<1xi1>)
// CHECK-NOT:     tensor.concat
// CHECK-NOT:     msa.sparse_attention
// CHECK:         %[[O:.+]] = msa.memory_attention %[[Q]], template(%[[TK]], %[[TV]])
// CHECK-SAME:      local(%[[CK]], %[[CV]], %[[VA]]) append(%[[NK]], %[[NV]], %[[VB]])
// CHECK-SAME:      causal = block {scale = 5.000000e-01 : f64} :
// CHECK:         return %[[O]]
func.func @sparse_concat_to_append(%q: tensor<1x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %ck: tensor<4x2x16xbf16>, %cv: tensor<4x2x16xbf16>,
    %nk: tensor<1x2x16xbf16>, %nv: tensor<1x2x16xbf16>, %va: tensor<4xi1>,
    %vb: tensor<1xi1>) -> tensor<1x4x16xbf16> {
  %k = tensor.concat dim(0) %ck, %nk
      : (tensor<4x2x16xbf16>, tensor<1x2x16xbf16>) -> tensor<5x2x16xbf16>
  %v = tensor.concat dim(0) %cv, %nv
      : (tensor<4x2x16xbf16>, tensor<1x2x16xbf16>) -> tensor<5x2x16xbf16>
  %valid = tensor.concat dim(0) %va, %vb : (tensor<4xi1>, tensor<1xi1>) -> tensor<5xi1>
  %o = msa.sparse_attention %q, template(%tk, %tv) local(%k, %v, %valid) causal = block
      {scale = 0.5 : f64}
      : (tensor<1x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<1x4x16xbf16>
  return %o : tensor<1x4x16xbf16>
}

// -----

// The same split mismatch on a sparse_attention: it stays as written.
// CHECK-LABEL: func.func @sparse_concat_split_mismatch(
// CHECK:         tensor.concat
// CHECK:         tensor.concat
// CHECK:         tensor.concat
// CHECK:         msa.sparse_attention
// CHECK-NOT:     msa.memory_attention
func.func @sparse_concat_split_mismatch(%q: tensor<1x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %ck: tensor<4x2x16xbf16>, %cv: tensor<3x2x16xbf16>,
    %nk: tensor<1x2x16xbf16>, %nv: tensor<2x2x16xbf16>, %va: tensor<4xi1>,
    %vb: tensor<1xi1>) -> tensor<1x4x16xbf16> {
  %k = tensor.concat dim(0) %ck, %nk
      : (tensor<4x2x16xbf16>, tensor<1x2x16xbf16>) -> tensor<5x2x16xbf16>
  %v = tensor.concat dim(0) %cv, %nv
      : (tensor<3x2x16xbf16>, tensor<2x2x16xbf16>) -> tensor<5x2x16xbf16>
  %valid = tensor.concat dim(0) %va, %vb : (tensor<4xi1>, tensor<1xi1>) -> tensor<5xi1>
  %o = msa.sparse_attention %q, template(%tk, %tv) local(%k, %v, %valid) causal = block
      : (tensor<1x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<1x4x16xbf16>
  return %o : tensor<1x4x16xbf16>
}

// -----

// An op that already appends keeps its local group, concatenated or not.
// CHECK-LABEL: func.func @already_appends(
// CHECK-SAME:    tensor<1xi1>, %[[AK:[^:]+]]: tensor<1x2x16xbf16>,
// CHECK-SAME:    %[[AV:[^:]+]]: tensor<1x2x16xbf16>, %[[AVALID:[^:]+]]: tensor<1xi1>)
// CHECK:         %[[K:.+]] = tensor.concat
// CHECK:         %[[V:.+]] = tensor.concat
// CHECK:         %[[VALID:.+]] = tensor.concat
// CHECK:         msa.memory_attention
// CHECK-SAME:      local(%[[K]], %[[V]], %[[VALID]]) append(%[[AK]], %[[AV]], %[[AVALID]])
func.func @already_appends(%q: tensor<1x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %ck: tensor<4x2x16xbf16>, %cv: tensor<4x2x16xbf16>,
    %nk: tensor<1x2x16xbf16>, %nv: tensor<1x2x16xbf16>, %va: tensor<4xi1>,
    %vb: tensor<1xi1>, %ak: tensor<1x2x16xbf16>, %av: tensor<1x2x16xbf16>,
    %avalid: tensor<1xi1>) -> tensor<1x4x16xbf16> {
  %k = tensor.concat dim(0) %ck, %nk
      : (tensor<4x2x16xbf16>, tensor<1x2x16xbf16>) -> tensor<5x2x16xbf16>
  %v = tensor.concat dim(0) %cv, %nv
      : (tensor<4x2x16xbf16>, tensor<1x2x16xbf16>) -> tensor<5x2x16xbf16>
  %valid = tensor.concat dim(0) %va, %vb : (tensor<4xi1>, tensor<1xi1>) -> tensor<5xi1>
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid)
      append(%ak, %av, %avalid) causal = block
      : (tensor<1x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5x2x16xbf16>, tensor<5xi1>,
         tensor<1x2x16xbf16>, tensor<1x2x16xbf16>, tensor<1xi1>) -> tensor<1x4x16xbf16>
  return %o : tensor<1x4x16xbf16>
}
