//===- MsaOps.cpp - verifiers and folders of the msa ops ------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// ODS checks ranks and element kinds; the verifiers here check what relates
// operands to each other (shapes, GQA, head dims, element types) and the
// attribute ranges, with messages of the form "expected X, got Y".
//
//===----------------------------------------------------------------------===//

#include "msa/Dialect/MsaOps.h"

#include "VerifyUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace msa;
using namespace msa::detail;


//===----------------------------------------------------------------------===//
// Dense parts
//===----------------------------------------------------------------------===//

LogicalResult RmsNormOp::verify() {
  ArrayRef<int64_t> in = tensorType(getInput()).getShape();
  if (in.empty())
    return emitOpError() << "expected an input of rank at least 1, got rank 0";
  int64_t width = tensorType(getWeight()).getDimSize(0);
  if (conflict(width, in.back()))
    return emitOpError() << "expected weight of length " << in.back()
                         << " (the input's last dim), got " << width;
  if (getEpsilon().convertToDouble() <= 0.0)
    return emitOpError() << "expected epsilon to be positive, got "
                         << getEpsilon().convertToDouble();
  if (failed(verifySameElementType(*this, "weight", getWeight(), "input",
                                   getInput())) ||
      failed(verifySameElementType(*this, "result", getResult(), "input",
                                   getInput())))
    return failure();
  return verifyShape(*this, "result", getResult(), in, "the input's");
}

LogicalResult LinearOp::verify() {
  ArrayRef<int64_t> in = tensorType(getInput()).getShape();
  ArrayRef<int64_t> w = tensorType(getWeight()).getShape();
  if (conflict(w[1], in[1]))
    return emitOpError() << "expected weight of " << in[1]
                         << " input features (the input's last dim), got "
                         << w[1];
  if (failed(verifySameElementType(*this, "weight", getWeight(), "input",
                                   getInput())) ||
      failed(verifySameElementType(*this, "result", getResult(), "input",
                                   getInput())))
    return failure();
  return verifyShape(*this, "result", getResult(), {in[0], w[0]},
                     "tokens x output features");
}

LogicalResult SwiGluOp::verify() {
  ArrayRef<int64_t> gate = tensorType(getGate()).getShape();
  if (failed(verifyShape(*this, "up", getUp(), gate, "the gate's")) ||
      failed(verifyShape(*this, "result", getResult(), gate, "the gate's")))
    return failure();
  if (failed(verifySameElementType(*this, "up", getUp(), "gate", getGate())))
    return failure();
  return verifySameElementType(*this, "result", getResult(), "gate",
                               getGate());
}

LogicalResult EmbeddingOp::verify() {
  int64_t tokens = tensorType(getIds()).getDimSize(0);
  int64_t width = tensorType(getTable()).getDimSize(1);
  if (failed(verifySameElementType(*this, "result", getResult(), "table",
                                   getTable())))
    return failure();
  return verifyShape(*this, "result", getResult(), {tokens, width},
                     "ids x embedding width");
}

//===----------------------------------------------------------------------===//
// RoPE
//===----------------------------------------------------------------------===//

LogicalResult RopeOp::verify() {
  RankedTensorType in = tensorType(getInput());
  int64_t headDim = in.getDimSize(2);
  if (!ShapedType::isDynamic(headDim) && headDim % 2 != 0)
    return emitOpError() << "expected an even head dim, got " << headDim;
  if (getTheta().convertToDouble() <= 0.0)
    return emitOpError() << "expected theta to be positive, got "
                         << getTheta().convertToDouble();
  if (failed(verifySameElementType(*this, "result", getResult(), "input",
                                   getInput())) ||
      failed(verifyShape(*this, "result", getResult(), in.getShape(),
                         "the input's")))
    return failure();

  RankedTensorType pos = tensorType(getPositions());
  IntegerAttr templateLen = getTemplateLenAttr(), kCfg = getKCfgAttr();
  if (getMode() == RopeMode::Document) {
    if (pos.getRank() != 1)
      return emitOpError()
             << "expected rank-1 segment offsets in document mode, got rank "
             << pos.getRank();
    if (templateLen || kCfg)
      return emitOpError()
             << "expected no template_len or k_cfg in document mode";
    return success();
  }

  if (pos.getRank() > 1)
    return emitOpError()
           << "expected rank-0 or rank-1 positions in global mode, got rank "
           << pos.getRank();
  if (pos.getRank() == 1 && conflict(pos.getDimSize(0), in.getDimSize(0)))
    return emitOpError() << "expected " << in.getDimSize(0)
                         << " positions (one per token), got "
                         << pos.getDimSize(0);
  if (!templateLen)
    return emitOpError() << "expected template_len in global mode";
  if (!kCfg)
    return emitOpError() << "expected k_cfg in global mode";
  if (templateLen.getInt() < 0)
    return emitOpError() << "expected template_len to be non-negative, got "
                         << templateLen.getInt();
  if (kCfg.getInt() < 0)
    return emitOpError() << "expected k_cfg to be non-negative, got "
                         << kCfg.getInt();
  return success();
}

//===----------------------------------------------------------------------===//
// Stage 1
//===----------------------------------------------------------------------===//

LogicalResult DocAttentionOp::verify() {
  ArrayRef<int64_t> q = tensorType(getQuery()).getShape();
  ArrayRef<int64_t> k = tensorType(getKey()).getShape();
  if (conflict(k[0], q[0]))
    return emitOpError() << "expected key tokens " << q[0]
                         << " (the query's), got " << k[0];
  if (failed(verifyGqa(*this, q[1], k[1], "key")) ||
      failed(verifyHeadDim(*this, "key", k[2], q[2])) ||
      failed(verifyShape(*this, "value", getValue(), k, "the key's")) ||
      failed(verifyScale(*this, getScaleAttr())))
    return failure();
  if (failed(verifySameElementType(*this, "key", getKey(), "query",
                                   getQuery())) ||
      failed(verifySameElementType(*this, "value", getValue(), "query",
                                   getQuery())) ||
      failed(verifySameElementType(*this, "result", getResult(), "query",
                                   getQuery())))
    return failure();
  return verifyShape(*this, "result", getResult(), q, "the query's");
}

LogicalResult ChunkPoolOp::verify() {
  if (failed(verifyPositive(*this, "chunk_size", getChunkSizeAttr().getInt())))
    return failure();
  ArrayRef<int64_t> in = tensorType(getInput()).getShape();
  ArrayRef<int64_t> out = tensorType(getResult()).getShape();
  if (failed(verifySameElementType(*this, "result", getResult(), "input",
                                   getInput())))
    return failure();
  // The pooled tensor is head-major: [heads, chunks, head_dim].
  if (conflict(out[0], in[1]) || conflict(out[2], in[2]))
    return emitOpError() << "expected result shape [" << dimString(in[1])
                         << ", ?, " << dimString(in[2])
                         << "] (heads x chunks x head dim), got "
                         << shapeString(out);
  return success();
}

LogicalResult ChunkOffsetsOp::verify() {
  if (failed(verifyPositive(*this, "chunk_size", getChunkSizeAttr().getInt())))
    return failure();
  return verifyShape(*this, "result", getResult(),
                     tensorType(getSegments()).getShape(),
                     "one offset per segment offset");
}

OpFoldResult ChunkOffsetsOp::fold(FoldAdaptor adaptor) {
  auto segments = dyn_cast_or_null<DenseIntElementsAttr>(adaptor.getSegments());
  if (!segments || !getResult().getType().hasStaticShape())
    return {};
  SmallVector<int32_t> offsets;
  int64_t chunks = 0, prev = 0, p = getChunkSizeAttr().getInt();
  for (auto [i, v] : llvm::enumerate(segments.getValues<APInt>())) {
    int64_t cur = v.getSExtValue();
    if (i > 0) {
      if (cur < prev)
        return {}; // Malformed offsets are a runtime error, not a fold.
      chunks += (cur - prev + p - 1) / p;
    }
    if (chunks > std::numeric_limits<int32_t>::max())
      return {};
    offsets.push_back(static_cast<int32_t>(chunks));
    prev = cur;
  }
  return DenseIntElementsAttr::get(getResult().getType(), offsets);
}

//===----------------------------------------------------------------------===//
// Stage 2
//===----------------------------------------------------------------------===//

LogicalResult RouteScoresOp::verify() {
  ArrayRef<int64_t> q = tensorType(getQuery()).getShape();
  ArrayRef<int64_t> k = tensorType(getKeys()).getShape();
  if (failed(verifyGqa(*this, q[1], k[0], "key")) ||
      failed(verifyHeadDim(*this, "key", k[2], q[2])))
    return failure();
  int64_t maskLen = tensorType(getMask()).getDimSize(0);
  if (conflict(maskLen, q[0]))
    return emitOpError() << "expected mask of length " << q[0]
                         << " (the query tokens), got " << maskLen;
  if (failed(verifySameElementType(*this, "keys", getKeys(), "query",
                                   getQuery())) ||
      failed(verifySameElementType(*this, "result", getResult(), "query",
                                   getQuery())))
    return failure();
  return verifyShape(*this, "result", getResult(), {k[1]},
                     "one score per chunk");
}

LogicalResult DocReduceOp::verify() {
  int64_t offsets = tensorType(getChunkOffsets()).getDimSize(0);
  int64_t docs = ShapedType::isDynamic(offsets) ? ShapedType::kDynamic
                                                 : offsets - 1;
  if (offsets == 0)
    return emitOpError()
           << "expected at least 1 chunk offset (documents + 1), got 0";
  if (failed(verifySameElementType(*this, "result", getResult(), "scores",
                                   getScores())))
    return failure();
  return verifyShape(*this, "result", getResult(), {docs},
                     "one score per document");
}

LogicalResult TopKOp::verify() {
  if (failed(verifyPositive(*this, "k", getKAttr().getInt())))
    return failure();
  int64_t len = tensorType(getIndices()).getDimSize(0);
  if (conflict(len, getKAttr().getInt()))
    return emitOpError() << "expected indices of length k = "
                         << getKAttr().getInt()
                         << ", got " << len;
  return success();
}

LogicalResult GatherChunksOp::verify() {
  ArrayRef<int64_t> src = tensorType(getSource()).getShape();
  ArrayRef<int64_t> out = tensorType(getResult()).getShape();
  if (failed(verifySameElementType(*this, "result", getResult(), "source",
                                   getSource())))
    return failure();
  if (conflict(out[0], src[0]) || conflict(out[2], src[2]))
    return emitOpError() << "expected result shape [" << dimString(src[0])
                         << ", ?, " << dimString(src[2])
                         << "] (the source's heads and head dim), got "
                         << shapeString(out);
  return success();
}

//===----------------------------------------------------------------------===//
// Sparse attention
//===----------------------------------------------------------------------===//

LogicalResult SparseAttentionOp::verify() {
  ArrayRef<int64_t> q = tensorType(getQuery()).getShape();
  ArrayRef<int64_t> local = tensorType(getLocalKey()).getShape();
  ArrayRef<int64_t> tpl = tensorType(getTemplateKey()).getShape();
  int64_t kvHeads = local[1];

  if ((getMemoryKey() == nullptr) != (getMemoryValue() == nullptr))
    return emitOpError() << "expected memory_key and memory_value together";

  if (failed(verifyGqa(*this, q[1], kvHeads, "local key")) ||
      failed(verifyHeadDim(*this, "local key", local[2], q[2])) ||
      failed(verifyShape(*this, "local value", getLocalValue(), local,
                         "the local key's")))
    return failure();
  if (failed(verifyShape(*this, "template key", getTemplateKey(),
                         {ShapedType::kDynamic, kvHeads, q[2]},
                         "tokens x kv heads x head dim")) ||
      failed(verifyShape(*this, "template value", getTemplateValue(), tpl,
                         "the template key's")))
    return failure();
  if (Value mem = getMemoryKey()) {
    ArrayRef<int64_t> m = tensorType(mem).getShape();
    if (failed(verifyShape(*this, "memory key", mem,
                           {kvHeads, ShapedType::kDynamic, q[2]},
                           "kv heads x chunks x head dim")) ||
        failed(verifyShape(*this, "memory value", getMemoryValue(), m,
                           "the memory key's")))
      return failure();
  }

  int64_t validLen = tensorType(getLocalValid()).getDimSize(0);
  if (conflict(validLen, local[0]))
    return emitOpError() << "expected local_valid of length " << local[0]
                         << " (the local tokens), got " << validLen;
  if (!ShapedType::isDynamic(q[0]) && !ShapedType::isDynamic(local[0]) &&
      q[0] > local[0])
    return emitOpError() << "expected at most " << local[0]
                         << " query tokens (the local tokens), got " << q[0];
  if (failed(verifyScale(*this, getScaleAttr())))
    return failure();

  for (auto [name, v] :
       {std::pair<StringRef, Value>{"template key", getTemplateKey()},
        {"template value", getTemplateValue()},
        {"memory key", getMemoryKey()},
        {"memory value", getMemoryValue()},
        {"local key", getLocalKey()},
        {"local value", getLocalValue()},
        {"result", getResult()}})
    if (v && failed(verifySameElementType(*this, name, v, "query",
                                          getQuery())))
      return failure();
  return verifyShape(*this, "result", getResult(), q, "the query's");
}

#define GET_OP_CLASSES
#include "msa/Dialect/MsaOps.cpp.inc"
