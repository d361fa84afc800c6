//===- MemoryAttention.cpp - the key ranges of msa.memory_attention -------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "common/MemoryAttention.h"

using namespace mlir;

namespace msa::codegen {

MemoryAttentionArgs MemoryAttentionArgs::of(MemoryAttentionOp op,
                                            ArrayRef<Value> operands) {
  MemoryAttentionArgs a;
  unsigned i = 0;
  a.q = operands[i++];
  a.templateKey = operands[i++];
  a.templateValue = operands[i++];
  if (op.getMemoryKey()) {
    a.memoryKey = operands[i++];
    a.memoryValue = operands[i++];
  }
  if (op.getIndices()) {
    a.chunkOffsets = operands[i++];
    a.indices = operands[i++];
    a.count = operands[i++];
  }
  a.localKey = operands[i++];
  a.localValue = operands[i++];
  a.localValid = operands[i++];
  if (op.getAppendKey()) {
    a.appendKey = operands[i++];
    a.appendValue = operands[i++];
    a.appendValid = operands[i++];
  }
  if (op.getPositions())
    a.positions = operands[i++];
  return a;
}

SmallVector<Value> attendMemoryRanges(Emitter &e, const MemoryAttentionArgs &a,
                                      bool blockStep, Value t, Value tokens,
                                      Value g, ValueRange state,
                                      const AttendRange &range,
                                      const DocumentSplit &docs) {
  Value zero = e.index(0), one = e.index(1);
  auto tokenMajor = [&](Value j) { return SmallVector<Value>{j, g}; };
  auto headMajor = [&](Value c) { return SmallVector<Value>{g, c}; };
  // The template prefix: always visible.
  SmallVector<Value> st =
      range(state, zero, e.dim(a.templateKey, 0), a.templateKey, tokenMajor,
            a.templateValue, tokenMajor, nullptr);
  // Memory chunks: the selected documents' chunks read in place.
  if (a.memoryKey && a.indices) {
    st = e.loop(docs.part ? docs.part : zero, e.loadIndex(a.count, {}),
                docs.parts, st,
                [&](Value sel, ValueRange it) {
                  Value doc = e.loadIndex(a.indices, {sel});
                  Value c0 = e.loadIndex(a.chunkOffsets, {doc});
                  Value c1 = e.loadIndex(a.chunkOffsets, {e.addi(doc, one)});
                  return range(it, c0, c1, a.memoryKey, headMajor,
                               a.memoryValue, headMajor, nullptr);
                });
  } else if (a.memoryKey) {
    st = range(st, zero, e.dim(a.memoryKey, 1), a.memoryKey, headMajor,
               a.memoryValue, headMajor, nullptr);
  }
  // Local keys, then appended ones: valid ones, bottom-right causal over
  // both together unless a block step. Query t sees combined index
  // j <= L + A - T + t.
  Value localLen = e.dim(a.localKey, 0);
  Value appendLen = a.appendKey ? e.dim(a.appendKey, 0) : zero;
  Value total = e.addi(localLen, appendLen);
  Value limit = e.addi(e.subi(total, tokens), e.addi(t, one));
  Value hi = blockStep ? localLen : e.mini(localLen, limit);
  st = range(st, zero, hi, a.localKey, tokenMajor, a.localValue, tokenMajor,
             [&](Value j) { return e.loadBool(a.localValid, {j}); });
  if (a.appendKey) {
    Value appHi =
        blockStep ? appendLen : e.mini(appendLen, e.subi(limit, localLen));
    // A negative bound (query before the appended block) means none.
    appHi = e.maxi(appHi, zero);
    st = range(st, zero, appHi, a.appendKey, tokenMajor, a.appendValue,
               tokenMajor,
               [&](Value j) { return e.loadBool(a.appendValid, {j}); });
  }
  return st;
}

} // namespace msa::codegen
