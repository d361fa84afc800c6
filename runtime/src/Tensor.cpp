//===- Tensor.cpp - a typed, shaped buffer --------------------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Tensor.h"

#include <cassert>
#include <cstdlib>
#include <cstring>

namespace msa::runtime {

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

Tensor Tensor::allocate(DType dtype, std::vector<int64_t> shape) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  // 64-byte alignment: a cache line, and the widest vector load.
  size_t bytes = (t.bytes() + 63) / 64 * 64;
  void *p = std::aligned_alloc(64, bytes ? bytes : 64);
  t.owner = std::shared_ptr<void>(p, std::free);
  t.data = p;
  return t;
}

Tensor Tensor::view(DType dtype, std::vector<int64_t> shape, void *data) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.data = data;
  return t;
}

Tensor Tensor::reshaped(std::vector<int64_t> newShape) const {
  Tensor t = *this;
  t.shape = std::move(newShape);
  assert(t.numel() == numel() && "reshape changes the element count");
  return t;
}

Tensor Tensor::rows(int64_t begin, int64_t count) const {
  Tensor t = *this;
  int64_t rowElems = shape.empty() || shape[0] == 0 ? 0 : numel() / shape[0];
  t.shape[0] = count;
  t.data = static_cast<uint8_t *>(data) +
           static_cast<size_t>(begin * rowElems) * dtypeSize(dtype);
  return t;
}

float Tensor::getF32(int64_t i) const {
  assert(onHost() && "reading device memory on the host");
  switch (dtype) {
  case DType::kBF16:
    return bf16ToFloat(as<uint16_t>()[i]);
  case DType::kF16:
    return f16ToFloat(as<uint16_t>()[i]);
  case DType::kF32:
    return as<float>()[i];
  default:
    assert(false && "not a float tensor");
    return 0.0f;
  }
}

void Tensor::setF32(int64_t i, float v) {
  assert(onHost() && "writing device memory on the host");
  switch (dtype) {
  case DType::kBF16:
    as<uint16_t>()[i] = floatToBf16(v);
    break;
  case DType::kF16:
    as<uint16_t>()[i] = floatToF16(v);
    break;
  case DType::kF32:
    as<float>()[i] = v;
    break;
  default:
    assert(false && "not a float tensor");
  }
}

std::string Tensor::describe() const {
  std::string s = mlirTypeName(dtype) ? mlirTypeName(dtype) : dtypeName(dtype);
  s += "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

Tensor fromF32(const std::vector<float> &values, DType dtype,
               std::vector<int64_t> shape) {
  Tensor t = Tensor::allocate(dtype, std::move(shape));
  assert(static_cast<int64_t>(values.size()) == t.numel());
  for (size_t i = 0; i < values.size(); ++i)
    t.setF32(static_cast<int64_t>(i), values[i]);
  return t;
}

std::vector<float> toF32(const Tensor &t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = t.getF32(static_cast<int64_t>(i));
  return v;
}

} // namespace msa::runtime
