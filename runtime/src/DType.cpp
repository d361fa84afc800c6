//===- DType.cpp - element types and f16 conversions ----------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/DType.h"

#include <cmath>

namespace msa::runtime {

size_t dtypeSize(DType t) {
  switch (t) {
  case DType::kBF16:
  case DType::kF16:
    return 2;
  case DType::kF32:
  case DType::kI32:
    return 4;
  case DType::kF64:
  case DType::kI64:
    return 8;
  case DType::kI8:
  case DType::kU8:
  case DType::kBool:
    return 1;
  }
  return 0;
}

const char *dtypeName(DType t) {
  switch (t) {
  case DType::kBF16:
    return "BF16";
  case DType::kF16:
    return "F16";
  case DType::kF32:
    return "F32";
  case DType::kF64:
    return "F64";
  case DType::kI32:
    return "I32";
  case DType::kI64:
    return "I64";
  case DType::kI8:
    return "I8";
  case DType::kU8:
    return "U8";
  case DType::kBool:
    return "BOOL";
  }
  return "?";
}

std::optional<DType> parseDType(std::string_view name) {
  for (DType t : {DType::kBF16, DType::kF16, DType::kF32, DType::kF64,
                  DType::kI32, DType::kI64, DType::kI8, DType::kU8,
                  DType::kBool})
    if (name == dtypeName(t))
      return t;
  return std::nullopt;
}

const char *mlirTypeName(DType t) {
  switch (t) {
  case DType::kBF16:
    return "bf16";
  case DType::kF16:
    return "f16";
  case DType::kF32:
    return "f32";
  case DType::kF64:
    return "f64";
  case DType::kI32:
    return "i32";
  case DType::kI64:
    return "i64";
  case DType::kI8:
    return "i8";
  case DType::kU8:
  case DType::kBool:
    return nullptr;
  }
  return nullptr;
}

std::optional<DType> parseMlirTypeName(std::string_view name) {
  for (DType t : {DType::kBF16, DType::kF16, DType::kF32, DType::kF64,
                  DType::kI32, DType::kI64, DType::kI8})
    if (name == mlirTypeName(t))
      return t;
  return std::nullopt;
}

uint16_t floatToF16(float f) {
  uint32_t u = floatBits(f);
  uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  uint32_t absU = u & 0x7fffffffu;
  if (absU > 0x7f800000u) // NaN
    return static_cast<uint16_t>(sign | 0x7e00u);
  if (absU >= 0x477ff000u) // rounds to >= 65520: infinity
    return static_cast<uint16_t>(sign | 0x7c00u);
  if (absU < 0x38800000u) {
    // Subnormal or zero in f16: scale into the integer range and let the
    // FPU's round-to-nearest-even do the work.
    float a = bitsToFloat(absU) * 16777216.0f; // 2^24
    uint32_t m = static_cast<uint32_t>(std::nearbyint(a));
    return static_cast<uint16_t>(sign | m);
  }
  // Normal: rebias the exponent and round the mantissa to 10 bits.
  uint32_t rounded = absU + 0xfffu + ((absU >> 13) & 1u);
  uint32_t h = (rounded >> 13) - ((127u - 15u) << 10);
  return static_cast<uint16_t>(sign | h);
}

float f16ToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  if (exp == 0) {
    float v = std::ldexp(static_cast<float>(man), -24);
    return sign ? -v : v;
  }
  if (exp == 31)
    return bitsToFloat(sign | 0x7f800000u | (man << 13));
  return bitsToFloat(sign | ((exp + 112u) << 23) | (man << 13));
}

} // namespace msa::runtime
