//===- PlanDevice.cpp - what every plan device shares ---------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/PlanDevice.h"

#include <chrono>

namespace msa::runtime {

StatusOr<double> PlanDevice::timed(const std::function<Status()> &work) {
  MSA_RETURN_IF_ERROR(synchronize());
  auto t0 = std::chrono::steady_clock::now();
  MSA_RETURN_IF_ERROR(work());
  MSA_RETURN_IF_ERROR(synchronize());
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

} // namespace msa::runtime
