// RUN: msa-opt %s -split-input-file -verify-diagnostics

// One case per diagnostic of MsaOps.cpp (verifiers in op order), then a few
// of the type constraints that ODS generates.

//===----------------------------------------------------------------------===//
// msa.rms_norm
//===----------------------------------------------------------------------===//

func.func @rms_norm_rank0_input(%x: tensor<bf16>, %w: tensor<64xbf16>) {
  // expected-error @+1 {{'msa.rms_norm' op expected an input of rank at least 1, got rank 0}}
  %y = msa.rms_norm %x, %w epsilon = 1.0e-06
      : (tensor<bf16>, tensor<64xbf16>) -> tensor<bf16>
  return
}

// -----

func.func @rms_norm_weight_length(%x: tensor<9x64xbf16>, %w: tensor<32xbf16>) {
  // expected-error @+1 {{'msa.rms_norm' op expected weight of length 64 (the input's last dim), got 32}}
  %y = msa.rms_norm %x, %w epsilon = 1.0e-06
      : (tensor<9x64xbf16>, tensor<32xbf16>) -> tensor<9x64xbf16>
  return
}

// -----

func.func @rms_norm_epsilon_zero(%x: tensor<9x64xbf16>, %w: tensor<64xbf16>) {
  // expected-error @+1 {{'msa.rms_norm' op expected epsilon to be positive, got 0.000000e+00}}
  %y = msa.rms_norm %x, %w epsilon = 0.0
      : (tensor<9x64xbf16>, tensor<64xbf16>) -> tensor<9x64xbf16>
  return
}

// -----

func.func @rms_norm_weight_element_type(%x: tensor<9x64xbf16>, %w: tensor<64xf16>) {
  // expected-error @+1 {{'msa.rms_norm' op expected weight element type 'bf16' (the input's), got 'f16'}}
  %y = msa.rms_norm %x, %w epsilon = 1.0e-06
      : (tensor<9x64xbf16>, tensor<64xf16>) -> tensor<9x64xbf16>
  return
}

// -----

func.func @rms_norm_result_element_type(%x: tensor<9x64xbf16>, %w: tensor<64xbf16>) {
  // expected-error @+1 {{'msa.rms_norm' op expected result element type 'bf16' (the input's), got 'f32'}}
  %y = msa.rms_norm %x, %w epsilon = 1.0e-06
      : (tensor<9x64xbf16>, tensor<64xbf16>) -> tensor<9x64xf32>
  return
}

// -----

func.func @rms_norm_result_shape(%x: tensor<9x64xbf16>, %w: tensor<64xbf16>) {
  // expected-error @+1 {{'msa.rms_norm' op expected result shape [9, 64] (the input's), got [9, 32]}}
  %y = msa.rms_norm %x, %w epsilon = 1.0e-06
      : (tensor<9x64xbf16>, tensor<64xbf16>) -> tensor<9x32xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// msa.linear
//===----------------------------------------------------------------------===//

func.func @linear_input_features(%x: tensor<7x64xbf16>, %w: tensor<128x32xbf16>) {
  // expected-error @+1 {{'msa.linear' op expected weight of 64 input features (the input's last dim), got 32}}
  %y = msa.linear %x, %w : (tensor<7x64xbf16>, tensor<128x32xbf16>) -> tensor<7x128xbf16>
  return
}

// -----

func.func @linear_weight_element_type(%x: tensor<7x64xbf16>, %w: tensor<128x64xf32>) {
  // expected-error @+1 {{'msa.linear' op expected weight element type 'bf16' (the input's), got 'f32'}}
  %y = msa.linear %x, %w : (tensor<7x64xbf16>, tensor<128x64xf32>) -> tensor<7x128xbf16>
  return
}

// -----

func.func @linear_result_element_type(%x: tensor<7x64xbf16>, %w: tensor<128x64xbf16>) {
  // expected-error @+1 {{'msa.linear' op expected result element type 'bf16' (the input's), got 'f16'}}
  %y = msa.linear %x, %w : (tensor<7x64xbf16>, tensor<128x64xbf16>) -> tensor<7x128xf16>
  return
}

// -----

func.func @linear_result_shape(%x: tensor<7x64xbf16>, %w: tensor<128x64xbf16>) {
  // expected-error @+1 {{'msa.linear' op expected result shape [7, 128] (tokens x output features), got [7, 64]}}
  %y = msa.linear %x, %w : (tensor<7x64xbf16>, tensor<128x64xbf16>) -> tensor<7x64xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// msa.swiglu
//===----------------------------------------------------------------------===//

func.func @swiglu_up_shape(%gate: tensor<7x128xbf16>, %up: tensor<7x64xbf16>) {
  // expected-error @+1 {{'msa.swiglu' op expected up shape [7, 128] (the gate's), got [7, 64]}}
  %h = msa.swiglu %gate, %up : (tensor<7x128xbf16>, tensor<7x64xbf16>) -> tensor<7x128xbf16>
  return
}

// -----

func.func @swiglu_result_shape(%gate: tensor<7x128xbf16>, %up: tensor<7x128xbf16>) {
  // expected-error @+1 {{'msa.swiglu' op expected result shape [7, 128] (the gate's), got [8, 128]}}
  %h = msa.swiglu %gate, %up
      : (tensor<7x128xbf16>, tensor<7x128xbf16>) -> tensor<8x128xbf16>
  return
}

// -----

func.func @swiglu_up_element_type(%gate: tensor<7x128xbf16>, %up: tensor<7x128xf16>) {
  // expected-error @+1 {{'msa.swiglu' op expected up element type 'bf16' (the gate's), got 'f16'}}
  %h = msa.swiglu %gate, %up : (tensor<7x128xbf16>, tensor<7x128xf16>) -> tensor<7x128xbf16>
  return
}

// -----

func.func @swiglu_result_element_type(%gate: tensor<7x128xbf16>, %up: tensor<7x128xbf16>) {
  // expected-error @+1 {{'msa.swiglu' op expected result element type 'bf16' (the gate's), got 'f32'}}
  %h = msa.swiglu %gate, %up : (tensor<7x128xbf16>, tensor<7x128xbf16>) -> tensor<7x128xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// msa.embedding
//===----------------------------------------------------------------------===//

func.func @embedding_result_element_type(%table: tensor<512x64xbf16>, %ids: tensor<7xi32>) {
  // expected-error @+1 {{'msa.embedding' op expected result element type 'bf16' (the table's), got 'f32'}}
  %x = msa.embedding %table[%ids] : (tensor<512x64xbf16>, tensor<7xi32>) -> tensor<7x64xf32>
  return
}

// -----

func.func @embedding_result_shape(%table: tensor<512x64xbf16>, %ids: tensor<7xi32>) {
  // expected-error @+1 {{'msa.embedding' op expected result shape [7, 64] (ids x embedding width), got [9, 64]}}
  %x = msa.embedding %table[%ids]
      : (tensor<512x64xbf16>, tensor<7xi32>) -> tensor<9x64xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// msa.rope
//===----------------------------------------------------------------------===//

func.func @rope_odd_head_dim(%k: tensor<9x2x15xbf16>, %segments: tensor<3xi32>) {
  // expected-error @+1 {{'msa.rope' op expected an even head dim, got 15}}
  %r = msa.rope %k, %segments document theta = 1.0e+04
      : (tensor<9x2x15xbf16>, tensor<3xi32>) -> tensor<9x2x15xbf16>
  return
}

// -----

func.func @rope_theta_negative(%k: tensor<9x2x16xbf16>, %segments: tensor<3xi32>) {
  // expected-error @+1 {{'msa.rope' op expected theta to be positive, got -1.000000e+04}}
  %r = msa.rope %k, %segments document theta = -1.0e+04
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<9x2x16xbf16>
  return
}

// -----

func.func @rope_result_type(%k: tensor<9x2x16xbf16>, %segments: tensor<3xi32>) {
  // expected-error @+1 {{'msa.rope' op expected result element type 'bf16' (the input's), got 'f32'}}
  %r = msa.rope %k, %segments document theta = 1.0e+04
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<9x2x16xf32>
  return
}

// -----

func.func @rope_result_shape(%k: tensor<9x2x16xbf16>, %segments: tensor<3xi32>) {
  // expected-error @+1 {{'msa.rope' op expected result shape [9, 2, 16] (the input's), got [9, 4, 16]}}
  %r = msa.rope %k, %segments document theta = 1.0e+04
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<9x4x16xbf16>
  return
}

// -----

// A rank-0 start index is only valid in global mode.
func.func @rope_document_rank0_positions(%k: tensor<9x2x16xbf16>, %start: tensor<i32>) {
  // expected-error @+1 {{'msa.rope' op expected rank-1 segment offsets in document mode, got rank 0}}
  %r = msa.rope %k, %start document theta = 1.0e+04
      : (tensor<9x2x16xbf16>, tensor<i32>) -> tensor<9x2x16xbf16>
  return
}

// -----

func.func @rope_document_template_len(%k: tensor<9x2x16xbf16>, %segments: tensor<3xi32>) {
  // expected-error @+1 {{'msa.rope' op expected no template_len or k_cfg in document mode}}
  %r = msa.rope %k, %segments document theta = 1.0e+04 {template_len = 3 : i64}
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<9x2x16xbf16>
  return
}

// -----

func.func @rope_document_k_cfg(%k: tensor<9x2x16xbf16>, %segments: tensor<3xi32>) {
  // expected-error @+1 {{'msa.rope' op expected no template_len or k_cfg in document mode}}
  %r = msa.rope %k, %segments document theta = 1.0e+04 {k_cfg = 16 : i64}
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<9x2x16xbf16>
  return
}

// -----

func.func @rope_global_rank2_positions(%q: tensor<5x4x16xbf16>, %pos: tensor<5x1xi32>) {
  // expected-error @+1 {{'msa.rope' op expected rank-0 or rank-1 positions in global mode, got rank 2}}
  %r = msa.rope %q, %pos global theta = 1.0e+04 {template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<5x4x16xbf16>, tensor<5x1xi32>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @rope_global_position_count(%q: tensor<5x4x16xbf16>, %pos: tensor<4xi32>) {
  // expected-error @+1 {{'msa.rope' op expected 5 positions (one per token), got 4}}
  %r = msa.rope %q, %pos global theta = 1.0e+04 {template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<5x4x16xbf16>, tensor<4xi32>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @rope_global_no_template_len(%q: tensor<5x4x16xbf16>, %start: tensor<i32>) {
  // expected-error @+1 {{'msa.rope' op expected template_len in global mode}}
  %r = msa.rope %q, %start global theta = 1.0e+04 {k_cfg = 16 : i64}
      : (tensor<5x4x16xbf16>, tensor<i32>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @rope_global_no_k_cfg(%q: tensor<5x4x16xbf16>, %start: tensor<i32>) {
  // expected-error @+1 {{'msa.rope' op expected k_cfg in global mode}}
  %r = msa.rope %q, %start global theta = 1.0e+04 {template_len = 3 : i64}
      : (tensor<5x4x16xbf16>, tensor<i32>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @rope_global_negative_template_len(%q: tensor<5x4x16xbf16>, %start: tensor<i32>) {
  // expected-error @+1 {{'msa.rope' op expected template_len to be non-negative, got -1}}
  %r = msa.rope %q, %start global theta = 1.0e+04 {template_len = -1 : i64, k_cfg = 16 : i64}
      : (tensor<5x4x16xbf16>, tensor<i32>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @rope_global_negative_k_cfg(%q: tensor<5x4x16xbf16>, %start: tensor<i32>) {
  // expected-error @+1 {{'msa.rope' op expected k_cfg to be non-negative, got -16}}
  %r = msa.rope %q, %start global theta = 1.0e+04 {template_len = 3 : i64, k_cfg = -16 : i64}
      : (tensor<5x4x16xbf16>, tensor<i32>) -> tensor<5x4x16xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// msa.doc_attention
//===----------------------------------------------------------------------===//

func.func @doc_attention_key_tokens(%q: tensor<9x4x16xbf16>, %k: tensor<8x2x16xbf16>,
    %v: tensor<8x2x16xbf16>, %segments: tensor<3xi32>) {
  // expected-error @+1 {{'msa.doc_attention' op expected key tokens 9 (the query's), got 8}}
  %o = msa.doc_attention %q, %k, %v, %segments
      : (tensor<9x4x16xbf16>, tensor<8x2x16xbf16>, tensor<8x2x16xbf16>,
         tensor<3xi32>) -> tensor<9x4x16xbf16>
  return
}

// -----

func.func @doc_attention_gqa(%q: tensor<9x4x16xbf16>, %k: tensor<9x3x16xbf16>,
    %v: tensor<9x3x16xbf16>, %segments: tensor<3xi32>) {
  // expected-error @+1 {{'msa.doc_attention' op expected query heads (4) to be a multiple of key heads (3)}}
  %o = msa.doc_attention %q, %k, %v, %segments
      : (tensor<9x4x16xbf16>, tensor<9x3x16xbf16>, tensor<9x3x16xbf16>,
         tensor<3xi32>) -> tensor<9x4x16xbf16>
  return
}

// -----

// Zero KV heads take the other branch of the GQA check, with the same message.
func.func @doc_attention_gqa_zero_kv_heads(%q: tensor<9x4x16xbf16>, %k: tensor<9x0x16xbf16>,
    %v: tensor<9x0x16xbf16>, %segments: tensor<3xi32>) {
  // expected-error @+1 {{'msa.doc_attention' op expected query heads (4) to be a multiple of key heads (0)}}
  %o = msa.doc_attention %q, %k, %v, %segments
      : (tensor<9x4x16xbf16>, tensor<9x0x16xbf16>, tensor<9x0x16xbf16>,
         tensor<3xi32>) -> tensor<9x4x16xbf16>
  return
}

// -----

func.func @doc_attention_key_head_dim(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x8xbf16>,
    %v: tensor<9x2x8xbf16>, %segments: tensor<3xi32>) {
  // expected-error @+1 {{'msa.doc_attention' op expected key head dim 16 (the query's), got 8}}
  %o = msa.doc_attention %q, %k, %v, %segments
      : (tensor<9x4x16xbf16>, tensor<9x2x8xbf16>, tensor<9x2x8xbf16>,
         tensor<3xi32>) -> tensor<9x4x16xbf16>
  return
}

// -----

func.func @doc_attention_value_shape(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x1x16xbf16>, %segments: tensor<3xi32>) {
  // expected-error @+1 {{'msa.doc_attention' op expected value shape [9, 2, 16] (the key's), got [9, 1, 16]}}
  %o = msa.doc_attention %q, %k, %v, %segments
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x1x16xbf16>,
         tensor<3xi32>) -> tensor<9x4x16xbf16>
  return
}

// -----

func.func @doc_attention_scale(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %segments: tensor<3xi32>) {
  // expected-error @+1 {{'msa.doc_attention' op expected scale to be positive, got 0.000000e+00}}
  %o = msa.doc_attention %q, %k, %v, %segments {scale = 0.0 : f64}
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>,
         tensor<3xi32>) -> tensor<9x4x16xbf16>
  return
}

// -----

func.func @doc_attention_key_element_type(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xf16>,
    %v: tensor<9x2x16xbf16>, %segments: tensor<3xi32>) {
  // expected-error @+1 {{'msa.doc_attention' op expected key element type 'bf16' (the query's), got 'f16'}}
  %o = msa.doc_attention %q, %k, %v, %segments
      : (tensor<9x4x16xbf16>, tensor<9x2x16xf16>, tensor<9x2x16xbf16>,
         tensor<3xi32>) -> tensor<9x4x16xbf16>
  return
}

// -----

func.func @doc_attention_value_element_type(%q: tensor<9x4x16xbf16>,
    %k: tensor<9x2x16xbf16>, %v: tensor<9x2x16xf16>, %segments: tensor<3xi32>) {
  // expected-error @+1 {{'msa.doc_attention' op expected value element type 'bf16' (the query's), got 'f16'}}
  %o = msa.doc_attention %q, %k, %v, %segments
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xf16>,
         tensor<3xi32>) -> tensor<9x4x16xbf16>
  return
}

// -----

func.func @doc_attention_result_element_type(%q: tensor<9x4x16xbf16>,
    %k: tensor<9x2x16xbf16>, %v: tensor<9x2x16xbf16>, %segments: tensor<3xi32>) {
  // expected-error @+1 {{'msa.doc_attention' op expected result element type 'bf16' (the query's), got 'f32'}}
  %o = msa.doc_attention %q, %k, %v, %segments
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>,
         tensor<3xi32>) -> tensor<9x4x16xf32>
  return
}

// -----

func.func @doc_attention_result_shape(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %segments: tensor<3xi32>) {
  // expected-error @+1 {{'msa.doc_attention' op expected result shape [9, 4, 16] (the query's), got [9, 2, 16]}}
  %o = msa.doc_attention %q, %k, %v, %segments
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>,
         tensor<3xi32>) -> tensor<9x2x16xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// msa.chunk_pool
//===----------------------------------------------------------------------===//

func.func @chunk_pool_chunk_size(%k: tensor<9x2x16xbf16>, %segments: tensor<3xi32>) {
  // expected-error @+1 {{'msa.chunk_pool' op expected chunk_size to be positive, got 0}}
  %p = msa.chunk_pool %k, %segments chunk_size = 0
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<2x?x16xbf16>
  return
}

// -----

func.func @chunk_pool_result_element_type(%k: tensor<9x2x16xbf16>,
    %segments: tensor<3xi32>) {
  // expected-error @+1 {{'msa.chunk_pool' op expected result element type 'bf16' (the input's), got 'f32'}}
  %p = msa.chunk_pool %k, %segments chunk_size = 4
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<2x?x16xf32>
  return
}

// -----

func.func @chunk_pool_result_shape(%k: tensor<9x2x16xbf16>, %segments: tensor<3xi32>) {
  // expected-error @+1 {{'msa.chunk_pool' op expected result shape [2, ?, 16] (heads x chunks x head dim), got [9, 2, 16]}}
  %p = msa.chunk_pool %k, %segments chunk_size = 4
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<9x2x16xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// msa.chunk_offsets
//===----------------------------------------------------------------------===//

func.func @chunk_offsets_chunk_size(%segments: tensor<3xi32>) {
  // expected-error @+1 {{'msa.chunk_offsets' op expected chunk_size to be positive, got -4}}
  %c = msa.chunk_offsets %segments chunk_size = -4 : (tensor<3xi32>) -> tensor<3xi32>
  return
}

// -----

func.func @chunk_offsets_result_shape(%segments: tensor<3xi32>) {
  // expected-error @+1 {{'msa.chunk_offsets' op expected result shape [3] (one offset per segment offset), got [2]}}
  %c = msa.chunk_offsets %segments chunk_size = 4 : (tensor<3xi32>) -> tensor<2xi32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// msa.route_scores
//===----------------------------------------------------------------------===//

func.func @route_scores_gqa(%q: tensor<5x4x16xbf16>, %keys: tensor<3x?x16xbf16>,
    %mask: tensor<5xi1>) {
  // expected-error @+1 {{'msa.route_scores' op expected query heads (4) to be a multiple of key heads (3)}}
  %s = msa.route_scores %q, %keys, %mask heads(mean) tokens(max)
      : (tensor<5x4x16xbf16>, tensor<3x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
  return
}

// -----

func.func @route_scores_key_head_dim(%q: tensor<5x4x16xbf16>, %keys: tensor<2x?x32xbf16>,
    %mask: tensor<5xi1>) {
  // expected-error @+1 {{'msa.route_scores' op expected key head dim 16 (the query's), got 32}}
  %s = msa.route_scores %q, %keys, %mask heads(mean) tokens(max)
      : (tensor<5x4x16xbf16>, tensor<2x?x32xbf16>, tensor<5xi1>) -> tensor<?xbf16>
  return
}

// -----

func.func @route_scores_mask_length(%q: tensor<5x4x16xbf16>, %keys: tensor<2x?x16xbf16>,
    %mask: tensor<4xi1>) {
  // expected-error @+1 {{'msa.route_scores' op expected mask of length 5 (the query tokens), got 4}}
  %s = msa.route_scores %q, %keys, %mask heads(mean) tokens(max)
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<4xi1>) -> tensor<?xbf16>
  return
}

// -----

func.func @route_scores_keys_element_type(%q: tensor<5x4x16xbf16>,
    %keys: tensor<2x?x16xf32>, %mask: tensor<5xi1>) {
  // expected-error @+1 {{'msa.route_scores' op expected keys element type 'bf16' (the query's), got 'f32'}}
  %s = msa.route_scores %q, %keys, %mask heads(mean) tokens(max)
      : (tensor<5x4x16xbf16>, tensor<2x?x16xf32>, tensor<5xi1>) -> tensor<?xbf16>
  return
}

// -----

func.func @route_scores_result_element_type(%q: tensor<5x4x16xbf16>,
    %keys: tensor<2x?x16xbf16>, %mask: tensor<5xi1>) {
  // expected-error @+1 {{'msa.route_scores' op expected result element type 'bf16' (the query's), got 'f32'}}
  %s = msa.route_scores %q, %keys, %mask heads(mean) tokens(max)
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xf32>
  return
}

// -----

func.func @route_scores_result_shape(%q: tensor<5x4x16xbf16>, %keys: tensor<2x7x16xbf16>,
    %mask: tensor<5xi1>) {
  // expected-error @+1 {{'msa.route_scores' op expected result shape [7] (one score per chunk), got [5]}}
  %s = msa.route_scores %q, %keys, %mask heads(mean) tokens(max)
      : (tensor<5x4x16xbf16>, tensor<2x7x16xbf16>, tensor<5xi1>) -> tensor<5xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// msa.doc_reduce
//===----------------------------------------------------------------------===//

func.func @doc_reduce_no_offsets(%s: tensor<?xbf16>, %coff: tensor<0xi32>) {
  // expected-error @+1 {{'msa.doc_reduce' op expected at least 1 chunk offset (documents + 1), got 0}}
  %d = msa.doc_reduce %s, %coff chunks(max)
      : (tensor<?xbf16>, tensor<0xi32>) -> tensor<?xbf16>
  return
}

// -----

func.func @doc_reduce_result_element_type(%s: tensor<?xbf16>, %coff: tensor<3xi32>) {
  // expected-error @+1 {{'msa.doc_reduce' op expected result element type 'bf16' (the scores'), got 'f16'}}
  %d = msa.doc_reduce %s, %coff chunks(max)
      : (tensor<?xbf16>, tensor<3xi32>) -> tensor<2xf16>
  return
}

// -----

func.func @doc_reduce_result_shape(%s: tensor<?xbf16>, %coff: tensor<3xi32>) {
  // expected-error @+1 {{'msa.doc_reduce' op expected result shape [2] (one score per document), got [3]}}
  %d = msa.doc_reduce %s, %coff chunks(mean)
      : (tensor<?xbf16>, tensor<3xi32>) -> tensor<3xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// msa.topk
//===----------------------------------------------------------------------===//

func.func @topk_k_zero(%d: tensor<?xbf16>) {
  // expected-error @+1 {{'msa.topk' op expected k to be positive, got 0}}
  %idx, %n = msa.topk %d k = 0 : (tensor<?xbf16>) -> (tensor<?xi32>, tensor<i32>)
  return
}

// -----

func.func @topk_indices_length(%d: tensor<?xbf16>) {
  // expected-error @+1 {{'msa.topk' op expected indices of length k = 2, got 3}}
  %idx, %n = msa.topk %d k = 2 : (tensor<?xbf16>) -> (tensor<3xi32>, tensor<i32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// msa.gather_chunks
//===----------------------------------------------------------------------===//

func.func @gather_chunks_result_element_type(%kbar: tensor<2x?x16xbf16>,
    %idx: tensor<2xi32>, %n: tensor<i32>, %coff: tensor<3xi32>) {
  // expected-error @+1 {{'msa.gather_chunks' op expected result element type 'bf16' (the source's), got 'f16'}}
  %kc = msa.gather_chunks %kbar[%idx, %n], %coff
      : (tensor<2x?x16xbf16>, tensor<2xi32>, tensor<i32>,
         tensor<3xi32>) -> tensor<2x?x16xf16>
  return
}

// -----

func.func @gather_chunks_result_shape(%kbar: tensor<2x?x16xbf16>, %idx: tensor<2xi32>,
    %n: tensor<i32>, %coff: tensor<3xi32>) {
  // expected-error @+1 {{'msa.gather_chunks' op expected result shape [2, ?, 16] (the source's heads and head dim), got [2, ?, 8]}}
  %kc = msa.gather_chunks %kbar[%idx, %n], %coff
      : (tensor<2x?x16xbf16>, tensor<2xi32>, tensor<i32>,
         tensor<3xi32>) -> tensor<2x?x8xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// msa.sparse_attention
//===----------------------------------------------------------------------===//

// The custom syntax always pairs the memory operands; the generic form can
// give a key without a value.
func.func @sparse_attention_memory_key_only(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %mk: tensor<2x?x16xbf16>, %k: tensor<5x2x16xbf16>,
    %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>) {
  // expected-error @+1 {{'msa.sparse_attention' op expected memory_key and memory_value together}}
  %o = "msa.sparse_attention"(%q, %tk, %tv, %mk, %k, %v, %valid)
      <{causal = 0 : i32, operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 1, 1, 1>}>
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<5x2x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @sparse_attention_gqa(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %mk: tensor<2x?x16xbf16>, %mv: tensor<2x?x16xbf16>,
    %k: tensor<5x3x16xbf16>, %v: tensor<5x3x16xbf16>, %valid: tensor<5xi1>) {
  // expected-error @+1 {{'msa.sparse_attention' op expected query heads (4) to be a multiple of local key heads (3)}}
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<5x3x16xbf16>,
         tensor<5x3x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @sparse_attention_local_key_head_dim(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %mk: tensor<2x?x16xbf16>, %mv: tensor<2x?x16xbf16>,
    %k: tensor<5x2x8xbf16>, %v: tensor<5x2x8xbf16>, %valid: tensor<5xi1>) {
  // expected-error @+1 {{'msa.sparse_attention' op expected local key head dim 16 (the query's), got 8}}
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<5x2x8xbf16>,
         tensor<5x2x8xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @sparse_attention_local_value_shape(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %mk: tensor<2x?x16xbf16>, %mv: tensor<2x?x16xbf16>,
    %k: tensor<5x2x16xbf16>, %v: tensor<4x2x16xbf16>, %valid: tensor<5xi1>) {
  // expected-error @+1 {{'msa.sparse_attention' op expected local value shape [5, 2, 16] (the local key's), got [4, 2, 16]}}
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<5x2x16xbf16>,
         tensor<4x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @sparse_attention_template_key_shape(%q: tensor<5x4x16xbf16>, %tk: tensor<3x1x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %mk: tensor<2x?x16xbf16>, %mv: tensor<2x?x16xbf16>,
    %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>) {
  // expected-error @+1 {{'msa.sparse_attention' op expected template key shape [?, 2, 16] (tokens x kv heads x head dim), got [3, 1, 16]}}
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x1x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @sparse_attention_template_value_shape(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<2x2x16xbf16>, %mk: tensor<2x?x16xbf16>, %mv: tensor<2x?x16xbf16>,
    %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>) {
  // expected-error @+1 {{'msa.sparse_attention' op expected template value shape [3, 2, 16] (the template key's), got [2, 2, 16]}}
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<2x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @sparse_attention_memory_key_shape(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %mk: tensor<2x?x8xbf16>, %mv: tensor<2x?x16xbf16>,
    %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>) {
  // expected-error @+1 {{'msa.sparse_attention' op expected memory key shape [2, ?, 16] (kv heads x chunks x head dim), got [2, ?, 8]}}
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x8xbf16>, tensor<2x?x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @sparse_attention_memory_value_shape(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %mk: tensor<2x4x16xbf16>, %mv: tensor<2x3x16xbf16>,
    %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>) {
  // expected-error @+1 {{'msa.sparse_attention' op expected memory value shape [2, 4, 16] (the memory key's), got [2, 3, 16]}}
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x4x16xbf16>, tensor<2x3x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @sparse_attention_local_valid_length(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %mk: tensor<2x?x16xbf16>, %mv: tensor<2x?x16xbf16>,
    %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>, %valid: tensor<4xi1>) {
  // expected-error @+1 {{'msa.sparse_attention' op expected local_valid of length 5 (the local tokens), got 4}}
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<4xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @sparse_attention_query_tokens(%q: tensor<6x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %mk: tensor<2x?x16xbf16>, %mv: tensor<2x?x16xbf16>,
    %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>) {
  // expected-error @+1 {{'msa.sparse_attention' op expected at most 5 query tokens (the local tokens), got 6}}
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right
      : (tensor<6x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<6x4x16xbf16>
  return
}

// -----

func.func @sparse_attention_scale(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %mk: tensor<2x?x16xbf16>, %mv: tensor<2x?x16xbf16>,
    %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>) {
  // expected-error @+1 {{'msa.sparse_attention' op expected scale to be positive, got -1.000000e+00}}
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right {scale = -1.0 : f64}
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @sparse_attention_template_key_element_type(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xf16>,
    %tv: tensor<3x2x16xbf16>, %mk: tensor<2x?x16xbf16>, %mv: tensor<2x?x16xbf16>,
    %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>) {
  // expected-error @+1 {{'msa.sparse_attention' op expected template key element type 'bf16' (the query's), got 'f16'}}
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @sparse_attention_template_value_element_type(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xf16>, %mk: tensor<2x?x16xbf16>, %mv: tensor<2x?x16xbf16>,
    %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>) {
  // expected-error @+1 {{'msa.sparse_attention' op expected template value element type 'bf16' (the query's), got 'f16'}}
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @sparse_attention_memory_key_element_type(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %mk: tensor<2x?x16xf16>, %mv: tensor<2x?x16xbf16>,
    %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>) {
  // expected-error @+1 {{'msa.sparse_attention' op expected memory key element type 'bf16' (the query's), got 'f16'}}
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xf16>, tensor<2x?x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @sparse_attention_memory_value_element_type(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %mk: tensor<2x?x16xbf16>, %mv: tensor<2x?x16xf16>,
    %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>) {
  // expected-error @+1 {{'msa.sparse_attention' op expected memory value element type 'bf16' (the query's), got 'f16'}}
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @sparse_attention_local_key_element_type(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %mk: tensor<2x?x16xbf16>, %mv: tensor<2x?x16xbf16>,
    %k: tensor<5x2x16xf16>, %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>) {
  // expected-error @+1 {{'msa.sparse_attention' op expected local key element type 'bf16' (the query's), got 'f16'}}
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<5x2x16xf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @sparse_attention_local_value_element_type(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %mk: tensor<2x?x16xbf16>, %mv: tensor<2x?x16xbf16>,
    %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xf16>, %valid: tensor<5xi1>) {
  // expected-error @+1 {{'msa.sparse_attention' op expected local value element type 'bf16' (the query's), got 'f16'}}
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @sparse_attention_result_element_type(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %mk: tensor<2x?x16xbf16>, %mv: tensor<2x?x16xbf16>,
    %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>) {
  // expected-error @+1 {{'msa.sparse_attention' op expected result element type 'bf16' (the query's), got 'f32'}}
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xf32>
  return
}

// -----

func.func @sparse_attention_result_shape(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %mk: tensor<2x?x16xbf16>, %mv: tensor<2x?x16xbf16>,
    %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>) {
  // expected-error @+1 {{'msa.sparse_attention' op expected result shape [5, 4, 16] (the query's), got [5, 2, 16]}}
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x2x16xbf16>
  return
}


// -----

//===----------------------------------------------------------------------===//
// Type constraints and attributes generated by ODS
//===----------------------------------------------------------------------===//

func.func @linear_rank3_input(%x: tensor<7x1x64xbf16>, %w: tensor<128x64xbf16>) {
  // expected-error @+1 {{'msa.linear' op operand #0 must be 2D tensor of bf16, f16 or f32 values, but got 'tensor<7x1x64xbf16>'}}
  %y = msa.linear %x, %w : (tensor<7x1x64xbf16>, tensor<128x64xbf16>) -> tensor<7x128xbf16>
  return
}

// -----

func.func @rms_norm_i32_input(%x: tensor<9x64xi32>, %w: tensor<64xbf16>) {
  // expected-error @+1 {{'msa.rms_norm' op operand #0 must be ranked tensor of bf16, f16 or f32 values, but got 'tensor<9x64xi32>'}}
  %y = msa.rms_norm %x, %w epsilon = 1.0e-06
      : (tensor<9x64xi32>, tensor<64xbf16>) -> tensor<9x64xbf16>
  return
}

// -----

func.func @rms_norm_unranked_input(%x: tensor<*xbf16>, %w: tensor<64xbf16>) {
  // expected-error @+1 {{'msa.rms_norm' op operand #0 must be ranked tensor of bf16, f16 or f32 values, but got 'tensor<*xbf16>'}}
  %y = msa.rms_norm %x, %w epsilon = 1.0e-06
      : (tensor<*xbf16>, tensor<64xbf16>) -> tensor<9x64xbf16>
  return
}

// -----

func.func @rope_f32_positions(%k: tensor<9x2x16xbf16>, %segments: tensor<3xf32>) {
  // expected-error @+1 {{'msa.rope' op operand #1 must be ranked tensor of 32-bit signless integer values, but got 'tensor<3xf32>'}}
  %r = msa.rope %k, %segments document theta = 1.0e+04
      : (tensor<9x2x16xbf16>, tensor<3xf32>) -> tensor<9x2x16xbf16>
  return
}

// -----

func.func @route_scores_i32_mask(%q: tensor<5x4x16xbf16>, %keys: tensor<2x?x16xbf16>,
    %mask: tensor<5xi32>) {
  // expected-error @+1 {{'msa.route_scores' op operand #2 must be 1D tensor of 1-bit signless integer values, but got 'tensor<5xi32>'}}
  %s = msa.route_scores %q, %keys, %mask heads(mean) tokens(max)
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi32>) -> tensor<?xbf16>
  return
}

// -----

func.func @topk_rank1_count(%d: tensor<?xbf16>) {
  // expected-error @+1 {{'msa.topk' op result #1 must be 0D tensor of 32-bit signless integer values, but got 'tensor<1xi32>'}}
  %idx, %n = msa.topk %d k = 2 : (tensor<?xbf16>) -> (tensor<2xi32>, tensor<1xi32>)
  return
}

// -----

// Required attributes can only be left out in the generic form.
func.func @rope_generic_no_theta(%k: tensor<9x2x16xbf16>, %segments: tensor<3xi32>) {
  // expected-error @+1 {{'msa.rope' op requires attribute 'theta'}}
  %r = "msa.rope"(%k, %segments) <{mode = 0 : i32}>
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<9x2x16xbf16>
  return
}

// -----

// An enum keyword outside the case list is rejected by the generated parser.
func.func @route_scores_unknown_head_reduce(%q: tensor<5x4x16xbf16>,
    %keys: tensor<2x?x16xbf16>, %mask: tensor<5xi1>) {
  // expected-error @+1 {{custom op 'msa.route_scores' expected string or keyword containing one of the following enum values for attribute 'head_reduce' [mean, max]}}
  %s = msa.route_scores %q, %keys, %mask heads(median) tokens(max)
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
  return
}
