// RUN: msa-opt %s -split-input-file -msa-lower-kernels-to-gpu -verify-diagnostics \
// RUN:   | FileCheck %s

// route_topk with wgmma tiles: the queries staged once in a 128-byte
// swizzled tile (here 2 KV heads x 128 columns, the widest N), a ring of swizzled key
// panels per warpgroup (2 warpgroups x 2 stages) whose first stages are in
// flight before the variant (wgmma N) is chosen; per KV head the copies are
// waited for, fenced for the async proxy and published on the warpgroup's
// named barrier, the next copies issued, and one wgmma group scores 64
// chunks; after a tile the warpgroup meets again and its first warp walks
// the chunk scores into documents. More tokens than it stages take
// mma.sync, then the CUDA cores.

// CHECK-LABEL: func.func @k0_route_topk(
// CHECK-SAME:    threads = 256 : i64
// CHECK-LABEL: gpu.module @msa_kernels
// CHECK:         gpu.func @k0_route_topk({{.+}}) kernel
// CHECK:           memref.view {{.+}} to memref<2x1x128x64xbf16, #gpu.address_space<workgroup>>
// CHECK:           gpu.barrier
// CHECK:           memref.view {{.+}} to memref<2x2x1x64x64xbf16, #gpu.address_space<workgroup>>
// CHECK:           nvvm.cp.async.shared.global
// CHECK:           nvvm.cp.async.commit.group
// CHECK:           scf.if
// CHECK:             scf.for
// CHECK:               scf.for
// CHECK:                 nvvm.cp.async.wait.group 0
// CHECK-NEXT:            "fence.proxy.async.shared::cta;"
// CHECK-NEXT:            "bar.sync $0, 128;"
// CHECK:                 nvvm.cp.async.commit.group
// CHECK:                 "{{.+}}wgmma.mma_async.sync.aligned.m64n8k16.f32.bf16.bf16 {$0, $1, $2, $3}, $4, $5, p, 1, 1, 0, 0;\0Aadd.s64 da, $4, 2;\0Aadd.s64 db, $5, 2;
// CHECK:                 "wgmma.wait_group.sync.aligned 0;", "=f,=f,=f,=f,0,1,2,3"
// CHECK:               "bar.sync $0, 128;"
// CHECK:               scf.while
// CHECK:             nvvm.cp.async.wait.group 0
// CHECK:           wgmma.mma_async.sync.aligned.m64n128k16
// CHECK:           nvvm.mma.sync
// CHECK:           gpu.return
func.func @k0_route_topk(%q: memref<?x8x64xbf16>, %k: memref<2x?x64xbf16>,
    %m: memref<?xi1>, %c: memref<?xi32>, %s: memref<16x4xf32>, %i: memref<16x4xi32>,
    %begin: index, %end: index)
    attributes {msa.grid = [array<i64: 4, 0, 0>], msa.kernel, msa.op = "msa.route_topk"} {
  %0 = bufferization.to_tensor %q restrict : memref<?x8x64xbf16> to tensor<?x8x64xbf16>
  %1 = bufferization.to_tensor %k restrict : memref<2x?x64xbf16> to tensor<2x?x64xbf16>
  %2 = bufferization.to_tensor %m restrict : memref<?xi1> to tensor<?xi1>
  %3 = bufferization.to_tensor %c restrict : memref<?xi32> to tensor<?xi32>
  %4:2 = msa.route_topk %0, %1, %2, %3 heads(mean) tokens(max) chunks(max) k = 4 scale
      {msa.tiles = {threads = 256 : i64, wgmma = 1 : i64, stages = 2 : i64}}
      : (tensor<?x8x64xbf16>, tensor<2x?x64xbf16>, tensor<?xi1>, tensor<?xi32>)
        -> (tensor<16x4xf32>, tensor<16x4xi32>)
  bufferization.materialize_in_destination %4#0 in restrict writable %s
      : (tensor<16x4xf32>, memref<16x4xf32>) -> ()
  bufferization.materialize_in_destination %4#1 in restrict writable %i
      : (tensor<16x4xi32>, memref<16x4xi32>) -> ()
  return
}

// -----

// Heads too wide for one token's columns beside the ring (32 KV heads of
// 256): the table's wgmma gives way to mma.sync, without an error.
// CHECK-LABEL: gpu.module @msa_kernels
// CHECK:         gpu.func @k0_route_topk_wide_heads({{.+}}) kernel
// CHECK-NOT:       wgmma
// CHECK:           nvvm.mma.sync
// CHECK-NOT:       wgmma
// CHECK:           gpu.return
func.func @k0_route_topk_wide_heads(%q: memref<?x32x256xbf16>, %k: memref<32x?x256xbf16>,
    %m: memref<?xi1>, %c: memref<?xi32>, %s: memref<16x4xf32>, %i: memref<16x4xi32>,
    %begin: index, %end: index)
    attributes {msa.grid = [array<i64: 4, 0, 0>], msa.kernel, msa.op = "msa.route_topk"} {
  %0 = bufferization.to_tensor %q restrict : memref<?x32x256xbf16> to tensor<?x32x256xbf16>
  %1 = bufferization.to_tensor %k restrict : memref<32x?x256xbf16> to tensor<32x?x256xbf16>
  %2 = bufferization.to_tensor %m restrict : memref<?xi1> to tensor<?xi1>
  %3 = bufferization.to_tensor %c restrict : memref<?xi32> to tensor<?xi32>
  %4:2 = msa.route_topk %0, %1, %2, %3 heads(mean) tokens(max) chunks(max) k = 4 scale
      {msa.tiles = {threads = 256 : i64, wgmma = 1 : i64, stages = 8 : i64}}
      : (tensor<?x32x256xbf16>, tensor<32x?x256xbf16>, tensor<?xi1>, tensor<?xi32>)
        -> (tensor<16x4xf32>, tensor<16x4xi32>)
  bufferization.materialize_in_destination %4#0 in restrict writable %s
      : (tensor<16x4xf32>, memref<16x4xf32>) -> ()
  bufferization.materialize_in_destination %4#1 in restrict writable %i
      : (tensor<16x4xi32>, memref<16x4xi32>) -> ()
  return
}

// -----

// f32 routing: no tensor cores, whatever the tiles say.
// CHECK-LABEL: gpu.module @msa_kernels
// CHECK:         gpu.func @k0_route_topk_f32({{.+}}) kernel
// CHECK-NOT:       wgmma
// CHECK-NOT:       nvvm.mma.sync
// CHECK:           gpu.return
func.func @k0_route_topk_f32(%q: memref<?x8x64xf32>, %k: memref<2x?x64xf32>,
    %m: memref<?xi1>, %c: memref<?xi32>, %s: memref<16x4xf32>, %i: memref<16x4xi32>,
    %begin: index, %end: index)
    attributes {msa.grid = [array<i64: 4, 0, 0>], msa.kernel, msa.op = "msa.route_topk"} {
  %0 = bufferization.to_tensor %q restrict : memref<?x8x64xf32> to tensor<?x8x64xf32>
  %1 = bufferization.to_tensor %k restrict : memref<2x?x64xf32> to tensor<2x?x64xf32>
  %2 = bufferization.to_tensor %m restrict : memref<?xi1> to tensor<?xi1>
  %3 = bufferization.to_tensor %c restrict : memref<?xi32> to tensor<?xi32>
  %4:2 = msa.route_topk %0, %1, %2, %3 heads(mean) tokens(max) chunks(max) k = 4 scale
      {msa.tiles = {threads = 256 : i64, wgmma = 1 : i64, stages = 2 : i64}}
      : (tensor<?x8x64xf32>, tensor<2x?x64xf32>, tensor<?xi1>, tensor<?xi32>)
        -> (tensor<16x4xf32>, tensor<16x4xi32>)
  bufferization.materialize_in_destination %4#0 in restrict writable %s
      : (tensor<16x4xf32>, memref<16x4xf32>) -> ()
  bufferization.materialize_in_destination %4#1 in restrict writable %i
      : (tensor<16x4xi32>, memref<16x4xi32>) -> ()
  return
}

// -----

func.func @k0_route_topk_shallow(%q: memref<?x8x64xbf16>, %k: memref<2x?x64xbf16>,
    %m: memref<?xi1>, %c: memref<?xi32>, %s: memref<16x4xf32>, %i: memref<16x4xi32>,
    %begin: index, %end: index)
    attributes {msa.grid = [array<i64: 4, 0, 0>], msa.kernel, msa.op = "msa.route_topk"} {
  %0 = bufferization.to_tensor %q restrict : memref<?x8x64xbf16> to tensor<?x8x64xbf16>
  %1 = bufferization.to_tensor %k restrict : memref<2x?x64xbf16> to tensor<2x?x64xbf16>
  %2 = bufferization.to_tensor %m restrict : memref<?xi1> to tensor<?xi1>
  %3 = bufferization.to_tensor %c restrict : memref<?xi32> to tensor<?xi32>
  // expected-error @below {{'msa.route_topk' op wgmma routing tiles need a head dim of whole 64-element panels (lanes' query slots in 16-byte chunks), whole warpgroups, stages >= 2 x panels and staged_columns a multiple of 8 holding a token's 4 columns, all within shared memory; got head dim 64, threads 256, stages 1, staged_columns 0}}
  %4:2 = msa.route_topk %0, %1, %2, %3 heads(mean) tokens(max) chunks(max) k = 4 scale
      {msa.tiles = {threads = 256 : i64, wgmma = 1 : i64, stages = 1 : i64}}
      : (tensor<?x8x64xbf16>, tensor<2x?x64xbf16>, tensor<?xi1>, tensor<?xi32>)
        -> (tensor<16x4xf32>, tensor<16x4xi32>)
  bufferization.materialize_in_destination %4#0 in restrict writable %s
      : (tensor<16x4xf32>, memref<16x4xf32>) -> ()
  bufferization.materialize_in_destination %4#1 in restrict writable %i
      : (tensor<16x4xi32>, memref<16x4xi32>) -> ()
  return
}

// -----

func.func @k0_route_topk_part_warpgroup(%q: memref<?x8x64xbf16>, %k: memref<2x?x64xbf16>,
    %m: memref<?xi1>, %c: memref<?xi32>, %s: memref<16x4xf32>, %i: memref<16x4xi32>,
    %begin: index, %end: index)
    attributes {msa.grid = [array<i64: 4, 0, 0>], msa.kernel, msa.op = "msa.route_topk"} {
  %0 = bufferization.to_tensor %q restrict : memref<?x8x64xbf16> to tensor<?x8x64xbf16>
  %1 = bufferization.to_tensor %k restrict : memref<2x?x64xbf16> to tensor<2x?x64xbf16>
  %2 = bufferization.to_tensor %m restrict : memref<?xi1> to tensor<?xi1>
  %3 = bufferization.to_tensor %c restrict : memref<?xi32> to tensor<?xi32>
  // expected-error @below {{'msa.route_topk' op wgmma routing tiles need a head dim of whole 64-element panels (lanes' query slots in 16-byte chunks), whole warpgroups, stages >= 2 x panels and staged_columns a multiple of 8 holding a token's 4 columns, all within shared memory; got head dim 64, threads 96, stages 2, staged_columns 0}}
  %4:2 = msa.route_topk %0, %1, %2, %3 heads(mean) tokens(max) chunks(max) k = 4 scale
      {msa.tiles = {threads = 96 : i64, wgmma = 1 : i64, stages = 2 : i64}}
      : (tensor<?x8x64xbf16>, tensor<2x?x64xbf16>, tensor<?xi1>, tensor<?xi32>)
        -> (tensor<16x4xf32>, tensor<16x4xi32>)
  bufferization.materialize_in_destination %4#0 in restrict writable %s
      : (tensor<16x4xf32>, memref<16x4xf32>) -> ()
  bufferization.materialize_in_destination %4#1 in restrict writable %i
      : (tensor<16x4xi32>, memref<16x4xi32>) -> ()
  return
}

// -----

func.func @k0_route_topk_too_many_columns(%q: memref<?x8x64xbf16>, %k: memref<2x?x64xbf16>,
    %m: memref<?xi1>, %c: memref<?xi32>, %s: memref<16x4xf32>, %i: memref<16x4xi32>,
    %begin: index, %end: index)
    attributes {msa.grid = [array<i64: 4, 0, 0>], msa.kernel, msa.op = "msa.route_topk"} {
  %0 = bufferization.to_tensor %q restrict : memref<?x8x64xbf16> to tensor<?x8x64xbf16>
  %1 = bufferization.to_tensor %k restrict : memref<2x?x64xbf16> to tensor<2x?x64xbf16>
  %2 = bufferization.to_tensor %m restrict : memref<?xi1> to tensor<?xi1>
  %3 = bufferization.to_tensor %c restrict : memref<?xi32> to tensor<?xi32>
  // expected-error @below {{'msa.route_topk' op wgmma routing tiles need a head dim of whole 64-element panels (lanes' query slots in 16-byte chunks), whole warpgroups, stages >= 2 x panels and staged_columns a multiple of 8 holding a token's 4 columns, all within shared memory; got head dim 64, threads 256, stages 2, staged_columns 136}}
  %4:2 = msa.route_topk %0, %1, %2, %3 heads(mean) tokens(max) chunks(max) k = 4 scale
      {msa.tiles = {threads = 256 : i64, wgmma = 1 : i64, stages = 2 : i64, staged_columns = 136 : i64}}
      : (tensor<?x8x64xbf16>, tensor<2x?x64xbf16>, tensor<?xi1>, tensor<?xi32>)
        -> (tensor<16x4xf32>, tensor<16x4xi32>)
  bufferization.materialize_in_destination %4#0 in restrict writable %s
      : (tensor<16x4xf32>, memref<16x4xf32>) -> ()
  bufferization.materialize_in_destination %4#1 in restrict writable %i
      : (tensor<16x4xi32>, memref<16x4xi32>) -> ()
  return
}
