//===- ThreadPool.h - a fixed pool for parallel loops ------------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The cpu backend runs a kernel's work items [0, n) over these threads in
// dynamically claimed ranges, so uneven items (documents of different
// lengths) balance themselves.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_THREADPOOL_H
#define MSA_RUNTIME_THREADPOOL_H

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace msa::runtime {

class ThreadPool {
public:
  /// `threads` workers in all, the caller included; 0 means one per core.
  explicit ThreadPool(unsigned threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  unsigned size() const { return static_cast<unsigned>(workers_.size()) + 1; }

  /// Calls body(begin, end) over disjoint ranges covering [0, n), claimed in
  /// pieces of at most `grain` items (0: chosen from n and the pool size).
  /// Returns when all are done.
  void parallelFor(int64_t n, const std::function<void(int64_t, int64_t)> &body,
                   int64_t grain = 0);

private:
  void work();
  void runShare();

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int64_t, int64_t)> *body_ = nullptr;
  int64_t total_ = 0, grain_ = 1;
  int64_t next_ = 0;
  unsigned active_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

} // namespace msa::runtime

#endif // MSA_RUNTIME_THREADPOOL_H
