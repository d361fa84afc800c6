// RUN: msa-opt %s | msa-opt | FileCheck %s
// RUN: msa-opt %s -mlir-print-op-generic | msa-opt | FileCheck %s

// Round trip of every msa op in every syntactic variant: optional attributes
// and unit flags present and absent, every enum value, dynamic dims, and the
// three float element types (bf16, f16, f32). Each op line is matched up to
// its first type, so a flag printed that should not be fails the match.

// CHECK-LABEL: func.func @rms_norm(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<9x64xbf16>, %[[W:[^:]+]]: tensor<64xbf16>)
// CHECK:         %[[Y:[^ ,]+]] = msa.rms_norm %[[X]], %[[W]] epsilon = 9.9999999999999995E-7 : (tensor<9x64xbf16>,
// CHECK-SAME:      tensor<64xbf16>) -> tensor<9x64xbf16>
// CHECK:         return %[[Y]] : tensor<9x64xbf16>

func.func @rms_norm(%x: tensor<9x64xbf16>, %w: tensor<64xbf16>) -> tensor<9x64xbf16> {
  %y = msa.rms_norm %x, %w epsilon = 1.0e-06
      : (tensor<9x64xbf16>, tensor<64xbf16>) -> tensor<9x64xbf16>
  return %y : tensor<9x64xbf16>
}

// CHECK-LABEL: func.func @rms_norm_per_head_f32(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<?x4x16xf32>, %[[W:[^:]+]]: tensor<16xf32>)
// CHECK:         %[[Y:[^ ,]+]] = msa.rms_norm %[[X]], %[[W]] epsilon = 1.000000e-05 : (tensor<?x4x16xf32>,
// CHECK-SAME:      tensor<16xf32>) -> tensor<?x4x16xf32>
// CHECK:         return %[[Y]] : tensor<?x4x16xf32>

func.func @rms_norm_per_head_f32(%x: tensor<?x4x16xf32>,
    %w: tensor<16xf32>) -> tensor<?x4x16xf32> {
  %y = msa.rms_norm %x, %w epsilon = 1.0e-05
      : (tensor<?x4x16xf32>, tensor<16xf32>) -> tensor<?x4x16xf32>
  return %y : tensor<?x4x16xf32>
}

// CHECK-LABEL: func.func @rms_norm_rank1_f16(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<64xf16>, %[[W:[^:]+]]: tensor<?xf16>)
// CHECK:         %[[Y:[^ ,]+]] = msa.rms_norm %[[X]], %[[W]] epsilon = 9.9999999999999995E-7 : (tensor<64xf16>,
// CHECK-SAME:      tensor<?xf16>) -> tensor<64xf16>
// CHECK:         return %[[Y]] : tensor<64xf16>

func.func @rms_norm_rank1_f16(%x: tensor<64xf16>, %w: tensor<?xf16>) -> tensor<64xf16> {
  %y = msa.rms_norm %x, %w epsilon = 1.0e-06
      : (tensor<64xf16>, tensor<?xf16>) -> tensor<64xf16>
  return %y : tensor<64xf16>
}

// CHECK-LABEL: func.func @linear(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<7x64xbf16>, %[[W:[^:]+]]: tensor<128x64xbf16>)
// CHECK:         %[[Y:[^ ,]+]] = msa.linear %[[X]], %[[W]] : (tensor<7x64xbf16>,
// CHECK-SAME:      tensor<128x64xbf16>) -> tensor<7x128xbf16>
// CHECK:         return %[[Y]] : tensor<7x128xbf16>

func.func @linear(%x: tensor<7x64xbf16>, %w: tensor<128x64xbf16>) -> tensor<7x128xbf16> {
  %y = msa.linear %x, %w : (tensor<7x64xbf16>, tensor<128x64xbf16>) -> tensor<7x128xbf16>
  return %y : tensor<7x128xbf16>
}

// CHECK-LABEL: func.func @linear_dynamic_f32(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<?x64xf32>, %[[W:[^:]+]]: tensor<?x64xf32>)
// CHECK:         %[[Y:[^ ,]+]] = msa.linear %[[X]], %[[W]] : (tensor<?x64xf32>,
// CHECK-SAME:      tensor<?x64xf32>) -> tensor<?x?xf32>
// CHECK:         return %[[Y]] : tensor<?x?xf32>

func.func @linear_dynamic_f32(%x: tensor<?x64xf32>,
    %w: tensor<?x64xf32>) -> tensor<?x?xf32> {
  %y = msa.linear %x, %w : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}

// CHECK-LABEL: func.func @swiglu(
// CHECK-SAME:    %[[GATE:[^:]+]]: tensor<7x128xbf16>, %[[UP:[^:]+]]: tensor<7x128xbf16>)
// CHECK:         %[[H:[^ ,]+]] = msa.swiglu %[[GATE]], %[[UP]] : (tensor<7x128xbf16>,
// CHECK-SAME:      tensor<7x128xbf16>) -> tensor<7x128xbf16>
// CHECK:         return %[[H]] : tensor<7x128xbf16>

func.func @swiglu(%gate: tensor<7x128xbf16>,
    %up: tensor<7x128xbf16>) -> tensor<7x128xbf16> {
  %h = msa.swiglu %gate, %up
      : (tensor<7x128xbf16>, tensor<7x128xbf16>) -> tensor<7x128xbf16>
  return %h : tensor<7x128xbf16>
}

// CHECK-LABEL: func.func @swiglu_dynamic_f16(
// CHECK-SAME:    %[[GATE:[^:]+]]: tensor<?x128xf16>, %[[UP:[^:]+]]: tensor<?x128xf16>)
// CHECK:         %[[H:[^ ,]+]] = msa.swiglu %[[GATE]], %[[UP]] : (tensor<?x128xf16>,
// CHECK-SAME:      tensor<?x128xf16>) -> tensor<?x128xf16>
// CHECK:         return %[[H]] : tensor<?x128xf16>

func.func @swiglu_dynamic_f16(%gate: tensor<?x128xf16>,
    %up: tensor<?x128xf16>) -> tensor<?x128xf16> {
  %h = msa.swiglu %gate, %up : (tensor<?x128xf16>, tensor<?x128xf16>) -> tensor<?x128xf16>
  return %h : tensor<?x128xf16>
}

// CHECK-LABEL: func.func @embedding(
// CHECK-SAME:    %[[TABLE:[^:]+]]: tensor<512x64xbf16>, %[[IDS:[^:]+]]: tensor<7xi32>)
// CHECK:         %[[X:[^ ,]+]] = msa.embedding %[[TABLE]][%[[IDS]]] : (tensor<512x64xbf16>,
// CHECK-SAME:      tensor<7xi32>) -> tensor<7x64xbf16>
// CHECK:         return %[[X]] : tensor<7x64xbf16>

func.func @embedding(%table: tensor<512x64xbf16>,
    %ids: tensor<7xi32>) -> tensor<7x64xbf16> {
  %x = msa.embedding %table[%ids]
      : (tensor<512x64xbf16>, tensor<7xi32>) -> tensor<7x64xbf16>
  return %x : tensor<7x64xbf16>
}

// CHECK-LABEL: func.func @embedding_dynamic_f32(
// CHECK-SAME:    %[[TABLE:[^:]+]]: tensor<?x64xf32>, %[[IDS:[^:]+]]: tensor<?xi32>)
// CHECK:         %[[X:[^ ,]+]] = msa.embedding %[[TABLE]][%[[IDS]]] : (tensor<?x64xf32>,
// CHECK-SAME:      tensor<?xi32>) -> tensor<?x64xf32>
// CHECK:         return %[[X]] : tensor<?x64xf32>

func.func @embedding_dynamic_f32(%table: tensor<?x64xf32>,
    %ids: tensor<?xi32>) -> tensor<?x64xf32> {
  %x = msa.embedding %table[%ids] : (tensor<?x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
  return %x : tensor<?x64xf32>
}

// CHECK-LABEL: func.func @rope_document(
// CHECK-SAME:    %[[K:[^:]+]]: tensor<9x2x16xbf16>, %[[SEGMENTS:[^:]+]]: tensor<3xi32>)
// CHECK:         %[[ROT:[^ ,]+]] = msa.rope %[[K]], %[[SEGMENTS]] document theta = 1.000000e+04 : (tensor<9x2x16xbf16>,
// CHECK-SAME:      tensor<3xi32>) -> tensor<9x2x16xbf16>
// CHECK:         return %[[ROT]] : tensor<9x2x16xbf16>

func.func @rope_document(%k: tensor<9x2x16xbf16>,
    %segments: tensor<3xi32>) -> tensor<9x2x16xbf16> {
  %rot = msa.rope %k, %segments document theta = 1.0e+04
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<9x2x16xbf16>
  return %rot : tensor<9x2x16xbf16>
}

// CHECK-LABEL: func.func @rope_document_dynamic_f32(
// CHECK-SAME:    %[[K:[^:]+]]: tensor<?x2x?xf32>, %[[SEGMENTS:[^:]+]]: tensor<?xi32>)
// CHECK:         %[[ROT:[^ ,]+]] = msa.rope %[[K]], %[[SEGMENTS]] document theta = 1.000000e+06 : (tensor<?x2x?xf32>,
// CHECK-SAME:      tensor<?xi32>) -> tensor<?x2x?xf32>
// CHECK:         return %[[ROT]] : tensor<?x2x?xf32>

func.func @rope_document_dynamic_f32(%k: tensor<?x2x?xf32>,
    %segments: tensor<?xi32>) -> tensor<?x2x?xf32> {
  %rot = msa.rope %k, %segments document theta = 1.0e+06
      : (tensor<?x2x?xf32>, tensor<?xi32>) -> tensor<?x2x?xf32>
  return %rot : tensor<?x2x?xf32>
}

// CHECK-LABEL: func.func @rope_global_start(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<5x4x16xbf16>, %[[START:[^:]+]]: tensor<i32>)
// CHECK:         %[[ROT:[^ ,]+]] = msa.rope %[[Q]], %[[START]] global theta = 1.000000e+04 {k_cfg = 16 : i64, template_len = 3 : i64} : (tensor<5x4x16xbf16>,
// CHECK-SAME:      tensor<i32>) -> tensor<5x4x16xbf16>
// CHECK:         return %[[ROT]] : tensor<5x4x16xbf16>

func.func @rope_global_start(%q: tensor<5x4x16xbf16>,
    %start: tensor<i32>) -> tensor<5x4x16xbf16> {
  %rot = msa.rope %q, %start global theta = 1.0e+04 {template_len = 3 : i64, k_cfg = 16 : i64}
      : (tensor<5x4x16xbf16>, tensor<i32>) -> tensor<5x4x16xbf16>
  return %rot : tensor<5x4x16xbf16>
}

// CHECK-LABEL: func.func @rope_global_per_token_f16(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<5x4x16xf16>, %[[POS:[^:]+]]: tensor<5xi32>)
// CHECK:         %[[ROT:[^ ,]+]] = msa.rope %[[Q]], %[[POS]] global theta = 1.000000e+04 {k_cfg = 0 : i64, template_len = 0 : i64} : (tensor<5x4x16xf16>,
// CHECK-SAME:      tensor<5xi32>) -> tensor<5x4x16xf16>
// CHECK:         return %[[ROT]] : tensor<5x4x16xf16>

func.func @rope_global_per_token_f16(%q: tensor<5x4x16xf16>,
    %pos: tensor<5xi32>) -> tensor<5x4x16xf16> {
  %rot = msa.rope %q, %pos global theta = 1.0e+04 {template_len = 0 : i64, k_cfg = 0 : i64}
      : (tensor<5x4x16xf16>, tensor<5xi32>) -> tensor<5x4x16xf16>
  return %rot : tensor<5x4x16xf16>
}

// CHECK-LABEL: func.func @doc_attention(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<9x4x16xbf16>, %[[K:[^:]+]]: tensor<9x2x16xbf16>,
// CHECK-SAME:    %[[V:[^:]+]]: tensor<9x2x16xbf16>, %[[SEGMENTS:[^:]+]]: tensor<3xi32>)
// CHECK:         %[[O:[^ ,]+]] = msa.doc_attention %[[Q]], %[[K]], %[[V]], %[[SEGMENTS]] : (tensor<9x4x16xbf16>,
// CHECK-SAME:      tensor<9x2x16xbf16>, tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<9x4x16xbf16>
// CHECK:         return %[[O]] : tensor<9x4x16xbf16>

func.func @doc_attention(%q: tensor<9x4x16xbf16>, %k: tensor<9x2x16xbf16>,
    %v: tensor<9x2x16xbf16>, %segments: tensor<3xi32>) -> tensor<9x4x16xbf16> {
  %o = msa.doc_attention %q, %k, %v, %segments
      : (tensor<9x4x16xbf16>, tensor<9x2x16xbf16>, tensor<9x2x16xbf16>,
         tensor<3xi32>) -> tensor<9x4x16xbf16>
  return %o : tensor<9x4x16xbf16>
}

// CHECK-LABEL: func.func @doc_attention_scale_dynamic_f16(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<?x4x16xf16>, %[[K:[^:]+]]: tensor<?x?x16xf16>,
// CHECK-SAME:    %[[V:[^:]+]]: tensor<?x?x16xf16>, %[[SEGMENTS:[^:]+]]: tensor<?xi32>)
// CHECK:         %[[O:[^ ,]+]] = msa.doc_attention %[[Q]], %[[K]], %[[V]], %[[SEGMENTS]] {scale = 2.500000e-01 : f64} : (tensor<?x4x16xf16>,
// CHECK-SAME:      tensor<?x?x16xf16>, tensor<?x?x16xf16>, tensor<?xi32>) -> tensor<?x4x16xf16>
// CHECK:         return %[[O]] : tensor<?x4x16xf16>

func.func @doc_attention_scale_dynamic_f16(%q: tensor<?x4x16xf16>, %k: tensor<?x?x16xf16>,
    %v: tensor<?x?x16xf16>, %segments: tensor<?xi32>) -> tensor<?x4x16xf16> {
  %o = msa.doc_attention %q, %k, %v, %segments {scale = 2.5e-01 : f64}
      : (tensor<?x4x16xf16>, tensor<?x?x16xf16>, tensor<?x?x16xf16>,
         tensor<?xi32>) -> tensor<?x4x16xf16>
  return %o : tensor<?x4x16xf16>
}

// CHECK-LABEL: func.func @chunk_pool(
// CHECK-SAME:    %[[K:[^:]+]]: tensor<9x2x16xbf16>, %[[SEGMENTS:[^:]+]]: tensor<3xi32>)
// CHECK:         %[[POOL:[^ ,]+]] = msa.chunk_pool %[[K]], %[[SEGMENTS]] chunk_size = 4 : (tensor<9x2x16xbf16>,
// CHECK-SAME:      tensor<3xi32>) -> tensor<2x?x16xbf16>
// CHECK:         return %[[POOL]] : tensor<2x?x16xbf16>

func.func @chunk_pool(%k: tensor<9x2x16xbf16>,
    %segments: tensor<3xi32>) -> tensor<2x?x16xbf16> {
  %pool = msa.chunk_pool %k, %segments chunk_size = 4
      : (tensor<9x2x16xbf16>, tensor<3xi32>) -> tensor<2x?x16xbf16>
  return %pool : tensor<2x?x16xbf16>
}

// CHECK-LABEL: func.func @chunk_pool_normalize_f32(
// CHECK-SAME:    %[[K:[^:]+]]: tensor<?x2x16xf32>, %[[SEGMENTS:[^:]+]]: tensor<?xi32>)
// CHECK:         %[[POOL:[^ ,]+]] = msa.chunk_pool %[[K]], %[[SEGMENTS]] chunk_size = 64 normalize : (tensor<?x2x16xf32>,
// CHECK-SAME:      tensor<?xi32>) -> tensor<2x3x16xf32>
// CHECK:         return %[[POOL]] : tensor<2x3x16xf32>

func.func @chunk_pool_normalize_f32(%k: tensor<?x2x16xf32>,
    %segments: tensor<?xi32>) -> tensor<2x3x16xf32> {
  %pool = msa.chunk_pool %k, %segments chunk_size = 64 normalize
      : (tensor<?x2x16xf32>, tensor<?xi32>) -> tensor<2x3x16xf32>
  return %pool : tensor<2x3x16xf32>
}

// CHECK-LABEL: func.func @chunk_offsets(
// CHECK-SAME:    %[[SEGMENTS:[^:]+]]: tensor<3xi32>)
// CHECK:         %[[COFF:[^ ,]+]] = msa.chunk_offsets %[[SEGMENTS]] chunk_size = 4 : (tensor<3xi32>) -> tensor<3xi32>
// CHECK:         return %[[COFF]] : tensor<3xi32>

func.func @chunk_offsets(%segments: tensor<3xi32>) -> tensor<3xi32> {
  %coff = msa.chunk_offsets %segments chunk_size = 4 : (tensor<3xi32>) -> tensor<3xi32>
  return %coff : tensor<3xi32>
}

// CHECK-LABEL: func.func @chunk_offsets_dynamic(
// CHECK-SAME:    %[[SEGMENTS:[^:]+]]: tensor<?xi32>)
// CHECK:         %[[COFF:[^ ,]+]] = msa.chunk_offsets %[[SEGMENTS]] chunk_size = 64 : (tensor<?xi32>) -> tensor<?xi32>
// CHECK:         return %[[COFF]] : tensor<?xi32>

func.func @chunk_offsets_dynamic(%segments: tensor<?xi32>) -> tensor<?xi32> {
  %coff = msa.chunk_offsets %segments chunk_size = 64 : (tensor<?xi32>) -> tensor<?xi32>
  return %coff : tensor<?xi32>
}

// CHECK-LABEL: func.func @route_scores_reductions(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<5x4x16xbf16>, %[[KEYS:[^:]+]]: tensor<2x?x16xbf16>,
// CHECK-SAME:    %[[MASK:[^:]+]]: tensor<5xi1>)
// CHECK:         %[[S0:[^ ,]+]] = msa.route_scores %[[Q]], %[[KEYS]], %[[MASK]] heads(mean) tokens(max) : (tensor<5x4x16xbf16>,
// CHECK-SAME:      tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
// CHECK:         %[[S1:[^ ,]+]] = msa.route_scores %[[Q]], %[[KEYS]], %[[MASK]] heads(mean) tokens(mean) : (tensor<5x4x16xbf16>,
// CHECK-SAME:      tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
// CHECK:         %[[S2:[^ ,]+]] = msa.route_scores %[[Q]], %[[KEYS]], %[[MASK]] heads(mean) tokens(last) : (tensor<5x4x16xbf16>,
// CHECK-SAME:      tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
// CHECK:         %[[S3:[^ ,]+]] = msa.route_scores %[[Q]], %[[KEYS]], %[[MASK]] heads(max) tokens(max) : (tensor<5x4x16xbf16>,
// CHECK-SAME:      tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
// CHECK:         %[[S4:[^ ,]+]] = msa.route_scores %[[Q]], %[[KEYS]], %[[MASK]] heads(max) tokens(mean) : (tensor<5x4x16xbf16>,
// CHECK-SAME:      tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
// CHECK:         %[[S5:[^ ,]+]] = msa.route_scores %[[Q]], %[[KEYS]], %[[MASK]] heads(max) tokens(last) : (tensor<5x4x16xbf16>,
// CHECK-SAME:      tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
// CHECK:         return

func.func @route_scores_reductions(%q: tensor<5x4x16xbf16>, %keys: tensor<2x?x16xbf16>,
    %mask: tensor<5xi1>) {
  %s0 = msa.route_scores %q, %keys, %mask heads(mean) tokens(max)
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
  %s1 = msa.route_scores %q, %keys, %mask heads(mean) tokens(mean)
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
  %s2 = msa.route_scores %q, %keys, %mask heads(mean) tokens(last)
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
  %s3 = msa.route_scores %q, %keys, %mask heads(max) tokens(max)
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
  %s4 = msa.route_scores %q, %keys, %mask heads(max) tokens(mean)
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
  %s5 = msa.route_scores %q, %keys, %mask heads(max) tokens(last)
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
  return
}

// CHECK-LABEL: func.func @route_scores_flags(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<5x4x16xbf16>, %[[KEYS:[^:]+]]: tensor<2x?x16xbf16>,
// CHECK-SAME:    %[[MASK:[^:]+]]: tensor<5xi1>)
// CHECK:         %[[S0:[^ ,]+]] = msa.route_scores %[[Q]], %[[KEYS]], %[[MASK]] heads(mean) tokens(max) normalize : (tensor<5x4x16xbf16>,
// CHECK-SAME:      tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
// CHECK:         %[[S1:[^ ,]+]] = msa.route_scores %[[Q]], %[[KEYS]], %[[MASK]] heads(mean) tokens(max) scale : (tensor<5x4x16xbf16>,
// CHECK-SAME:      tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
// CHECK:         %[[S2:[^ ,]+]] = msa.route_scores %[[Q]], %[[KEYS]], %[[MASK]] heads(mean) tokens(max) normalize scale : (tensor<5x4x16xbf16>,
// CHECK-SAME:      tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
// CHECK:         return

func.func @route_scores_flags(%q: tensor<5x4x16xbf16>, %keys: tensor<2x?x16xbf16>,
    %mask: tensor<5xi1>) {
  %s0 = msa.route_scores %q, %keys, %mask heads(mean) tokens(max) normalize
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
  %s1 = msa.route_scores %q, %keys, %mask heads(mean) tokens(max) scale
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
  %s2 = msa.route_scores %q, %keys, %mask heads(mean) tokens(max) normalize scale
      : (tensor<5x4x16xbf16>, tensor<2x?x16xbf16>, tensor<5xi1>) -> tensor<?xbf16>
  return
}

// CHECK-LABEL: func.func @route_scores_static_f32(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<?x4x16xf32>, %[[KEYS:[^:]+]]: tensor<1x7x16xf32>,
// CHECK-SAME:    %[[MASK:[^:]+]]: tensor<?xi1>)
// CHECK:         %[[S0:[^ ,]+]] = msa.route_scores %[[Q]], %[[KEYS]], %[[MASK]] heads(max) tokens(last) normalize scale : (tensor<?x4x16xf32>,
// CHECK-SAME:      tensor<1x7x16xf32>, tensor<?xi1>) -> tensor<7xf32>
// CHECK:         return %[[S0]] : tensor<7xf32>

func.func @route_scores_static_f32(%q: tensor<?x4x16xf32>, %keys: tensor<1x7x16xf32>,
    %mask: tensor<?xi1>) -> tensor<7xf32> {
  %s0 = msa.route_scores %q, %keys, %mask heads(max) tokens(last) normalize scale
      : (tensor<?x4x16xf32>, tensor<1x7x16xf32>, tensor<?xi1>) -> tensor<7xf32>
  return %s0 : tensor<7xf32>
}

// CHECK-LABEL: func.func @doc_reduce(
// CHECK-SAME:    %[[S:[^:]+]]: tensor<?xbf16>, %[[COFF:[^:]+]]: tensor<3xi32>)
// CHECK:         %[[DMAX:[^ ,]+]] = msa.doc_reduce %[[S]], %[[COFF]] chunks(max) : (tensor<?xbf16>,
// CHECK-SAME:      tensor<3xi32>) -> tensor<2xbf16>
// CHECK:         %[[DMEAN:[^ ,]+]] = msa.doc_reduce %[[S]], %[[COFF]] chunks(mean) : (tensor<?xbf16>,
// CHECK-SAME:      tensor<3xi32>) -> tensor<2xbf16>
// CHECK:         return %[[DMAX]], %[[DMEAN]] : tensor<2xbf16>, tensor<2xbf16>

func.func @doc_reduce(%s: tensor<?xbf16>,
    %coff: tensor<3xi32>) -> (tensor<2xbf16>, tensor<2xbf16>) {
  %dmax = msa.doc_reduce %s, %coff chunks(max)
      : (tensor<?xbf16>, tensor<3xi32>) -> tensor<2xbf16>
  %dmean = msa.doc_reduce %s, %coff chunks(mean)
      : (tensor<?xbf16>, tensor<3xi32>) -> tensor<2xbf16>
  return %dmax, %dmean : tensor<2xbf16>, tensor<2xbf16>
}

// CHECK-LABEL: func.func @doc_reduce_dynamic_f16(
// CHECK-SAME:    %[[S:[^:]+]]: tensor<?xf16>, %[[COFF:[^:]+]]: tensor<?xi32>)
// CHECK:         %[[DMEAN:[^ ,]+]] = msa.doc_reduce %[[S]], %[[COFF]] chunks(mean) : (tensor<?xf16>,
// CHECK-SAME:      tensor<?xi32>) -> tensor<?xf16>
// CHECK:         return %[[DMEAN]] : tensor<?xf16>

func.func @doc_reduce_dynamic_f16(%s: tensor<?xf16>,
    %coff: tensor<?xi32>) -> tensor<?xf16> {
  %dmean = msa.doc_reduce %s, %coff chunks(mean)
      : (tensor<?xf16>, tensor<?xi32>) -> tensor<?xf16>
  return %dmean : tensor<?xf16>
}

// CHECK-LABEL: func.func @topk(
// CHECK-SAME:    %[[D:[^:]+]]: tensor<?xbf16>)
// CHECK:         %[[IDX:[^ ,]+]], %[[N:[^ ,]+]] = msa.topk %[[D]] k = 2 : (tensor<?xbf16>) -> (tensor<2xi32>, tensor<i32>)
// CHECK:         return %[[IDX]], %[[N]] : tensor<2xi32>, tensor<i32>

func.func @topk(%d: tensor<?xbf16>) -> (tensor<2xi32>, tensor<i32>) {
  %idx, %n = msa.topk %d k = 2 : (tensor<?xbf16>) -> (tensor<2xi32>, tensor<i32>)
  return %idx, %n : tensor<2xi32>, tensor<i32>
}

// CHECK-LABEL: func.func @topk_f32(
// CHECK-SAME:    %[[D:[^:]+]]: tensor<8xf32>)
// CHECK:         %[[IDX:[^ ,]+]], %[[N:[^ ,]+]] = msa.topk %[[D]] k = 16 : (tensor<8xf32>) -> (tensor<?xi32>, tensor<i32>)
// CHECK:         return %[[IDX]], %[[N]] : tensor<?xi32>, tensor<i32>

func.func @topk_f32(%d: tensor<8xf32>) -> (tensor<?xi32>, tensor<i32>) {
  %idx, %n = msa.topk %d k = 16 : (tensor<8xf32>) -> (tensor<?xi32>, tensor<i32>)
  return %idx, %n : tensor<?xi32>, tensor<i32>
}

// CHECK-LABEL: func.func @gather_chunks(
// CHECK-SAME:    %[[KBAR:[^:]+]]: tensor<2x?x16xbf16>, %[[IDX:[^:]+]]: tensor<2xi32>,
// CHECK-SAME:    %[[N:[^:]+]]: tensor<i32>, %[[COFF:[^:]+]]: tensor<3xi32>)
// CHECK:         %[[KC:[^ ,]+]] = msa.gather_chunks %[[KBAR]][%[[IDX]], %[[N]]], %[[COFF]] : (tensor<2x?x16xbf16>,
// CHECK-SAME:      tensor<2xi32>, tensor<i32>, tensor<3xi32>) -> tensor<2x?x16xbf16>
// CHECK:         return %[[KC]] : tensor<2x?x16xbf16>

func.func @gather_chunks(%kbar: tensor<2x?x16xbf16>, %idx: tensor<2xi32>, %n: tensor<i32>,
    %coff: tensor<3xi32>) -> tensor<2x?x16xbf16> {
  %kc = msa.gather_chunks %kbar[%idx, %n], %coff
      : (tensor<2x?x16xbf16>, tensor<2xi32>, tensor<i32>,
         tensor<3xi32>) -> tensor<2x?x16xbf16>
  return %kc : tensor<2x?x16xbf16>
}

// CHECK-LABEL: func.func @gather_chunks_f32(
// CHECK-SAME:    %[[KBAR:[^:]+]]: tensor<?x?x?xf32>, %[[IDX:[^:]+]]: tensor<?xi32>,
// CHECK-SAME:    %[[N:[^:]+]]: tensor<i32>, %[[COFF:[^:]+]]: tensor<?xi32>)
// CHECK:         %[[KC:[^ ,]+]] = msa.gather_chunks %[[KBAR]][%[[IDX]], %[[N]]], %[[COFF]] : (tensor<?x?x?xf32>,
// CHECK-SAME:      tensor<?xi32>, tensor<i32>, tensor<?xi32>) -> tensor<4x6x8xf32>
// CHECK:         return %[[KC]] : tensor<4x6x8xf32>

func.func @gather_chunks_f32(%kbar: tensor<?x?x?xf32>, %idx: tensor<?xi32>, %n: tensor<i32>,
    %coff: tensor<?xi32>) -> tensor<4x6x8xf32> {
  %kc = msa.gather_chunks %kbar[%idx, %n], %coff
      : (tensor<?x?x?xf32>, tensor<?xi32>, tensor<i32>, tensor<?xi32>) -> tensor<4x6x8xf32>
  return %kc : tensor<4x6x8xf32>
}

// CHECK-LABEL: func.func @sparse_attention_memory(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<5x4x16xbf16>, %[[TK:[^:]+]]: tensor<3x2x16xbf16>,
// CHECK-SAME:    %[[TV:[^:]+]]: tensor<3x2x16xbf16>, %[[MK:[^:]+]]: tensor<2x?x16xbf16>,
// CHECK-SAME:    %[[MV:[^:]+]]: tensor<2x?x16xbf16>, %[[K:[^:]+]]: tensor<5x2x16xbf16>,
// CHECK-SAME:    %[[V:[^:]+]]: tensor<5x2x16xbf16>, %[[VALID:[^:]+]]: tensor<5xi1>)
// CHECK:         %[[O:[^ ,]+]] = msa.sparse_attention %[[Q]], template(%[[TK]], %[[TV]]) memory(%[[MK]], %[[MV]]) local(%[[K]], %[[V]], %[[VALID]]) causal = bottom_right : (tensor<5x4x16xbf16>,
// CHECK-SAME:      tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<2x?x16xbf16>,
// CHECK-SAME:      tensor<2x?x16xbf16>, tensor<5x2x16xbf16>, tensor<5x2x16xbf16>,
// CHECK-SAME:      tensor<5xi1>) -> tensor<5x4x16xbf16>
// CHECK:         return %[[O]] : tensor<5x4x16xbf16>

func.func @sparse_attention_memory(%q: tensor<5x4x16xbf16>, %tk: tensor<3x2x16xbf16>,
    %tv: tensor<3x2x16xbf16>, %mk: tensor<2x?x16xbf16>, %mv: tensor<2x?x16xbf16>,
    %k: tensor<5x2x16xbf16>, %v: tensor<5x2x16xbf16>,
    %valid: tensor<5xi1>) -> tensor<5x4x16xbf16> {
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = bottom_right
      : (tensor<5x4x16xbf16>, tensor<3x2x16xbf16>, tensor<3x2x16xbf16>, tensor<2x?x16xbf16>,
         tensor<2x?x16xbf16>, tensor<5x2x16xbf16>, tensor<5x2x16xbf16>,
         tensor<5xi1>) -> tensor<5x4x16xbf16>
  return %o : tensor<5x4x16xbf16>
}

// CHECK-LABEL: func.func @sparse_attention_no_memory_block(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<1x4x16xf16>, %[[TK:[^:]+]]: tensor<3x2x16xf16>,
// CHECK-SAME:    %[[TV:[^:]+]]: tensor<3x2x16xf16>, %[[K:[^:]+]]: tensor<8x2x16xf16>,
// CHECK-SAME:    %[[V:[^:]+]]: tensor<8x2x16xf16>, %[[VALID:[^:]+]]: tensor<8xi1>)
// CHECK:         %[[O:[^ ,]+]] = msa.sparse_attention %[[Q]], template(%[[TK]], %[[TV]]) local(%[[K]], %[[V]], %[[VALID]]) causal = block : (tensor<1x4x16xf16>,
// CHECK-SAME:      tensor<3x2x16xf16>, tensor<3x2x16xf16>, tensor<8x2x16xf16>, tensor<8x2x16xf16>,
// CHECK-SAME:      tensor<8xi1>) -> tensor<1x4x16xf16>
// CHECK:         return %[[O]] : tensor<1x4x16xf16>

func.func @sparse_attention_no_memory_block(%q: tensor<1x4x16xf16>, %tk: tensor<3x2x16xf16>,
    %tv: tensor<3x2x16xf16>, %k: tensor<8x2x16xf16>, %v: tensor<8x2x16xf16>,
    %valid: tensor<8xi1>) -> tensor<1x4x16xf16> {
  %o = msa.sparse_attention %q, template(%tk, %tv) local(%k, %v, %valid) causal = block
      : (tensor<1x4x16xf16>, tensor<3x2x16xf16>, tensor<3x2x16xf16>, tensor<8x2x16xf16>,
         tensor<8x2x16xf16>, tensor<8xi1>) -> tensor<1x4x16xf16>
  return %o : tensor<1x4x16xf16>
}

// CHECK-LABEL: func.func @sparse_attention_scale_dynamic_f32(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<?x4x?xf32>, %[[TK:[^:]+]]: tensor<?x2x?xf32>,
// CHECK-SAME:    %[[TV:[^:]+]]: tensor<?x2x?xf32>, %[[MK:[^:]+]]: tensor<2x?x?xf32>,
// CHECK-SAME:    %[[MV:[^:]+]]: tensor<2x?x?xf32>, %[[K:[^:]+]]: tensor<?x2x?xf32>,
// CHECK-SAME:    %[[V:[^:]+]]: tensor<?x2x?xf32>, %[[VALID:[^:]+]]: tensor<?xi1>)
// CHECK:         %[[O:[^ ,]+]] = msa.sparse_attention %[[Q]], template(%[[TK]], %[[TV]]) memory(%[[MK]], %[[MV]]) local(%[[K]], %[[V]], %[[VALID]]) causal = block {scale = 1.250000e-01 : f64} : (tensor<?x4x?xf32>,
// CHECK-SAME:      tensor<?x2x?xf32>, tensor<?x2x?xf32>, tensor<2x?x?xf32>, tensor<2x?x?xf32>,
// CHECK-SAME:      tensor<?x2x?xf32>, tensor<?x2x?xf32>, tensor<?xi1>) -> tensor<?x4x?xf32>
// CHECK:         return %[[O]] : tensor<?x4x?xf32>

func.func @sparse_attention_scale_dynamic_f32(%q: tensor<?x4x?xf32>, %tk: tensor<?x2x?xf32>,
    %tv: tensor<?x2x?xf32>, %mk: tensor<2x?x?xf32>, %mv: tensor<2x?x?xf32>,
    %k: tensor<?x2x?xf32>, %v: tensor<?x2x?xf32>,
    %valid: tensor<?xi1>) -> tensor<?x4x?xf32> {
  %o = msa.sparse_attention %q, template(%tk, %tv) memory(%mk, %mv)
      local(%k, %v, %valid) causal = block {scale = 1.250000e-01 : f64}
      : (tensor<?x4x?xf32>, tensor<?x2x?xf32>, tensor<?x2x?xf32>, tensor<2x?x?xf32>,
         tensor<2x?x?xf32>, tensor<?x2x?xf32>, tensor<?x2x?xf32>,
         tensor<?xi1>) -> tensor<?x4x?xf32>
  return %o : tensor<?x4x?xf32>
}
