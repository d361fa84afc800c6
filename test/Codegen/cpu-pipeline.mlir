// RUN: msa-opt %s -split-input-file -msa-cpu-graph-to-kernels | FileCheck %s --check-prefix=PIPE
// RUN: msa-compile %s --emit=loops | FileCheck %s --check-prefix=LOOPS
// RUN: msa-compile %s --emit=llvm | FileCheck %s --check-prefix=LLVM
// RUN: msa-compile %s --emit=llvm-ir | FileCheck %s --check-prefix=IR
// RUN: msa-compile %s --emit=llvm-ir --cpu=x86-64-v4 | FileCheck %s --check-prefix=IR512
// RUN: msa-compile %s --emit=asm | FileCheck %s --check-prefix=ASM

// Hand-written graph IR through the cpu pipeline. msa-opt's
// --msa-cpu-graph-to-kernels (cleanup, fusion, kernel formation, tiles,
// outlining) leaves entry functions of dispatches and GEMMs. msa-compile
// then keeps only the kernels (the entries live on as plans): loops and
// vectors, the LLVM dialect with each kernel's C interface, optimised LLVM
// IR in which the bf16 kernels carry their own __truncsfbf2, and assembly.
// msa-compile reads the whole file: to it the split markers are comments.

// PIPE-LABEL: func.func @block(
// PIPE:         %[[A:.+]] = msa.dispatch @k0_rms_norm(
// PIPE:         %[[B:.+]] = msa.linear %[[A]],
// PIPE:         msa.dispatch @k1_arith_addf(%{{[^,]+}}, %[[B]])
// PIPE-LABEL: func.func @k0_rms_norm(
// PIPE-SAME:    msa.kernel
// PIPE:         = msa.rms_norm {{.+}} {msa.tiles = {block_k = 1 : i64, vector_width = 8 : i64}}
// PIPE-LABEL: func.func @k1_arith_addf(

// LOOPS-NOT:   func.func @block
// LOOPS-LABEL: func.func @k0_rms_norm(
// LOOPS-SAME:    %[[X:[^:]+]]: memref<?x64xbf16>, %{{[^:]+}}: memref<64xbf16>,
// LOOPS-SAME:    %[[Y:[^:]+]]: memref<?x64xbf16>, %[[BEGIN:[^:]+]]: index, %[[END:[^:]+]]: index)
// LOOPS-SAME:    msa.kernel
// LOOPS:         scf.for %[[ROW:[^ ]+]] = %[[BEGIN]] to %[[END]]
// LOOPS:           vector.load %[[X]][%[[ROW]], %{{[^ ]+}}] : memref<?x64xbf16>, vector<8xbf16>
// LOOPS:           vector.fma %{{.+}} : vector<8xf32>
// LOOPS:           vector.store %{{.+}}, %[[Y]][%[[ROW]], %{{[^ ]+}}] : memref<?x64xbf16>, vector<8xbf16>
// LOOPS-NOT:     = msa.
// LOOPS-LABEL: func.func @k1_arith_addf(
// LOOPS:         scf.for
// LOOPS:           arith.addf %{{.+}} : vector<8xf32>
// LOOPS-LABEL: func.func @k2_encode_docs(
// LOOPS:         scf.for
// LOOPS-LABEL: func.func @k3_chunk_offsets(
// LOOPS-LABEL: func.func @k4_route_topk(
// LOOPS:         scf.for
// LOOPS-LABEL: func.func @k5_topk_merge(
// LOOPS-NOT:     = msa.
// LOOPS-NOT:     bufferization.

// LLVM-NOT:   func.func
// LLVM-LABEL: llvm.func @k0_rms_norm(
// LLVM:         llvm.intr.fmuladd
// LLVM-LABEL: llvm.func @_mlir_ciface_k0_rms_norm(
// LLVM-SAME:    %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: i64, %{{[^:]+}}: i64)
// LLVM:         llvm.call @k0_rms_norm(
// LLVM-LABEL: llvm.func @k1_arith_addf(
// LLVM-LABEL: llvm.func @_mlir_ciface_k1_arith_addf(
// LLVM-LABEL: llvm.func @_mlir_ciface_k2_encode_docs(
// LLVM-LABEL: llvm.func @_mlir_ciface_k4_route_topk(
// LLVM-LABEL: llvm.func @_mlir_ciface_k5_topk_merge(
// LLVM-NOT:   scf.for
// LLVM-NOT:   vector.load

// IR-DAG: define void @k0_rms_norm(
// IR-DAG: define void @_mlir_ciface_k0_rms_norm(ptr {{.*}}, ptr {{.*}}, ptr {{.*}}, i64 %{{.+}}, i64 %{{.+}})
// IR-DAG: define void @_mlir_ciface_k1_arith_addf(
// IR-DAG: define void @_mlir_ciface_k2_encode_docs(
// IR-DAG: define void @_mlir_ciface_k3_chunk_offsets(
// IR-DAG: define void @_mlir_ciface_k4_route_topk(
// IR-DAG: define void @_mlir_ciface_k5_topk_merge(
// IR-DAG: <8 x float>
// IR-DAG: define hidden bfloat @__truncsfbf2(float
// IR-NOT: define {{.*}}@block(
// IR-NOT: define {{.*}}@encode(
// IR-NOT: define {{.*}}@route(

// x86-64-v4 tiles: 16-lane vectors.
// IR512: define void @_mlir_ciface_k0_rms_norm(
// IR512: <16 x float>

// ASM-DAG: .globl _mlir_ciface_k0_rms_norm
// ASM-DAG: .globl _mlir_ciface_k5_topk_merge
// ASM-DAG: __truncsfbf2:

func.func @block(%x: tensor<?x64xbf16>, %w: tensor<64xbf16>, %wl: tensor<64x64xbf16>)
    -> tensor<?x64xbf16> {
  %a = msa.rms_norm %x, %w epsilon = 1.0e-06
      : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  %b = msa.linear %a, %wl : (tensor<?x64xbf16>, tensor<64x64xbf16>) -> tensor<?x64xbf16>
  %c = arith.addf %x, %b : tensor<?x64xbf16>
  return %c : tensor<?x64xbf16>
}

// -----

// Stage 1: document RoPE and chunk pooling fuse into one encode_docs kernel.
// PIPE-LABEL: func.func @encode(
// PIPE-SAME:    %[[Q:[^:]+]]: tensor<?x4x16xbf16>, %[[K:[^:]+]]: tensor<?x2x16xbf16>,
// PIPE-SAME:    %[[V:[^:]+]]: tensor<?x2x16xbf16>, %[[SEG:[^:]+]]: tensor<?xi32>)
// PIPE-NOT:     msa.rope
// PIPE-NOT:     msa.chunk_pool
// PIPE:         %[[E:.+]]:3 = msa.dispatch @k0_encode_docs(%[[Q]], %[[K]], %[[V]], %[[SEG]])
// PIPE:         return %[[E]]#0, %[[E]]#1, %[[E]]#2
// PIPE-LABEL: func.func @k0_encode_docs(
// PIPE:         = msa.encode_docs
// PIPE-SAME:      chunk_size = 4 : i64, first_pooled_segment = 0 : i64,
// PIPE-SAME:      msa.tiles = {block_k = 4 : i64, vector_width = 8 : i64}, rope_theta = 1.000000e+04 : f64
// PIPE-NOT:   func.func @k1
func.func @encode(%q: tensor<?x4x16xbf16>, %k: tensor<?x2x16xbf16>, %v: tensor<?x2x16xbf16>,
    %seg: tensor<?xi32>)
    -> (tensor<?x4x16xbf16>, tensor<2x?x16xbf16> {msa.dims = ["", "C", ""]},
        tensor<2x?x16xbf16> {msa.dims = ["", "C", ""]}) {
  %qr = msa.rope %q, %seg document theta = 1.0e+04
      : (tensor<?x4x16xbf16>, tensor<?xi32>) -> tensor<?x4x16xbf16>
  %kr = msa.rope %k, %seg document theta = 1.0e+04
      : (tensor<?x2x16xbf16>, tensor<?xi32>) -> tensor<?x2x16xbf16>
  %o = msa.doc_attention %qr, %kr, %v, %seg
      : (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?xi32>)
        -> tensor<?x4x16xbf16>
  %kb = msa.chunk_pool %kr, %seg chunk_size = 4
      : (tensor<?x2x16xbf16>, tensor<?xi32>) -> tensor<2x?x16xbf16>
  %vb = msa.chunk_pool %v, %seg chunk_size = 4
      : (tensor<?x2x16xbf16>, tensor<?xi32>) -> tensor<2x?x16xbf16>
  return %o, %kb, %vb : tensor<?x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>
}

// -----

// Stage 2 routing: scores, document reduction and top-k become route_topk
// (64 candidate blocks) and topk_merge.
// PIPE-LABEL: func.func @route(
// PIPE:         %[[COFF:.+]] = msa.dispatch @k0_chunk_offsets(
// PIPE:         %[[C:.+]]:2 = msa.dispatch @k1_route_topk(%{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %[[COFF]])
// PIPE-SAME:      -> (tensor<64x2xf32>, tensor<64x2xi32>)
// PIPE:         %[[M:.+]]:3 = msa.dispatch @k2_topk_merge(%[[C]]#0, %[[C]]#1)
// PIPE:         return %[[M]]#0, %[[M]]#2
// PIPE-NOT:     msa.route_scores
// PIPE-NOT:     msa.doc_reduce
func.func @route(%q: tensor<?x4x16xbf16>, %kb: tensor<2x?x16xbf16>, %mask: tensor<?xi1>,
    %segments: tensor<3xi32>) -> (tensor<2xi32>, tensor<i32>) {
  %coff = msa.chunk_offsets %segments chunk_size = 4 : (tensor<3xi32>) -> tensor<3xi32>
  %s = msa.route_scores %q, %kb, %mask heads(mean) tokens(max) scale
      : (tensor<?x4x16xbf16>, tensor<2x?x16xbf16>, tensor<?xi1>) -> tensor<?xbf16>
  %d = msa.doc_reduce %s, %coff chunks(max) : (tensor<?xbf16>, tensor<3xi32>) -> tensor<2xbf16>
  %idx, %n = msa.topk %d k = 2 : (tensor<2xbf16>) -> (tensor<2xi32>, tensor<i32>)
  return %idx, %n : tensor<2xi32>, tensor<i32>
}
