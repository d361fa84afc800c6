// RUN: msa-opt %s -split-input-file -msa-lower-kernels-to-gpu -verify-diagnostics \
// RUN:   | FileCheck %s

// The tensor-core kernels of msa-lower-kernels-to-gpu: encode_docs with
// tensor_cores tiles (a warp per group head and 16 rows: K and V tiles
// double-buffered by cp.async, mma.sync for S = Q K^T and P V on ldmatrix
// fragments, RoPE from bf16 cos/sin tables of the module in bf16 vector
// arithmetic), and bf16 route_topk
// (mma.sync scores, the CUDA-core body kept for more routing tokens than
// the staged columns hold). f32 routing stays on the CUDA cores.

// CHECK-LABEL: func.func @k0_encode_docs(
// CHECK-SAME:    msa.grid = [array<i64: 0, 0, 0, 64>, array<i64: 1, 1, 0>]
// CHECK-SAME:    msa.launch = {items_per_block = 1 : i64, shared_bytes = 57600 : i64, threads = 512 : i64}
// CHECK-LABEL: gpu.module @msa_kernels
// CHECK-DAG:     memref.global "private" constant @msa_rope_cos_d32_t1176256512 : memref<4096x16xbf16>
// CHECK-DAG:     memref.global "private" constant @msa_rope_sin_d32_t1176256512 : memref<4096x16xbf16>
// CHECK:         gpu.func @k0_encode_docs({{.+}}) kernel
// CHECK-SAME:      known_block_size = array<i32: 512, 1, 1>
// CHECK:           nvvm.cp.async.shared.global {{.+}}, cache = cg
// CHECK:           memref.get_global @msa_rope_cos_d32_t1176256512
// CHECK:           nvvm.cp.async.commit.group
// CHECK:           arith.mulf {{.+}} : vector<8xbf16>
// One barrier a key tile: this tile's copies waited for and its keys
// rotated, then the next tile's copies.
// CHECK:           scf.for
// CHECK:             nvvm.cp.async.wait.group 0
// CHECK:             arith.mulf {{.+}} : vector<8xbf16>
// CHECK:             gpu.barrier
// CHECK:             nvvm.cp.async.shared.global
// CHECK:             nvvm.cp.async.commit.group
// CHECK-NOT:         gpu.barrier
// CHECK:             nvvm.vote.sync any
// CHECK:             nvvm.ldmatrix {{.+}} layout = #nvvm.mma_layout<row>
// CHECK:             nvvm.mma.sync
// CHECK-SAME:          multiplicandAPtxType = #nvvm.mma_type<bf16>
// CHECK:             nvvm.vote.sync all
// The lazy rescale's vote.
// CHECK:             nvvm.vote.sync all
// CHECK:             llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// CHECK:             nvvm.ldmatrix {{.+}} {eltType = #nvvm.ld_st_matrix_elt_type<b16>, layout = #nvvm.mma_layout<col>, num = 4 : i32, shape = #nvvm.ld_st_matrix_shape<m = 8, n = 8>}
// CHECK:             nvvm.mma.sync
// The second 32-key half of the tile.
// CHECK:             nvvm.vote.sync any
// CHECK:             nvvm.mma.sync
// CHECK:           gpu.return
func.func @k0_encode_docs(%q: memref<?x8x32xbf16>, %k: memref<?x2x32xbf16>,
    %v: memref<?x2x32xbf16>, %seg: memref<?xi32>, %o: memref<?x8x32xbf16>,
    %begin: index, %end: index)
    attributes {msa.grid = [array<i64: 3, 0, 0>], msa.kernel, msa.op = "msa.encode_docs"} {
  %0 = bufferization.to_tensor %q restrict : memref<?x8x32xbf16> to tensor<?x8x32xbf16>
  %1 = bufferization.to_tensor %k restrict : memref<?x2x32xbf16> to tensor<?x2x32xbf16>
  %2 = bufferization.to_tensor %v restrict : memref<?x2x32xbf16> to tensor<?x2x32xbf16>
  %3 = bufferization.to_tensor %seg restrict : memref<?xi32> to tensor<?xi32>
  %4 = msa.encode_docs %0, %1, %2, %3 {rope_theta = 1.0e+04,
      msa.tiles = {block_m = 64 : i64, block_n = 64 : i64, tensor_cores = 1 : i64,
                   threads = 512 : i64, vector_width = 8 : i64}}
      : (tensor<?x8x32xbf16>, tensor<?x2x32xbf16>, tensor<?x2x32xbf16>, tensor<?xi32>)
        -> tensor<?x8x32xbf16>
  bufferization.materialize_in_destination %4 in restrict writable %o
      : (tensor<?x8x32xbf16>, memref<?x8x32xbf16>) -> ()
  return
}

// -----

// bf16 routing: the valid tokens are counted, then either the tensor-core
// body (queries staged as columns, mma.sync per KV head and column tile) or
// the CUDA-core one; the warps' lists merge after either.
// CHECK-LABEL: gpu.module @msa_kernels
// CHECK:         gpu.func @k0_route_topk({{.+}}) kernel
// CHECK:           scf.if
// CHECK:             nvvm.mma.sync
// CHECK:             scf.while
// CHECK:           } else {
// CHECK-NOT:         nvvm.mma.sync
// CHECK:             gpu.shuffle xor
// CHECK:           gpu.barrier
// CHECK:           gpu.return
func.func @k0_route_topk(%q: memref<?x8x32xbf16>, %k: memref<2x?x32xbf16>,
    %m: memref<?xi1>, %c: memref<?xi32>, %s: memref<16x4xf32>, %i: memref<16x4xi32>,
    %begin: index, %end: index)
    attributes {msa.grid = [array<i64: 4, 0, 0>], msa.kernel, msa.op = "msa.route_topk"} {
  %0 = bufferization.to_tensor %q restrict : memref<?x8x32xbf16> to tensor<?x8x32xbf16>
  %1 = bufferization.to_tensor %k restrict : memref<2x?x32xbf16> to tensor<2x?x32xbf16>
  %2 = bufferization.to_tensor %m restrict : memref<?xi1> to tensor<?xi1>
  %3 = bufferization.to_tensor %c restrict : memref<?xi32> to tensor<?xi32>
  %4:2 = msa.route_topk %0, %1, %2, %3 heads(mean) tokens(max) chunks(max) k = 4 scale
      {msa.tiles = {threads = 256 : i64}}
      : (tensor<?x8x32xbf16>, tensor<2x?x32xbf16>, tensor<?xi1>, tensor<?xi32>)
        -> (tensor<16x4xf32>, tensor<16x4xi32>)
  bufferization.materialize_in_destination %4#0 in restrict writable %s
      : (tensor<16x4xf32>, memref<16x4xf32>) -> ()
  bufferization.materialize_in_destination %4#1 in restrict writable %i
      : (tensor<16x4xi32>, memref<16x4xi32>) -> ()
  return
}

// -----

// f32 routing (and shapes the tensor-core body does not take) stays on the
// CUDA cores.
// CHECK-LABEL: gpu.module @msa_kernels
// CHECK:         gpu.func @k0_route_topk_f32({{.+}}) kernel
// CHECK-NOT:       nvvm.mma.sync
// CHECK:           gpu.return
func.func @k0_route_topk_f32(%q: memref<?x8x32xf32>, %k: memref<2x?x32xf32>,
    %m: memref<?xi1>, %c: memref<?xi32>, %s: memref<16x4xf32>, %i: memref<16x4xi32>,
    %begin: index, %end: index)
    attributes {msa.grid = [array<i64: 4, 0, 0>], msa.kernel, msa.op = "msa.route_topk"} {
  %0 = bufferization.to_tensor %q restrict : memref<?x8x32xf32> to tensor<?x8x32xf32>
  %1 = bufferization.to_tensor %k restrict : memref<2x?x32xf32> to tensor<2x?x32xf32>
  %2 = bufferization.to_tensor %m restrict : memref<?xi1> to tensor<?xi1>
  %3 = bufferization.to_tensor %c restrict : memref<?xi32> to tensor<?xi32>
  %4:2 = msa.route_topk %0, %1, %2, %3 heads(mean) tokens(max) chunks(max) k = 4 scale
      {msa.tiles = {threads = 256 : i64}}
      : (tensor<?x8x32xf32>, tensor<2x?x32xf32>, tensor<?xi1>, tensor<?xi32>)
        -> (tensor<16x4xf32>, tensor<16x4xi32>)
  bufferization.materialize_in_destination %4#0 in restrict writable %s
      : (tensor<16x4xf32>, memref<16x4xf32>) -> ()
  bufferization.materialize_in_destination %4#1 in restrict writable %i
      : (tensor<16x4xi32>, memref<16x4xi32>) -> ()
  return
}

// -----

func.func @k0_encode_docs_bad_tensor_core_tiles(%q: memref<?x8x32xbf16>,
    %k: memref<?x2x32xbf16>, %v: memref<?x2x32xbf16>, %seg: memref<?xi32>,
    %o: memref<?x8x32xbf16>, %begin: index, %end: index) attributes {msa.kernel} {
  %0 = bufferization.to_tensor %q restrict : memref<?x8x32xbf16> to tensor<?x8x32xbf16>
  %1 = bufferization.to_tensor %k restrict : memref<?x2x32xbf16> to tensor<?x2x32xbf16>
  %2 = bufferization.to_tensor %v restrict : memref<?x2x32xbf16> to tensor<?x2x32xbf16>
  %3 = bufferization.to_tensor %seg restrict : memref<?xi32> to tensor<?xi32>
  // expected-error @below {{'msa.encode_docs' op tensor-core tiles need a bf16 encode_docs with head dim 32-128 (a multiple of 32), GQA group 1, 2 or 4, block_m a multiple of 16, block_n of 16 and a warp per (group head, 16 rows); got threads 128, block_m 64, block_n 64}}
  %4 = msa.encode_docs %0, %1, %2, %3
      {msa.tiles = {block_m = 64 : i64, block_n = 64 : i64, tensor_cores = 1 : i64, threads = 128 : i64}}
      : (tensor<?x8x32xbf16>, tensor<?x2x32xbf16>, tensor<?x2x32xbf16>, tensor<?xi32>)
        -> tensor<?x8x32xbf16>
  bufferization.materialize_in_destination %4 in restrict writable %o
      : (tensor<?x8x32xbf16>, memref<?x8x32xbf16>) -> ()
  return
}

// -----

func.func @k0_route_topk_bad_columns(%q: memref<?x8x32xbf16>, %k: memref<2x?x32xbf16>,
    %m: memref<?xi1>, %c: memref<?xi32>, %s: memref<16x4xf32>, %i: memref<16x4xi32>,
    %begin: index, %end: index) attributes {msa.kernel} {
  %0 = bufferization.to_tensor %q restrict : memref<?x8x32xbf16> to tensor<?x8x32xbf16>
  %1 = bufferization.to_tensor %k restrict : memref<2x?x32xbf16> to tensor<2x?x32xbf16>
  %2 = bufferization.to_tensor %m restrict : memref<?xi1> to tensor<?xi1>
  %3 = bufferization.to_tensor %c restrict : memref<?xi32> to tensor<?xi32>
  // expected-error @below {{'msa.route_topk' op tensor-core routing tiles need staged_columns a multiple of 8 holding a token's 4 columns and pass_tiles in [1, staged_columns / 8]; got staged_columns 16, pass_tiles 0}}
  %4:2 = msa.route_topk %0, %1, %2, %3 heads(mean) tokens(max) chunks(max) k = 4 scale
      {msa.tiles = {threads = 256 : i64, staged_columns = 16 : i64, pass_tiles = 0 : i64}}
      : (tensor<?x8x32xbf16>, tensor<2x?x32xbf16>, tensor<?xi1>, tensor<?xi32>)
        -> (tensor<16x4xf32>, tensor<16x4xi32>)
  bufferization.materialize_in_destination %4#0 in restrict writable %s
      : (tensor<16x4xf32>, memref<16x4xf32>) -> ()
  bufferization.materialize_in_destination %4#1 in restrict writable %i
      : (tensor<16x4xi32>, memref<16x4xi32>) -> ()
  return
}

// -----

func.func @k0_route_topk_bad_staged(%q: memref<?x8x32xbf16>, %k: memref<2x?x32xbf16>,
    %m: memref<?xi1>, %c: memref<?xi32>, %s: memref<16x4xf32>, %i: memref<16x4xi32>,
    %begin: index, %end: index) attributes {msa.kernel} {
  %0 = bufferization.to_tensor %q restrict : memref<?x8x32xbf16> to tensor<?x8x32xbf16>
  %1 = bufferization.to_tensor %k restrict : memref<2x?x32xbf16> to tensor<2x?x32xbf16>
  %2 = bufferization.to_tensor %m restrict : memref<?xi1> to tensor<?xi1>
  %3 = bufferization.to_tensor %c restrict : memref<?xi32> to tensor<?xi32>
  // expected-error @below {{'msa.route_topk' op tensor-core routing tiles need staged_columns a multiple of 8 holding a token's 4 columns and pass_tiles in [1, staged_columns / 8]; got staged_columns 12, pass_tiles 1}}
  %4:2 = msa.route_topk %0, %1, %2, %3 heads(mean) tokens(max) chunks(max) k = 4 scale
      {msa.tiles = {threads = 256 : i64, staged_columns = 12 : i64}}
      : (tensor<?x8x32xbf16>, tensor<2x?x32xbf16>, tensor<?xi1>, tensor<?xi32>)
        -> (tensor<16x4xf32>, tensor<16x4xi32>)
  bufferization.materialize_in_destination %4#0 in restrict writable %s
      : (tensor<16x4xf32>, memref<16x4xf32>) -> ()
  bufferization.materialize_in_destination %4#1 in restrict writable %i
      : (tensor<16x4xi32>, memref<16x4xi32>) -> ()
  return
}
