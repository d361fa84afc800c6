// RUN: msa-opt %s -split-input-file -msa-lower-kernels-to-gpu -verify-diagnostics \
// RUN:   | FileCheck %s

// encode_docs with wgmma tiles: a warpgroup per group head (here 2 heads,
// 256 threads), Q, K and V in 128-byte swizzled shared tiles (1024-byte
// aligned), S = Q K^T by wgmma with both operands from shared memory,
// P V with P from registers and V transposed (MN-major), each group waited
// for with its accumulators tied; the async-proxy fence before the
// barrier that publishes a key tile, and the sub-tile skip voted over the
// warpgroup's named barrier.

// CHECK-LABEL: func.func @k0_encode_docs(
// CHECK-SAME:    msa.launch = {items_per_block = 1 : i64, shared_bytes = {{[0-9]+}} : i64, threads = 256 : i64}
// CHECK-LABEL: gpu.module @msa_kernels
// CHECK:         gpu.func @k0_encode_docs({{.+}}) kernel
// CHECK-SAME:      known_block_size = array<i32: 256, 1, 1>
// CHECK:           memref.view {{.+}} : memref<?xi8, #gpu.address_space<workgroup>> to memref<2x1x64x64xbf16, #gpu.address_space<workgroup>>
// CHECK:           scf.for
// CHECK:             nvvm.cp.async.wait.group 0
// CHECK:             llvm.inline_asm has_side_effects {{.+}} "fence.proxy.async.shared::cta;"
// CHECK-NEXT:        gpu.barrier
// CHECK:             "{{.+}}bar.red.or.pred p, $2, 128, q;
// CHECK:             "{{.+}}wgmma.fence.sync.aligned;\0Awgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {$0, {{.+}}, $31}, $32, $33, p, 1, 1, 0, 0;\0Aadd.s64 da, $32, 2;\0Aadd.s64 db, $33, 2;\0Awgmma.mma_async
// CHECK-SAME:        wgmma.commit_group.sync.aligned;
// CHECK:             "wgmma.wait_group.sync.aligned 0;", "=f,{{.+}},0,1,2,{{.+}},31"
// CHECK:             llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// CHECK:             "{{.+}}wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {$0, {{.+}}, $31}, {$64, $65, $66, $67}, $68, 1, 1, 1, 1;\0Aadd.s64 db, $68, 128;
// CHECK:             "wgmma.wait_group.sync.aligned 0;"
// CHECK:           gpu.return
func.func @k0_encode_docs(%q: memref<?x4x64xbf16>, %k: memref<?x2x64xbf16>,
    %v: memref<?x2x64xbf16>, %seg: memref<?xi32>, %o: memref<?x4x64xbf16>,
    %begin: index, %end: index)
    attributes {msa.grid = [array<i64: 3, 0, 0>], msa.kernel, msa.op = "msa.encode_docs"} {
  %0 = bufferization.to_tensor %q restrict : memref<?x4x64xbf16> to tensor<?x4x64xbf16>
  %1 = bufferization.to_tensor %k restrict : memref<?x2x64xbf16> to tensor<?x2x64xbf16>
  %2 = bufferization.to_tensor %v restrict : memref<?x2x64xbf16> to tensor<?x2x64xbf16>
  %3 = bufferization.to_tensor %seg restrict : memref<?xi32> to tensor<?xi32>
  %4 = msa.encode_docs %0, %1, %2, %3 {rope_theta = 1.0e+04,
      msa.tiles = {block_m = 64 : i64, block_n = 64 : i64, tensor_cores = 1 : i64,
                   threads = 256 : i64, vector_width = 8 : i64, wgmma = 1 : i64}}
      : (tensor<?x4x64xbf16>, tensor<?x2x64xbf16>, tensor<?x2x64xbf16>, tensor<?xi32>)
        -> tensor<?x4x64xbf16>
  bufferization.materialize_in_destination %4 in restrict writable %o
      : (tensor<?x4x64xbf16>, memref<?x4x64xbf16>) -> ()
  return
}

// -----

// Where wgmma does not apply: mma.sync tiles (no wgmma key) never emit it.
// CHECK-LABEL: func.func @k0_encode_docs(
// CHECK-LABEL: gpu.module @msa_kernels
// CHECK-NOT:     wgmma
// CHECK:         nvvm.mma.sync
// CHECK-NOT:     wgmma
// CHECK:         gpu.return
func.func @k0_encode_docs(%q: memref<?x4x64xbf16>, %k: memref<?x2x64xbf16>,
    %v: memref<?x2x64xbf16>, %seg: memref<?xi32>, %o: memref<?x4x64xbf16>,
    %begin: index, %end: index)
    attributes {msa.grid = [array<i64: 3, 0, 0>], msa.kernel, msa.op = "msa.encode_docs"} {
  %0 = bufferization.to_tensor %q restrict : memref<?x4x64xbf16> to tensor<?x4x64xbf16>
  %1 = bufferization.to_tensor %k restrict : memref<?x2x64xbf16> to tensor<?x2x64xbf16>
  %2 = bufferization.to_tensor %v restrict : memref<?x2x64xbf16> to tensor<?x2x64xbf16>
  %3 = bufferization.to_tensor %seg restrict : memref<?xi32> to tensor<?xi32>
  %4 = msa.encode_docs %0, %1, %2, %3 {rope_theta = 1.0e+04,
      msa.tiles = {block_m = 64 : i64, block_n = 64 : i64, tensor_cores = 1 : i64,
                   threads = 256 : i64, vector_width = 8 : i64}}
      : (tensor<?x4x64xbf16>, tensor<?x2x64xbf16>, tensor<?x2x64xbf16>, tensor<?xi32>)
        -> tensor<?x4x64xbf16>
  bufferization.materialize_in_destination %4 in restrict writable %o
      : (tensor<?x4x64xbf16>, memref<?x4x64xbf16>) -> ()
  return
}

// -----

// wgmma's m64 is one warpgroup's 64 rows: other block_m values are refused.
func.func @k0_encode_docs(%q: memref<?x4x64xbf16>, %k: memref<?x2x64xbf16>,
    %v: memref<?x2x64xbf16>, %seg: memref<?xi32>, %o: memref<?x4x64xbf16>,
    %begin: index, %end: index)
    attributes {msa.grid = [array<i64: 3, 0, 0>], msa.kernel, msa.op = "msa.encode_docs"} {
  %0 = bufferization.to_tensor %q restrict : memref<?x4x64xbf16> to tensor<?x4x64xbf16>
  %1 = bufferization.to_tensor %k restrict : memref<?x2x64xbf16> to tensor<?x2x64xbf16>
  %2 = bufferization.to_tensor %v restrict : memref<?x2x64xbf16> to tensor<?x2x64xbf16>
  %3 = bufferization.to_tensor %seg restrict : memref<?xi32> to tensor<?xi32>
  // expected-error @below {{'msa.encode_docs' op wgmma tiles need block_m 64 (a warpgroup per group head) and a head dim that is a multiple of 64; got block_m 32, head dim 64}}
  %4 = msa.encode_docs %0, %1, %2, %3 {rope_theta = 1.0e+04,
      msa.tiles = {block_m = 32 : i64, block_n = 64 : i64, tensor_cores = 1 : i64,
                   threads = 128 : i64, vector_width = 8 : i64, wgmma = 1 : i64}}
      : (tensor<?x4x64xbf16>, tensor<?x2x64xbf16>, tensor<?x2x64xbf16>, tensor<?xi32>)
        -> tensor<?x4x64xbf16>
  bufferization.materialize_in_destination %4 in restrict writable %o
      : (tensor<?x4x64xbf16>, memref<?x4x64xbf16>) -> ()
  return
}

// -----

// Softmax steps of sub_keys keys must tile block_n in 16-key mma steps.
func.func @k0_encode_docs(%q: memref<?x4x64xbf16>, %k: memref<?x2x64xbf16>,
    %v: memref<?x2x64xbf16>, %seg: memref<?xi32>, %o: memref<?x4x64xbf16>,
    %begin: index, %end: index)
    attributes {msa.grid = [array<i64: 3, 0, 0>], msa.kernel, msa.op = "msa.encode_docs"} {
  %0 = bufferization.to_tensor %q restrict : memref<?x4x64xbf16> to tensor<?x4x64xbf16>
  %1 = bufferization.to_tensor %k restrict : memref<?x2x64xbf16> to tensor<?x2x64xbf16>
  %2 = bufferization.to_tensor %v restrict : memref<?x2x64xbf16> to tensor<?x2x64xbf16>
  %3 = bufferization.to_tensor %seg restrict : memref<?xi32> to tensor<?xi32>
  // expected-error @below {{'msa.encode_docs' op sub_keys must be a multiple of 16 dividing block_n; got sub_keys 48, block_n 64}}
  %4 = msa.encode_docs %0, %1, %2, %3 {rope_theta = 1.0e+04,
      msa.tiles = {block_m = 64 : i64, block_n = 64 : i64, sub_keys = 48 : i64,
                   tensor_cores = 1 : i64, threads = 256 : i64,
                   vector_width = 8 : i64, wgmma = 1 : i64}}
      : (tensor<?x4x64xbf16>, tensor<?x2x64xbf16>, tensor<?x2x64xbf16>, tensor<?xi32>)
        -> tensor<?x4x64xbf16>
  bufferization.materialize_in_destination %4 in restrict writable %o
      : (tensor<?x4x64xbf16>, memref<?x4x64xbf16>) -> ()
  return
}
