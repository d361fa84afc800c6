//===- MemoryAttention.h - the key ranges of msa.memory_attention -*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// What the cpu and cuda lowerings of msa.memory_attention share: the
// kernel's memref arguments by role, and the order and bounds of the key
// ranges one query attends to (spec §4.2, §4.5, §5): the template, the
// memory chunks (the selected documents' chunks read in place, or every
// chunk), the valid local keys and the appended ones, bottom-right causal
// over local and appended together unless a block step. How one range is
// attended (vectors on the cpu, a warp on the GPU) is the caller's.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_CODEGEN_COMMON_MEMORYATTENTION_H
#define MSA_CODEGEN_COMMON_MEMORYATTENTION_H

#include "common/EmitUtils.h"

#include "msa/Dialect/MsaOps.h"

#include <functional>

namespace msa::codegen {

/// The memref arguments of a memory_attention kernel by role; absent
/// groups are null.
struct MemoryAttentionArgs {
  mlir::Value q, templateKey, templateValue;
  mlir::Value memoryKey, memoryValue;      ///< [kv_heads, chunks, d]
  mlir::Value chunkOffsets, indices, count; ///< the selection
  mlir::Value localKey, localValue, localValid;
  mlir::Value appendKey, appendValue, appendValid;
  mlir::Value positions; ///< the RoPE prologue's

  static MemoryAttentionArgs of(MemoryAttentionOp op,
                                llvm::ArrayRef<mlir::Value> operands);
};

/// Where key j's vector starts: its memref's index prefix (all but the
/// head dim). Values are addressed the same way.
using KeyLocator = std::function<llvm::SmallVector<mlir::Value>(mlir::Value)>;
/// Whether key j is attended (i1); null: every key of the range.
using KeyFilter = std::function<mlir::Value(mlir::Value)>;
/// Attends keys [lo, hi) of `keys`/`values`, carrying the online-softmax
/// state.
using AttendRange = std::function<llvm::SmallVector<mlir::Value>(
    mlir::ValueRange state, mlir::Value lo, mlir::Value hi, mlir::Value keys,
    const KeyLocator &keyAt, mlir::Value values, const KeyLocator &valueAt,
    const KeyFilter &filter)>;

/// Which of the selected documents one of several workers sharing a query
/// takes: selections part, part + parts, ... (each worker walks its
/// documents' chunk ranges whole). Default: all of them.
struct DocumentSplit {
  mlir::Value part;
  int64_t parts = 1;
};

/// Attends query token `t` (of `tokens`) of KV head `g` to every key
/// range of the kernel in order, through `range`, from `state`.
llvm::SmallVector<mlir::Value>
attendMemoryRanges(Emitter &e, const MemoryAttentionArgs &a, bool blockStep,
                   mlir::Value t, mlir::Value tokens, mlir::Value g,
                   mlir::ValueRange state, const AttendRange &range,
                   const DocumentSplit &docs = {});

/// attendMemoryRanges from `att.initial()` through `att.range(...)`: the
/// online softmax of the cpu and cuda lowerings.
template <typename Attention>
llvm::SmallVector<mlir::Value>
attendMemoryRanges(Emitter &e, const MemoryAttentionArgs &a, bool blockStep,
                   mlir::Value t, mlir::Value tokens, mlir::Value g,
                   Attention &att, const DocumentSplit &docs = {}) {
  return attendMemoryRanges(
      e, a, blockStep, t, tokens, g, att.initial(),
      [&](mlir::ValueRange state, mlir::Value lo, mlir::Value hi,
          mlir::Value keys, const KeyLocator &keyAt, mlir::Value values,
          const KeyLocator &valueAt, const KeyFilter &filter) {
        return att.range(state, lo, hi, keys, keyAt, values, valueAt, filter);
      },
      docs);
}

} // namespace msa::codegen

#endif // MSA_CODEGEN_COMMON_MEMORYATTENTION_H
