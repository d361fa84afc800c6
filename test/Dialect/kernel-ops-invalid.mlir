// RUN: msa-opt %s -split-input-file -verify-diagnostics

// One case per diagnostic of MsaKernelOps.cpp (verifiers in op order), and
// the shared shape, head and type checks as the kernel-level ops report
// them. Groups that the custom syntax cannot split (memory, select, append)
// are written in the generic form.

//===----------------------------------------------------------------------===//
// msa.encode_docs
//===----------------------------------------------------------------------===//

func.func @encode_docs_result_count(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>) {
  // expected-error @below {{'msa.encode_docs' op expected 3 results (from emit_rotated_key, chunk_size and router_key), got 1}}
  %o = msa.encode_docs %q, %k, %v, %seg {chunk_size = 4 : i64}
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>, tensor<3xi32>)
        -> tensor<9x4x16xbf16>
  return
}

// -----

func.func @encode_docs_result_count_rotated(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>) {
  // expected-error @below {{'msa.encode_docs' op expected 2 results (from emit_rotated_key, chunk_size and router_key), got 1}}
  %o = msa.encode_docs %q, %k, %v, %seg {rope_theta = 1.0e+04 : f64, emit_rotated_key}
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>, tensor<3xi32>)
        -> tensor<9x4x16xbf16>
  return
}

// -----

func.func @encode_docs_router_without_chunk_size(%q: tensor<9x4x16xbf16>,
    %k: tensor<9x2x16xbf16>, %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>,
    %rk: tensor<9x2x16xbf16>) {
  // expected-error @below {{'msa.encode_docs' op expected chunk_size with a router_key}}
  %o, %r = msa.encode_docs %q, %k, %v, %seg router(%rk)
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>, tensor<3xi32>,
         tensor<9x2x16xbf16>) -> (tensor<9x4x16xbf16>, tensor<2x?x16xbf16>)
  return
}

// -----

func.func @encode_docs_key_tokens(%q: tensor<9x4x16xbf16>, %k: tensor<8x2x16xbf16>,
    %v: tensor<8x2x16xbf16>, %seg: tensor<3xi32>) {
  // expected-error @below {{'msa.encode_docs' op expected key tokens 9 (the query's), got 8}}
  %o = msa.encode_docs %q, %k, %v, %seg
      : (tensor<9x4x16xbf16>, tensor<8x2x16xbf16>, tensor<8x2x16xbf16>, tensor<3xi32>)
        -> tensor<9x4x16xbf16>
  return
}

// -----

func.func @encode_docs_gqa(%q: tensor<9x4x16xbf16>, %k: tensor<9x3x16xbf16>,
    %v: tensor<9x3x16xbf16>, %seg: tensor<3xi32>) {
  // expected-error @below {{'msa.encode_docs' op expected query heads (4) to be a multiple of key heads (3)}}
  %o = msa.encode_docs %q, %k, %v, %seg
      : (tensor<9x4x16xbf16>, tensor<9x3x16xbf16>, tensor<9x3x16xbf16>, tensor<3xi32>)
        -> tensor<9x4x16xbf16>
  return
}

// -----

func.func @encode_docs_key_head_dim(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x8xbf16>,
    %v: tensor<9x2x8xbf16>, %seg: tensor<3xi32>) {
  // expected-error @below {{'msa.encode_docs' op expected key head dim 16 (the query's), got 8}}
  %o = msa.encode_docs %q, %k, %v, %seg
      : (tensor<9x4x16xbf16>, tensor<9x2x8xbf16>, tensor<9x2x8xbf16>, tensor<3xi32>)
        -> tensor<9x4x16xbf16>
  return
}

// -----

func.func @encode_docs_key_element_type(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>) {
  // expected-error @below {{'msa.encode_docs' op expected key element type 'bf16' (the query's), got 'f16'}}
  %o = msa.encode_docs %q, %k, %v, %seg
      : (tensor<9x4x16xbf16>, tensor<9x2x16xf16>, tensor<9x2x16xbf16>, tensor<3xi32>)
        -> tensor<9x4x16xbf16>
  return
}

// -----

func.func @encode_docs_value_shape(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x1x16xbf16>, %seg: tensor<3xi32>) {
  // expected-error @below {{'msa.encode_docs' op expected value shape [9, 2, 16] (the key's), got [9, 1, 16]}}
  %o = msa.encode_docs %q, %k, %v, %seg
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x1x16xbf16>, tensor<3xi32>)
        -> tensor<9x4x16xbf16>
  return
}

// -----

func.func @encode_docs_value_element_type(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xf32>, %seg: tensor<3xi32>) {
  // expected-error @below {{'msa.encode_docs' op expected value element type 'bf16' (the query's), got 'f32'}}
  %o = msa.encode_docs %q, %k, %v, %seg
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xf32>, tensor<3xi32>)
        -> tensor<9x4x16xbf16>
  return
}

// -----

func.func @encode_docs_scale(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>) {
  // expected-error @below {{'msa.encode_docs' op expected scale to be positive, got -1.000000e+00}}
  %o = msa.encode_docs %q, %k, %v, %seg {scale = -1.0 : f64}
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>, tensor<3xi32>)
        -> tensor<9x4x16xbf16>
  return
}

// -----

func.func @encode_docs_rope_theta(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>) {
  // expected-error @below {{'msa.encode_docs' op expected rope_theta to be positive, got 0.000000e+00}}
  %o = msa.encode_docs %q, %k, %v, %seg {rope_theta = 0.0 : f64}
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>, tensor<3xi32>)
        -> tensor<9x4x16xbf16>
  return
}

// -----

func.func @encode_docs_rope_odd_head_dim(%q: tensor<9x4x15xbf16>, %k: tensor<9x2x15xbf16>,
    %v: tensor<9x2x15xbf16>, %seg: tensor<3xi32>) {
  // expected-error @below {{'msa.encode_docs' op expected an even head dim for RoPE, got 15}}
  %o = msa.encode_docs %q, %k, %v, %seg {rope_theta = 1.0e+04 : f64}
      : (tensor<9x4x15xbf16>, tensor<9x2x15xbf16>, tensor<9x2x15xbf16>, tensor<3xi32>)
        -> tensor<9x4x15xbf16>
  return
}

// -----

func.func @encode_docs_result_shape(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>) {
  // expected-error @below {{'msa.encode_docs' op expected result shape [9, 4, 16] (the query's), got [9, 2, 16]}}
  %o = msa.encode_docs %q, %k, %v, %seg
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>, tensor<3xi32>)
        -> tensor<9x2x16xbf16>
  return
}

// -----

func.func @encode_docs_rotated_key_without_rope(%q: tensor<9x4x16xbf16>,
    %k: tensor<9x2x16xbf16>, %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>) {
  // expected-error @below {{'msa.encode_docs' op expected rope_theta with emit_rotated_key}}
  %o, %kr = msa.encode_docs %q, %k, %v, %seg {emit_rotated_key}
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>, tensor<3xi32>)
        -> (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>)
  return
}

// -----

func.func @encode_docs_rotated_key_shape(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>) {
  // expected-error @below {{'msa.encode_docs' op expected rotated_key shape [9, 2, 16] (the key's), got [9, 4, 16]}}
  %o, %kr = msa.encode_docs %q, %k, %v, %seg {rope_theta = 1.0e+04 : f64, emit_rotated_key}
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>, tensor<3xi32>)
        -> (tensor<9x4x16xbf16>, tensor<9x4x16xbf16>)
  return
}

// -----

func.func @encode_docs_first_pooled_without_chunk_size(%q: tensor<9x4x16xbf16>,
    %k: tensor<9x2x16xbf16>, %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>) {
  // expected-error @below {{'msa.encode_docs' op expected chunk_size with first_pooled_segment or normalize_router}}
  %o = msa.encode_docs %q, %k, %v, %seg {first_pooled_segment = 1 : i64}
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>, tensor<3xi32>)
        -> tensor<9x4x16xbf16>
  return
}

// -----

func.func @encode_docs_normalize_router_without_chunk_size(%q: tensor<9x4x16xbf16>,
    %k: tensor<9x2x16xbf16>, %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>) {
  // expected-error @below {{'msa.encode_docs' op expected chunk_size with first_pooled_segment or normalize_router}}
  %o = msa.encode_docs %q, %k, %v, %seg {normalize_router}
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>, tensor<3xi32>)
        -> tensor<9x4x16xbf16>
  return
}

// -----

func.func @encode_docs_chunk_size_zero(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>) {
  // expected-error @below {{'msa.encode_docs' op expected chunk_size to be positive, got 0}}
  %o, %kb, %vb = msa.encode_docs %q, %k, %v, %seg {chunk_size = 0 : i64}
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>, tensor<3xi32>)
        -> (tensor<9x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>)
  return
}

// -----

func.func @encode_docs_first_pooled_negative(%q: tensor<9x4x16xbf16>,
    %k: tensor<9x2x16xbf16>, %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>) {
  // expected-error @below {{'msa.encode_docs' op expected first_pooled_segment to be non-negative, got -1}}
  %o, %kb, %vb = msa.encode_docs %q, %k, %v, %seg
      {chunk_size = 4 : i64, first_pooled_segment = -1 : i64}
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>, tensor<3xi32>)
        -> (tensor<9x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>)
  return
}

// -----

func.func @encode_docs_normalize_router_without_router(%q: tensor<9x4x16xbf16>,
    %k: tensor<9x2x16xbf16>, %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>) {
  // expected-error @below {{'msa.encode_docs' op expected router_key with normalize_router}}
  %o, %kb, %vb = msa.encode_docs %q, %k, %v, %seg {chunk_size = 4 : i64, normalize_router}
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>, tensor<3xi32>)
        -> (tensor<9x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>)
  return
}

// -----

func.func @encode_docs_router_key_shape(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>, %rk: tensor<7x2x16xbf16>) {
  // expected-error @below {{'msa.encode_docs' op expected router_key shape [9, 2, 16] (the key's), got [7, 2, 16]}}
  %o, %kb, %vb, %rb = msa.encode_docs %q, %k, %v, %seg router(%rk) {chunk_size = 4 : i64}
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>, tensor<3xi32>,
         tensor<7x2x16xbf16>)
        -> (tensor<9x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>)
  return
}

// -----

// Pooled results are head-major: [kv heads, chunks, head dim].
func.func @encode_docs_pooled_key_token_major(%q: tensor<9x4x16xbf16>,
    %k: tensor<9x2x16xbf16>, %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>) {
  // expected-error @below {{'msa.encode_docs' op expected pooled_key shape [2, ?, 16] (kv heads x chunks x head dim), got [3, 2, 16]}}
  %o, %kb, %vb = msa.encode_docs %q, %k, %v, %seg {chunk_size = 4 : i64}
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>, tensor<3xi32>)
        -> (tensor<9x4x16xbf16>, tensor<3x2x16xbf16>, tensor<2x?x16xbf16>)
  return
}

// -----

func.func @encode_docs_pooled_value_element_type(%q: tensor<9x4x16xbf16>,
    %k: tensor<9x2x16xbf16>, %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>) {
  // expected-error @below {{'msa.encode_docs' op expected pooled_value element type 'bf16' (the query's), got 'f32'}}
  %o, %kb, %vb = msa.encode_docs %q, %k, %v, %seg {chunk_size = 4 : i64}
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>, tensor<3xi32>)
        -> (tensor<9x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xf32>)
  return
}

// -----

func.func @encode_docs_pooled_router_key_shape(%q: tensor<9x4x16xbf16>,
    %k: tensor<9x2x16xbf16>, %v: tensor<9x2x16xbf16>, %seg: tensor<3xi32>,
    %rk: tensor<9x2x16xbf16>) {
  // expected-error @below {{'msa.encode_docs' op expected pooled_router_key shape [2, ?, 16] (kv heads x chunks x head dim), got [2, 5, 8]}}
  %o, %kb, %vb, %rb = msa.encode_docs %q, %k, %v, %seg router(%rk) {chunk_size = 4 : i64}
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>, tensor<3xi32>,
         tensor<9x2x16xbf16>)
        -> (tensor<9x4x16xbf16>, tensor<2x?x16xbf16>, tensor<2x?x16xbf16>, tensor<2x5x8xbf16>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// msa.route_topk
//===----------------------------------------------------------------------===//

func.func @route_topk_gqa(%q: tensor<5x4x16xbf16>, %kb: tensor<3x?x16xbf16>,
    %mask: tensor<5xi1>, %coff: tensor<?xi32>) {
  // expected-error @below {{'msa.route_topk' op expected query heads (4) to be a multiple of key heads (3)}}
  %s, %i = msa.route_topk %q, %kb, %mask, %coff heads(mean) tokens(max) chunks(max) k = 2
      : (tensor<5x4x16xbf16>, tensor<3x?x16xbf16>, tensor<5xi1>, tensor<?xi32>)
        -> (tensor<64x2xf32>, tensor<64x2xi32>)
  return
}

// -----

func.func @route_topk_head_dim(%q: tensor<5x4x16xbf16>, %kb: tensor<2x?x32xbf16>,
    %mask: tensor<5xi1>, %coff: tensor<?xi32>) {
  // expected-error @below {{'msa.route_topk' op expected key head dim 16 (the query's), got 32}}
  %s, %i = msa.route_topk %q, %kb, %mask, %coff heads(mean) tokens(max) chunks(max) k = 2
      : (tensor<5x4x16xbf16>, tensor<2x?x32xbf16>, tensor<5xi1>, tensor<?xi32>)
        -> (tensor<64x2xf32>, tensor<64x2xi32>)
  return
}

// -----

func.func @route_topk_key_element_type(%q: tensor<5x4x16xbf16>, %kb: tensor<2x?x16xf32>,
    %mask: tensor<5xi1>, %coff: tensor<?xi32>) {
  // expected-error @below {{'msa.route_topk' op expected key element type 'bf16' (the query's), got 'f32'}}
  %s, %i = msa.route_topk %q, %kb, %mask, %coff heads(mean) tokens(max) chunks(max) k = 2
      : (tensor<5x4x16xbf16>, tensor<2x?x16xf32>, tensor<5xi1>, tensor<?xi32>)
        -> (tensor<64x2xf32>, tensor<64x2xi32>)
  return
}

// -----

func.func @route_topk_k_zero(%q: tensor<5x4x16xbf16>, %kb: tensor<2x?x16xbf16>,
    %mask: tensor<5xi1>, %coff: tensor<?xi32>) {
  // expected-error @below {{'msa.route_topk' op expected k to be positive, got 0}}
  %s, %i = msa.route_topk %q, %kb, %mask, %coff heads(mean) tokens(max) chunks(max) k = 0
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>, tensor<?xi32>)
        -> (tensor<64x0xf32>, tensor<64x0xi32>)
  return
}

// -----

func.func @route_topk_mask_length(%q: tensor<5x4x16xbf16>, %kb: tensor<2x?x16xbf16>,
    %mask: tensor<4xi1>, %coff: tensor<?xi32>) {
  // expected-error @below {{'msa.route_topk' op expected mask of length 5 (the query tokens), got 4}}
  %s, %i = msa.route_topk %q, %kb, %mask, %coff heads(mean) tokens(max) chunks(max) k = 2
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<4xi1>, tensor<?xi32>)
        -> (tensor<64x2xf32>, tensor<64x2xi32>)
  return
}

// -----

func.func @route_topk_dynamic_blocks(%q: tensor<5x4x16xbf16>, %kb: tensor<2x?x16xbf16>,
    %mask: tensor<5xi1>, %coff: tensor<?xi32>) {
  // expected-error @below {{'msa.route_topk' op expected a static, positive number of candidate blocks, got ?}}
  %s, %i = msa.route_topk %q, %kb, %mask, %coff heads(mean) tokens(max) chunks(max) k = 2
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>, tensor<?xi32>)
        -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return
}

// -----

func.func @route_topk_zero_blocks(%q: tensor<5x4x16xbf16>, %kb: tensor<2x?x16xbf16>,
    %mask: tensor<5xi1>, %coff: tensor<?xi32>) {
  // expected-error @below {{'msa.route_topk' op expected a static, positive number of candidate blocks, got 0}}
  %s, %i = msa.route_topk %q, %kb, %mask, %coff heads(mean) tokens(max) chunks(max) k = 2
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>, tensor<?xi32>)
        -> (tensor<0x2xf32>, tensor<0x2xi32>)
  return
}

// -----

func.func @route_topk_candidate_scores_k(%q: tensor<5x4x16xbf16>, %kb: tensor<2x?x16xbf16>,
    %mask: tensor<5xi1>, %coff: tensor<?xi32>) {
  // expected-error @below {{'msa.route_topk' op expected candidate_scores shape [64, 2] (blocks x k), got [64, 3]}}
  %s, %i = msa.route_topk %q, %kb, %mask, %coff heads(mean) tokens(max) chunks(max) k = 2
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>, tensor<?xi32>)
        -> (tensor<64x3xf32>, tensor<64x2xi32>)
  return
}

// -----

func.func @route_topk_candidate_ids_shape(%q: tensor<5x4x16xbf16>, %kb: tensor<2x?x16xbf16>,
    %mask: tensor<5xi1>, %coff: tensor<?xi32>) {
  // expected-error @below {{'msa.route_topk' op expected candidate_ids shape [64, 2] (the candidate scores'), got [32, 2]}}
  %s, %i = msa.route_topk %q, %kb, %mask, %coff heads(mean) tokens(max) chunks(max) k = 2
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>, tensor<?xi32>)
        -> (tensor<64x2xf32>, tensor<32x2xi32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// msa.topk_merge
//===----------------------------------------------------------------------===//

func.func @topk_merge_k_zero(%s: tensor<64x2xf32>, %i: tensor<64x2xi32>) {
  // expected-error @below {{'msa.topk_merge' op expected k to be positive, got 0}}
  %idx, %sc, %n = msa.topk_merge %s, %i k = 0
      : (tensor<64x2xf32>, tensor<64x2xi32>) -> (tensor<0xi32>, tensor<0xf32>, tensor<i32>)
  return
}

// -----

func.func @topk_merge_ids_shape(%s: tensor<64x2xf32>, %i: tensor<64x3xi32>) {
  // expected-error @below {{'msa.topk_merge' op expected ids shape [64, 2] (the scores'), got [64, 3]}}
  %idx, %sc, %n = msa.topk_merge %s, %i k = 2
      : (tensor<64x2xf32>, tensor<64x3xi32>) -> (tensor<2xi32>, tensor<2xf32>, tensor<i32>)
  return
}

// -----

func.func @topk_merge_indices_length(%s: tensor<64x2xf32>, %i: tensor<64x2xi32>) {
  // expected-error @below {{'msa.topk_merge' op expected indices shape [2] (k), got [4]}}
  %idx, %sc, %n = msa.topk_merge %s, %i k = 2
      : (tensor<64x2xf32>, tensor<64x2xi32>) -> (tensor<4xi32>, tensor<2xf32>, tensor<i32>)
  return
}

// -----

func.func @topk_merge_selected_scores_length(%s: tensor<64x2xf32>, %i: tensor<64x2xi32>) {
  // expected-error @below {{'msa.topk_merge' op expected selected_scores shape [2] (k), got [1]}}
  %idx, %sc, %n = msa.topk_merge %s, %i k = 2
      : (tensor<64x2xf32>, tensor<64x2xi32>) -> (tensor<2xi32>, tensor<1xf32>, tensor<i32>)
  return
}

// -----

func.func @topk_merge_selected_scores_element_type(%s: tensor<64x2xf32>,
    %i: tensor<64x2xi32>) {
  // expected-error @below {{'msa.topk_merge' op expected selected_scores element type 'f32' (the scores'), got 'bf16'}}
  %idx, %sc, %n = msa.topk_merge %s, %i k = 2
      : (tensor<64x2xf32>, tensor<64x2xi32>) -> (tensor<2xi32>, tensor<2xbf16>, tensor<i32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// msa.memory_attention
//===----------------------------------------------------------------------===//

func.func @memory_attention_gqa(%q: tensor<5x4x16xbf16>, %tk: tensor<3x3x16xbf16>,
    %tv: tensor<3x3x16xbf16>, %k: tensor<5x3x16xbf16>, %v: tensor<5x3x16xbf16>,
    %valid: tensor<5xi1>) {
  // expected-error @below {{'msa.memory_attention' op expected query heads (4) to be a multiple of local key heads (3)}}
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x3x16xbf16>, tensor<3x3x16xbf16>, tensor<5x3x16xbf16>,
         tensor<5x3x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @memory_attention_local_value_shape(%q: tensor<5x4x16xbf16>,
    %tk: tensor<3x2x16xbf16>, %tv: tensor<3x2x16xbf16>, %k: tensor<5x2x16xbf16>,
    %v: tensor<6x2x16xbf16>, %valid: tensor<5xi1>) {
  // expected-error @below {{'msa.memory_attention' op expected local value shape [5, 2, 16] (the local key's), got [6, 2, 16]}}
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<5x2x16xbf16>,
         tensor<6x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @memory_attention_template_key_shape(%q: tensor<5x4x16xbf16>,
    %tk: tensor<3x1x16xbf16>, %tv: tensor<3x1x16xbf16>, %k: tensor<5x2x16xbf16>,
    %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>) {
  // expected-error @below {{'msa.memory_attention' op expected template key shape [?, 2, 16] (tokens x kv heads x head dim), got [3, 1, 16]}}
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x1x16xbf16>, tensor<3x1x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @memory_attention_template_value_shape(%q: tensor<5x4x16xbf16>,
    %tk: tensor<3x2x16xbf16>, %tv: tensor<4x2x16xbf16>, %k: tensor<5x2x16xbf16>,
    %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>) {
  // expected-error @below {{'msa.memory_attention' op expected template value shape [3, 2, 16] (the template key's), got [4, 2, 16]}}
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<4x2x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

// Generic form: a memory key without its values.
func.func @memory_attention_memory_key_alone(%q: tensor<5x4x16xbf16>,
    %tk: tensor<3x2x16xbf16>, %tv: tensor<3x2x16xbf16>, %bk: tensor<2x?x16xbf16>,
    %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>) {
  // expected-error @below {{'msa.memory_attention' op expected memory_key and memory_value together}}
  %o = "msa.memory_attention"(%q, %tk, %tv, %bk, %k, %v, %valid)
      <{causal = 0 : i32,
        operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0>}>
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<2x?x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

// Generic form: indices and count without the chunk offsets.
func.func @memory_attention_partial_select(%q: tensor<5x4x16xbf16>,
    %tk: tensor<3x2x16xbf16>, %tv: tensor<3x2x16xbf16>, %bk: tensor<2x?x16xbf16>,
    %bv: tensor<2x?x16xbf16>, %idx: tensor<2xi32>, %n: tensor<i32>,
    %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>) {
  // expected-error @below {{'msa.memory_attention' op expected chunk_offsets, indices and count together}}
  %o = "msa.memory_attention"(%q, %tk, %tv, %bk, %bv, %idx, %n, %k, %v, %valid)
      <{causal = 0 : i32,
        operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0>}>
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<2x?x16xbf16>,
         tensor<2x?x16xbf16>, tensor<2xi32>, tensor<i32>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

// A selection with nothing to select from (custom syntax allows it).
func.func @memory_attention_select_without_memory(%q: tensor<5x4x16xbf16>,
    %tk: tensor<3x2x16xbf16>, %tv: tensor<3x2x16xbf16>, %coff: tensor<?xi32>,
    %idx: tensor<2xi32>, %n: tensor<i32>, %k: tensor<5x2x16xbf16>,
    %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>) {
  // expected-error @below {{'msa.memory_attention' op expected memory operands with a selection}}
  %o = msa.memory_attention %q, template(%tk, %tv) select(%coff, %idx, %n)
      local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<?xi32>,
         tensor<2xi32>, tensor<i32>, tensor<5x2x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

// The bank is head-major; a token-major memory operand is an error.
func.func @memory_attention_memory_key_shape(%q: tensor<5x4x16xbf16>,
    %tk: tensor<3x2x16xbf16>, %tv: tensor<3x2x16xbf16>, %bk: tensor<7x2x16xbf16>,
    %bv: tensor<7x2x16xbf16>, %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>,
    %valid: tensor<5xi1>) {
  // expected-error @below {{'msa.memory_attention' op expected memory key shape [2, ?, 16] (kv heads x chunks x head dim), got [7, 2, 16]}}
  %o = msa.memory_attention %q, template(%tk, %tv) memory(%bk, %bv) local(%k, %v, %valid)
      causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<7x2x16xbf16>,
         tensor<7x2x16xbf16>, tensor<5x2x16xbf16>, tensor<5x2x16xbf16>, tensor<5xi1>)
      -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @memory_attention_memory_value_shape(%q: tensor<5x4x16xbf16>,
    %tk: tensor<3x2x16xbf16>, %tv: tensor<3x2x16xbf16>, %bk: tensor<2x6x16xbf16>,
    %bv: tensor<2x5x16xbf16>, %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>,
    %valid: tensor<5xi1>) {
  // expected-error @below {{'msa.memory_attention' op expected memory value shape [2, 6, 16] (the memory key's), got [2, 5, 16]}}
  %o = msa.memory_attention %q, template(%tk, %tv) memory(%bk, %bv) local(%k, %v, %valid)
      causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<2x6x16xbf16>,
         tensor<2x5x16xbf16>, tensor<5x2x16xbf16>, tensor<5x2x16xbf16>, tensor<5xi1>)
      -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @memory_attention_local_valid_length(%q: tensor<5x4x16xbf16>,
    %tk: tensor<3x2x16xbf16>, %tv: tensor<3x2x16xbf16>, %k: tensor<5x2x16xbf16>,
    %v: tensor<5x2x16xbf16>, %valid: tensor<6xi1>) {
  // expected-error @below {{'msa.memory_attention' op expected local_valid of length 5 (the local tokens), got 6}}
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<6xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

// Generic form: appended keys and values without their validity.
func.func @memory_attention_partial_append(%q: tensor<1x4x16xbf16>,
    %tk: tensor<3x2x16xbf16>, %tv: tensor<3x2x16xbf16>, %k: tensor<4x2x16xbf16>,
    %v: tensor<4x2x16xbf16>, %valid: tensor<4xi1>, %ak: tensor<1x2x16xbf16>,
    %av: tensor<1x2x16xbf16>) {
  // expected-error @below {{'msa.memory_attention' op expected append_key, append_value and append_valid together}}
  %o = "msa.memory_attention"(%q, %tk, %tv, %k, %v, %valid, %ak, %av)
      <{causal = 1 : i32,
        operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0>}>
      : (tensor<1x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<4x2x16xbf16>,
         tensor<4x2x16xbf16>, tensor<4xi1>, tensor<1x2x16xbf16>, tensor<1x2x16xbf16>)
      -> tensor<1x4x16xbf16>
  return
}

// -----

func.func @memory_attention_append_key_shape(%q: tensor<1x4x16xbf16>,
    %tk: tensor<3x2x16xbf16>, %tv: tensor<3x2x16xbf16>, %k: tensor<4x2x16xbf16>,
    %v: tensor<4x2x16xbf16>, %valid: tensor<4xi1>, %ak: tensor<1x2x8xbf16>,
    %av: tensor<1x2x8xbf16>, %avalid: tensor<1xi1>) {
  // expected-error @below {{'msa.memory_attention' op expected append key shape [?, 2, 16] (tokens x kv heads x head dim), got [1, 2, 8]}}
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid)
      append(%ak, %av, %avalid) causal = block
      : (tensor<1x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<4x2x16xbf16>,
         tensor<4x2x16xbf16>, tensor<4xi1>, tensor<1x2x8xbf16>, tensor<1x2x8xbf16>,
         tensor<1xi1>) -> tensor<1x4x16xbf16>
  return
}

// -----

func.func @memory_attention_append_value_shape(%q: tensor<1x4x16xbf16>,
    %tk: tensor<3x2x16xbf16>, %tv: tensor<3x2x16xbf16>, %k: tensor<4x2x16xbf16>,
    %v: tensor<4x2x16xbf16>, %valid: tensor<4xi1>, %ak: tensor<1x2x16xbf16>,
    %av: tensor<2x2x16xbf16>, %avalid: tensor<1xi1>) {
  // expected-error @below {{'msa.memory_attention' op expected append value shape [1, 2, 16] (the append key's), got [2, 2, 16]}}
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid)
      append(%ak, %av, %avalid) causal = block
      : (tensor<1x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<4x2x16xbf16>,
         tensor<4x2x16xbf16>, tensor<4xi1>, tensor<1x2x16xbf16>, tensor<2x2x16xbf16>,
         tensor<1xi1>) -> tensor<1x4x16xbf16>
  return
}

// -----

func.func @memory_attention_append_key_element_type(%q: tensor<1x4x16xbf16>,
    %tk: tensor<3x2x16xbf16>, %tv: tensor<3x2x16xbf16>, %k: tensor<4x2x16xbf16>,
    %v: tensor<4x2x16xbf16>, %valid: tensor<4xi1>, %ak: tensor<1x2x16xf16>,
    %av: tensor<1x2x16xf16>, %avalid: tensor<1xi1>) {
  // expected-error @below {{'msa.memory_attention' op expected append key element type 'bf16' (the query's), got 'f16'}}
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid)
      append(%ak, %av, %avalid) causal = block
      : (tensor<1x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<4x2x16xbf16>,
         tensor<4x2x16xbf16>, tensor<4xi1>, tensor<1x2x16xf16>, tensor<1x2x16xf16>,
         tensor<1xi1>) -> tensor<1x4x16xbf16>
  return
}

// -----

func.func @memory_attention_append_valid_length(%q: tensor<1x4x16xbf16>,
    %tk: tensor<3x2x16xbf16>, %tv: tensor<3x2x16xbf16>, %k: tensor<4x2x16xbf16>,
    %v: tensor<4x2x16xbf16>, %valid: tensor<4xi1>, %ak: tensor<1x2x16xbf16>,
    %av: tensor<1x2x16xbf16>, %avalid: tensor<2xi1>) {
  // expected-error @below {{'msa.memory_attention' op expected append_valid of length 1 (the appended tokens), got 2}}
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid)
      append(%ak, %av, %avalid) causal = block
      : (tensor<1x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<4x2x16xbf16>,
         tensor<4x2x16xbf16>, tensor<4xi1>, tensor<1x2x16xbf16>, tensor<1x2x16xbf16>,
         tensor<2xi1>) -> tensor<1x4x16xbf16>
  return
}

// -----

func.func @memory_attention_too_many_queries(%q: tensor<6x4x16xbf16>,
    %tk: tensor<3x2x16xbf16>, %tv: tensor<3x2x16xbf16>, %k: tensor<5x2x16xbf16>,
    %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>) {
  // expected-error @below {{'msa.memory_attention' op expected at most 5 query tokens (the local tokens), got 6}}
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid) causal = bottom_right
      : (tensor<6x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<6x4x16xbf16>
  return
}

// -----

// Appended tokens count as local tokens: 4 cached + 1 new < 6 queries.
func.func @memory_attention_too_many_queries_with_append(%q: tensor<6x4x16xbf16>,
    %tk: tensor<3x2x16xbf16>, %tv: tensor<3x2x16xbf16>, %k: tensor<4x2x16xbf16>,
    %v: tensor<4x2x16xbf16>, %valid: tensor<4xi1>, %ak: tensor<1x2x16xbf16>,
    %av: tensor<1x2x16xbf16>, %avalid: tensor<1xi1>) {
  // expected-error @below {{'msa.memory_attention' op expected at most 5 query tokens (the local tokens), got 6}}
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid)
      append(%ak, %av, %avalid) causal = block
      : (tensor<6x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<4x2x16xbf16>,
         tensor<4x2x16xbf16>, tensor<4xi1>, tensor<1x2x16xbf16>, tensor<1x2x16xbf16>,
         tensor<1xi1>) -> tensor<6x4x16xbf16>
  return
}

// -----

func.func @memory_attention_positions_without_theta(%q: tensor<5x4x16xbf16>,
    %tk: tensor<3x2x16xbf16>, %tv: tensor<3x2x16xbf16>, %k: tensor<5x2x16xbf16>,
    %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>, %start: tensor<i32>) {
  // expected-error @below {{'msa.memory_attention' op expected positions exactly with rope_theta}}
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid) rope(%start)
      causal = bottom_right {template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>, tensor<i32>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @memory_attention_theta_without_positions(%q: tensor<5x4x16xbf16>,
    %tk: tensor<3x2x16xbf16>, %tv: tensor<3x2x16xbf16>, %k: tensor<5x2x16xbf16>,
    %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>) {
  // expected-error @below {{'msa.memory_attention' op expected positions exactly with rope_theta}}
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid) causal = bottom_right
      {rope_theta = 1.0e+04 : f64, template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @memory_attention_positions_rank(%q: tensor<5x4x16xbf16>,
    %tk: tensor<3x2x16xbf16>, %tv: tensor<3x2x16xbf16>, %k: tensor<5x2x16xbf16>,
    %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>, %pos: tensor<5x1xi32>) {
  // expected-error @below {{'msa.memory_attention' op expected rank-0 or rank-1 positions, got rank 2}}
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid) rope(%pos)
      causal = bottom_right {rope_theta = 1.0e+04 : f64, template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>, tensor<5x1xi32>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @memory_attention_positions_length(%q: tensor<5x4x16xbf16>,
    %tk: tensor<3x2x16xbf16>, %tv: tensor<3x2x16xbf16>, %k: tensor<5x2x16xbf16>,
    %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>, %pos: tensor<4xi32>) {
  // expected-error @below {{'msa.memory_attention' op expected 5 positions (one per query token), got 4}}
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid) rope(%pos)
      causal = bottom_right {rope_theta = 1.0e+04 : f64, template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>, tensor<4xi32>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @memory_attention_rope_without_k_cfg(%q: tensor<5x4x16xbf16>,
    %tk: tensor<3x2x16xbf16>, %tv: tensor<3x2x16xbf16>, %k: tensor<5x2x16xbf16>,
    %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>, %start: tensor<i32>) {
  // expected-error @below {{'msa.memory_attention' op expected template_len and k_cfg with rope}}
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid) rope(%start)
      causal = bottom_right {rope_theta = 1.0e+04 : f64, template_len = 3 : i64}
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>, tensor<i32>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @memory_attention_rope_theta(%q: tensor<5x4x16xbf16>,
    %tk: tensor<3x2x16xbf16>, %tv: tensor<3x2x16xbf16>, %k: tensor<5x2x16xbf16>,
    %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>, %start: tensor<i32>) {
  // expected-error @below {{'msa.memory_attention' op expected rope_theta to be positive, got -1.000000e+04}}
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid) rope(%start)
      causal = bottom_right {rope_theta = -1.0e+04 : f64, template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>, tensor<i32>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @memory_attention_rope_odd_head_dim(%q: tensor<5x4x15xbf16>,
    %tk: tensor<3x2x15xbf16>, %tv: tensor<3x2x15xbf16>, %k: tensor<5x2x15xbf16>,
    %v: tensor<5x2x15xbf16>, %valid: tensor<5xi1>, %start: tensor<i32>) {
  // expected-error @below {{'msa.memory_attention' op expected an even head dim for RoPE, got 15}}
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid) rope(%start)
      causal = bottom_right {rope_theta = 1.0e+04 : f64, template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<5x4x15xbf16>, tensor<3x2x15xbf16>, tensor<3x2x15xbf16>, tensor<5x2x15xbf16>,
         tensor<5x2x15xbf16>, tensor<5xi1>, tensor<i32>) -> tensor<5x4x15xbf16>
  return
}

// -----

func.func @memory_attention_scale(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>,
    %valid: tensor<5xi1>) {
  // expected-error @below {{'msa.memory_attention' op expected scale to be positive, got 0.000000e+00}}
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid) causal = bottom_right
      {scale = 0.0 : f64}
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @memory_attention_template_element_type(%q: tensor<5x4x16xbf16>,
    %tk: tensor<3x2x16xf32>, %tv: tensor<3x2x16xf32>, %k: tensor<5x2x16xbf16>,
    %v: tensor<5x2x16xbf16>, %valid: tensor<5xi1>) {
  // expected-error @below {{'msa.memory_attention' op expected template key element type 'bf16' (the query's), got 'f32'}}
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xf32>, tensor<3x2x16xf32>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @memory_attention_memory_element_type(%q: tensor<5x4x16xbf16>,
    %tk: tensor<3x2x16xbf16>, %tv: tensor<3x2x16xbf16>, %bk: tensor<2x?x16xf16>,
    %bv: tensor<2x?x16xf16>, %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>,
    %valid: tensor<5xi1>) {
  // expected-error @below {{'msa.memory_attention' op expected memory key element type 'bf16' (the query's), got 'f16'}}
  %o = msa.memory_attention %q, template(%tk, %tv) memory(%bk, %bv) local(%k, %v, %valid)
      causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<2x?x16xf16>,
         tensor<2x?x16xf16>, tensor<5x2x16xbf16>, tensor<5x2x16xbf16>, tensor<5xi1>)
      -> tensor<5x4x16xbf16>
  return
}

// -----

func.func @memory_attention_result_shape(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>,
    %valid: tensor<5xi1>) {
  // expected-error @below {{'msa.memory_attention' op expected result shape [5, 4, 16] (the query's), got [5, 2, 16]}}
  %o = msa.memory_attention %q, template(%tk, %tv) local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5x2x16xbf16>, tensor<5xi1>) -> tensor<5x2x16xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// msa.dispatch
//===----------------------------------------------------------------------===//

func.func @dispatch_missing_callee(%x: tensor<?x64xbf16>) -> tensor<?x64xbf16> {
  // expected-error @below {{'msa.dispatch' op expected 'k0_missing' to be a kernel function}}
  %y = msa.dispatch @k0_missing(%x) : (tensor<?x64xbf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}

// -----

func.func @dispatch_not_a_kernel(%x: tensor<?x64xbf16>) -> tensor<?x64xbf16> {
  // expected-error @below {{'msa.dispatch' op expected 'k0_plain' to carry the msa.kernel attribute}}
  %y = msa.dispatch @k0_plain(%x) : (tensor<?x64xbf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}
func.func @k0_plain(%x: memref<?x64xbf16>, %y: memref<?x64xbf16>, %begin: index,
    %end: index) {
  return
}

// -----

// The work range is missing from the kernel's arguments.
func.func @dispatch_argument_count(%x: tensor<?x64xbf16>) -> tensor<?x64xbf16> {
  // expected-error @below {{'msa.dispatch' op expected kernel 'k0_short' to take 4 arguments (operands, results, work range), got 2}}
  %y = msa.dispatch @k0_short(%x) : (tensor<?x64xbf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}
func.func @k0_short(%x: memref<?x64xbf16>, %y: memref<?x64xbf16>) attributes {msa.kernel} {
  return
}

// -----

func.func @dispatch_argument_shape(%x: tensor<?x64xbf16>) -> tensor<?x64xbf16> {
  // expected-error @below {{'msa.dispatch' op expected kernel argument 0 of type 'memref<?x64xbf16>', got 'memref<?x32xbf16>'}}
  %y = msa.dispatch @k0_shape(%x) : (tensor<?x64xbf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}
func.func @k0_shape(%x: memref<?x32xbf16>, %y: memref<?x64xbf16>, %begin: index,
    %end: index) attributes {msa.kernel} {
  return
}

// -----

// A result argument that is not a memref at all.
func.func @dispatch_argument_not_memref(%x: tensor<?x64xbf16>) -> tensor<?x64xbf16> {
  // expected-error @below {{'msa.dispatch' op expected kernel argument 1 of type 'memref<?x64xbf16>', got 'tensor<?x64xbf16>'}}
  %y = msa.dispatch @k0_tensor(%x) : (tensor<?x64xbf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}
func.func @k0_tensor(%x: memref<?x64xbf16>, %y: tensor<?x64xbf16>, %begin: index,
    %end: index) attributes {msa.kernel} {
  return
}
