//===- MsaBase.td - the msa dialect and its base classes ---*- tablegen -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_DIALECT_MSABASE_TD
#define MSA_DIALECT_MSABASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Msa_Dialect : Dialect {
  let name = "msa";
  let cppNamespace = "::msa";
  let summary = "Memory Sparse Attention: graph-level ops of MSA models";
  let description = [{
    The `msa` dialect models EverMind's Memory Sparse Attention (MSA) language
    models: document-wise encoding with chunk mean pooling, router scoring and
    top-k document selection, and sparse attention over a template prefix,
    the selected memory chunks and the local context.

    The graph level works on ranked tensors. Conventions, shared by every op:
    - Activations and caches are token-major `[tokens, heads, head_dim]`.
    - Pooled memory (a bank) is head-major `[kv_heads, chunks, head_dim]`, the
      layout that lets routing stream each KV head's keys contiguously.
    - Grouped-query attention pairs query head `h` with KV head
      `h / (query_heads / kv_heads)`.
    - Packed sequences are described by `segments`: an `i32` tensor of
      `S + 1` ascending token offsets; segment `s` covers
      `[segments[s], segments[s + 1])`.

    The math of every op is fixed by `msa-semantics.md`; the section that
    defines an op is named in its description.
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
  let hasConstantMaterializer = 1;
}

class Msa_Op<string mnemonic, list<Trait> traits = []>
    : Op<Msa_Dialect, mnemonic, traits>;


//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

/// Element types MSA activations, weights and scores may have.
def Msa_Float : AnyTypeOf<[BF16, F16, F32], "bf16, f16 or f32">;

def Msa_FloatTensor : RankedTensorOf<[Msa_Float]>;
def Msa_Float1D : TensorRankOf<[Msa_Float], [1]>;
def Msa_Float2D : TensorRankOf<[Msa_Float], [2]>;
def Msa_Float3D : TensorRankOf<[Msa_Float], [3]>;

def Msa_I32Tensor : RankedTensorOf<[I32]>;
def Msa_I32Scalar : TensorRankOf<[I32], [0]>;
def Msa_I32Vector : TensorRankOf<[I32], [1]>;
def Msa_Mask : TensorRankOf<[I1], [1]>;

#endif // MSA_DIALECT_MSABASE_TD
