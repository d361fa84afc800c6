//===- KernelConfig.cpp - every tile choice, with its reason --------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/Codegen/KernelConfig.h"

#include "msa/Codegen/HardwareLimits.h"

#include <algorithm>

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

bool TargetInfo::cuda(const std::string &chip, TargetInfo &out) {
  // sm_90 (H100, H200) is the one chip the cuda lowering is written and
  // tested for; its tiles below assume Hopper's shared memory and SM count.
  if (chip != "sm_90")
    return false;
  out = TargetInfo();
  out.kind = Kind::kCuda;
  out.smVersion = 90;
  return true;
}

bool TargetInfo::parse(const std::string &target, const std::string &cpuName,
                       TargetInfo &out) {
  if (target == "cpu") {
    out = cpu(cpuName);
    return true;
  }
  const std::string prefix = "cuda:";
  if (target.compare(0, prefix.size(), prefix) == 0)
    return cuda(target.substr(prefix.size()), out);
  return false;
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

/// The sm_90 tiles. Every kernel is written for one warp per row or per
/// (token, head) pair unless the family says otherwise, so the numbers are
/// warps per block and what a warp's lanes hold.
KernelTiles chooseCudaTiles(KernelFamily family, int64_t innerDim,
                            int64_t tensorCoreGroup) {
  KernelTiles t;
  // 16-byte accesses (8 bf16) are the widest a thread issues; a row whose
  // length they do not divide takes the widest vector that does.
  t.vectorWidth = widestDividing(innerDim, kCudaMaxVectorBytes / 2);
  switch (family) {
  case KernelFamily::kRowwise:
    // Four warps, a row each: rows of RMSNorm and embeddings are 64-2560
    // elements, one to ten 16-byte vectors per lane.
    t.threads = 4 * kWarpSize;
    t.rowsPerBlock = 4;
    t.reason = "a warp per row, 4 rows per block, 16-byte vectors";
    break;
  case KernelFamily::kEncodeAttention:
    if (tensorCoreGroup > 0) {
      // mma.sync m16n8k16: a warp per (query head, 16 rows) of a 64-row
      // tile, every query head of a KV group in one block so each K tile
      // is staged and rotated once for the group; 64-key tiles keep S (32
      // registers) and O (d / 2) within the 128 registers 512 threads get.
      t.threads = 4 * kWarpSize * tensorCoreGroup;
      t.blockM = 64;
      t.blockN = 64;
      t.tensorCores = true;
      t.reason = "mma.sync 64x64 tiles, a warp per (group head, 16 rows)";
      // Head dims of whole 128-byte swizzled panels: wgmma (sm_90a) reads
      // Q, K and V from shared memory, so no fragment registers compete
      // with S and O; the same 64-row tile is one warpgroup's m64.
      if (innerDim % 64 == 0) {
        t.warpgroupMma = true;
        t.reason = "wgmma 64x64 tiles, a warpgroup per group head";
      }
      break;
    }
    // 64 x 64 score tiles over 128 threads: each thread owns half a query
    // row of scores (32) and half its output (d / 2), which for d = 128
    // keeps the accumulators in registers; Q, K, V and P tiles of 64 rows
    // take 64 * (3 * 128 * 2 + 64 * 4) = 64 KiB of shared memory.
    t.threads = 4 * kWarpSize;
    t.blockM = 64;
    t.blockN = 64;
    t.reason = "64x64 tiles, a thread per half query row";
    break;
  case KernelFamily::kMemoryAttention:
    // Decode and prefill over a few hundred to a few thousand keys, one
    // key at a time per warp (the head dim across its lanes) and latency
    // bound: a decode step has only tokens x heads = 32 queries, so 16
    // warps split each query's keys (split-K) and combine their softmax
    // states in shared memory.
    t.threads = 16 * kWarpSize;
    t.rowsPerBlock = 1;
    t.keySplits = 16;
    t.reason = "16 warps per (token, head) splitting its keys, head dim "
               "across lanes";
    break;
  case KernelFamily::kRoute:
    // The tensor-core route_topk stages 160 KiB of prepared queries, so
    // one block of eight warps fills an SM (255 registers a thread): one
    // block per SM is one wave, stages the queries 132 times, and the
    // merge reads 132 x k candidates. Measured on an H200 against 2 and 8
    // blocks per SM (bench/RESULTS.md): 52 % of HBM bandwidth at 16
    // routing tokens against 51 % and 46 %, and twice as fast over a
    // 10M-token bank, where staging is most of the work.
    t.threads = 8 * kWarpSize;
    t.routeBlocks = kSm90MultiProcessors;
    t.reason = "a block per SM (160 KiB of staged queries), a warp per run "
               "of documents";
    // Power-of-two head dims from 64 (whole 64-element panels, and a
    // lane's query slot inside one 16-byte chunk): wgmma scores 64 chunks
    // a warpgroup from a cp.async ring, so the keys stream while the
    // tensor cores work (mma.sync waits for its keys, and at 13 routing
    // tokens its multiplies take as long as HBM). Six 8 KiB panel stages
    // a warpgroup: at head dim 128 a head's two are read while the next
    // four load, 64 KiB in flight per SM (HBM's latency-bandwidth product
    // is ~30 KiB), and the staged queries keep 64 columns (16 MSA-4B
    // routing tokens; more take mma.sync). Wider heads need two heads'
    // panels at least.
    if (innerDim >= 64 && (innerDim & (innerDim - 1)) == 0) {
      t.warpgroupMma = true;
      t.ringStages = std::max<int64_t>(6, 2 * innerDim / 64);
      t.reason = "a block per SM, a warpgroup per run of documents, wgmma "
                 "on a cp.async ring of key panels";
    }
    break;
  }
  return t;
}

} // namespace

KernelTiles chooseTiles(const TargetInfo &target, KernelFamily family,
                        int64_t innerDim, int64_t tensorCoreGroup) {
  KernelTiles t;
  if (target.kind == TargetInfo::Kind::kCuda)
    return chooseCudaTiles(family, innerDim, tensorCoreGroup);
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
