//===- Tensor.h - a typed, shaped buffer ------------------------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// What plans, kernels and engines pass around: an element type, a row-major
// shape and a pointer into host or device memory, owning its memory (shared,
// so views keep it alive) or viewing someone else's (a mapped checkpoint or
// bank).
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_TENSOR_H
#define MSA_RUNTIME_TENSOR_H

#include "msa/runtime/DType.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace msa::runtime {

/// Where a tensor's memory is. Only host tensors may be dereferenced on the
/// host; a cuda tensor's data is a CUdeviceptr.
enum class Placement : uint8_t { kHost, kCuda };

struct Tensor {
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  void *data = nullptr;
  Placement placement = Placement::kHost;
  /// Keeps owned memory alive; empty for views of foreign memory.
  std::shared_ptr<void> owner;

  int64_t numel() const;
  size_t bytes() const { return static_cast<size_t>(numel()) * dtypeSize(dtype); }

  /// Fresh, 64-byte aligned, uninitialised memory.
  static Tensor allocate(DType dtype, std::vector<int64_t> shape);
  /// A view of memory this tensor does not own.
  static Tensor view(DType dtype, std::vector<int64_t> shape, void *data);
  /// The same memory with another shape of the same element count.
  Tensor reshaped(std::vector<int64_t> newShape) const;
  /// Rows [begin, begin + count) of dimension 0, sharing the memory.
  Tensor rows(int64_t begin, int64_t count) const;

  bool onHost() const { return placement == Placement::kHost; }

  template <typename T> T *as() const { return static_cast<T *>(data); }
  /// Element i as f32 (bf16, f16, f32 tensors).
  float getF32(int64_t i) const;
  /// Stores f32 `v` at i, rounding to the element type.
  void setF32(int64_t i, float v);

  /// "bf16[4, 64]".
  std::string describe() const;
};

/// An f32 tensor rounded to `dtype` (bf16, f16 or f32).
Tensor fromF32(const std::vector<float> &values, DType dtype,
               std::vector<int64_t> shape);
/// All elements of a float tensor as f32.
std::vector<float> toF32(const Tensor &t);

} // namespace msa::runtime

#endif // MSA_RUNTIME_TENSOR_H
