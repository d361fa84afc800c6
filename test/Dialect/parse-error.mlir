// RUN: not msa-opt %s -split-input-file 2>&1 | FileCheck %s
// RUN: not msa-opt %s 2>&1 | FileCheck %s --check-prefix=FIRST

// Malformed input: msa-opt exits non-zero (`not`) and reports each error as
// file:line:col. With -split-input-file every chunk is parsed and lines count
// from the top of this file; without it parsing stops at the first error.

func.func @missing_keyword(%k: tensor<9x2x16xbf16>, %segments: tensor<3xi32>) {
  // CHECK:     parse-error.mlir:[[@LINE+3]]:37: error: custom op 'msa.chunk_pool' expected 'chunk_size'
  // FIRST:     parse-error.mlir:[[@LINE+2]]:37: error: custom op 'msa.chunk_pool' expected 'chunk_size'
  // FIRST-NOT: error:
  %p = msa.chunk_pool %k, %segments : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<2x?x16xbf16>
  return
}

// -----

func.func @unknown_op(%x: tensor<9x64xbf16>) {
  // CHECK: parse-error.mlir:[[@LINE+1]]:8: error: custom op 'msa.layer_norm' is unknown
  %y = msa.layer_norm %x : (tensor<9x64xbf16>) -> tensor<9x64xbf16>
  return
}

// -----

func.func @unknown_enum_value(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %k: tensor<5x2x16xbf16>, %valid: tensor<5xi1>) {
  // CHECK: parse-error.mlir:[[@LINE+2]]:{{[0-9]+}}: error: custom op 'msa.sparse_attention' expected string or keyword
  // CHECK-SAME: containing one of the following enum values for attribute 'causal' [bottom_right, block]
  %o = msa.sparse_attention %q, template(%tk, %tk) local(%k, %k, %valid) causal = top_left
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @undefined_value(%x: tensor<9x64xbf16>) {
  // CHECK: parse-error.mlir:[[@LINE+1]]:25: error: use of undeclared SSA value name
  %y = msa.rms_norm %x, %w epsilon = 1.0e-06 : (tensor<9x64xbf16>, tensor<64xbf16>) -> tensor<9x64xbf16>
  return
}

// -----

func.func @operand_type_count(%x: tensor<9x64xbf16>, %w: tensor<64xbf16>) {
  // CHECK: parse-error.mlir:[[@LINE+1]]:8: error: custom op 'msa.rms_norm' number of operands and types do not match: got 2 operands and 1 types
  %y = msa.rms_norm %x, %w epsilon = 1.0e-06 : (tensor<9x64xbf16>) -> tensor<9x64xbf16>
  return
}
