// RUN: msa-opt %s -split-input-file -msa-graph-cleanup | FileCheck %s

// The msa-graph-cleanup pipeline: msa-canonicalize, then CSE. Duplicate pure
// msa ops merge, also those that only become equal after canonicalization.

// Two identical pure ops become one.
// CHECK-LABEL: func.func @duplicate_ops(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<9x64xbf16>, %[[W:[^:]+]]: tensor<64xbf16>)
// CHECK:         %[[Y:.+]] = msa.rms_norm %[[X]], %[[W]]
// CHECK-NOT:     msa.rms_norm
// CHECK:         return %[[Y]], %[[Y]]
func.func @duplicate_ops(%x: tensor<9x64xbf16>,
    %w: tensor<64xbf16>) -> (tensor<9x64xbf16>, tensor<9x64xbf16>) {
  %a = msa.rms_norm %x, %w epsilon = 1.0e-06
      : (tensor<9x64xbf16>, tensor<64xbf16>) -> tensor<9x64xbf16>
  %b = msa.rms_norm %x, %w epsilon = 1.0e-06
      : (tensor<9x64xbf16>, tensor<64xbf16>) -> tensor<9x64xbf16>
  return %a, %b : tensor<9x64xbf16>, tensor<9x64xbf16>
}

// -----

// Same operands, different attributes: both stay.
// CHECK-LABEL: func.func @different_attributes(
// CHECK:         %[[MAX:.+]] = msa.route_scores {{.*}} heads(mean) tokens(max)
// CHECK:         %[[LAST:.+]] = msa.route_scores {{.*}} heads(mean) tokens(last)
// CHECK:         return %[[MAX]], %[[LAST]]
func.func @different_attributes(%q: tensor<5x4x16xbf16>, %keys: tensor<2x?x16xbf16>,
    %mask: tensor<5xi1>) -> (tensor<?xbf16>, tensor<?xbf16>) {
  %a = msa.route_scores %q, %keys, %mask heads(mean) tokens(max)
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
  %b = msa.route_scores %q, %keys, %mask heads(mean) tokens(last)
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
  return %a, %b : tensor<?xbf16>, tensor<?xbf16>
}

// -----

// The two ropes differ as written; canonicalization gives both the start
// index 7, then CSE merges them.
// CHECK-LABEL: func.func @equal_after_canonicalization(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<3x4x16xbf16>)
// CHECK:         %[[START:.+]] = arith.constant dense<7> : tensor<i32>
// CHECK-NOT:     arith.constant
// CHECK:         %[[ROT:.+]] = msa.rope %[[Q]], %[[START]] global
// CHECK-NOT:     msa.rope
// CHECK:         return %[[ROT]], %[[ROT]]
func.func @equal_after_canonicalization(%q: tensor<3x4x16xbf16>) -> (tensor<3x4x16xbf16>, tensor<3x4x16xbf16>) {
  %pos = arith.constant dense<[7, 8, 9]> : tensor<3xi32>
  %start = arith.constant dense<7> : tensor<i32>
  %a = msa.rope %q, %pos global theta = 1.0e+04 {template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<3x4x16xbf16>, tensor<3xi32>) -> tensor<3x4x16xbf16>
  %b = msa.rope %q, %start global theta = 1.0e+04 {template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<3x4x16xbf16>, tensor<i32>) -> tensor<3x4x16xbf16>
  return %a, %b : tensor<3x4x16xbf16>, tensor<3x4x16xbf16>
}

// -----

// Both chunk_offsets fold to the same constant, which CSE keeps once; the
// segments constant is dead and CSE drops it.
// CHECK-LABEL: func.func @fold_then_cse(
// CHECK:         %[[COFF:.+]] = arith.constant dense<[0, 1, 2]> : tensor<3xi32>
// CHECK-NOT:     arith.constant
// CHECK-NOT:     msa.chunk_offsets
// CHECK:         return %[[COFF]], %[[COFF]]
func.func @fold_then_cse() -> (tensor<3xi32>, tensor<3xi32>) {
  %segments = arith.constant dense<[0, 3, 7]> : tensor<3xi32>
  %c1 = msa.chunk_offsets %segments chunk_size = 4 : (tensor<3xi32>) -> tensor<3xi32>
  %c2 = msa.chunk_offsets %segments chunk_size = 4 : (tensor<3xi32>) -> tensor<3xi32>
  return %c1, %c2 : tensor<3xi32>, tensor<3xi32>
}

// -----

// A routing chain: the duplicate pooling is shared, the one-chunk doc_reduce
// disappears.
// CHECK-LABEL: func.func @routing_chain(
// CHECK-SAME:    %[[K:[^:]+]]: tensor<8x2x16xbf16>, %[[Q:[^:]+]]: tensor<5x4x16xbf16>,
// CHECK-SAME:    %[[MASK:[^:]+]]: tensor<5xi1>)
// CHECK:         %[[SEG:.+]] = arith.constant dense<[0, 4, 8]> : tensor<3xi32>
// CHECK:         %[[KBAR:.+]] = msa.chunk_pool %[[K]], %[[SEG]] chunk_size = 4
// CHECK-NOT:     msa.chunk_pool
// CHECK-NOT:     msa.chunk_offsets
// CHECK:         %[[S:.+]] = msa.route_scores %[[Q]], %[[KBAR]], %[[MASK]]
// CHECK-NOT:     msa.doc_reduce
// CHECK:         %[[D:.+]] = tensor.cast %[[S]] : tensor<?xbf16> to tensor<2xbf16>
// CHECK:         return %[[D]], %[[KBAR]]
func.func @routing_chain(%k: tensor<8x2x16xbf16>, %q: tensor<5x4x16xbf16>,
    %mask: tensor<5xi1>) -> (tensor<2xbf16>, tensor<2x?x16xbf16>) {
  %segments = arith.constant dense<[0, 4, 8]> : tensor<3xi32>
  %kbar = msa.chunk_pool %k, %segments chunk_size = 4
      : (tensor<8x2x16xbf16>, tensor<3xi32>) -> tensor<2x?x16xbf16>
  %kbar2 = msa.chunk_pool %k, %segments chunk_size = 4
      : (tensor<8x2x16xbf16>, tensor<3xi32>) -> tensor<2x?x16xbf16>
  %coff = msa.chunk_offsets %segments chunk_size = 4 : (tensor<3xi32>) -> tensor<3xi32>
  %s = msa.route_scores %q, %kbar, %mask heads(mean) tokens(max)
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
  %d = msa.doc_reduce %s, %coff chunks(max)
      : (tensor<?xbf16>, tensor<3xi32>) -> tensor<2xbf16>
  return %d, %kbar2 : tensor<2xbf16>, tensor<2x?x16xbf16>
}
