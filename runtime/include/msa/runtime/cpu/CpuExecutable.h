//===- CpuExecutable.h - the kernels of a cpu bundle, loaded ----*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Loads a cpu bundle's shared object straight from the bundle (an anonymous
// memfd, no temporary file), resolves every kernel the manifest names, and
// launches kernels over a thread pool with the ABI of ArtifactFormat.h:
// memref descriptors by pointer, then the work-item range.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_CPU_CPUEXECUTABLE_H
#define MSA_RUNTIME_CPU_CPUEXECUTABLE_H

#include "msa/runtime/Bundle.h"
#include "msa/runtime/Tensor.h"
#include "msa/runtime/ThreadPool.h"

#include <memory>
#include <vector>

namespace msa::runtime {

class CpuExecutable {
public:
  /// Loads `bundle`'s cpu.so and resolves every kernel symbol; errors name
  /// the bundle and the missing symbol.
  static StatusOr<std::unique_ptr<CpuExecutable>> load(const Bundle &bundle);
  ~CpuExecutable();
  CpuExecutable(const CpuExecutable &) = delete;
  CpuExecutable &operator=(const CpuExecutable &) = delete;

  /// Runs kernel `index` on `args` (operands then results, the manifest's
  /// order) over all its work items.
  Status launch(size_t index, const std::vector<const Tensor *> &args,
                ThreadPool &pool) const;

private:
  CpuExecutable() = default;
  const Bundle *bundle_ = nullptr;
  void *handle_ = nullptr;
  int memfd_ = -1;
  std::vector<void *> entryPoints_;
};

} // namespace msa::runtime

#endif // MSA_RUNTIME_CPU_CPUEXECUTABLE_H
