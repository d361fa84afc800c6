//===- CpuExecutable.cpp - the kernels of a cpu bundle, loaded ------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/cpu/CpuExecutable.h"

#include "msa/runtime/ArtifactFormat.h"

#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <array>
#include <utility>

namespace msa::runtime {

namespace {

/// Calls `fn` with `n` pointer arguments and the range: every argument is
/// an integer-class value of the System V ABI, so one signature per arity
/// serves every kernel.
template <size_t... I>
void callWith(void *fn, void *const *args, int64_t begin, int64_t end,
              std::index_sequence<I...>) {
  using Fn = void (*)(decltype((void)I, static_cast<void *>(nullptr))...,
                      int64_t, int64_t);
  reinterpret_cast<Fn>(fn)(args[I]..., begin, end);
}

template <size_t... N>
constexpr auto makeCallTable(std::index_sequence<N...>) {
  using Caller = void (*)(void *, void *const *, int64_t, int64_t);
  return std::array<Caller, sizeof...(N)>{
      [](void *fn, void *const *args, int64_t b, int64_t e) {
        callWith(fn, args, b, e, std::make_index_sequence<N>{});
      }...};
}

constexpr auto kCallTable =
    makeCallTable(std::make_index_sequence<artifact::kMaxKernelArgs - 1>{});

} // namespace

CpuExecutable::~CpuExecutable() {
  if (handle_)
    dlclose(handle_);
  if (memfd_ >= 0)
    close(memfd_);
}

StatusOr<std::unique_ptr<CpuExecutable>>
CpuExecutable::load(const Bundle &bundle) {
  MSA_RETURN_IF_ERROR(bundle.checkTarget("cpu"));
  std::optional<std::pair<const uint8_t *, size_t>> so =
      bundle.section(artifact::kCpuObjectSection);
  if (!so)
    return dataLoss(bundle.path() + ": no cpu.so section");
  std::unique_ptr<CpuExecutable> exe(new CpuExecutable());
  exe->bundle_ = &bundle;
  // dlopen needs a path; an anonymous in-memory file gives one without
  // touching the disk.
  exe->memfd_ = memfd_create("msa-kernels.so", MFD_CLOEXEC);
  if (exe->memfd_ < 0)
    return ioError(bundle.path() + ": memfd_create: " + std::strerror(errno));
  size_t written = 0;
  while (written < so->second) {
    ssize_t n = write(exe->memfd_, so->first + written, so->second - written);
    if (n <= 0)
      return ioError(bundle.path() + ": writing the kernel library: " +
                     std::strerror(errno));
    written += static_cast<size_t>(n);
  }
  std::string path = "/proc/self/fd/" + std::to_string(exe->memfd_);
  exe->handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!exe->handle_)
    return failedPrecondition(bundle.path() + ": cannot load its kernels: " +
                              dlerror());
  for (const KernelSpec &k : bundle.kernels()) {
    void *sym = dlsym(exe->handle_, k.symbol.c_str());
    if (!sym)
      return dataLoss(bundle.path() + ": kernel '" + k.name + "' (symbol " +
                      k.symbol + ") is missing from cpu.so");
    exe->entryPoints_.push_back(sym);
  }
  return exe;
}

Status CpuExecutable::launch(size_t index,
                             const std::vector<const Tensor *> &args,
                             ThreadPool &pool) const {
  const KernelSpec &k = bundle_->kernels()[index];
  if (args.size() != k.args.size())
    return internalError("kernel '" + k.name + "' takes " +
                         std::to_string(k.args.size()) + " arguments, got " +
                         std::to_string(args.size()));
  // One MLIR memref descriptor per argument: allocated and aligned
  // pointers, offset, sizes, strides (row-major, contiguous).
  std::vector<std::vector<int64_t>> descriptors(args.size());
  std::vector<void *> argv(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    const Tensor &t = *args[i];
    const KernelArgSpec &spec = k.args[i];
    if (t.shape.size() != spec.shape.size())
      return internalError("kernel '" + k.name + "' argument " +
                           std::to_string(i) + ": rank " +
                           std::to_string(t.shape.size()) + ", expected " +
                           std::to_string(spec.shape.size()));
    for (size_t d = 0; d < t.shape.size(); ++d)
      if (spec.shape[d] && *spec.shape[d] != t.shape[d])
        return internalError("kernel '" + k.name + "' argument " +
                             std::to_string(i) + " is " + t.describe() +
                             ", dimension " + std::to_string(d) + " must be " +
                             std::to_string(*spec.shape[d]));
    std::vector<int64_t> &desc = descriptors[i];
    const size_t rank = t.shape.size();
    desc.resize(3 + 2 * rank);
    int64_t ptr = static_cast<int64_t>(reinterpret_cast<intptr_t>(t.data));
    desc[0] = ptr;
    desc[1] = ptr;
    desc[2] = 0;
    int64_t stride = 1;
    for (size_t d = rank; d-- > 0;) {
      desc[3 + d] = t.shape[d];
      desc[3 + rank + d] = stride;
      stride *= t.shape[d];
    }
    argv[i] = desc.data();
  }
  int64_t items = 1;
  for (const GridTerm &g : k.grid)
    items *= g.factor(args[g.arg]->shape[g.dim]);
  if (items <= 0)
    return Status::ok();
  void *fn = entryPoints_[index];
  auto call = kCallTable[args.size()];
  pool.parallelFor(items, [&](int64_t begin, int64_t end) {
    call(fn, argv.data(), begin, end);
  });
  return Status::ok();
}

} // namespace msa::runtime
