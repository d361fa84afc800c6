// RUN: msa-opt %s -split-input-file -msa-form-kernels | FileCheck %s

// Attention ops no fusion claimed take their kernel-level form: doc_attention
// becomes an encode_docs without prologue or epilogue, sparse_attention a
// memory_attention that attends its memory (if any) whole. Kernel-level ops
// and the other graph ops stay as they are.

// CHECK-LABEL: func.func @doc_attention(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<?x4x16xbf16>, %[[K:[^:]+]]: tensor<?x2x16xbf16>,
// CHECK-SAME:    %[[V:[^:]+]]: tensor<?x2x16xbf16>, %[[SEG:[^:]+]]: tensor<?xi32>)
// CHECK-NOT:     msa.doc_attention
// CHECK:         %[[O:.+]] = msa.encode_docs %[[Q]], %[[K]], %[[V]], %[[SEG]]
// CHECK-SAME:      {scale = 1.250000e-01 : f64}
// CHECK-SAME:      : (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?xi32>)
// CHECK-SAME:      -> tensor<?x4x16xbf16>
// CHECK:         return %[[O]]
func.func @doc_attention(%q: tensor<?x4x16xbf16>, %k: tensor<?x2x16xbf16>,
    %v: tensor<?x2x16xbf16>, %seg: tensor<?xi32>) -> tensor<?x4x16xbf16> {
  %o = msa.doc_attention %q, %k, %v, %seg {scale = 1.25e-01 : f64}
      : (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<?x2x16xbf16>,
         tensor<?xi32>) -> tensor<?x4x16xbf16>
  return %o : tensor<?x4x16xbf16>
}

// -----

// CHECK-LABEL: func.func @doc_attention_no_scale(
// CHECK:         %[[O:.+]] = msa.encode_docs %{{[^ ,]+}}, %{{[^ ,]+}}, %{{[^ ,]+}}, %{{[^ ,]+}} : (tensor<9x4x16xf32>,
// CHECK:         return %[[O]]
func.func @doc_attention_no_scale(%q: tensor<9x4x16xf32>, %k: tensor<9x2x16xf32>,
    %v: tensor<9x2x16xf32>, %seg: tensor<3xi32>) -> tensor<9x4x16xf32> {
  %o = msa.doc_attention %q, %k, %v, %seg
      : (tensor<9x4x16xf32>, tensor<9x2x16xf32>, tensor<9x2x16xf32>,
         tensor<3xi32>) -> tensor<9x4x16xf32>
  return %o : tensor<9x4x16xf32>
}

// -----

// CHECK-LABEL: func.func @sparse_with_memory(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<5x4x16xbf16>, %[[TK:[^:]+]]: tensor<3x2x16xbf16>,
// CHECK-SAME:    %[[TV:[^:]+]]: tensor<3x2x16xbf16>, %[[MK:[^:]+]]: tensor<2x?x16xbf16>,
// CHECK-SAME:    %[[MV:[^:]+]]: tensor<2x?x16xbf16>, %[[K:[^:]+]]: tensor<5x2x16xbf16>,
// CHECK-SAME:    %[[V:[^:]+]]: tensor<5x2x16xbf16>, %[[VALID:[^:]+]]: tensor<5xi1>)
// CHECK-NOT:     msa.sparse_attention
// CHECK:         %[[O:.+]] = msa.memory_attention %[[Q]], template(%[[TK]], %[[TV]])
// CHECK-SAME:      memory(%[[MK]], %[[MV]]) local(%[[K]], %[[V]], %[[VALID]])
// CHECK-SAME:      causal = bottom_right {scale = 2.500000e-01 : f64}
// CHECK-SAME:      -> tensor<5x4x16xbf16>
// CHECK:         return %[[O]]
func.func @sparse_with_memory(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %mk: tensor<2x?x16xbf16>, %mv: tensor<2x?x16xbf16>,
    %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>)
    -> tensor<5x4x16xbf16> {
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right {scale = 2.5e-01 : f64}
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return %o : tensor<5x4x16xbf16>
}

// -----

// CHECK-LABEL: func.func @sparse_without_memory(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<1x4x16xbf16>, %[[TK:[^:]+]]: tensor<3x2x16xbf16>,
// CHECK-SAME:    %[[TV:[^:]+]]: tensor<3x2x16xbf16>, %[[K:[^:]+]]: tensor<?x2x16xbf16>,
// CHECK-SAME:    %[[V:[^:]+]]: tensor<?x2x16xbf16>, %[[VALID:[^:]+]]: tensor<?xi1>)
// CHECK:         %[[O:.+]] = msa.memory_attention %[[Q]], template(%[[TK]], %[[TV]])
// CHECK-SAME:      local(%[[K]], %[[V]], %[[VALID]]) causal = block :
// CHECK:         return %[[O]]
func.func @sparse_without_memory(%q: tensor<1x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %k: tensor<?x2x16xbf16>, %v: tensor<?x2x16xbf16>,
    %valid: tensor<?xi1>) -> tensor<1x4x16xbf16> {
  %o = msa.sparse_attention %q, template(%tk, %tv) local(%k, %v, %valid) causal = block
      : (tensor<1x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?xi1>) -> tensor<1x4x16xbf16>
  return %o : tensor<1x4x16xbf16>
}

// -----

// Kernel-level ops (what fusion made) and other graph ops are left alone.
// CHECK-LABEL: func.func @already_kernel_level(
// CHECK:         %[[R:.+]] = msa.rope
// CHECK:         %[[E:.+]]:3 = msa.encode_docs %{{[^ ,]+}}, %[[R]]
// CHECK-SAME:      {chunk_size = 4 : i64, first_pooled_segment = 1 : i64}
// CHECK:         %[[M:.+]] = msa.memory_attention
// CHECK-SAME:      select(
// CHECK:         return %[[E]]#0, %[[E]]#1, %[[E]]#2, %[[M]]
func.func @already_kernel_level(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>, %q1: tensor<1x4x16xbf16>,
    %tk: tensor<3x2x16xbf16>, %tv: tensor<3x2x16xbf16>, %coff: tensor<?xi32>,
    %idx: tensor<2xi32>, %n: tensor<i32>, %lk: tensor<?x2x16xbf16>,
    %lv: tensor<?x2x16xbf16>, %lvalid: tensor<?xi1>)
    -> (tensor<9x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<1x4x16xbf16>) {
  %kr = msa.rope %k, %seg document theta = 1.0e+04
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<9x2x16xbf16>
  %o, %kb, %vb = msa.encode_docs %q, %kr, %v, %seg
      {chunk_size = 4 : i64, first_pooled_segment = 1 : i64}
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>, tensor<3xi32>)
        -> (tensor<9x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>)
  %m = msa.memory_attention %q1, template(%tk, %tv) memory(%kb, %vb)
      select(%coff, %idx, %n) local(%lk, %lv, %lvalid) causal = block
      : (tensor<1x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<?xi32>, tensor<2xi32>,
         tensor<i32>, tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?xi1>)
      -> tensor<1x4x16xbf16>
  return %o, %kb, %vb, %m
      : tensor<9x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<1x4x16xbf16>
}
