// RUN: msa-opt %s | msa-opt | FileCheck %s
// RUN: msa-opt %s -mlir-print-op-generic | msa-opt | FileCheck %s

// Round trip of the kernel-level ops (MsaKernelOps.td) in every syntactic
// variant: encode_docs with each combination of optional results, route_topk
// with every reduction and flag, topk_merge, memory_attention with and
// without its memory, select, append and rope groups, and dispatch. Each op
// line is matched up to its types, so a flag printed that should not be
// fails the match.

//===----------------------------------------------------------------------===//
// msa.encode_docs
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @encode_docs_plain(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<9x4x16xbf16>, %[[K:[^:]+]]: tensor<9x2x16xbf16>,
// CHECK-SAME:    %[[V:[^:]+]]: tensor<9x2x16xbf16>, %[[SEG:[^:]+]]: tensor<3xi32>)
// CHECK:         %[[O:[^ ]+]] = msa.encode_docs %[[Q]], %[[K]], %[[V]], %[[SEG]] : (tensor<9x4x16xbf16>,
// CHECK-SAME:      tensor<9x2x16xbf16>, tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<9x4x16xbf16>
// CHECK:         %[[S:[^ ]+]] = msa.encode_docs %[[Q]], %[[K]], %[[V]], %[[SEG]] {scale = 2.500000e-01 : f64} : (
// CHECK:         return %[[O]], %[[S]]
func.func @encode_docs_plain(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>)
    -> (tensor<9x4x16xbf16>, tensor<9x4x16xbf16>) {
  %o = msa.encode_docs %q, %k, %v, %seg
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>, tensor<3xi32>)
        -> tensor<9x4x16xbf16>
  %s = msa.encode_docs %q, %k, %v, %seg {scale = 0.25 : f64}
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>, tensor<3xi32>)
        -> tensor<9x4x16xbf16>
  return %o, %s : tensor<9x4x16xbf16>, tensor<9x4x16xbf16>
}

// RoPE prologue, with and without the rotated keys as a result.
// CHECK-LABEL: func.func @encode_docs_rope(
// CHECK:         %[[O:[^ ]+]] = msa.encode_docs %{{[^ ,]+}}, %{{[^ ,]+}}, %{{[^ ,]+}}, %{{[^ ,]+}} {rope_theta = 1.000000e+06 : f64} : (
// CHECK-SAME:      -> tensor<?x4x16xf16>
// CHECK:         %[[E:[^ ]+]]:2 = msa.encode_docs %{{[^ ,]+}}, %{{[^ ,]+}}, %{{[^ ,]+}}, %{{[^ ,]+}} {emit_rotated_key, rope_theta = 1.000000e+04 : f64} : (
// CHECK-SAME:      -> (tensor<?x4x16xf16>, tensor<?x2x16xf16>)
// CHECK:         return %[[O]], %[[E]]#0, %[[E]]#1
func.func @encode_docs_rope(%q: tensor<?x4x16xf16>, %k: tensor<?x2x16xf16>,
    %v: tensor<?x2x16xf16>, %seg: tensor<?xi32>)
    -> (tensor<?x4x16xf16>, tensor<?x4x16xf16>, tensor<?x2x16xf16>) {
  %o = msa.encode_docs %q, %k, %v, %seg {rope_theta = 1.0e+06 : f64}
      : (tensor<?x4x16xf16>, tensor<?x2x16xf16>, tensor<?x2x16xf16>, tensor<?xi32>)
        -> tensor<?x4x16xf16>
  %o2, %kr = msa.encode_docs %q, %k, %v, %seg {rope_theta = 1.0e+04 : f64, emit_rotated_key}
      : (tensor<?x4x16xf16>, tensor<?x2x16xf16>, tensor<?x2x16xf16>, tensor<?xi32>)
        -> (tensor<?x4x16xf16>, tensor<?x2x16xf16>)
  return %o, %o2, %kr : tensor<?x4x16xf16>, tensor<?x4x16xf16>, tensor<?x2x16xf16>
}

// Pooling epilogue: pooled keys and values, head-major.
// CHECK-LABEL: func.func @encode_docs_pooling(
// CHECK:         %[[E:[^ ]+]]:3 = msa.encode_docs %{{[^ ,]+}}, %{{[^ ,]+}}, %{{[^ ,]+}}, %{{[^ ,]+}} {chunk_size = 4 : i64} : (
// CHECK-SAME:      -> (tensor<9x4x16xf32>, tensor<2x?x16xf32>, tensor<2x?x16xf32>)
// CHECK:         %[[F:[^ ]+]]:3 = msa.encode_docs %{{[^ ,]+}}, %{{[^ ,]+}}, %{{[^ ,]+}}, %{{[^ ,]+}} {chunk_size = 2 : i64, first_pooled_segment = 1 : i64} : (
// CHECK-SAME:      -> (tensor<9x4x16xf32>, tensor<2x3x16xf32>, tensor<2x3x16xf32>)
// CHECK:         return %[[E]]#1, %[[F]]#2
func.func @encode_docs_pooling(%q: tensor<9x4x16xf32>, %k: tensor<9x2x16xf32>,
    %v: tensor<9x2x16xf32>, %seg: tensor<3xi32>)
    -> (tensor<2x?x16xf32>, tensor<2x3x16xf32>) {
  %o, %kb, %vb = msa.encode_docs %q, %k, %v, %seg {chunk_size = 4 : i64}
      : (tensor<9x4x16xf32>, tensor<9x2x16xf32>, tensor<9x2x16xf32>, tensor<3xi32>)
        -> (tensor<9x4x16xf32>, tensor<2x?x16xf32>, tensor<2x?x16xf32>)
  %o2, %kb2, %vb2 = msa.encode_docs %q, %k, %v, %seg
      {chunk_size = 2 : i64, first_pooled_segment = 1 : i64}
      : (tensor<9x4x16xf32>, tensor<9x2x16xf32>, tensor<9x2x16xf32>, tensor<3xi32>)
        -> (tensor<9x4x16xf32>, tensor<2x3x16xf32>, tensor<2x3x16xf32>)
  return %kb, %vb2 : tensor<2x?x16xf32>, tensor<2x3x16xf32>
}

// Router-key epilogue, normalised or not; every result at once.
// CHECK-LABEL: func.func @encode_docs_router(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<?x4x16xbf16>, %[[K:[^:]+]]: tensor<?x2x16xbf16>,
// CHECK-SAME:    %[[V:[^:]+]]: tensor<?x2x16xbf16>, %[[SEG:[^:]+]]: tensor<?xi32>,
// CHECK-SAME:    %[[RK:[^:]+]]: tensor<?x2x16xbf16>)
// CHECK:         %[[E:[^ ]+]]:4 = msa.encode_docs %[[Q]], %[[K]], %[[V]], %[[SEG]] router(%[[RK]]) {chunk_size = 4 : i64} : (
// CHECK-SAME:      tensor<?xi32>, tensor<?x2x16xbf16>) -> (tensor<?x4x16xbf16>, tensor<2x?x16xbf16>,
// CHECK-SAME:      tensor<2x?x16xbf16>, tensor<2x?x16xbf16>)
// CHECK:         %[[F:[^ ]+]]:5 = msa.encode_docs %[[Q]], %[[K]], %[[V]], %[[SEG]] router(%[[RK]])
// CHECK-SAME:      {chunk_size = 4 : i64, emit_rotated_key, first_pooled_segment = 1 : i64,
// CHECK-SAME:      normalize_router, rope_theta = 1.000000e+04 : f64, scale = 2.500000e-01 : f64} : (
// CHECK-SAME:      -> (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<2x?x16xbf16>,
// CHECK-SAME:      tensor<2x?x16xbf16>, tensor<2x?x16xbf16>)
// CHECK:         return %[[E]]#3, %[[F]]#1, %[[F]]#4
func.func @encode_docs_router(%q: tensor<?x4x16xbf16>, %k: tensor<?x2x16xbf16>,
    %v: tensor<?x2x16xbf16>, %seg: tensor<?xi32>, %rk: tensor<?x2x16xbf16>)
    -> (tensor<2x?x16xbf16>, tensor<?x2x16xbf16>, tensor<2x?x16xbf16>) {
  %o, %kb, %vb, %rb = msa.encode_docs %q, %k, %v, %seg router(%rk) {chunk_size = 4 : i64}
      : (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?xi32>,
         tensor<?x2x16xbf16>)
        -> (tensor<?x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>)
  %o2, %kr, %kb2, %vb2, %rb2 = msa.encode_docs %q, %k, %v, %seg router(%rk)
      {rope_theta = 1.0e+04 : f64, emit_rotated_key, chunk_size = 4 : i64,
       first_pooled_segment = 1 : i64, normalize_router, scale = 0.25 : f64}
      : (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?xi32>,
         tensor<?x2x16xbf16>)
        -> (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<2x?x16xbf16>,
            tensor<2x?x16xbf16>, tensor<2x?x16xbf16>)
  return %rb, %kr, %rb2 : tensor<2x?x16xbf16>, tensor<?x2x16xbf16>, tensor<2x?x16xbf16>
}

//===----------------------------------------------------------------------===//
// msa.route_topk and msa.topk_merge
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @route_topk(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<5x4x16xbf16>, %[[KB:[^:]+]]: tensor<2x?x16xbf16>,
// CHECK-SAME:    %[[MASK:[^:]+]]: tensor<5xi1>, %[[COFF:[^:]+]]: tensor<?xi32>)
// CHECK:         %{{[^ ]+}}, %{{[^ ]+}} = msa.route_topk %[[Q]], %[[KB]], %[[MASK]], %[[COFF]] heads(mean) tokens(max) chunks(max) k = 16 scale : (
// CHECK-SAME:      tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>, tensor<?xi32>)
// CHECK-SAME:      -> (tensor<64x16xf32>, tensor<64x16xi32>)
// CHECK:         msa.route_topk %[[Q]], %[[KB]], %[[MASK]], %[[COFF]] heads(max) tokens(mean) chunks(mean) k = 2 normalize : (
// CHECK:         msa.route_topk %[[Q]], %[[KB]], %[[MASK]], %[[COFF]] heads(mean) tokens(last) chunks(max) k = 1 normalize scale : (
// CHECK:         msa.route_topk %[[Q]], %[[KB]], %[[MASK]], %[[COFF]] heads(max) tokens(max) chunks(mean) k = 3 : (
// CHECK-SAME:      -> (tensor<1x3xbf16>, tensor<1x3xi32>)
func.func @route_topk(%q: tensor<5x4x16xbf16>, %kb: tensor<2x?x16xbf16>, %mask: tensor<5xi1>,
    %coff: tensor<?xi32>) {
  %s0, %i0 = msa.route_topk %q, %kb, %mask, %coff heads(mean) tokens(max) chunks(max) k = 16 scale
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>, tensor<?xi32>)
        -> (tensor<64x16xf32>, tensor<64x16xi32>)
  %s1, %i1 = msa.route_topk %q, %kb, %mask, %coff heads(max) tokens(mean) chunks(mean) k = 2 normalize
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>, tensor<?xi32>)
        -> (tensor<8x2xf32>, tensor<8x2xi32>)
  %s2, %i2 = msa.route_topk %q, %kb, %mask, %coff heads(mean) tokens(last) chunks(max) k = 1 normalize scale
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>, tensor<?xi32>)
        -> (tensor<4x1xf16>, tensor<4x1xi32>)
  %s3, %i3 = msa.route_topk %q, %kb, %mask, %coff heads(max) tokens(max) chunks(mean) k = 3
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>, tensor<?xi32>)
        -> (tensor<1x3xbf16>, tensor<1x3xi32>)
  return
}

// CHECK-LABEL: func.func @topk_merge(
// CHECK-SAME:    %[[S:[^:]+]]: tensor<64x16xf32>, %[[I:[^:]+]]: tensor<64x16xi32>,
// CHECK-SAME:    %[[S2:[^:]+]]: tensor<?x2xbf16>, %[[I2:[^:]+]]: tensor<?x2xi32>)
// CHECK:         %[[IDX:[^ ]+]], %[[SC:[^ ]+]], %[[N:[^ ]+]] = msa.topk_merge %[[S]], %[[I]] k = 16 : (
// CHECK-SAME:      tensor<64x16xf32>, tensor<64x16xi32>) -> (tensor<16xi32>, tensor<16xf32>, tensor<i32>)
// CHECK:         msa.topk_merge %[[S2]], %[[I2]] k = 2 : (tensor<?x2xbf16>, tensor<?x2xi32>)
// CHECK-SAME:      -> (tensor<?xi32>, tensor<?xbf16>, tensor<i32>)
// CHECK:         return %[[IDX]], %[[SC]], %[[N]]
func.func @topk_merge(%s: tensor<64x16xf32>, %i: tensor<64x16xi32>, %s2: tensor<?x2xbf16>,
    %i2: tensor<?x2xi32>) -> (tensor<16xi32>, tensor<16xf32>, tensor<i32>) {
  %idx, %sc, %n = msa.topk_merge %s, %i k = 16
      : (tensor<64x16xf32>, tensor<64x16xi32>) -> (tensor<16xi32>, tensor<16xf32>, tensor<i32>)
  %idx2, %sc2, %n2 = msa.topk_merge %s2, %i2 k = 2
      : (tensor<?x2xbf16>, tensor<?x2xi32>) -> (tensor<?xi32>, tensor<?xbf16>, tensor<i32>)
  return %idx, %sc, %n : tensor<16xi32>, tensor<16xf32>, tensor<i32>
}

//===----------------------------------------------------------------------===//
// msa.memory_attention
//===----------------------------------------------------------------------===//

// Template and local groups only.
// CHECK-LABEL: func.func @memory_attention_local_only(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<5x4x16xbf16>, %[[TK:[^:]+]]: tensor<3x2x16xbf16>,
// CHECK-SAME:    %[[TV:[^:]+]]: tensor<3x2x16xbf16>, %[[K:[^:]+]]: tensor<5x2x16xbf16>,
// CHECK-SAME:    %[[V:[^:]+]]: tensor<5x2x16xbf16>, %[[VALID:[^:]+]]: tensor<5xi1>)
// CHECK:         %[[O:[^ ]+]] = msa.memory_attention %[[Q]], template(%[[TK]], %[[TV]]) local(%[[K]], %[[V]], %[[VALID]]) causal = bottom_right : (
// CHECK-SAME:      tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<5x2x16xbf16>,
// CHECK-SAME:      tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
// CHECK:         msa.memory_attention %[[Q]], template(%[[TK]], %[[TV]]) local(%[[K]], %[[V]], %[[VALID]]) causal = block {scale = 1.250000e-01 : f64} : (
// CHECK:         return %[[O]]
func.func @memory_attention_local_only(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>,
    %valid: tensor<5xi1>) -> tensor<5x4x16xbf16> {
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  %o2 = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid) causal = block
      {scale = 0.125 : f64}
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return %o : tensor<5x4x16xbf16>
}

// Memory attended whole, then read through a selection.
// CHECK-LABEL: func.func @memory_attention_memory_select(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<?x4x16xbf16>, %[[TK:[^:]+]]: tensor<6x2x16xbf16>,
// CHECK-SAME:    %[[TV:[^:]+]]: tensor<6x2x16xbf16>, %[[BK:[^:]+]]: tensor<2x?x16xbf16>,
// CHECK-SAME:    %[[BV:[^:]+]]: tensor<2x?x16xbf16>, %[[COFF:[^:]+]]: tensor<?xi32>,
// CHECK-SAME:    %[[IDX:[^:]+]]: tensor<2xi32>, %[[N:[^:]+]]: tensor<i32>,
// CHECK-SAME:    %[[K:[^:]+]]: tensor<?x2x16xbf16>, %[[V:[^:]+]]: tensor<?x2x16xbf16>,
// CHECK-SAME:    %[[VALID:[^:]+]]: tensor<?xi1>)
// CHECK:         msa.memory_attention %[[Q]], template(%[[TK]], %[[TV]]) memory(%[[BK]], %[[BV]]) local(%[[K]], %[[V]], %[[VALID]]) causal = bottom_right : (
// CHECK-SAME:      tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<?x2x16xbf16>
// CHECK:         msa.memory_attention %[[Q]], template(%[[TK]], %[[TV]]) memory(%[[BK]], %[[BV]]) select(%[[COFF]], %[[IDX]], %[[N]]) local(%[[K]], %[[V]], %[[VALID]]) causal = bottom_right : (
// CHECK-SAME:      tensor<2x?x16xbf16>, tensor<?xi32>, tensor<2xi32>, tensor<i32>, tensor<?x2x16xbf16>
func.func @memory_attention_memory_select(%q: tensor<?x4x16xbf16>, %tk: tensor<6x2x16xbf16>,
    %tv: tensor<6x2x16xbf16>, %bk: tensor<2x?x16xbf16>, %bv: tensor<2x?x16xbf16>,
    %coff: tensor<?xi32>, %idx: tensor<2xi32>, %n: tensor<i32>, %k: tensor<?x2x16xbf16>,
    %v: tensor<?x2x16xbf16>, %valid: tensor<?xi1>) {
  %o = msa.memory_attention %q, template(%tk, %tv) memory(%bk, %bv) local(%k, %v, %valid)
      causal = bottom_right
      : (tensor<?x4x16xbf16>, tensor<6x2x16xbf16>, tensor<6x2x16xbf16>, tensor<2x?x16xbf16>,
         tensor<2x?x16xbf16>, tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?xi1>)
      -> tensor<?x4x16xbf16>
  %o2 = msa.memory_attention %q, template(%tk, %tv) memory(%bk, %bv) select(%coff, %idx, %n)
      local(%k, %v, %valid) causal = bottom_right
      : (tensor<?x4x16xbf16>, tensor<6x2x16xbf16>, tensor<6x2x16xbf16>, tensor<2x?x16xbf16>,
         tensor<2x?x16xbf16>, tensor<?xi32>, tensor<2xi32>, tensor<i32>, tensor<?x2x16xbf16>,
         tensor<?x2x16xbf16>, tensor<?xi1>) -> tensor<?x4x16xbf16>
  return
}

// Decode: append group and per-token positions (rank 1); prefill: a rank-0
// start.
// CHECK-LABEL: func.func @memory_attention_append_rope(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<?x4x16xf16>, %[[TK:[^:]+]]: tensor<6x2x16xf16>,
// CHECK-SAME:    %[[TV:[^:]+]]: tensor<6x2x16xf16>, %[[K:[^:]+]]: tensor<?x2x16xf16>,
// CHECK-SAME:    %[[V:[^:]+]]: tensor<?x2x16xf16>, %[[VALID:[^:]+]]: tensor<?xi1>,
// CHECK-SAME:    %[[AK:[^:]+]]: tensor<?x2x16xf16>, %[[AV:[^:]+]]: tensor<?x2x16xf16>,
// CHECK-SAME:    %[[AVALID:[^:]+]]: tensor<?xi1>, %[[POS:[^:]+]]: tensor<?xi32>,
// CHECK-SAME:    %[[START:[^:]+]]: tensor<i32>)
// CHECK:         msa.memory_attention %[[Q]], template(%[[TK]], %[[TV]]) local(%[[K]], %[[V]], %[[VALID]]) append(%[[AK]], %[[AV]], %[[AVALID]]) causal = block : (
// CHECK-SAME:      tensor<?xi1>, tensor<?x2x16xf16>, tensor<?x2x16xf16>, tensor<?xi1>) -> tensor<?x4x16xf16>
// CHECK:         msa.memory_attention %[[Q]], template(%[[TK]], %[[TV]]) local(%[[K]], %[[V]], %[[VALID]]) append(%[[AK]], %[[AV]], %[[AVALID]]) rope(%[[POS]]) causal = block
// CHECK-SAME:      {k_cfg = 16 : i64, rope_theta = 1.000000e+06 : f64, template_len = 6 : i64} : (
// CHECK-SAME:      tensor<?xi1>, tensor<?xi32>) -> tensor<?x4x16xf16>
// CHECK:         msa.memory_attention %[[Q]], template(%[[TK]], %[[TV]]) local(%[[K]], %[[V]], %[[VALID]]) rope(%[[START]]) causal = bottom_right
// CHECK-SAME:      {k_cfg = 0 : i64, rope_theta = 1.000000e+04 : f64, scale = 5.000000e-01 : f64, template_len = 0 : i64} : (
// CHECK-SAME:      tensor<?xi1>, tensor<i32>) -> tensor<?x4x16xf16>
func.func @memory_attention_append_rope(%q: tensor<?x4x16xf16>, %tk: tensor<6x2x16xf16>,
    %tv: tensor<6x2x16xf16>, %k: tensor<?x2x16xf16>, %v: tensor<?x2x16xf16>,
    %valid: tensor<?xi1>, %ak: tensor<?x2x16xf16>, %av: tensor<?x2x16xf16>,
    %avalid: tensor<?xi1>, %pos: tensor<?xi32>, %start: tensor<i32>) {
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid)
      append(%ak, %av, %avalid) causal = block
      : (tensor<?x4x16xf16>, tensor<6x2x16xf16>, tensor<6x2x16xf16>, tensor<?x2x16xf16>,
         tensor<?x2x16xf16>, tensor<?xi1>, tensor<?x2x16xf16>, tensor<?x2x16xf16>,
         tensor<?xi1>) -> tensor<?x4x16xf16>
  %o2 = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid)
      append(%ak, %av, %avalid) rope(%pos) causal = block
      {rope_theta = 1.0e+06 : f64, template_len = 6 : i64, k_cfg = 16 : i64}
      : (tensor<?x4x16xf16>, tensor<6x2x16xf16>, tensor<6x2x16xf16>, tensor<?x2x16xf16>,
         tensor<?x2x16xf16>, tensor<?xi1>, tensor<?x2x16xf16>, tensor<?x2x16xf16>,
         tensor<?xi1>, tensor<?xi32>) -> tensor<?x4x16xf16>
  %o3 = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid) rope(%start)
      causal = bottom_right
      {rope_theta = 1.0e+04 : f64, template_len = 0 : i64, k_cfg = 0 : i64, scale = 0.5 : f64}
      : (tensor<?x4x16xf16>, tensor<6x2x16xf16>, tensor<6x2x16xf16>, tensor<?x2x16xf16>,
         tensor<?x2x16xf16>, tensor<?xi1>, tensor<i32>) -> tensor<?x4x16xf16>
  return
}

// Every group at once, f32.
// CHECK-LABEL: func.func @memory_attention_all_groups(
// CHECK:         msa.memory_attention %{{[^ ,]+}}, template(%{{[^ ,]+}}, %{{[^ ,)]+}}) memory(%{{[^ ,]+}}, %{{[^ ,)]+}})
// CHECK-SAME:      select(%{{[^ ,]+}}, %{{[^ ,]+}}, %{{[^ ,)]+}}) local(%{{[^ ,]+}}, %{{[^ ,]+}}, %{{[^ ,)]+}})
// CHECK-SAME:      append(%{{[^ ,]+}}, %{{[^ ,]+}}, %{{[^ ,)]+}}) rope(%{{[^ ,)]+}}) causal = block
// CHECK-SAME:      {k_cfg = 16 : i64, rope_theta = 1.000000e+04 : f64, template_len = 3 : i64} : (
// CHECK-SAME:      -> tensor<1x4x16xf32>
func.func @memory_attention_all_groups(%q: tensor<1x4x16xf32>, %tk: tensor<3x2x16xf32>,
    %tv: tensor<3x2x16xf32>, %bk: tensor<2x?x16xf32>, %bv: tensor<2x?x16xf32>,
    %coff: tensor<4xi32>, %idx: tensor<2xi32>, %n: tensor<i32>, %k: tensor<7x2x16xf32>,
    %v: tensor<7x2x16xf32>, %valid: tensor<7xi1>, %ak: tensor<1x2x16xf32>,
    %av: tensor<1x2x16xf32>, %avalid: tensor<1xi1>, %pos: tensor<1xi32>)
    -> tensor<1x4x16xf32> {
  %o = msa.memory_attention %q, template(%tk, %tv) memory(%bk, %bv) select(%coff, %idx, %n)
      local(%k, %v, %valid) append(%ak, %av, %avalid) rope(%pos) causal = block
      {rope_theta = 1.0e+04 : f64, template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<1x4x16xf32>, tensor<3x2x16xf32>, tensor<3x2x16xf32>, tensor<2x?x16xf32>,
         tensor<2x?x16xf32>, tensor<4xi32>, tensor<2xi32>, tensor<i32>, tensor<7x2x16xf32>,
         tensor<7x2x16xf32>, tensor<7xi1>, tensor<1x2x16xf32>, tensor<1x2x16xf32>,
         tensor<1xi1>, tensor<1xi32>) -> tensor<1x4x16xf32>
  return %o : tensor<1x4x16xf32>
}

//===----------------------------------------------------------------------===//
// msa.dispatch
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @dispatch(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<?x64xbf16>, %[[W:[^:]+]]: tensor<64xbf16>,
// CHECK-SAME:    %[[S:[^:]+]]: tensor<4x2xf32>, %[[I:[^:]+]]: tensor<4x2xi32>)
// CHECK:         %[[Y:[^ ]+]] = msa.dispatch @k0_rms_norm(%[[X]], %[[W]]) : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
// CHECK:         %[[M:[^ ]+]]:3 = msa.dispatch @k1_topk_merge(%[[S]], %[[I]]) : (tensor<4x2xf32>, tensor<4x2xi32>)
// CHECK-SAME:      -> (tensor<2xi32>, tensor<2xf32>, tensor<i32>)
// CHECK:         msa.dispatch @k2_nothing() : () -> ()
// CHECK:         return %[[Y]], %[[M]]#0
// CHECK-LABEL: func.func @k0_rms_norm(
// CHECK-LABEL: func.func @k1_topk_merge(
// CHECK-LABEL: func.func @k2_nothing(
func.func @dispatch(%x: tensor<?x64xbf16>, %w: tensor<64xbf16>, %s: tensor<4x2xf32>,
    %i: tensor<4x2xi32>) -> (tensor<?x64xbf16>, tensor<2xi32>) {
  %y = msa.dispatch @k0_rms_norm(%x, %w)
      : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  %idx, %sc, %n = msa.dispatch @k1_topk_merge(%s, %i)
      : (tensor<4x2xf32>, tensor<4x2xi32>) -> (tensor<2xi32>, tensor<2xf32>, tensor<i32>)
  msa.dispatch @k2_nothing() : () -> ()
  return %y, %idx : tensor<?x64xbf16>, tensor<2xi32>
}
func.func @k0_rms_norm(%x: memref<?x64xbf16>, %w: memref<64xbf16>, %y: memref<?x64xbf16>,
    %begin: index, %end: index) attributes {msa.kernel} {
  return
}
func.func @k1_topk_merge(%s: memref<4x2xf32>, %i: memref<4x2xi32>, %idx: memref<2xi32>,
    %sc: memref<2xf32>, %n: memref<i32>, %begin: index, %end: index)
    attributes {msa.kernel} {
  return
}
func.func @k2_nothing(%begin: index, %end: index) attributes {msa.kernel} {
  return
}
