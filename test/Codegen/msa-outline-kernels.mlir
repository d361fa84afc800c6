// RUN: msa-opt %s -split-input-file -msa-outline-kernels | FileCheck %s

// Every kernel op of an entry function becomes an msa.dispatch of a new
// func.func marked msa.kernel: memref arguments for the operands, then the
// results, then the work range [begin, end); a body that reads them with
// bufferization.to_tensor, applies the op and writes the results with
// materialize_in_destination; msa.grid gives its work items. Identical ops
// share a kernel. msa.linear (the GEMM provider's), views, scalar arith and
// declarations stay.

// CHECK-LABEL: func.func @entry(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<?x64xbf16>, %[[W0:[^:]+]]: tensor<64xbf16>,
// CHECK-SAME:    %[[W1:[^:]+]]: tensor<64xbf16>, %[[WL:[^:]+]]: tensor<64x64xbf16>)
// CHECK:         %[[A:.+]] = msa.dispatch @k0_rms_norm(%[[X]], %[[W0]])
// CHECK-SAME:      : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
// CHECK:         %[[B:.+]] = msa.linear %[[A]], %[[WL]]
// CHECK:         %[[C:.+]] = msa.dispatch @k0_rms_norm(%[[B]], %[[W1]])
// CHECK:         %[[D:.+]] = msa.dispatch @k1_arith_addf(%[[A]], %[[C]])
// CHECK-SAME:      : (tensor<?x64xbf16>, tensor<?x64xbf16>) -> tensor<?x64xbf16>
// Another epsilon is another kernel.
// CHECK:         %[[E:.+]] = msa.dispatch @k2_rms_norm(%[[D]], %[[W1]])
// CHECK:         %[[I:.+]] = arith.addi
// CHECK:         return %[[E]], %[[I]]

// CHECK-LABEL: func.func @k0_rms_norm(
// CHECK-SAME:    %[[IN:[^:]+]]: memref<?x64xbf16>, %[[W:[^:]+]]: memref<64xbf16>,
// CHECK-SAME:    %[[OUT:[^:]+]]: memref<?x64xbf16>, %{{[^:]+}}: index, %{{[^:]+}}: index)
// CHECK-SAME:    attributes {llvm.emit_c_interface, msa.grid = [array<i64: 0, 0, 0>],
// CHECK-SAME:    msa.kernel, msa.op = "msa.rms_norm"}
// CHECK:         %[[TIN:.+]] = bufferization.to_tensor %[[IN]] restrict : memref<?x64xbf16> to tensor<?x64xbf16>
// CHECK:         %[[TW:.+]] = bufferization.to_tensor %[[W]] restrict : memref<64xbf16> to tensor<64xbf16>
// CHECK:         %[[Y:.+]] = msa.rms_norm %[[TIN]], %[[TW]] epsilon = 9.9999999999999995E-7
// CHECK:         bufferization.materialize_in_destination %[[Y]] in restrict writable %[[OUT]]
// CHECK:         return

// CHECK-LABEL: func.func @k1_arith_addf(
// CHECK-SAME:    msa.op = "arith.addf"
// CHECK:         arith.addf

// CHECK-LABEL: func.func @k2_rms_norm(
// CHECK:         msa.rms_norm %{{.+}} epsilon = 1.000000e-05
// CHECK-NOT:     func.func @k3
func.func @entry(%x: tensor<?x64xbf16>, %w0: tensor<64xbf16>, %w1: tensor<64xbf16>,
    %wl: tensor<64x64xbf16>) -> (tensor<?x64xbf16>, i32) {
  %a = msa.rms_norm %x, %w0 epsilon = 1.0e-06
      : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  %b = msa.linear %a, %wl : (tensor<?x64xbf16>, tensor<64x64xbf16>) -> tensor<?x64xbf16>
  %c = msa.rms_norm %b, %w1 epsilon = 1.0e-06
      : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  %d = arith.addf %a, %c : tensor<?x64xbf16>
  %e = msa.rms_norm %d, %w1 epsilon = 1.0e-05
      : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  %c1 = arith.constant 1 : i32
  %i = arith.addi %c1, %c1 : i32
  return %e, %i : tensor<?x64xbf16>, i32
}

// -----

// Kernels are shared across entry functions (every layer of a model); other
// tiles or other types make another kernel. Multi-result ops write each
// result to its own argument. Grids: rows of each [tokens, heads] pair for a
// per-head norm, the ids for an embedding, one per segment offset for
// encode_docs (the segments plus the tokens outside them).
// CHECK-LABEL: func.func @encode(
// CHECK:         %[[E:.+]]:4 = msa.dispatch @k0_encode_docs(
// CHECK-SAME:      -> (tensor<?x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>)
// CHECK:         msa.dispatch @k1_embedding(
// CHECK:         msa.dispatch @k2_rms_norm(
// CHECK:         msa.dispatch @k3_rms_norm(
// CHECK:         return %[[E]]#0, %[[E]]#1, %[[E]]#2, %[[E]]#3,
// CHECK-LABEL: func.func @decode(
// CHECK:         msa.dispatch @k2_rms_norm(
// CHECK:         msa.dispatch @k4_rms_norm(
// CHECK:         msa.dispatch @k1_embedding(
// CHECK-LABEL: func.func private @external(

// CHECK-LABEL: func.func @k0_encode_docs(
// CHECK-SAME:    %[[Q:[^:]+]]: memref<?x4x16xbf16>, %[[K:[^:]+]]: memref<?x2x16xbf16>,
// CHECK-SAME:    %[[V:[^:]+]]: memref<?x2x16xbf16>, %[[SEG:[^:]+]]: memref<?xi32>,
// CHECK-SAME:    %[[RK:[^:]+]]: memref<?x2x16xbf16>, %[[O:[^:]+]]: memref<?x4x16xbf16>,
// CHECK-SAME:    %[[KB:[^:]+]]: memref<2x?x16xbf16>, %[[VB:[^:]+]]: memref<2x?x16xbf16>,
// CHECK-SAME:    %[[RB:[^:]+]]: memref<2x?x16xbf16>, %{{[^:]+}}: index, %{{[^:]+}}: index)
// CHECK-SAME:    msa.grid = [array<i64: 3, 0, 0>], msa.kernel, msa.op = "msa.encode_docs"
// CHECK-COUNT-5: bufferization.to_tensor
// CHECK:         %[[R:.+]]:4 = msa.encode_docs
// CHECK-SAME:      msa.tiles = {block_k = 4 : i64, vector_width = 8 : i64}
// CHECK:         bufferization.materialize_in_destination %[[R]]#0 in restrict writable %[[O]]
// CHECK:         bufferization.materialize_in_destination %[[R]]#1 in restrict writable %[[KB]]
// CHECK:         bufferization.materialize_in_destination %[[R]]#2 in restrict writable %[[VB]]
// CHECK:         bufferization.materialize_in_destination %[[R]]#3 in restrict writable %[[RB]]
// CHECK-LABEL: func.func @k1_embedding(
// CHECK-SAME:    msa.grid = [array<i64: 1, 0, 0>]
// CHECK-LABEL: func.func @k2_rms_norm(
// CHECK-SAME:    memref<?x4x16xbf16>
// CHECK-SAME:    msa.grid = [array<i64: 0, 0, 0>, array<i64: 0, 1, 0>]
// CHECK-LABEL: func.func @k3_rms_norm(
// CHECK:         msa.tiles = {block_k = 1 : i64, vector_width = 2 : i64}
// CHECK-LABEL: func.func @k4_rms_norm(
// CHECK-SAME:    memref<?x2x16xbf16>
// CHECK-NOT:     func.func @k5
func.func @encode(%q: tensor<?x4x16xbf16>, %k: tensor<?x2x16xbf16>, %v: tensor<?x2x16xbf16>,
    %seg: tensor<?xi32>, %rk: tensor<?x2x16xbf16>, %ids: tensor<?xi32>,
    %table: tensor<512x64xbf16>, %hw: tensor<16xbf16>)
    -> (tensor<?x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>,
        tensor<2x?x16xbf16>, tensor<?x64xbf16>, tensor<?x4x16xbf16>, tensor<?x4x16xbf16>) {
  %o, %kb, %vb, %rb = msa.encode_docs %q, %k, %v, %seg router(%rk)
      {rope_theta = 1.0e+04 : f64, chunk_size = 4 : i64, first_pooled_segment = 1 : i64,
       msa.tiles = {block_k = 4 : i64, vector_width = 8 : i64}}
      : (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?xi32>,
         tensor<?x2x16xbf16>)
        -> (tensor<?x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>)
  %x = msa.embedding %table[%ids] : (tensor<512x64xbf16>, tensor<?xi32>) -> tensor<?x64xbf16>
  %h = msa.rms_norm %q, %hw epsilon = 1.0e-06
      : (tensor<?x4x16xbf16>, tensor<16xbf16>) -> tensor<?x4x16xbf16>
  %h2 = msa.rms_norm %q, %hw epsilon = 1.0e-06
      {msa.tiles = {block_k = 1 : i64, vector_width = 2 : i64}}
      : (tensor<?x4x16xbf16>, tensor<16xbf16>) -> tensor<?x4x16xbf16>
  return %o, %kb, %vb, %rb, %x, %h, %h2
      : tensor<?x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>,
        tensor<2x?x16xbf16>, tensor<?x64xbf16>, tensor<?x4x16xbf16>, tensor<?x4x16xbf16>
}
func.func @decode(%q: tensor<?x4x16xbf16>, %k: tensor<?x2x16xbf16>, %hw: tensor<16xbf16>,
    %ids: tensor<?xi32>, %table: tensor<512x64xbf16>)
    -> (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<?x64xbf16>) {
  %h = msa.rms_norm %q, %hw epsilon = 1.0e-06
      : (tensor<?x4x16xbf16>, tensor<16xbf16>) -> tensor<?x4x16xbf16>
  %hk = msa.rms_norm %k, %hw epsilon = 1.0e-06
      : (tensor<?x2x16xbf16>, tensor<16xbf16>) -> tensor<?x2x16xbf16>
  %x = msa.embedding %table[%ids] : (tensor<512x64xbf16>, tensor<?xi32>) -> tensor<?x64xbf16>
  return %h, %hk, %x : tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<?x64xbf16>
}
func.func private @external(tensor<?x64xbf16>) -> tensor<?x64xbf16>

// -----

// Routing and attention of a router layer: the route_topk grid is its
// candidate blocks (dim 0 of its first result, argument 4); topk_merge is
// one work item; memory_attention has one per (token, head).
// CHECK-LABEL: func.func @route(
// CHECK:         %[[C:.+]]:2 = msa.dispatch @k0_route_topk(
// CHECK-SAME:      -> (tensor<64x2xf32>, tensor<64x2xi32>)
// CHECK:         %[[M:.+]]:3 = msa.dispatch @k1_topk_merge(%[[C]]#0, %[[C]]#1)
// CHECK-SAME:      -> (tensor<2xi32>, tensor<2xf32>, tensor<i32>)
// CHECK:         %[[O:.+]] = msa.dispatch @k2_memory_attention(
// CHECK-SAME:      %[[M]]#0, %[[M]]#2,
// CHECK:         return %[[O]]
// CHECK-LABEL: func.func @k0_route_topk(
// CHECK-SAME:    memref<64x2xf32>, %{{[^:]+}}: memref<64x2xi32>, %{{[^:]+}}: index, %{{[^:]+}}: index)
// CHECK-SAME:    msa.grid = [array<i64: 4, 0, 0>]
// CHECK-LABEL: func.func @k1_topk_merge(
// CHECK-SAME:    msa.grid = []
// CHECK-LABEL: func.func @k2_memory_attention(
// CHECK-SAME:    msa.grid = [array<i64: 0, 0, 0>, array<i64: 0, 1, 0>]
// CHECK:         msa.memory_attention {{.+}} select({{.+}}) local({{.+}}) rope({{.+}}) causal = bottom_right
func.func @route(%qr: tensor<?x4x16xbf16>, %kb: tensor<2x?x16xbf16>, %mask: tensor<?xi1>,
    %coff: tensor<?xi32>, %tk: tensor<6x2x16xbf16>, %tv: tensor<6x2x16xbf16>,
    %bv: tensor<2x?x16xbf16>, %k: tensor<?x2x16xbf16>, %v: tensor<?x2x16xbf16>,
    %start: tensor<i32>) -> tensor<?x4x16xbf16> {
  %cs, %ci = msa.route_topk %qr, %kb, %mask, %coff heads(mean) tokens(max) chunks(max) k = 2 scale
      : (tensor<?x4x16xbf16>, tensor<2x?x16xbf16>, tensor<?xi1>, tensor<?xi32>)
        -> (tensor<64x2xf32>, tensor<64x2xi32>)
  %idx, %sc, %n = msa.topk_merge %cs, %ci k = 2
      : (tensor<64x2xf32>, tensor<64x2xi32>) -> (tensor<2xi32>, tensor<2xf32>, tensor<i32>)
  %o = msa.memory_attention %qr, template(%tk, %tv) memory(%kb, %bv) select(%coff, %idx, %n)
      local(%k, %v, %mask) rope(%start) causal = bottom_right
      {rope_theta = 1.0e+04 : f64, template_len = 6 : i64, k_cfg = 2 : i64}
      : (tensor<?x4x16xbf16>, tensor<6x2x16xbf16>, tensor<6x2x16xbf16>, tensor<2x?x16xbf16>,
         tensor<2x?x16xbf16>, tensor<?xi32>, tensor<2xi32>, tensor<i32>, tensor<?x2x16xbf16>,
         tensor<?x2x16xbf16>, tensor<?xi1>, tensor<i32>) -> tensor<?x4x16xbf16>
  return %o : tensor<?x4x16xbf16>
}

// -----

// Nothing to outline: GEMMs, views and scalar arithmetic stay, and no
// kernel function is made.
// CHECK-LABEL: func.func @no_kernels(
// CHECK-NOT:     msa.dispatch
// CHECK:         msa.linear
// CHECK:         tensor.expand_shape
// CHECK:         arith.muli
// CHECK-NOT:     msa.kernel
func.func @no_kernels(%x: tensor<?x64xbf16>, %w: tensor<64x64xbf16>, %i: i32)
    -> (tensor<?x4x16xbf16>, i32) {
  %c0 = arith.constant 0 : index
  %y = msa.linear %x, %w : (tensor<?x64xbf16>, tensor<64x64xbf16>) -> tensor<?x64xbf16>
  %t = tensor.dim %y, %c0 : tensor<?x64xbf16>
  %e = tensor.expand_shape %y [[0], [1, 2]] output_shape [%t, 4, 16]
      : tensor<?x64xbf16> into tensor<?x4x16xbf16>
  %j = arith.muli %i, %i : i32
  return %e, %j : tensor<?x4x16xbf16>, i32
}
