//===- PlanDevice.cpp - what every plan device shares ---------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/PlanDevice.h"

#include <chrono>

namespace msa::runtime {

StatusOr<double>
PlanDevice::launchTimed(size_t index, const std::vector<const Tensor *> &args) {
  MSA_RETURN_IF_ERROR(synchronize());
  auto t0 = std::chrono::steady_clock::now();
  MSA_RETURN_IF_ERROR(launch(index, args));
  MSA_RETURN_IF_ERROR(synchronize());
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

} // namespace msa::runtime
