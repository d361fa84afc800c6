//===- Random.h - a small deterministic random number generator -*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// make-model, tests and benchmarks need the same numbers from the same seed
// on every machine and standard library, which std:: distributions do not
// promise. SplitMix64 plus Box-Muller is enough.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_RANDOM_H
#define MSA_RUNTIME_RANDOM_H

#include <cmath>
#include <cstdint>

namespace msa::runtime {

class Rng {
public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// Uniform integer in [lo, hi].
  int64_t uniformInt(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(next() % static_cast<uint64_t>(hi - lo + 1));
  }
  /// Standard normal.
  double normal() {
    if (haveSpare_) {
      haveSpare_ = false;
      return spare_;
    }
    double u1 = uniform(), u2 = uniform();
    if (u1 < 1e-300)
      u1 = 1e-300;
    double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(2.0 * M_PI * u2);
    haveSpare_ = true;
    return r * std::cos(2.0 * M_PI * u2);
  }

private:
  uint64_t state_;
  double spare_ = 0.0;
  bool haveSpare_ = false;
};

} // namespace msa::runtime

#endif // MSA_RUNTIME_RANDOM_H
