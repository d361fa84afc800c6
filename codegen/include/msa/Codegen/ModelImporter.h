//===- ModelImporter.h - MSA graph IR from a model config -------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Writes the graph-level msa IR of a whole Qwen3 + MSA model, one entry
// function per inference stage (msa-semantics.md §8.1), with the
// checkpoint's tensors as arguments named by `msa.weight`:
//
//   encode_template(tokens[T])            -> rotated keys and values of
//                                             every layer (the template head)
//   encode_block(tokens[T], segments[S])  -> pooled K̄, V̄ (and K̄ᴿ) of every
//                                             router layer, chunks C
//   route_prefill(tokens[Q], routing[Q], valid[Q], start, template KV,
//                 bank, chunk offsets)    -> logits of the last token, the
//                                             selection of every router
//                                             layer, every layer's new KV
//   prefill_head(tokens[N], valid[N], start, template KV, KV cache[P] of
//                the layers below the first router layer)
//                                          -> those layers' KV of the new
//                                             tokens, their hidden states
//                                             entering the first router
//                                             layer
//   prefill_tail(router_input[Q], routing[Q], valid[Q], start,
//                template KV, bank)        -> route_prefill's outputs of
//                                             the layers from the first
//                                             router layer on
//   decode_step(tokens[M], valid[M], positions[M], template KV, bank,
//               selections, KV cache[L])  -> logits of the last token and
//                                             every layer's new KV
//
// route_prefill and decode_step also output router_input, the hidden
// states entering the first router layer: prefill_head and prefill_tail
// split route_prefill there so that a later Memory Interleave call reuses
// a shared prefix's work below it (docs/interleave-reuse.md).
//
// Segment 0 of encode_block is the template head; the others are
// documents. The bank holds the pooled tensors of encode_block.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_CODEGEN_MODELIMPORTER_H
#define MSA_CODEGEN_MODELIMPORTER_H

#include "msa/runtime/ModelConfig.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace msa::codegen {

/// The graph IR of `config`; `templateLen` is the number of tokens of the
/// template head `<|im_start|>user\n` under the model's tokenizer.
mlir::OwningOpRef<mlir::ModuleOp>
importModel(mlir::MLIRContext *context, const runtime::ModelConfig &config,
            int64_t templateLen);

} // namespace msa::codegen

#endif // MSA_CODEGEN_MODELIMPORTER_H
