// RUN: msa-opt %s -split-input-file -msa-canonicalize | FileCheck %s
// RUN: %if pass-statistics %{ msa-opt %s -msa-canonicalize -mlir-pass-statistics \
// RUN:   -mlir-pass-statistics-display=list -o /dev/null 2>&1 \
// RUN:   | FileCheck %s --check-prefix=STATS %}

// The msa folders and patterns of test/Dialect/canonicalize.mlir, through the
// msa-only pass: they apply, and the ops of other dialects stay as written
// (no constant folding, no dead-code removal of the old constants).
//
// The statistic exists only where LLVM keeps pass statistics (assertions or
// LLVM_FORCE_ENABLE_STATS); lit.local.cfg probes for it. The second RUN line
// sees the whole file as one module.

// STATS:      MsaCanonicalizePass
// STATS-NEXT:   (S) {{[1-9][0-9]*}} num-rewrites - Number of times the msa patterns changed the IR

// Constant segments fold; the segments constant itself stays, since the pass
// touches msa ops only.
// CHECK-LABEL: func.func @chunk_offsets_constant(
// CHECK:         arith.constant dense<[0, 5, 5, 14]> : tensor<4xi32>
// CHECK:         %[[COFF:.+]] = arith.constant dense<[0, 2, 2, 5]> : tensor<4xi32>
// CHECK-NOT:     msa.chunk_offsets
// CHECK:         return %[[COFF]] : tensor<4xi32>
func.func @chunk_offsets_constant() -> tensor<4xi32> {
  %segments = arith.constant dense<[0, 5, 5, 14]> : tensor<4xi32>
  %coff = msa.chunk_offsets %segments chunk_size = 4 : (tensor<4xi32>) -> tensor<4xi32>
  return %coff : tensor<4xi32>
}

// -----

// CHECK-LABEL: func.func @chunk_offsets_descending(
// CHECK:         %[[SEG:.+]] = arith.constant dense<[0, 8, 4]> : tensor<3xi32>
// CHECK:         %[[COFF:.+]] = msa.chunk_offsets %[[SEG]] chunk_size = 4
// CHECK:         return %[[COFF]]
func.func @chunk_offsets_descending() -> tensor<3xi32> {
  %segments = arith.constant dense<[0, 8, 4]> : tensor<3xi32>
  %coff = msa.chunk_offsets %segments chunk_size = 4 : (tensor<3xi32>) -> tensor<3xi32>
  return %coff : tensor<3xi32>
}

// -----

// CHECK-LABEL: func.func @rope_consecutive_positions(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<3x4x16xbf16>)
// CHECK:         arith.constant dense<[7, 8, 9]> : tensor<3xi32>
// CHECK:         %[[START:.+]] = arith.constant dense<7> : tensor<i32>
// CHECK:         %[[ROT:.+]] = msa.rope %[[Q]], %[[START]] global
// CHECK-SAME:      : (tensor<3x4x16xbf16>, tensor<i32>) -> tensor<3x4x16xbf16>
// CHECK:         return %[[ROT]]
func.func @rope_consecutive_positions(%q: tensor<3x4x16xbf16>) -> tensor<3x4x16xbf16> {
  %pos = arith.constant dense<[7, 8, 9]> : tensor<3xi32>
  %r = msa.rope %q, %pos global theta = 1.0e+04 {template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<3x4x16xbf16>, tensor<3xi32>) -> tensor<3x4x16xbf16>
  return %r : tensor<3x4x16xbf16>
}

// -----

// CHECK-LABEL: func.func @rope_non_consecutive_positions(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<3x4x16xbf16>)
// CHECK:         %[[POS:.+]] = arith.constant dense<[7, 9, 10]> : tensor<3xi32>
// CHECK:         msa.rope %[[Q]], %[[POS]] global
// CHECK-SAME:      : (tensor<3x4x16xbf16>, tensor<3xi32>) -> tensor<3x4x16xbf16>
func.func @rope_non_consecutive_positions(%q: tensor<3x4x16xbf16>) -> tensor<3x4x16xbf16> {
  %pos = arith.constant dense<[7, 9, 10]> : tensor<3xi32>
  %r = msa.rope %q, %pos global theta = 1.0e+04 {template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<3x4x16xbf16>, tensor<3xi32>) -> tensor<3x4x16xbf16>
  return %r : tensor<3x4x16xbf16>
}

// -----

// CHECK-LABEL: func.func @rope_document_mode(
// CHECK-SAME:    %[[K:[^:]+]]: tensor<3x2x16xbf16>)
// CHECK:         %[[SEG:.+]] = arith.constant dense<[0, 1, 2]> : tensor<3xi32>
// CHECK:         msa.rope %[[K]], %[[SEG]] document
// CHECK-SAME:      : (tensor<3x2x16xbf16>, tensor<3xi32>) -> tensor<3x2x16xbf16>
func.func @rope_document_mode(%k: tensor<3x2x16xbf16>) -> tensor<3x2x16xbf16> {
  %segments = arith.constant dense<[0, 1, 2]> : tensor<3xi32>
  %r = msa.rope %k, %segments document theta = 1.0e+04
      : (tensor<3x2x16xbf16>, tensor<3xi32>) -> tensor<3x2x16xbf16>
  return %r : tensor<3x2x16xbf16>
}

// -----

// CHECK-LABEL: func.func @doc_reduce_single_chunks(
// CHECK-SAME:    %[[S:[^:]+]]: tensor<?xbf16>)
// CHECK-NOT:     msa.doc_reduce
// CHECK:         %[[CAST:.+]] = tensor.cast %[[S]] : tensor<?xbf16> to tensor<2xbf16>
// CHECK-NOT:     msa.doc_reduce
// CHECK:         return %[[CAST]] : tensor<2xbf16>
func.func @doc_reduce_single_chunks(%s: tensor<?xbf16>) -> tensor<2xbf16> {
  %coff = arith.constant dense<[0, 1, 2]> : tensor<3xi32>
  %d = msa.doc_reduce %s, %coff chunks(mean) : (tensor<?xbf16>, tensor<3xi32>) -> tensor<2xbf16>
  return %d : tensor<2xbf16>
}

// -----

// CHECK-LABEL: func.func @doc_reduce_multi_chunk_doc(
// CHECK-SAME:    %[[S:[^:]+]]: tensor<?xbf16>)
// CHECK:         %[[COFF:.+]] = arith.constant dense<[0, 2, 3]> : tensor<3xi32>
// CHECK:         %[[D:.+]] = msa.doc_reduce %[[S]], %[[COFF]] chunks(max)
// CHECK:         return %[[D]]
func.func @doc_reduce_multi_chunk_doc(%s: tensor<?xbf16>) -> tensor<2xbf16> {
  %coff = arith.constant dense<[0, 2, 3]> : tensor<3xi32>
  %d = msa.doc_reduce %s, %coff chunks(max) : (tensor<?xbf16>, tensor<3xi32>) -> tensor<2xbf16>
  return %d : tensor<2xbf16>
}

// -----

// CHECK-LABEL: func.func @chunk_offsets_then_doc_reduce(
// CHECK-SAME:    %[[S:[^:]+]]: tensor<?xf16>)
// CHECK-NOT:     msa.
// CHECK:         %[[CAST:.+]] = tensor.cast %[[S]] : tensor<?xf16> to tensor<2xf16>
// CHECK-NOT:     msa.
// CHECK:         return %[[CAST]] : tensor<2xf16>
func.func @chunk_offsets_then_doc_reduce(%s: tensor<?xf16>) -> tensor<2xf16> {
  %segments = arith.constant dense<[0, 3, 7]> : tensor<3xi32>
  %coff = msa.chunk_offsets %segments chunk_size = 4 : (tensor<3xi32>) -> tensor<3xi32>
  %d = msa.doc_reduce %s, %coff chunks(mean) : (tensor<?xf16>, tensor<3xi32>) -> tensor<2xf16>
  return %d : tensor<2xf16>
}

// -----

// Upstream -canonicalize folds the addi to 3; this pass leaves it, and the
// constants, as written while it folds the msa op next to them.
// CHECK-LABEL: func.func @non_msa_ops_untouched(
// CHECK:         %[[A:.+]] = arith.constant 1 : i32
// CHECK:         %[[B:.+]] = arith.constant 2 : i32
// CHECK:         %[[SUM:.+]] = arith.addi %[[A]], %[[B]] : i32
// CHECK:         %[[COFF:.+]] = arith.constant dense<[0, 1, 2]> : tensor<3xi32>
// CHECK-NOT:     msa.chunk_offsets
// CHECK:         return %[[SUM]], %[[COFF]] : i32, tensor<3xi32>
func.func @non_msa_ops_untouched() -> (i32, tensor<3xi32>) {
  %a = arith.constant 1 : i32
  %b = arith.constant 2 : i32
  %sum = arith.addi %a, %b : i32
  %segments = arith.constant dense<[0, 3, 7]> : tensor<3xi32>
  %coff = msa.chunk_offsets %segments chunk_size = 4 : (tensor<3xi32>) -> tensor<3xi32>
  return %sum, %coff : i32, tensor<3xi32>
}

// -----

// Input without any msa op: the pass loads the dialect itself and leaves
// the IR alone.
// CHECK-LABEL: func.func @no_msa_ops
func.func @no_msa_ops() -> i32 {
  %a = arith.constant 1 : i32
  %b = arith.constant 2 : i32
  // CHECK: arith.addi
  %c = arith.addi %a, %b : i32
  return %c : i32
}
