//===- LoadOnce.h - libraries loaded once per process ------------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The CUDA driver and cuBLASLt are loaded with dlopen on first use and kept
// until exit: tensors freed by static destructors may still call into
// them. One entry per library name, so a test may point the environment
// variable at another library after the real one was loaded; the first
// library loaded names errors (result and status names).
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_CUDA_LOADONCE_H
#define MSA_RUNTIME_CUDA_LOADONCE_H

#include "msa/runtime/Status.h"

#include <atomic>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace msa::runtime::cuda {

/// The library `Lib` loaded from `key` by `load` (once per key per
/// process); a failure is remembered too and says when `env` chose the
/// library. The first success is stored in `naming`.
template <typename Lib, typename Key, typename LoadFn>
StatusOr<const Lib *> loadOnce(const Key &key, const char *env, LoadFn load,
                               std::atomic<const Lib *> &naming) {
  static std::mutex mutex;
  static auto *cache = new std::map<Key, StatusOr<const Lib *>>;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache->find(key);
  if (it != cache->end())
    return it->second;
  StatusOr<std::unique_ptr<Lib>> loaded = load(key);
  StatusOr<const Lib *> result =
      loaded.isOk() ? StatusOr<const Lib *>(loaded->release())
                    : StatusOr<const Lib *>(loaded.status());
  if (!result.isOk() && std::getenv(env))
    result = Status(result.status().code(),
                    result.status().message() + " (named by " + env + ")");
  if (result.isOk()) {
    const Lib *expected = nullptr;
    naming.compare_exchange_strong(expected, *result);
  }
  cache->emplace(key, result);
  return result;
}

} // namespace msa::runtime::cuda

#endif // MSA_RUNTIME_CUDA_LOADONCE_H
