//===- KernelConfig.cpp - every tile choice, with its reason --------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/Codegen/KernelConfig.h"

#include "msa/Codegen/HardwareLimits.h"

namespace msa::codegen {

TargetInfo TargetInfo::cpu(const std::string &cpuName) {
  TargetInfo t;
  t.kind = Kind::kCpu;
  // x86-64-v4 and the AVX-512 server cores have 512-bit registers; every
  // other x86-64 level this project targets (v3 and up) has AVX2.
  bool avx512 = cpuName == "x86-64-v4" || cpuName == "skylake-avx512" ||
                cpuName == "icelake-server" || cpuName == "sapphirerapids" ||
                cpuName == "znver4" || cpuName == "znver5";
  t.cpuVectorF32 = avx512 ? kCpuAvx512F32Lanes : kCpuAvx2F32Lanes;
  return t;
}

namespace {

/// The widest power-of-two vector up to `maxWidth` that divides `n`, so
/// rows need no remainder loop.
int64_t widestDividing(int64_t n, int64_t maxWidth) {
  int64_t w = maxWidth;
  while (w > 1 && n % w != 0)
    w /= 2;
  return w;
}

} // namespace

KernelTiles chooseTiles(const TargetInfo &target, KernelFamily family,
                        int64_t innerDim) {
  KernelTiles t;
  if (target.kind == TargetInfo::Kind::kCuda) {
    t.reason = "cuda tiles are chosen by the cuda target";
    return t;
  }
  t.vectorWidth = widestDividing(innerDim, target.cpuVectorF32);
  switch (family) {
  case KernelFamily::kRowwise:
    t.reason = "one row per work item, vectors as wide as the row allows";
    break;
  case KernelFamily::kEncodeAttention:
    // Four keys per step keep four dot products in flight per query, enough
    // to cover the FMA latency of one core, and their accumulators (4 x
    // head_dim / width registers) fit the 16 (AVX2) or 32 (AVX-512)
    // vector registers for head dims up to 128.
    t.blockK = 4;
    t.reason = "4 keys per step: 4 independent dot products hide FMA latency";
    break;
  case KernelFamily::kMemoryAttention:
    // Decode has one query per (token, head) item and short contexts: the
    // same 4-key blocking, no query blocking.
    t.blockK = 4;
    t.reason = "4 keys per step, one (token, head) per work item";
    break;
  case KernelFamily::kRoute:
    // 64 blocks give every core of a large host several blocks to balance
    // over while keeping the merge (64 x k candidates) trivial.
    t.routeBlocks = 64;
    t.reason = "64 candidate blocks: enough parallel work, a tiny merge";
    break;
  }
  return t;
}

} // namespace msa::codegen
