//===- MsaAttrs.cpp - enums of the msa dialect ----------------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/Dialect/MsaAttrs.h"

#include "msa/Dialect/MsaEnums.cpp.inc"
