// RUN: msa-opt %s -split-input-file -msa-lower-kernels-to-loops -verify-diagnostics \
// RUN:   | FileCheck %s

// In every msa.kernel function the kernel op (read through to_tensor,
// written with materialize_in_destination) becomes scf.for loops over the
// work items [begin, end) on the memref arguments, vectorised along rows with
// the op's msa.tiles vector_width, f32 arithmetic in between. Functions
// that are not kernels, and kernels already lowered, are left alone. The
// last cases are the errors: ops without a cpu lowering, shapes the cpu
// lowering needs static, and kernel functions not in the outlined form.

// Vectorised row kernel: the sum of squares is a vector.fma loop carrying a
// vector<8xf32>, reduced once per row.
// CHECK-LABEL: func.func @k0_rms_norm(
// CHECK-SAME:    %[[X:[^:]+]]: memref<?x64xbf16>, %[[W:[^:]+]]: memref<64xbf16>,
// CHECK-SAME:    %[[Y:[^:]+]]: memref<?x64xbf16>, %[[BEGIN:[^:]+]]: index,
// CHECK-SAME:    %[[END:[^:]+]]: index)
// CHECK-SAME:    msa.kernel
// CHECK-NOT:     bufferization.
// CHECK:         scf.for %[[ROW:[^ ]+]] = %[[BEGIN]] to %[[END]] step
// CHECK:           %[[SUM:.+]] = scf.for %[[C:[^ ]+]] = %{{[^ ]+}} to %{{[^ ]+}} step %{{[^ ]+}}
// CHECK-SAME:        iter_args(%[[ACC:[^ ]+]] = %{{[^ ]+}}) -> (vector<8xf32>)
// CHECK:             %[[V:.+]] = vector.load %[[X]][%[[ROW]], %[[C]]] : memref<?x64xbf16>, vector<8xbf16>
// CHECK:             %[[VF:.+]] = arith.extf %[[V]] : vector<8xbf16> to vector<8xf32>
// CHECK:             %[[FMA:.+]] = vector.fma %[[VF]], %[[VF]], %[[ACC]] : vector<8xf32>
// CHECK:             scf.yield %[[FMA]] : vector<8xf32>
// CHECK:           vector.reduction <add>, %[[SUM]] : vector<8xf32> into f32
// CHECK:           math.sqrt
// CHECK:           scf.for
// CHECK:             vector.load %[[W]]
// CHECK:             arith.truncf %{{.+}} : vector<8xf32> to vector<8xbf16>
// CHECK:             vector.store %{{.+}}, %[[Y]][%[[ROW]], %{{.+}}] : memref<?x64xbf16>, vector<8xbf16>
// CHECK-NOT:     = msa.
// CHECK-NOT:     bufferization.
// CHECK:         return
func.func @k0_rms_norm(%x: memref<?x64xbf16>, %w: memref<64xbf16>, %y: memref<?x64xbf16>,
    %begin: index, %end: index)
    attributes {llvm.emit_c_interface, msa.grid = [array<i64: 0, 0, 0>], msa.kernel,
                msa.op = "msa.rms_norm"} {
  %0 = bufferization.to_tensor %x restrict : memref<?x64xbf16> to tensor<?x64xbf16>
  %1 = bufferization.to_tensor %w restrict : memref<64xbf16> to tensor<64xbf16>
  %2 = msa.rms_norm %0, %1 epsilon = 1.0e-06
      {msa.tiles = {block_k = 1 : i64, vector_width = 8 : i64}}
      : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  bufferization.materialize_in_destination %2 in restrict writable %y
      : (tensor<?x64xbf16>, memref<?x64xbf16>) -> ()
  return
}

// -----

// Without msa.tiles (or with a width that does not divide the row) the row
// is scalar: memref.load and math.fma on f32.
// CHECK-LABEL: func.func @k0_rms_norm_scalar(
// CHECK-SAME:    %[[X:[^:]+]]: memref<?x64xbf16>, %{{[^:]+}}: memref<64xbf16>,
// CHECK-SAME:    %[[Y:[^:]+]]: memref<?x64xbf16>, %[[BEGIN:[^:]+]]: index,
// CHECK-SAME:    %[[END:[^:]+]]: index)
// CHECK-NOT:     vector.
// CHECK:         scf.for %[[ROW:[^ ]+]] = %[[BEGIN]] to %[[END]] step
// CHECK:           scf.for %[[C:[^ ]+]] = {{.+}} -> (f32)
// CHECK:             %[[V:.+]] = memref.load %[[X]][%[[ROW]], %[[C]]] : memref<?x64xbf16>
// CHECK:             %[[VF:.+]] = arith.extf %[[V]] : bf16 to f32
// CHECK:             math.fma %[[VF]], %[[VF]], %{{.+}} : f32
// CHECK:           memref.store %{{.+}}, %[[Y]][%[[ROW]], %{{.+}}] : memref<?x64xbf16>
// CHECK-NOT:     vector.
// CHECK-NOT:     = msa.
// CHECK:         return
// CHECK-LABEL: func.func @k1_rms_norm_odd_width(
// CHECK-NOT:     vector.
// CHECK:         math.fma %{{.+}} : f32
// CHECK-NOT:     vector.
// CHECK:         return
func.func @k0_rms_norm_scalar(%x: memref<?x64xbf16>, %w: memref<64xbf16>,
    %y: memref<?x64xbf16>, %begin: index, %end: index)
    attributes {msa.grid = [array<i64: 0, 0, 0>], msa.kernel} {
  %0 = bufferization.to_tensor %x restrict : memref<?x64xbf16> to tensor<?x64xbf16>
  %1 = bufferization.to_tensor %w restrict : memref<64xbf16> to tensor<64xbf16>
  %2 = msa.rms_norm %0, %1 epsilon = 1.0e-06
      : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  bufferization.materialize_in_destination %2 in restrict writable %y
      : (tensor<?x64xbf16>, memref<?x64xbf16>) -> ()
  return
}
func.func @k1_rms_norm_odd_width(%x: memref<?x64xbf16>, %w: memref<64xbf16>,
    %y: memref<?x64xbf16>, %begin: index, %end: index)
    attributes {msa.grid = [array<i64: 0, 0, 0>], msa.kernel} {
  %0 = bufferization.to_tensor %x restrict : memref<?x64xbf16> to tensor<?x64xbf16>
  %1 = bufferization.to_tensor %w restrict : memref<64xbf16> to tensor<64xbf16>
  %2 = msa.rms_norm %0, %1 epsilon = 1.0e-06
      {msa.tiles = {block_k = 1 : i64, vector_width = 48 : i64}}
      : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  bufferization.materialize_in_destination %2 in restrict writable %y
      : (tensor<?x64xbf16>, memref<?x64xbf16>) -> ()
  return
}

// -----

// Elementwise f32 kernel: two vector loads per step, one store.
// CHECK-LABEL: func.func @k0_swiglu(
// CHECK-SAME:    %[[G:[^:]+]]: memref<?x64xf32>, %[[U:[^:]+]]: memref<?x64xf32>,
// CHECK-SAME:    %[[O:[^:]+]]: memref<?x64xf32>, %[[BEGIN:[^:]+]]: index,
// CHECK-SAME:    %[[END:[^:]+]]: index)
// CHECK:         scf.for %[[ROW:[^ ]+]] = %[[BEGIN]] to %[[END]] step
// CHECK:           scf.for %[[C:[^ ]+]] = %{{[^ ]+}} to %{{[^ ]+}} step
// CHECK:             vector.load %[[G]][%[[ROW]], %[[C]]] : memref<?x64xf32>, vector<8xf32>
// CHECK:             vector.load %[[U]][%[[ROW]], %[[C]]] : memref<?x64xf32>, vector<8xf32>
// CHECK:             math.exp %{{.+}} : vector<8xf32>
// CHECK:             vector.store %{{.+}}, %[[O]][%[[ROW]], %[[C]]] : memref<?x64xf32>, vector<8xf32>
// CHECK-NOT:     = msa.
// CHECK:         return
func.func @k0_swiglu(%g: memref<?x64xf32>, %u: memref<?x64xf32>, %o: memref<?x64xf32>,
    %begin: index, %end: index)
    attributes {msa.grid = [array<i64: 0, 0, 0>], msa.kernel} {
  %0 = bufferization.to_tensor %g restrict : memref<?x64xf32> to tensor<?x64xf32>
  %1 = bufferization.to_tensor %u restrict : memref<?x64xf32> to tensor<?x64xf32>
  %2 = msa.swiglu %0, %1 {msa.tiles = {block_k = 1 : i64, vector_width = 8 : i64}}
      : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  bufferization.materialize_in_destination %2 in restrict writable %o
      : (tensor<?x64xf32>, memref<?x64xf32>) -> ()
  return
}

// -----

// Attention: one work item per segment, RoPE tables in the prologue.
// CHECK-LABEL: func.func @k0_encode_docs(
// CHECK-SAME:    %[[Q:[^:]+]]: memref<?x4x16xbf16>, %{{[^:]+}}: memref<?x2x16xbf16>,
// CHECK-SAME:    %{{[^:]+}}: memref<?x2x16xbf16>, %[[SEG:[^:]+]]: memref<?xi32>,
// CHECK-SAME:    %[[O:[^:]+]]: memref<?x4x16xbf16>, %[[BEGIN:[^:]+]]: index,
// CHECK-SAME:    %[[END:[^:]+]]: index)
// CHECK:         scf.for %[[S:[^ ]+]] = %[[BEGIN]] to %[[END]] step
// CHECK:           memref.load %[[SEG]][%[[S]]] : memref<?xi32>
// CHECK:           math.powf
// CHECK:           vector.fma
// CHECK:           math.exp
// CHECK:           vector.store %{{.+}}, %[[O]]
// CHECK-NOT:     = msa.
// CHECK-NOT:     bufferization.
// CHECK:         return
func.func @k0_encode_docs(%q: memref<?x4x16xbf16>, %k: memref<?x2x16xbf16>,
    %v: memref<?x2x16xbf16>, %seg: memref<?xi32>, %o: memref<?x4x16xbf16>,
    %begin: index, %end: index)
    attributes {msa.grid = [array<i64: 3, 0, 0>], msa.kernel} {
  %0 = bufferization.to_tensor %q restrict : memref<?x4x16xbf16> to tensor<?x4x16xbf16>
  %1 = bufferization.to_tensor %k restrict : memref<?x2x16xbf16> to tensor<?x2x16xbf16>
  %2 = bufferization.to_tensor %v restrict : memref<?x2x16xbf16> to tensor<?x2x16xbf16>
  %3 = bufferization.to_tensor %seg restrict : memref<?xi32> to tensor<?xi32>
  %4 = msa.encode_docs %0, %1, %2, %3
      {rope_theta = 1.0e+04 : f64, msa.tiles = {block_k = 4 : i64, vector_width = 8 : i64}}
      : (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?xi32>)
        -> tensor<?x4x16xbf16>
  bufferization.materialize_in_destination %4 in restrict writable %o
      : (tensor<?x4x16xbf16>, memref<?x4x16xbf16>) -> ()
  return
}

// -----

// Routing: the candidate blocks are the work items; every result is written.
// CHECK-LABEL: func.func @k0_route_topk(
// CHECK-SAME:    %[[S:[^:]+]]: memref<4x2xf32>, %[[I:[^:]+]]: memref<4x2xi32>,
// CHECK-SAME:    %[[BEGIN:[^:]+]]: index, %[[END:[^:]+]]: index)
// CHECK:         scf.for %[[B:[^ ]+]] = %[[BEGIN]] to %[[END]] step
// CHECK:           vector.fma
// CHECK:           memref.store %{{.+}}, %[[S]][%[[B]], %{{.+}}] : memref<4x2xf32>
// CHECK:           memref.store %{{.+}}, %[[I]][%[[B]], %{{.+}}] : memref<4x2xi32>
// CHECK-NOT:     = msa.
// CHECK:         return
// CHECK-LABEL: func.func @k1_topk_merge(
// CHECK-SAME:    %[[IDX:[^:]+]]: memref<2xi32>, %[[SC:[^:]+]]: memref<2xf32>,
// CHECK-SAME:    %[[N:[^:]+]]: memref<i32>,
// CHECK:         memref.store %{{.+}}, %[[N]][] : memref<i32>
// CHECK-NOT:     = msa.
// CHECK:         return
func.func @k0_route_topk(%q: memref<?x4x16xbf16>, %kb: memref<2x?x16xbf16>,
    %mask: memref<?xi1>, %coff: memref<?xi32>, %s: memref<4x2xf32>, %i: memref<4x2xi32>,
    %begin: index, %end: index)
    attributes {msa.grid = [array<i64: 4, 0, 0>], msa.kernel} {
  %0 = bufferization.to_tensor %q restrict : memref<?x4x16xbf16> to tensor<?x4x16xbf16>
  %1 = bufferization.to_tensor %kb restrict : memref<2x?x16xbf16> to tensor<2x?x16xbf16>
  %2 = bufferization.to_tensor %mask restrict : memref<?xi1> to tensor<?xi1>
  %3 = bufferization.to_tensor %coff restrict : memref<?xi32> to tensor<?xi32>
  %cs, %ci = msa.route_topk %0, %1, %2, %3 heads(mean) tokens(max) chunks(max) k = 2 scale
      {msa.tiles = {block_k = 1 : i64, vector_width = 8 : i64}}
      : (tensor<?x4x16xbf16>, tensor<2x?x16xbf16>, tensor<?xi1>, tensor<?xi32>)
        -> (tensor<4x2xf32>, tensor<4x2xi32>)
  bufferization.materialize_in_destination %cs in restrict writable %s
      : (tensor<4x2xf32>, memref<4x2xf32>) -> ()
  bufferization.materialize_in_destination %ci in restrict writable %i
      : (tensor<4x2xi32>, memref<4x2xi32>) -> ()
  return
}
func.func @k1_topk_merge(%s: memref<4x2xf32>, %i: memref<4x2xi32>, %idx: memref<2xi32>,
    %sc: memref<2xf32>, %n: memref<i32>, %begin: index, %end: index)
    attributes {msa.grid = [], msa.kernel} {
  %0 = bufferization.to_tensor %s restrict : memref<4x2xf32> to tensor<4x2xf32>
  %1 = bufferization.to_tensor %i restrict : memref<4x2xi32> to tensor<4x2xi32>
  %r:3 = msa.topk_merge %0, %1 k = 2
      : (tensor<4x2xf32>, tensor<4x2xi32>) -> (tensor<2xi32>, tensor<2xf32>, tensor<i32>)
  bufferization.materialize_in_destination %r#0 in restrict writable %idx
      : (tensor<2xi32>, memref<2xi32>) -> ()
  bufferization.materialize_in_destination %r#1 in restrict writable %sc
      : (tensor<2xf32>, memref<2xf32>) -> ()
  bufferization.materialize_in_destination %r#2 in restrict writable %n
      : (tensor<i32>, memref<i32>) -> ()
  return
}

// -----

// Decode attention with a selection, an append group and a RoPE prologue.
// CHECK-LABEL: func.func @k0_memory_attention(
// CHECK-SAME:    %[[Q:[^:]+]]: memref<?x4x16xbf16>,
// CHECK-SAME:    %[[O:[^:]+]]: memref<?x4x16xbf16>, %[[BEGIN:[^:]+]]: index,
// CHECK-SAME:    %[[END:[^:]+]]: index)
// CHECK:         scf.for %{{[^ ]+}} = %[[BEGIN]] to %[[END]] step
// CHECK:           math.cos
// CHECK:           vector.load %[[Q]]
// CHECK:           vector.fma
// CHECK:           math.exp
// CHECK:           vector.store %{{.+}}, %[[O]]
// CHECK-NOT:     = msa.
// CHECK-NOT:     bufferization.
// CHECK:         return
func.func @k0_memory_attention(%q: memref<?x4x16xbf16>, %tk: memref<6x2x16xbf16>,
    %tv: memref<6x2x16xbf16>, %bk: memref<2x?x16xbf16>, %bv: memref<2x?x16xbf16>,
    %coff: memref<?xi32>, %idx: memref<2xi32>, %n: memref<i32>, %k: memref<?x2x16xbf16>,
    %v: memref<?x2x16xbf16>, %valid: memref<?xi1>, %ak: memref<?x2x16xbf16>,
    %av: memref<?x2x16xbf16>, %avalid: memref<?xi1>, %pos: memref<?xi32>,
    %o: memref<?x4x16xbf16>, %begin: index, %end: index)
    attributes {msa.grid = [array<i64: 0, 0, 0>, array<i64: 0, 1, 0>], msa.kernel} {
  %0 = bufferization.to_tensor %q restrict : memref<?x4x16xbf16> to tensor<?x4x16xbf16>
  %1 = bufferization.to_tensor %tk restrict : memref<6x2x16xbf16> to tensor<6x2x16xbf16>
  %2 = bufferization.to_tensor %tv restrict : memref<6x2x16xbf16> to tensor<6x2x16xbf16>
  %3 = bufferization.to_tensor %bk restrict : memref<2x?x16xbf16> to tensor<2x?x16xbf16>
  %4 = bufferization.to_tensor %bv restrict : memref<2x?x16xbf16> to tensor<2x?x16xbf16>
  %5 = bufferization.to_tensor %coff restrict : memref<?xi32> to tensor<?xi32>
  %6 = bufferization.to_tensor %idx restrict : memref<2xi32> to tensor<2xi32>
  %7 = bufferization.to_tensor %n restrict : memref<i32> to tensor<i32>
  %8 = bufferization.to_tensor %k restrict : memref<?x2x16xbf16> to tensor<?x2x16xbf16>
  %9 = bufferization.to_tensor %v restrict : memref<?x2x16xbf16> to tensor<?x2x16xbf16>
  %10 = bufferization.to_tensor %valid restrict : memref<?xi1> to tensor<?xi1>
  %11 = bufferization.to_tensor %ak restrict : memref<?x2x16xbf16> to tensor<?x2x16xbf16>
  %12 = bufferization.to_tensor %av restrict : memref<?x2x16xbf16> to tensor<?x2x16xbf16>
  %13 = bufferization.to_tensor %avalid restrict : memref<?xi1> to tensor<?xi1>
  %14 = bufferization.to_tensor %pos restrict : memref<?xi32> to tensor<?xi32>
  %15 = msa.memory_attention %0, template(%1, %2) memory(%3, %4) select(%5, %6, %7)
      local(%8, %9, %10) append(%11, %12, %13) rope(%14) causal = block
      {rope_theta = 1.0e+04 : f64, template_len = 6 : i64, k_cfg = 2 : i64,
       msa.tiles = {block_k = 4 : i64, vector_width = 8 : i64}}
      : (tensor<?x4x16xbf16>, tensor<6x2x16xbf16>, tensor<6x2x16xbf16>, tensor<2x?x16xbf16>,
         tensor<2x?x16xbf16>, tensor<?xi32>, tensor<2xi32>, tensor<i32>, tensor<?x2x16xbf16>,
         tensor<?x2x16xbf16>, tensor<?xi1>, tensor<?x2x16xbf16>, tensor<?x2x16xbf16>,
         tensor<?xi1>, tensor<?xi32>) -> tensor<?x4x16xbf16>
  bufferization.materialize_in_destination %15 in restrict writable %o
      : (tensor<?x4x16xbf16>, memref<?x4x16xbf16>) -> ()
  return
}

// -----

// Entry functions are not kernels: their msa ops stay. A kernel function
// already lowered (no kernel op left) is skipped.
// CHECK-LABEL: func.func @entry(
// CHECK:         msa.dispatch @k0_lowered
// CHECK:         msa.rms_norm
// CHECK-LABEL: func.func @k0_lowered(
// CHECK-NEXT:    return
func.func @entry(%x: tensor<?x64xbf16>, %w: tensor<64xbf16>) -> tensor<?x64xbf16> {
  %y = msa.dispatch @k0_lowered(%x, %w)
      : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  %z = msa.rms_norm %y, %w epsilon = 1.0e-06
      : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  return %z : tensor<?x64xbf16>
}
func.func @k0_lowered(%x: memref<?x64xbf16>, %w: memref<64xbf16>, %y: memref<?x64xbf16>,
    %begin: index, %end: index) attributes {msa.kernel} {
  return
}

// -----

// Graph-level attention has no cpu kernel: msa-form-kernels and the fusion
// passes must have run.
func.func @k0_doc_attention(%q: memref<?x4x16xbf16>, %k: memref<?x2x16xbf16>,
    %v: memref<?x2x16xbf16>, %seg: memref<?xi32>, %o: memref<?x4x16xbf16>,
    %begin: index, %end: index) attributes {msa.kernel} {
  %0 = bufferization.to_tensor %q restrict : memref<?x4x16xbf16> to tensor<?x4x16xbf16>
  %1 = bufferization.to_tensor %k restrict : memref<?x2x16xbf16> to tensor<?x2x16xbf16>
  %2 = bufferization.to_tensor %v restrict : memref<?x2x16xbf16> to tensor<?x2x16xbf16>
  %3 = bufferization.to_tensor %seg restrict : memref<?xi32> to tensor<?xi32>
  // expected-error @below {{'msa.doc_attention' op has no cpu kernel lowering (run msa-form-kernels and the fusion passes first)}}
  %4 = msa.doc_attention %0, %1, %2, %3
      : (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?xi32>)
        -> tensor<?x4x16xbf16>
  bufferization.materialize_in_destination %4 in restrict writable %o
      : (tensor<?x4x16xbf16>, memref<?x4x16xbf16>) -> ()
  return
}

// -----

func.func @k0_sparse_attention(%q: memref<1x4x16xbf16>, %tk: memref<3x2x16xbf16>,
    %tv: memref<3x2x16xbf16>, %k: memref<?x2x16xbf16>, %v: memref<?x2x16xbf16>,
    %valid: memref<?xi1>, %o: memref<1x4x16xbf16>, %begin: index, %end: index)
    attributes {msa.kernel} {
  %0 = bufferization.to_tensor %q restrict : memref<1x4x16xbf16> to tensor<1x4x16xbf16>
  %1 = bufferization.to_tensor %tk restrict : memref<3x2x16xbf16> to tensor<3x2x16xbf16>
  %2 = bufferization.to_tensor %tv restrict : memref<3x2x16xbf16> to tensor<3x2x16xbf16>
  %3 = bufferization.to_tensor %k restrict : memref<?x2x16xbf16> to tensor<?x2x16xbf16>
  %4 = bufferization.to_tensor %v restrict : memref<?x2x16xbf16> to tensor<?x2x16xbf16>
  %5 = bufferization.to_tensor %valid restrict : memref<?xi1> to tensor<?xi1>
  // expected-error @below {{'msa.sparse_attention' op has no cpu kernel lowering (run msa-form-kernels and the fusion passes first)}}
  %6 = msa.sparse_attention %0, template(%1, %2) local(%3, %4, %5) causal = block
      : (tensor<1x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?xi1>) -> tensor<1x4x16xbf16>
  bufferization.materialize_in_destination %6 in restrict writable %o
      : (tensor<1x4x16xbf16>, memref<1x4x16xbf16>) -> ()
  return
}

// -----

func.func @k0_encode_docs_dynamic_heads(%q: memref<?x?x16xbf16>, %k: memref<?x?x16xbf16>,
    %v: memref<?x?x16xbf16>, %seg: memref<?xi32>, %o: memref<?x?x16xbf16>,
    %begin: index, %end: index) attributes {msa.kernel} {
  %0 = bufferization.to_tensor %q restrict : memref<?x?x16xbf16> to tensor<?x?x16xbf16>
  %1 = bufferization.to_tensor %k restrict : memref<?x?x16xbf16> to tensor<?x?x16xbf16>
  %2 = bufferization.to_tensor %v restrict : memref<?x?x16xbf16> to tensor<?x?x16xbf16>
  %3 = bufferization.to_tensor %seg restrict : memref<?xi32> to tensor<?xi32>
  // expected-error @below {{'msa.encode_docs' op needs static heads and head dim for the cpu lowering}}
  %4 = msa.encode_docs %0, %1, %2, %3
      : (tensor<?x?x16xbf16>, tensor<?x?x16xbf16>, tensor<?x?x16xbf16>, tensor<?xi32>)
        -> tensor<?x?x16xbf16>
  bufferization.materialize_in_destination %4 in restrict writable %o
      : (tensor<?x?x16xbf16>, memref<?x?x16xbf16>) -> ()
  return
}

// -----

func.func @k0_rope_dynamic_head_dim(%x: memref<?x2x?xbf16>, %p: memref<?xi32>,
    %o: memref<?x2x?xbf16>, %begin: index, %end: index) attributes {msa.kernel} {
  %0 = bufferization.to_tensor %x restrict : memref<?x2x?xbf16> to tensor<?x2x?xbf16>
  %1 = bufferization.to_tensor %p restrict : memref<?xi32> to tensor<?xi32>
  // expected-error @below {{'msa.rope' op needs a static head dim for the cpu lowering}}
  %2 = msa.rope %0, %1 document theta = 1.0e+04
      : (tensor<?x2x?xbf16>, tensor<?xi32>) -> tensor<?x2x?xbf16>
  bufferization.materialize_in_destination %2 in restrict writable %o
      : (tensor<?x2x?xbf16>, memref<?x2x?xbf16>) -> ()
  return
}

// -----

// The weight is a constant made inside the kernel, not an argument.
func.func @k0_operand_not_argument(%x: memref<?x4xbf16>, %y: memref<?x4xbf16>,
    %begin: index, %end: index) attributes {msa.kernel} {
  %0 = bufferization.to_tensor %x restrict : memref<?x4xbf16> to tensor<?x4xbf16>
  %w = arith.constant dense<1.0> : tensor<4xbf16>
  // expected-error @below {{'msa.rms_norm' op operand is not a kernel argument}}
  %1 = msa.rms_norm %0, %w epsilon = 1.0e-06
      : (tensor<?x4xbf16>, tensor<4xbf16>) -> tensor<?x4xbf16>
  bufferization.materialize_in_destination %1 in restrict writable %y
      : (tensor<?x4xbf16>, memref<?x4xbf16>) -> ()
  return
}

// -----

// The selected scores are computed but never written.
func.func @k0_result_not_written(%s: memref<4x2xf32>, %i: memref<4x2xi32>,
    %idx: memref<2xi32>, %n: memref<i32>, %begin: index, %end: index)
    attributes {msa.kernel} {
  %0 = bufferization.to_tensor %s restrict : memref<4x2xf32> to tensor<4x2xf32>
  %1 = bufferization.to_tensor %i restrict : memref<4x2xi32> to tensor<4x2xi32>
  // expected-error @below {{'msa.topk_merge' op results are not all written to kernel arguments}}
  %r:3 = msa.topk_merge %0, %1 k = 2
      : (tensor<4x2xf32>, tensor<4x2xi32>) -> (tensor<2xi32>, tensor<2xf32>, tensor<i32>)
  bufferization.materialize_in_destination %r#0 in restrict writable %idx
      : (tensor<2xi32>, memref<2xi32>) -> ()
  bufferization.materialize_in_destination %r#2 in restrict writable %n
      : (tensor<i32>, memref<i32>) -> ()
  return
}
