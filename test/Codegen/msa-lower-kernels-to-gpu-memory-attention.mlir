// RUN: msa-opt %s -split-input-file -msa-lower-kernels-to-gpu -verify-diagnostics \
// RUN:   | FileCheck %s

// memory_attention on the GPU: a warp walks keys with the head dim across
// its lanes. With key_splits (split-K), that many warps share one (token,
// head): warp p takes keys lo + p, lo + p + key_splits, ... of the
// template and local ranges and selected documents p, p + key_splits, ...
// whole, four keys' loads at a time; it leaves its max, sum and
// accumulator in shared memory, and after the
// block's barrier the first warp of the query rescales them to the largest
// max and writes the output.

// CHECK-LABEL: func.func @k0_memory_attention(
// CHECK-SAME:    msa.launch = {items_per_block = 1 : i64, shared_bytes = 2176 : i64, threads = 512 : i64}
// CHECK-LABEL: gpu.module @msa_kernels
// CHECK:         gpu.func @k0_memory_attention(
// CHECK:           memref.view {{.+}} to memref<1x16x2xf32, #gpu.address_space<workgroup>>
// CHECK:           memref.view {{.+}} to memref<1x16x32xf32, #gpu.address_space<workgroup>>
// CHECK:           scf.if
// Strided by 16 warps, 4 keys loaded at once.
// CHECK:             %[[STEP:.+]] = arith.constant 64 : index
// CHECK:             scf.for {{.+}} step %[[STEP]]
// CHECK:           gpu.barrier
// CHECK:           scf.if
// CHECK-COUNT-16:    memref.load {{.+}} : memref<1x16x2xf32, #gpu.address_space<workgroup>>
// CHECK:           gpu.return
func.func @k0_memory_attention(%q: memref<?x4x32xbf16>, %tk: memref<3x2x32xbf16>,
    %tv: memref<3x2x32xbf16>, %k: memref<?x2x32xbf16>, %v: memref<?x2x32xbf16>,
    %valid: memref<?xi1>, %o: memref<?x4x32xbf16>, %begin: index, %end: index)
    attributes {msa.grid = [array<i64: 0, 0, 0>, array<i64: 0, 1, 0>], msa.kernel, msa.op = "msa.memory_attention"} {
  %0 = bufferization.to_tensor %q restrict : memref<?x4x32xbf16> to tensor<?x4x32xbf16>
  %1 = bufferization.to_tensor %tk restrict : memref<3x2x32xbf16> to tensor<3x2x32xbf16>
  %2 = bufferization.to_tensor %tv restrict : memref<3x2x32xbf16> to tensor<3x2x32xbf16>
  %3 = bufferization.to_tensor %k restrict : memref<?x2x32xbf16> to tensor<?x2x32xbf16>
  %4 = bufferization.to_tensor %v restrict : memref<?x2x32xbf16> to tensor<?x2x32xbf16>
  %5 = bufferization.to_tensor %valid restrict : memref<?xi1> to tensor<?xi1>
  %6 = msa.memory_attention %0, template(%1, %2) local(%3, %4, %5) causal = bottom_right {msa.tiles = {block_m = 1 : i64, block_n = 1 : i64, key_splits = 16 : i64, rows_per_block = 1 : i64, threads = 512 : i64, vector_width = 8 : i64}} : (tensor<?x4x32xbf16>, tensor<3x2x32xbf16>, tensor<3x2x32xbf16>, tensor<?x2x32xbf16>, tensor<?x2x32xbf16>, tensor<?xi1>) -> tensor<?x4x32xbf16>
  bufferization.materialize_in_destination %6 in restrict writable %o : (tensor<?x4x32xbf16>, memref<?x4x32xbf16>) -> ()
  return
}

// -----

// Without key_splits a warp per (token, head), as many as rows_per_block a
// block: no shared memory, no barrier.
// CHECK-LABEL: func.func @k0_memory_attention(
// CHECK-SAME:    msa.launch = {items_per_block = 4 : i64, shared_bytes = 0 : i64, threads = 128 : i64}
// CHECK-LABEL: gpu.module @msa_kernels
// CHECK:         gpu.func @k0_memory_attention(
// CHECK-NOT:       gpu.barrier
// CHECK:           gpu.return
func.func @k0_memory_attention(%q: memref<?x4x32xbf16>, %tk: memref<3x2x32xbf16>,
    %tv: memref<3x2x32xbf16>, %k: memref<?x2x32xbf16>, %v: memref<?x2x32xbf16>,
    %valid: memref<?xi1>, %o: memref<?x4x32xbf16>, %begin: index, %end: index)
    attributes {msa.grid = [array<i64: 0, 0, 0>, array<i64: 0, 1, 0>], msa.kernel, msa.op = "msa.memory_attention"} {
  %0 = bufferization.to_tensor %q restrict : memref<?x4x32xbf16> to tensor<?x4x32xbf16>
  %1 = bufferization.to_tensor %tk restrict : memref<3x2x32xbf16> to tensor<3x2x32xbf16>
  %2 = bufferization.to_tensor %tv restrict : memref<3x2x32xbf16> to tensor<3x2x32xbf16>
  %3 = bufferization.to_tensor %k restrict : memref<?x2x32xbf16> to tensor<?x2x32xbf16>
  %4 = bufferization.to_tensor %v restrict : memref<?x2x32xbf16> to tensor<?x2x32xbf16>
  %5 = bufferization.to_tensor %valid restrict : memref<?xi1> to tensor<?xi1>
  %6 = msa.memory_attention %0, template(%1, %2) local(%3, %4, %5) causal = bottom_right {msa.tiles = {block_m = 1 : i64, block_n = 1 : i64, rows_per_block = 4 : i64, threads = 128 : i64, vector_width = 8 : i64}} : (tensor<?x4x32xbf16>, tensor<3x2x32xbf16>, tensor<3x2x32xbf16>, tensor<?x2x32xbf16>, tensor<?x2x32xbf16>, tensor<?xi1>) -> tensor<?x4x32xbf16>
  bufferization.materialize_in_destination %6 in restrict writable %o : (tensor<?x4x32xbf16>, memref<?x4x32xbf16>) -> ()
  return
}

// -----

// The block must be exactly its queries' warps.
func.func @k0_memory_attention(%q: memref<?x4x32xbf16>, %tk: memref<3x2x32xbf16>,
    %tv: memref<3x2x32xbf16>, %k: memref<?x2x32xbf16>, %v: memref<?x2x32xbf16>,
    %valid: memref<?xi1>, %o: memref<?x4x32xbf16>, %begin: index, %end: index)
    attributes {msa.grid = [array<i64: 0, 0, 0>, array<i64: 0, 1, 0>], msa.kernel, msa.op = "msa.memory_attention"} {
  %0 = bufferization.to_tensor %q restrict : memref<?x4x32xbf16> to tensor<?x4x32xbf16>
  %1 = bufferization.to_tensor %tk restrict : memref<3x2x32xbf16> to tensor<3x2x32xbf16>
  %2 = bufferization.to_tensor %tv restrict : memref<3x2x32xbf16> to tensor<3x2x32xbf16>
  %3 = bufferization.to_tensor %k restrict : memref<?x2x32xbf16> to tensor<?x2x32xbf16>
  %4 = bufferization.to_tensor %v restrict : memref<?x2x32xbf16> to tensor<?x2x32xbf16>
  %5 = bufferization.to_tensor %valid restrict : memref<?xi1> to tensor<?xi1>
  // expected-error @below {{'msa.memory_attention' op memory_attention tiles need threads = 32 x rows_per_block x key_splits; got threads 512, rows_per_block 1, key_splits 8}}
  %6 = msa.memory_attention %0, template(%1, %2) local(%3, %4, %5) causal = bottom_right {msa.tiles = {block_m = 1 : i64, block_n = 1 : i64, key_splits = 8 : i64, rows_per_block = 1 : i64, threads = 512 : i64, vector_width = 8 : i64}} : (tensor<?x4x32xbf16>, tensor<3x2x32xbf16>, tensor<3x2x32xbf16>, tensor<?x2x32xbf16>, tensor<?x2x32xbf16>, tensor<?xi1>) -> tensor<?x4x32xbf16>
  bufferization.materialize_in_destination %6 in restrict writable %o : (tensor<?x4x32xbf16>, memref<?x4x32xbf16>) -> ()
  return
}
