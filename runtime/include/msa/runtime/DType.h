//===- DType.h - element types and bf16/f16 conversions ---------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Rounding to bf16 is where the reference reproduces the PyTorch model's
// numerics, so these conversions are exact IEEE round-to-nearest-even and
// keep NaN a NaN.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_DTYPE_H
#define MSA_RUNTIME_DTYPE_H

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace msa::runtime {

/// Element types of checkpoints, banks and buffers.
enum class DType : uint8_t {
  kBF16,
  kF16,
  kF32,
  kF64,
  kI32,
  kI64,
  kI8,
  kU8,
  kBool
};

/// Bytes per element.
size_t dtypeSize(DType t);
/// The safetensors spelling: "BF16", "F16", "F32", "F64", "I32", "I64",
/// "I8", "U8", "BOOL".
const char *dtypeName(DType t);
/// Parses the safetensors spelling.
std::optional<DType> parseDType(std::string_view name);
/// The MLIR spelling used in bundle manifests: "bf16", "f16", "f32",
/// "f64", "i32", "i64", "i8" (kU8 and kBool have none).
const char *mlirTypeName(DType t);
std::optional<DType> parseMlirTypeName(std::string_view name);

inline uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}
inline float bitsToFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

/// f32 -> bf16 bits, round to nearest even; NaN stays a quiet NaN.
inline uint16_t floatToBf16(float f) {
  uint32_t u = floatBits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return static_cast<uint16_t>((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}
inline float bf16ToFloat(uint16_t b) {
  return bitsToFloat(static_cast<uint32_t>(b) << 16);
}
/// The nearest bf16 value, as a float.
inline float roundToBf16(float f) { return bf16ToFloat(floatToBf16(f)); }

/// f32 -> IEEE binary16 bits, round to nearest even.
uint16_t floatToF16(float f);
float f16ToFloat(uint16_t h);
inline float roundToF16(float f) { return f16ToFloat(floatToF16(f)); }

/// The lowest finite bf16 value (-3.38953e38), the reference's mask value.
inline constexpr float kBf16Lowest = -3.3895313892515355e38f;

} // namespace msa::runtime

#endif // MSA_RUNTIME_DTYPE_H
