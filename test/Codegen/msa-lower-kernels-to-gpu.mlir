// RUN: msa-opt %s -split-input-file -msa-lower-kernels-to-gpu -verify-diagnostics \
// RUN:   | FileCheck %s

// Every msa.kernel function gets a gpu.func of the same name in
// gpu.module @msa_kernels: its buffers without the cpu work-item range,
// known_block_size from msa.tiles threads, a body of one thread block. The
// func.func stays (plan extraction reads it) and records the launch and the
// cuda grid. Functions that are not kernels are left alone; kernel ops
// without a cuda lowering, kernels without cuda tiles and shapes the
// lowering needs static are errors. The unfused routing ops of
// hand-written IR lower too (a warp per chunk, a thread per document, one
// block for top-k).

// RMSNorm: a warp per row (row = block * rows_per_block + warp), the sum of
// squares across the lanes by butterfly shuffles.
// CHECK-LABEL: func.func @k0_rms_norm(
// CHECK-SAME:    msa.grid = [array<i64: 0, 0, 0>]
// CHECK-SAME:    msa.launch = {items_per_block = 4 : i64, shared_bytes = 0 : i64, threads = 128 : i64}
// CHECK:         msa.rms_norm
// CHECK-LABEL: gpu.module @msa_kernels
// CHECK:         gpu.func @k0_rms_norm(%[[X:[^:]+]]: memref<?x64xbf16>, %[[W:[^:]+]]: memref<64xbf16>, %[[Y:[^:]+]]: memref<?x64xbf16>) kernel
// CHECK-SAME:      known_block_size = array<i32: 128, 1, 1>
// CHECK:           gpu.block_id x
// CHECK:           scf.if
// CHECK:             gpu.thread_id x
// CHECK:             vector.load %[[X]]{{.+}}{alignment = 16 : i64} : memref<?x64xbf16>, vector<8xbf16>
// CHECK:             gpu.shuffle xor
// CHECK:             llvm.call_intrinsic "llvm.nvvm.sqrt.rn.f"
// CHECK:             vector.store %{{.+}}, %[[Y]]{{.+}}{alignment = 16 : i64} : memref<?x64xbf16>, vector<8xbf16>
// CHECK:           gpu.return
func.func @k0_rms_norm(%x: memref<?x64xbf16>, %w: memref<64xbf16>, %y: memref<?x64xbf16>,
    %begin: index, %end: index)
    attributes {msa.grid = [array<i64: 0, 0, 0>], msa.kernel, msa.op = "msa.rms_norm"} {
  %0 = bufferization.to_tensor %x restrict : memref<?x64xbf16> to tensor<?x64xbf16>
  %1 = bufferization.to_tensor %w restrict : memref<64xbf16> to tensor<64xbf16>
  %2 = msa.rms_norm %0, %1 epsilon = 1.0e-06
      {msa.tiles = {rows_per_block = 4 : i64, threads = 128 : i64, vector_width = 8 : i64}}
      : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  bufferization.materialize_in_destination %2 in restrict writable %y
      : (tensor<?x64xbf16>, memref<?x64xbf16>) -> ()
  return
}

// -----

// Encode attention: a block per (64-token tile, head), so the grid divides
// the tokens by block_m; Q, K, V and P tiles in dynamic shared memory, the
// RoPE tables as a constant of the module, barriers around each key tile.
// CHECK-LABEL: func.func @k1_encode_docs(
// CHECK-SAME:    msa.grid = [array<i64: 0, 0, 0, 64>, array<i64: 0, 1, 0>]
// CHECK-SAME:    msa.launch = {items_per_block = 1 : i64, shared_bytes = 25856 : i64, threads = 128 : i64}
// CHECK-LABEL: gpu.module @msa_kernels
// CHECK:         memref.global "private" constant @msa_inv_freq_d16_t1176256512 : memref<8xf32>
// CHECK:         gpu.func @k1_encode_docs({{.+}}) kernel
// CHECK:           gpu.dynamic_shared_memory
// CHECK:           memref.get_global @msa_inv_freq_d16_t1176256512
// CHECK:           scf.for
// CHECK:             gpu.barrier
// CHECK:             gpu.shuffle xor
// CHECK:             llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// CHECK:           gpu.return
func.func @k1_encode_docs(%q: memref<?x4x16xbf16>, %k: memref<?x2x16xbf16>,
    %v: memref<?x2x16xbf16>, %seg: memref<?xi32>, %o: memref<?x4x16xbf16>,
    %begin: index, %end: index)
    attributes {msa.grid = [array<i64: 3, 0, 0>], msa.kernel, msa.op = "msa.encode_docs"} {
  %0 = bufferization.to_tensor %q restrict : memref<?x4x16xbf16> to tensor<?x4x16xbf16>
  %1 = bufferization.to_tensor %k restrict : memref<?x2x16xbf16> to tensor<?x2x16xbf16>
  %2 = bufferization.to_tensor %v restrict : memref<?x2x16xbf16> to tensor<?x2x16xbf16>
  %3 = bufferization.to_tensor %seg restrict : memref<?xi32> to tensor<?xi32>
  %4 = msa.encode_docs %0, %1, %2, %3 {rope_theta = 1.0e+04,
      msa.tiles = {block_m = 64 : i64, block_n = 64 : i64, threads = 128 : i64, vector_width = 8 : i64}}
      : (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?xi32>)
        -> tensor<?x4x16xbf16>
  bufferization.materialize_in_destination %4 in restrict writable %o
      : (tensor<?x4x16xbf16>, memref<?x4x16xbf16>) -> ()
  return
}

// -----

// Unfused routing: route_scores takes a warp per chunk (blocks of 4 warps),
// with the prepared queries staged in shared memory.
// CHECK-LABEL: func.func @k0_route_scores(
// CHECK-SAME:    msa.grid = [array<i64: 1, 1, 0>]
// CHECK-SAME:    msa.launch = {items_per_block = 4 : i64, shared_bytes = 32768 : i64, threads = 128 : i64}
// CHECK-LABEL: gpu.module @msa_kernels
// CHECK:         gpu.func @k0_route_scores(
// CHECK:           gpu.barrier
func.func @k0_route_scores(%q: memref<5x4x16xbf16>, %k: memref<2x?x16xbf16>,
    %m: memref<5xi1>, %s: memref<?xbf16>, %begin: index, %end: index)
    attributes {msa.kernel} {
  %0 = bufferization.to_tensor %q restrict : memref<5x4x16xbf16> to tensor<5x4x16xbf16>
  %1 = bufferization.to_tensor %k restrict : memref<2x?x16xbf16> to tensor<2x?x16xbf16>
  %2 = bufferization.to_tensor %m restrict : memref<5xi1> to tensor<5xi1>
  %3 = msa.route_scores %0, %1, %2 heads(mean) tokens(max) {msa.tiles = {threads = 128 : i64}}
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
  bufferization.materialize_in_destination %3 in restrict writable %s
      : (tensor<?xbf16>, memref<?xbf16>) -> ()
  return
}

// -----

// Not a kernel: untouched, and no gpu.module appears.
// CHECK-LABEL: func.func @entry(
// CHECK-NOT:     msa.launch
// CHECK-NOT:   gpu.module
func.func @entry(%x: tensor<?x64xbf16>) -> tensor<?x64xbf16> {
  return %x : tensor<?x64xbf16>
}

// -----

func.func @k0_no_cuda_tiles(%x: memref<?x64xbf16>, %w: memref<64xbf16>, %y: memref<?x64xbf16>,
    %begin: index, %end: index) attributes {msa.kernel} {
  %0 = bufferization.to_tensor %x restrict : memref<?x64xbf16> to tensor<?x64xbf16>
  %1 = bufferization.to_tensor %w restrict : memref<64xbf16> to tensor<64xbf16>
  // expected-error @below {{'msa.rms_norm' op needs cuda tiles (msa.tiles threads a multiple of 32 up to 1024; run msa-assign-tiles target=cuda:sm_90)}}
  %2 = msa.rms_norm %0, %1 epsilon = 1.0e-06
      {msa.tiles = {block_k = 1 : i64, vector_width = 8 : i64}}
      : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  bufferization.materialize_in_destination %2 in restrict writable %y
      : (tensor<?x64xbf16>, memref<?x64xbf16>) -> ()
  return
}

// -----

// Kernel ops are formed (msa-form-kernels) before lowering: a bare
// doc_attention is not one.
func.func @k0_doc_attention(%q: memref<?x4x16xbf16>, %k: memref<?x2x16xbf16>,
    %v: memref<?x2x16xbf16>, %seg: memref<?xi32>, %o: memref<?x4x16xbf16>,
    %begin: index, %end: index) attributes {msa.kernel} {
  %0 = bufferization.to_tensor %q restrict : memref<?x4x16xbf16> to tensor<?x4x16xbf16>
  %1 = bufferization.to_tensor %k restrict : memref<?x2x16xbf16> to tensor<?x2x16xbf16>
  %2 = bufferization.to_tensor %v restrict : memref<?x2x16xbf16> to tensor<?x2x16xbf16>
  %3 = bufferization.to_tensor %seg restrict : memref<?xi32> to tensor<?xi32>
  // expected-error @below {{'msa.doc_attention' op has no cuda kernel lowering (run msa-form-kernels and the fusion passes first)}}
  %4 = msa.doc_attention %0, %1, %2, %3 {msa.tiles = {threads = 128 : i64}}
      : (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?xi32>)
        -> tensor<?x4x16xbf16>
  bufferization.materialize_in_destination %4 in restrict writable %o
      : (tensor<?x4x16xbf16>, memref<?x4x16xbf16>) -> ()
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
  // expected-error @below {{'msa.encode_docs' op needs static heads and head dim for the cuda lowering}}
  %4 = msa.encode_docs %0, %1, %2, %3 {msa.tiles = {threads = 128 : i64}}
      : (tensor<?x?x16xbf16>, tensor<?x?x16xbf16>, tensor<?x?x16xbf16>, tensor<?xi32>)
        -> tensor<?x?x16xbf16>
  bufferization.materialize_in_destination %4 in restrict writable %o
      : (tensor<?x?x16xbf16>, memref<?x?x16xbf16>) -> ()
  return
}

// -----

func.func @k0_encode_docs_bad_tiles(%q: memref<?x4x16xbf16>, %k: memref<?x2x16xbf16>,
    %v: memref<?x2x16xbf16>, %seg: memref<?xi32>, %o: memref<?x4x16xbf16>,
    %begin: index, %end: index) attributes {msa.kernel} {
  %0 = bufferization.to_tensor %q restrict : memref<?x4x16xbf16> to tensor<?x4x16xbf16>
  %1 = bufferization.to_tensor %k restrict : memref<?x2x16xbf16> to tensor<?x2x16xbf16>
  %2 = bufferization.to_tensor %v restrict : memref<?x2x16xbf16> to tensor<?x2x16xbf16>
  %3 = bufferization.to_tensor %seg restrict : memref<?xi32> to tensor<?xi32>
  // expected-error @below {{'msa.encode_docs' op cuda tiles need threads = 2 block_m, an even block_n and a head dim divisible by 4; got threads 128, block_m 32, block_n 64, head dim 16}}
  %4 = msa.encode_docs %0, %1, %2, %3
      {msa.tiles = {block_m = 32 : i64, block_n = 64 : i64, threads = 128 : i64}}
      : (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?xi32>)
        -> tensor<?x4x16xbf16>
  bufferization.materialize_in_destination %4 in restrict writable %o
      : (tensor<?x4x16xbf16>, memref<?x4x16xbf16>) -> ()
  return
}

// -----

func.func @k0_route_topk_large_k(%q: memref<5x4x32xbf16>, %k: memref<4x?x32xbf16>,
    %m: memref<5xi1>, %c: memref<?xi32>, %s: memref<8x40xf32>, %i: memref<8x40xi32>,
    %begin: index, %end: index) attributes {msa.kernel} {
  %0 = bufferization.to_tensor %q restrict : memref<5x4x32xbf16> to tensor<5x4x32xbf16>
  %1 = bufferization.to_tensor %k restrict : memref<4x?x32xbf16> to tensor<4x?x32xbf16>
  %2 = bufferization.to_tensor %m restrict : memref<5xi1> to tensor<5xi1>
  %3 = bufferization.to_tensor %c restrict : memref<?xi32> to tensor<?xi32>
  // expected-error @below {{'msa.route_topk' op k = 40 exceeds the 32 candidates a warp keeps (cuda lowering)}}
  %4:2 = msa.route_topk %0, %1, %2, %3 heads(mean) tokens(max) chunks(max) k = 40
      {msa.tiles = {threads = 256 : i64}}
      : (tensor<5x4x32xbf16>, tensor<4x?x32xbf16>, tensor<5xi1>, tensor<?xi32>)
        -> (tensor<8x40xf32>, tensor<8x40xi32>)
  bufferization.materialize_in_destination %4#0 in restrict writable %s
      : (tensor<8x40xf32>, memref<8x40xf32>) -> ()
  bufferization.materialize_in_destination %4#1 in restrict writable %i
      : (tensor<8x40xi32>, memref<8x40xi32>) -> ()
  return
}
