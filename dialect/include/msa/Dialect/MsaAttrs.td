//===- MsaAttrs.td - enums and attributes of the msa dialect -*- tablegen -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Every MSA variant of msa-semantics.md §1.3 and §4.3 is an attribute, so a
// researcher switches variants by editing IR, not code.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_DIALECT_MSAATTRS_TD
#define MSA_DIALECT_MSAATTRS_TD

include "msa/Dialect/MsaBase.td"
include "mlir/IR/EnumAttr.td"

def Msa_RopeMode : I32EnumAttr<"RopeMode", "how RoPE positions are formed", [
    I32EnumAttrCase<"Document", 0, "document">,
    I32EnumAttrCase<"Global", 1, "global">]> {
  let cppNamespace = "::msa";
  let description = [{
    `document`: positions restart at 0 in every segment (stage-1 document-wise
    RoPE, spec §3.1). `global`: positions start at `template_len + k_cfg`
    (spec §6).
  }];
}

def Msa_HeadReduce : I32EnumAttr<"HeadReduce", "reduction over query heads", [
    I32EnumAttrCase<"Mean", 0, "mean">,
    I32EnumAttrCase<"Max", 1, "max">]> {
  let cppNamespace = "::msa";
}

def Msa_QueryReduce : I32EnumAttr<"QueryReduce",
    "reduction over routing-query tokens", [
    I32EnumAttrCase<"Max", 0, "max">,
    I32EnumAttrCase<"Mean", 1, "mean">,
    I32EnumAttrCase<"Last", 2, "last">]> {
  let cppNamespace = "::msa";
}

def Msa_ChunkReduce : I32EnumAttr<"ChunkReduce",
    "reduction of chunk scores to a document score", [
    I32EnumAttrCase<"Max", 0, "max">,
    I32EnumAttrCase<"Mean", 1, "mean">]> {
  let cppNamespace = "::msa";
}

def Msa_CausalMode : I32EnumAttr<"CausalMode",
    "mask among the local (non-memory) keys", [
    I32EnumAttrCase<"BottomRight", 0, "bottom_right">,
    I32EnumAttrCase<"Block", 1, "block">]> {
  let cppNamespace = "::msa";
  let description = [{
    `bottom_right`: query `i` of `T` sees local key `j` iff
    `j <= L - T + i` (stage-2 prefill, spec §4.2). `block`: every query sees
    every valid local key, the new block included (decode, spec §5).
  }];
}

#endif // MSA_DIALECT_MSAATTRS_TD
