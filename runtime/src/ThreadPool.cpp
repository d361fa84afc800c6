//===- ThreadPool.cpp - a fixed pool for parallel loops -------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/ThreadPool.h"

#include <algorithm>

namespace msa::runtime {

ThreadPool::ThreadPool(unsigned threads) {
  if (threads == 0)
    threads = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 1; i < threads; ++i)
    workers_.emplace_back([this] { work(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread &t : workers_)
    t.join();
}

void ThreadPool::runShare() {
  // Claim ranges until none is left.
  while (true) {
    int64_t begin;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (next_ >= total_)
        return;
      begin = next_;
      next_ = std::min(total_, next_ + grain_);
    }
    (*body_)(begin, std::min(total_, begin + grain_));
  }
}

void ThreadPool::work() {
  uint64_t seen = 0;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_)
        return;
      seen = generation_;
      ++active_;
    }
    runShare();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--active_ == 0)
        done_.notify_all();
    }
  }
}

void ThreadPool::parallelFor(int64_t n,
                             const std::function<void(int64_t, int64_t)> &body,
                             int64_t grain) {
  if (n <= 0)
    return;
  if (grain <= 0)
    grain = std::max<int64_t>(1, n / (8 * static_cast<int64_t>(size())));
  if (workers_.empty() || n <= grain) {
    body(0, n);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    body_ = &body;
    total_ = n;
    grain_ = grain;
    next_ = 0;
    ++generation_;
    ++active_; // the caller
  }
  wake_.notify_all();
  runShare();
  std::unique_lock<std::mutex> lock(mutex_);
  --active_;
  done_.wait(lock, [&] { return active_ == 0 && next_ >= total_; });
  body_ = nullptr;
}

} // namespace msa::runtime
