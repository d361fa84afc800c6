//===- MsaKernelOps.cpp - verifiers of the kernel-level msa ops -----------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The fused ops carry optional prologues and epilogues; their verifiers
// check that the optional parts come in consistent groups as well as the
// shapes the graph-level verifiers check.
//
//===----------------------------------------------------------------------===//

#include "msa/Dialect/MsaOps.h"

#include "VerifyUtils.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace msa;
using namespace msa::detail;

namespace {

/// Shared checks of attention-like ops: GQA, head dims, element types.
LogicalResult verifyAttentionHeads(Operation *op, Value query, Value key,
                                   StringRef keyName, int64_t kvHeads) {
  ArrayRef<int64_t> q = tensorType(query).getShape();
  ArrayRef<int64_t> k = tensorType(key).getShape();
  if (failed(verifyGqa(op, q[1], kvHeads, keyName)) ||
      failed(verifyHeadDim(op, keyName, k[2], q[2])))
    return failure();
  return verifySameElementType(op, keyName, key, "query", query);
}

LogicalResult verifyRopeTheta(Operation *op, FloatAttr theta, int64_t headDim) {
  if (!theta)
    return success();
  if (theta.getValueAsDouble() <= 0.0)
    return op->emitOpError() << "expected rope_theta to be positive, got "
                             << theta.getValueAsDouble();
  if (!ShapedType::isDynamic(headDim) && headDim % 2 != 0)
    return op->emitOpError() << "expected an even head dim for RoPE, got "
                             << headDim;
  return success();
}

} // namespace

//===----------------------------------------------------------------------===//
// EncodeDocsOp
//===----------------------------------------------------------------------===//

LogicalResult EncodeDocsOp::verify() {
  if (getNumResults() != getExpectedNumResults())
    return emitOpError() << "expected " << getExpectedNumResults()
                         << " results (from emit_rotated_key, chunk_size and "
                            "router_key), got "
                         << getNumResults();
  if (getRouterKey() && !getChunkSizeAttr())
    return emitOpError() << "expected chunk_size with a router_key";
  ArrayRef<int64_t> q = tensorType(getQuery()).getShape();
  ArrayRef<int64_t> k = tensorType(getKey()).getShape();
  if (conflict(k[0], q[0]))
    return emitOpError() << "expected key tokens " << q[0]
                         << " (the query's), got " << k[0];
  if (failed(verifyAttentionHeads(*this, getQuery(), getKey(), "key", k[1])) ||
      failed(verifyShape(*this, "value", getValue(), k, "the key's")) ||
      failed(verifySameElementType(*this, "value", getValue(), "query",
                                   getQuery())) ||
      failed(verifyScale(*this, getScaleAttr())) ||
      failed(verifyRopeTheta(*this, getRopeThetaAttr(), q[2])) ||
      failed(verifyShape(*this, "result", getResult(), q, "the query's")))
    return failure();

  if (Value rotated = getRotatedKey()) {
    if (!getRopeThetaAttr())
      return emitOpError() << "expected rope_theta with emit_rotated_key";
    if (failed(verifyShape(*this, "rotated_key", rotated, k, "the key's")))
      return failure();
  }

  IntegerAttr chunkSize = getChunkSizeAttr();
  if (!chunkSize) {
    if (getFirstPooledSegmentAttr() || getNormalizeRouter())
      return emitOpError()
             << "expected chunk_size with first_pooled_segment or "
                "normalize_router";
    return success();
  }
  if (failed(verifyPositive(*this, "chunk_size", chunkSize.getInt())))
    return failure();
  if (IntegerAttr first = getFirstPooledSegmentAttr();
      first && first.getInt() < 0)
    return emitOpError() << "expected first_pooled_segment to be "
                            "non-negative, got "
                         << first.getInt();
  if (getNormalizeRouter() && !getRouterKey())
    return emitOpError() << "expected router_key with normalize_router";
  if (Value rk = getRouterKey())
    if (failed(verifyShape(*this, "router_key", rk, k, "the key's")))
      return failure();

  SmallVector<int64_t> pooledShape{k[1], ShapedType::kDynamic, k[2]};
  for (auto [name, v] :
       {std::pair<StringRef, Value>{"pooled_key", getPooledKey()},
        {"pooled_value", getPooledValue()},
        {"pooled_router_key", getPooledRouterKey()}})
    if (v && (failed(verifyShape(*this, name, v, pooledShape,
                                 "kv heads x chunks x head dim")) ||
              failed(verifySameElementType(*this, name, v, "query",
                                           getQuery()))))
      return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// RouteTopKOp and TopKMergeOp
//===----------------------------------------------------------------------===//

LogicalResult RouteTopKOp::verify() {
  ArrayRef<int64_t> q = tensorType(getQuery()).getShape();
  ArrayRef<int64_t> keys = tensorType(getKeys()).getShape();
  if (failed(verifyAttentionHeads(*this, getQuery(), getKeys(), "key",
                                  keys[0])) ||
      failed(verifyPositive(*this, "k", getKAttr().getInt())))
    return failure();
  int64_t maskLen = tensorType(getMask()).getDimSize(0);
  if (conflict(maskLen, q[0]))
    return emitOpError() << "expected mask of length " << q[0]
                         << " (the query tokens), got " << maskLen;
  ArrayRef<int64_t> s = tensorType(getCandidateScores()).getShape();
  if (ShapedType::isDynamic(s[0]) || s[0] <= 0)
    return emitOpError()
           << "expected a static, positive number of candidate blocks, got "
           << dimString(s[0]);
  if (failed(verifyShape(*this, "candidate_scores", getCandidateScores(),
                         {s[0], getKAttr().getInt()}, "blocks x k")) ||
      failed(verifyShape(*this, "candidate_ids", getCandidateIds(), s,
                         "the candidate scores'")))
    return failure();
  return success();
}

LogicalResult TopKMergeOp::verify() {
  int64_t k = getKAttr().getInt();
  if (failed(verifyPositive(*this, "k", k)) ||
      failed(verifyShape(*this, "ids", getIds(),
                         tensorType(getScores()).getShape(), "the scores'")) ||
      failed(verifyShape(*this, "indices", getIndices(), {k}, "k")) ||
      failed(verifyShape(*this, "selected_scores", getSelectedScores(), {k},
                         "k")))
    return failure();
  return verifySameElementType(*this, "selected_scores", getSelectedScores(),
                               "scores", getScores());
}

//===----------------------------------------------------------------------===//
// MemoryAttentionOp
//===----------------------------------------------------------------------===//

LogicalResult MemoryAttentionOp::verify() {
  ArrayRef<int64_t> q = tensorType(getQuery()).getShape();
  ArrayRef<int64_t> local = tensorType(getLocalKey()).getShape();
  int64_t kvHeads = local[1];
  if (failed(verifyAttentionHeads(*this, getQuery(), getLocalKey(),
                                  "local key", kvHeads)) ||
      failed(verifyShape(*this, "local value", getLocalValue(), local,
                         "the local key's")) ||
      failed(verifyShape(*this, "template key", getTemplateKey(),
                         {ShapedType::kDynamic, kvHeads, q[2]},
                         "tokens x kv heads x head dim")) ||
      failed(verifyShape(*this, "template value", getTemplateValue(),
                         tensorType(getTemplateKey()).getShape(),
                         "the template key's")))
    return failure();

  if ((getMemoryKey() == nullptr) != (getMemoryValue() == nullptr))
    return emitOpError() << "expected memory_key and memory_value together";
  bool anySelect = getChunkOffsets() || getIndices() || getCount();
  if (anySelect && !(getChunkOffsets() && getIndices() && getCount()))
    return emitOpError()
           << "expected chunk_offsets, indices and count together";
  if (anySelect && !getMemoryKey())
    return emitOpError() << "expected memory operands with a selection";
  if (Value mem = getMemoryKey())
    if (failed(verifyShape(*this, "memory key", mem,
                           {kvHeads, ShapedType::kDynamic, q[2]},
                           "kv heads x chunks x head dim")) ||
        failed(verifyShape(*this, "memory value", getMemoryValue(),
                           tensorType(mem).getShape(), "the memory key's")))
      return failure();

  int64_t validLen = tensorType(getLocalValid()).getDimSize(0);
  if (conflict(validLen, local[0]))
    return emitOpError() << "expected local_valid of length " << local[0]
                         << " (the local tokens), got " << validLen;
  bool anyAppend = getAppendKey() || getAppendValue() || getAppendValid();
  if (anyAppend && !(getAppendKey() && getAppendValue() && getAppendValid()))
    return emitOpError()
           << "expected append_key, append_value and append_valid together";
  int64_t localTokens = local[0];
  if (Value ak = getAppendKey()) {
    ArrayRef<int64_t> app = tensorType(ak).getShape();
    if (failed(verifyShape(*this, "append key", ak,
                           {ShapedType::kDynamic, kvHeads, q[2]},
                           "tokens x kv heads x head dim")) ||
        failed(verifyShape(*this, "append value", getAppendValue(), app,
                           "the append key's")) ||
        failed(verifySameElementType(*this, "append key", ak, "query",
                                     getQuery())) ||
        failed(verifySameElementType(*this, "append value", getAppendValue(),
                                     "query", getQuery())))
      return failure();
    int64_t appValid = tensorType(getAppendValid()).getDimSize(0);
    if (conflict(appValid, app[0]))
      return emitOpError() << "expected append_valid of length " << app[0]
                           << " (the appended tokens), got " << appValid;
    localTokens = ShapedType::isDynamic(local[0]) || ShapedType::isDynamic(app[0])
                      ? ShapedType::kDynamic
                      : local[0] + app[0];
  }
  if (!ShapedType::isDynamic(q[0]) && !ShapedType::isDynamic(localTokens) &&
      q[0] > localTokens)
    return emitOpError() << "expected at most " << localTokens
                         << " query tokens (the local tokens), got " << q[0];

  if ((getPositions() == nullptr) != (getRopeThetaAttr() == nullptr))
    return emitOpError() << "expected positions exactly with rope_theta";
  if (Value pos = getPositions()) {
    RankedTensorType pt = tensorType(pos);
    if (pt.getRank() > 1)
      return emitOpError() << "expected rank-0 or rank-1 positions, got rank "
                           << pt.getRank();
    if (pt.getRank() == 1 && conflict(pt.getDimSize(0), q[0]))
      return emitOpError() << "expected " << q[0]
                           << " positions (one per query token), got "
                           << pt.getDimSize(0);
    if (!getTemplateLenAttr() || !getKCfgAttr())
      return emitOpError() << "expected template_len and k_cfg with rope";
    if (failed(verifyRopeTheta(*this, getRopeThetaAttr(), q[2])))
      return failure();
  }
  if (failed(verifyScale(*this, getScaleAttr())))
    return failure();
  for (auto [name, v] :
       {std::pair<StringRef, Value>{"template key", getTemplateKey()},
        {"template value", getTemplateValue()},
        {"memory key", getMemoryKey()},
        {"memory value", getMemoryValue()},
        {"local value", getLocalValue()},
        {"result", getResult()}})
    if (v && failed(verifySameElementType(*this, name, v, "query",
                                          getQuery())))
      return failure();
  return verifyShape(*this, "result", getResult(), q, "the query's");
}

//===----------------------------------------------------------------------===//
// DispatchOp
//===----------------------------------------------------------------------===//

LogicalResult
DispatchOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto fn = symbolTable.lookupNearestSymbolFrom<func::FuncOp>(*this,
                                                              getCalleeAttr());
  if (!fn)
    return emitOpError() << "expected '" << getCallee()
                         << "' to be a kernel function";
  if (!fn->hasAttr("msa.kernel"))
    return emitOpError() << "expected '" << getCallee()
                         << "' to carry the msa.kernel attribute";
  FunctionType type = fn.getFunctionType();
  size_t want = getOperands().size() + getResults().size() + 2;
  if (type.getNumInputs() != want)
    return emitOpError() << "expected kernel '" << getCallee() << "' to take "
                         << want
                         << " arguments (operands, results, work range), got "
                         << type.getNumInputs();
  SmallVector<Type> tensors(getOperandTypes());
  llvm::append_range(tensors, getResultTypes());
  for (auto [i, t] : llvm::enumerate(tensors)) {
    auto tensor = cast<RankedTensorType>(t);
    auto memref = dyn_cast<MemRefType>(type.getInput(i));
    if (!memref || memref.getShape() != tensor.getShape() ||
        memref.getElementType() != tensor.getElementType())
      return emitOpError() << "expected kernel argument " << i << " of type "
                           << MemRefType::get(tensor.getShape(),
                                              tensor.getElementType())
                           << ", got " << type.getInput(i);
  }
  return success();
}
