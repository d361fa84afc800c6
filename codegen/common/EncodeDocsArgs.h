//===- EncodeDocsArgs.h - the arguments of an encode_docs kernel -*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The memref arguments of an msa.encode_docs kernel by role, as the cpu
// and cuda lowerings both read them: the optional router key operand and
// the optional results follow from the op's attributes.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_CODEGEN_COMMON_ENCODEDOCSARGS_H
#define MSA_CODEGEN_COMMON_ENCODEDOCSARGS_H

#include "msa/Dialect/MsaOps.h"

namespace msa::codegen {

struct EncodeDocsArgs {
  mlir::Value q, k, v, segments, router; ///< router: null without K̄ᴿ
  mlir::Value out, rotatedKey;           ///< rotatedKey: emit_rotated_key
  mlir::Value pooledKey, pooledValue, pooledRouter; ///< with chunk_size

  static EncodeDocsArgs of(EncodeDocsOp op, llvm::ArrayRef<mlir::Value> operands,
                           llvm::ArrayRef<mlir::Value> results) {
    EncodeDocsArgs a;
    a.q = operands[0];
    a.k = operands[1];
    a.v = operands[2];
    a.segments = operands[3];
    if (op.getRouterKey())
      a.router = operands[4];
    a.out = results[0];
    unsigned r = 1;
    if (op.getEmitRotatedKey())
      a.rotatedKey = results[r++];
    if (op.getChunkSizeAttr()) {
      a.pooledKey = results[r++];
      a.pooledValue = results[r++];
      if (a.router)
        a.pooledRouter = results[r++];
    }
    return a;
  }
};

} // namespace msa::codegen

#endif // MSA_CODEGEN_COMMON_ENCODEDOCSARGS_H
