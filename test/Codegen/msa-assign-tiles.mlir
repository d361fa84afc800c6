// RUN: msa-opt %s -split-input-file -msa-assign-tiles | FileCheck %s
// RUN: msa-opt %s -split-input-file -msa-assign-tiles=cpu=x86-64-v4 \
// RUN:   | FileCheck %s --check-prefix=AVX512
// RUN: msa-opt %s -split-input-file -msa-assign-tiles="target=cpu cpu=x86-64-v3" \
// RUN:   | FileCheck %s
// RUN: msa-opt %s -split-input-file -msa-assign-tiles=target=cuda:sm_90 \
// RUN:   | FileCheck %s --check-prefix=CUDA
// RUN: not msa-opt %s -split-input-file -msa-assign-tiles=target=cuda:sm_80 2>&1 \
// RUN:   | FileCheck %s --check-prefix=SM80

// Every op that becomes a kernel gets msa.tiles from KernelConfig: the
// widest vector (8 f32 lanes on x86-64-v3, 16 on x86-64-v4) dividing its
// rows, and 4 keys per step in attention. GEMMs, scalar arith and ops
// that already carry msa.tiles are left as written.

// cuda: a warp per row and 4 rows per block for row-wise ops (16-byte
// vectors where the row allows), 64x64 tiles over 128 threads in encode
// attention, a warp per (token, head) in memory attention.
// CUDA-LABEL: func.func @rowwise(
// CUDA:         msa.rms_norm %{{.+}} {msa.tiles = {block_m = 1 : i64, block_n = 1 : i64, rows_per_block = 4 : i64, threads = 128 : i64, vector_width = 8 : i64}} : (tensor<?x64xbf16>
// CUDA:         msa.rms_norm %{{.+}} {msa.tiles = {{{.*}}vector_width = 4 : i64}} : (tensor<?x4x12xbf16>

// SM80: error: msa-assign-tiles: target 'cuda:sm_80' has no tile table (targets: cpu, cuda:sm_90)

// CHECK-LABEL: func.func @rowwise(
// CHECK:         msa.rms_norm %{{.+}} epsilon = {{.+}} {msa.tiles = {block_k = 1 : i64, vector_width = 8 : i64}} : (tensor<?x64xbf16>
// CHECK:         msa.linear
// CHECK-NOT:       msa.tiles
// CHECK-SAME:      -> tensor<?x128xbf16>
// 12-element heads: the widest power of two dividing 12 is 4.
// CHECK:         msa.rms_norm %{{.+}} {msa.tiles = {block_k = 1 : i64, vector_width = 4 : i64}} : (tensor<?x4x12xbf16>
// CHECK:         arith.addf %{{.+}} {msa.tiles = {block_k = 1 : i64, vector_width = 8 : i64}} : tensor<?x64xbf16>
// CHECK:         arith.addi
// CHECK-NOT:       msa.tiles
// CHECK-SAME:      : i32
// CHECK:         msa.swiglu %{{.+}} {msa.tiles = {block_k = 1 : i64, vector_width = 2 : i64}} : (tensor<?x6xf32>
// AVX512-LABEL: func.func @rowwise(
// AVX512:         msa.rms_norm %{{.+}} {msa.tiles = {block_k = 1 : i64, vector_width = 16 : i64}} : (tensor<?x64xbf16>
// AVX512:         msa.rms_norm %{{.+}} {msa.tiles = {block_k = 1 : i64, vector_width = 4 : i64}} : (tensor<?x4x12xbf16>
// AVX512:         arith.addf %{{.+}} {msa.tiles = {block_k = 1 : i64, vector_width = 16 : i64}}
func.func @rowwise(%x: tensor<?x64xbf16>, %w: tensor<64xbf16>, %w2: tensor<128x64xbf16>,
    %hq: tensor<?x4x12xbf16>, %hw: tensor<12xbf16>, %a: tensor<?x64xbf16>, %i: i32,
    %g: tensor<?x6xf32>, %u: tensor<?x6xf32>)
    -> (tensor<?x128xbf16>, tensor<?x4x12xbf16>, tensor<?x64xbf16>, i32, tensor<?x6xf32>) {
  %y = msa.rms_norm %x, %w epsilon = 1.0e-06
      : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  %z = msa.linear %y, %w2 : (tensor<?x64xbf16>, tensor<128x64xbf16>) -> tensor<?x128xbf16>
  %h = msa.rms_norm %hq, %hw epsilon = 1.0e-06
      : (tensor<?x4x12xbf16>, tensor<12xbf16>) -> tensor<?x4x12xbf16>
  %s = arith.addf %x, %a : tensor<?x64xbf16>
  %j = arith.addi %i, %i : i32
  %m = msa.swiglu %g, %u : (tensor<?x6xf32>, tensor<?x6xf32>) -> tensor<?x6xf32>
  return %z, %h, %s, %j, %m
      : tensor<?x128xbf16>, tensor<?x4x12xbf16>, tensor<?x64xbf16>, i32, tensor<?x6xf32>
}

// -----

// Attention families: 4 keys per step; routing: vectors along the head dim.
// CHECK-LABEL: func.func @kernel_families(
// CHECK:         msa.encode_docs %{{.+}} {msa.tiles = {block_k = 4 : i64, vector_width = 8 : i64}}
// CHECK:         msa.memory_attention %{{.+}} {msa.tiles = {block_k = 4 : i64, vector_width = 8 : i64}}
// CHECK:         msa.route_topk %{{.+}} {msa.tiles = {block_k = 1 : i64, vector_width = 8 : i64}}
// CHECK:         msa.topk_merge %{{.+}} {msa.tiles = {block_k = 1 : i64, vector_width = 2 : i64}}
// CUDA-LABEL: func.func @kernel_families(
// CUDA:         msa.encode_docs %{{.+}} {msa.tiles = {block_m = 64 : i64, block_n = 64 : i64, rows_per_block = 1 : i64, threads = 128 : i64, vector_width = 8 : i64}}
// CUDA:         msa.memory_attention %{{.+}} {msa.tiles = {block_m = 1 : i64, block_n = 1 : i64, key_splits = 16 : i64, rows_per_block = 1 : i64, threads = 512 : i64, vector_width = 8 : i64}}
// CUDA:         msa.route_topk %{{.+}} {msa.tiles = {{{.*}}threads = 256 : i64
// AVX512-LABEL: func.func @kernel_families(
// AVX512:         msa.encode_docs %{{.+}} {msa.tiles = {block_k = 4 : i64, vector_width = 16 : i64}}
// AVX512:         msa.memory_attention %{{.+}} {msa.tiles = {block_k = 4 : i64, vector_width = 16 : i64}}
// AVX512:         msa.route_topk %{{.+}} {msa.tiles = {block_k = 1 : i64, vector_width = 16 : i64}}
func.func @kernel_families(%q: tensor<?x4x16xbf16>, %k: tensor<?x2x16xbf16>,
    %v: tensor<?x2x16xbf16>, %seg: tensor<?xi32>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %valid: tensor<?xi1>, %qr: tensor<5x4x32xbf16>,
    %kb: tensor<4x?x32xbf16>, %mask: tensor<5xi1>, %coff: tensor<?xi32>)
    -> (tensor<?x4x16xbf16>, tensor<?x4x16xbf16>, tensor<2xi32>) {
  %o = msa.encode_docs %q, %k, %v, %seg
      : (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?xi32>)
        -> tensor<?x4x16xbf16>
  %m = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid) causal = bottom_right
      : (tensor<?x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?xi1>) -> tensor<?x4x16xbf16>
  %cs, %ci = msa.route_topk %qr, %kb, %mask, %coff heads(mean) tokens(max) chunks(max) k = 2 scale
      : (tensor<5x4x32xbf16>, tensor<4x?x32xbf16>, tensor<5xi1>, tensor<?xi32>)
        -> (tensor<64x2xf32>, tensor<64x2xi32>)
  %idx, %sc, %n = msa.topk_merge %cs, %ci k = 2
      : (tensor<64x2xf32>, tensor<64x2xi32>) -> (tensor<2xi32>, tensor<2xf32>, tensor<i32>)
  return %o, %m, %idx : tensor<?x4x16xbf16>, tensor<?x4x16xbf16>, tensor<2xi32>
}

// -----

// Tiles written in the IR are a researcher's override: kept as they are.
// CHECK-LABEL: func.func @tiles_already_set(
// CHECK:         msa.rms_norm %{{.+}} {msa.tiles = {block_k = 1 : i64, vector_width = 2 : i64}}
// CHECK:         msa.encode_docs %{{.+}} {msa.tiles = {block_k = 2 : i64, vector_width = 4 : i64}}
// AVX512-LABEL: func.func @tiles_already_set(
// AVX512:         msa.rms_norm %{{.+}} {msa.tiles = {block_k = 1 : i64, vector_width = 2 : i64}}
// AVX512:         msa.encode_docs %{{.+}} {msa.tiles = {block_k = 2 : i64, vector_width = 4 : i64}}
func.func @tiles_already_set(%x: tensor<?x64xbf16>, %w: tensor<64xbf16>,
    %q: tensor<?x4x16xbf16>, %k: tensor<?x2x16xbf16>, %v: tensor<?x2x16xbf16>,
    %seg: tensor<?xi32>) -> (tensor<?x64xbf16>, tensor<?x4x16xbf16>) {
  %y = msa.rms_norm %x, %w epsilon = 1.0e-06
      {msa.tiles = {vector_width = 2 : i64, block_k = 1 : i64}}
      : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  %o = msa.encode_docs %q, %k, %v, %seg
      {msa.tiles = {vector_width = 4 : i64, block_k = 2 : i64}}
      : (tensor<?x4x16xbf16>, tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?xi32>)
        -> tensor<?x4x16xbf16>
  return %y, %o : tensor<?x64xbf16>, tensor<?x4x16xbf16>
}

// -----

// Nothing that becomes a kernel: the IR is unchanged.
// CHECK-LABEL: func.func @no_kernels(
// CHECK-NOT:     msa.tiles
// CHECK:         return
func.func @no_kernels(%x: tensor<?x64xbf16>, %w: tensor<128x64xbf16>, %i: i32)
    -> (tensor<?x128xbf16>, i32) {
  %z = msa.linear %x, %w : (tensor<?x64xbf16>, tensor<128x64xbf16>) -> tensor<?x128xbf16>
  %j = arith.muli %i, %i : i32
  return %z, %j : tensor<?x128xbf16>, i32
}

// -----

// bf16 encode attention with a head dim the tensor-core kernel takes: a
// warp per (group head, 16 rows), tensor_cores set, and wgmma for a head
// dim of whole 64-element panels; f32 or a GQA group of 8 stay on the
// CUDA-core tiles. The cpu tiles do not change.
// CHECK-LABEL: func.func @encode_tensor_cores(
// CHECK:         msa.encode_docs %{{.+}} {msa.tiles = {block_k = 4 : i64, vector_width = 8 : i64}}
// CUDA-LABEL: func.func @encode_tensor_cores(
// CUDA:         msa.encode_docs %{{.+}} {msa.tiles = {block_m = 64 : i64, block_n = 64 : i64, rows_per_block = 1 : i64, tensor_cores = 1 : i64, threads = 512 : i64, vector_width = 8 : i64, wgmma = 1 : i64}}
// CUDA:         msa.encode_docs %{{.+}} {msa.tiles = {block_m = 64 : i64, block_n = 64 : i64, rows_per_block = 1 : i64, threads = 128 : i64, vector_width = 8 : i64}}
// CUDA:         msa.encode_docs %{{.+}} {msa.tiles = {block_m = 64 : i64, block_n = 64 : i64, rows_per_block = 1 : i64, threads = 128 : i64, vector_width = 8 : i64}}
func.func @encode_tensor_cores(%q: tensor<?x8x128xbf16>, %k: tensor<?x2x128xbf16>,
    %v: tensor<?x2x128xbf16>, %qf: tensor<?x8x128xf32>, %kf: tensor<?x2x128xf32>,
    %k1: tensor<?x1x128xbf16>, %seg: tensor<?xi32>)
    -> (tensor<?x8x128xbf16>, tensor<?x8x128xf32>, tensor<?x8x128xbf16>) {
  %o = msa.encode_docs %q, %k, %v, %seg
      : (tensor<?x8x128xbf16>, tensor<?x2x128xbf16>, tensor<?x2x128xbf16>, tensor<?xi32>)
        -> tensor<?x8x128xbf16>
  %f = msa.encode_docs %qf, %kf, %kf, %seg
      : (tensor<?x8x128xf32>, tensor<?x2x128xf32>, tensor<?x2x128xf32>, tensor<?xi32>)
        -> tensor<?x8x128xf32>
  %g = msa.encode_docs %q, %k1, %k1, %seg
      : (tensor<?x8x128xbf16>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>, tensor<?xi32>)
        -> tensor<?x8x128xbf16>
  return %o, %f, %g : tensor<?x8x128xbf16>, tensor<?x8x128xf32>, tensor<?x8x128xbf16>
}

// -----

// route_topk with a head dim of whole 64-element panels: wgmma on a
// 6-stage key ring; a head dim of 32 keeps mma.sync (no wgmma, no stages).
// CHECK-LABEL: func.func @route_warpgroups(
// CHECK:         msa.route_topk %{{.+}} {msa.tiles = {block_k = 1 : i64, vector_width = 8 : i64}}
// CUDA-LABEL: func.func @route_warpgroups(
// CUDA:         msa.route_topk %{{.+}} {msa.tiles = {block_m = 1 : i64, block_n = 1 : i64, rows_per_block = 1 : i64, stages = 6 : i64, threads = 256 : i64, vector_width = 8 : i64, wgmma = 1 : i64}}
// CUDA:         msa.route_topk %{{.+}} {msa.tiles = {block_m = 1 : i64, block_n = 1 : i64, rows_per_block = 1 : i64, threads = 256 : i64, vector_width = 8 : i64}}
func.func @route_warpgroups(%q: tensor<5x32x128xbf16>, %k: tensor<8x?x128xbf16>,
    %qs: tensor<5x4x32xbf16>, %ks: tensor<4x?x32xbf16>, %mask: tensor<5xi1>,
    %coff: tensor<?xi32>) -> (tensor<132x2xf32>, tensor<132x2xf32>) {
  %s, %i = msa.route_topk %q, %k, %mask, %coff heads(mean) tokens(max) chunks(max) k = 2 scale
      : (tensor<5x32x128xbf16>, tensor<8x?x128xbf16>, tensor<5xi1>, tensor<?xi32>)
        -> (tensor<132x2xf32>, tensor<132x2xi32>)
  %t, %j = msa.route_topk %qs, %ks, %mask, %coff heads(mean) tokens(max) chunks(max) k = 2 scale
      : (tensor<5x4x32xbf16>, tensor<4x?x32xbf16>, tensor<5xi1>, tensor<?xi32>)
        -> (tensor<132x2xf32>, tensor<132x2xi32>)
  return %s, %t : tensor<132x2xf32>, tensor<132x2xf32>
}
