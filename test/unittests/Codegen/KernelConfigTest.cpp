//===- KernelConfigTest.cpp - the tile table ------------------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Every tile choice of KernelConfig.cpp divides what it tiles, fits the
// target's vectors, and comes with its reason.
//
//===----------------------------------------------------------------------===//

#include "msa/Codegen/HardwareLimits.h"
#include "msa/Codegen/KernelConfig.h"

#include <gtest/gtest.h>

using namespace msa::codegen;

namespace {

TEST(KernelConfig, VectorsDivideRowsAndFitTheTarget) {
  for (const char *cpu : {"x86-64-v3", "x86-64-v4", "znver4"}) {
    TargetInfo t = TargetInfo::cpu(cpu);
    for (KernelFamily f :
         {KernelFamily::kRowwise, KernelFamily::kEncodeAttention,
          KernelFamily::kMemoryAttention, KernelFamily::kRoute})
      for (int64_t inner : {1, 2, 6, 16, 20, 36, 64, 100, 128, 2560}) {
        KernelTiles tiles = chooseTiles(t, f, inner);
        EXPECT_EQ(inner % tiles.vectorWidth, 0) << cpu << " " << inner;
        EXPECT_LE(tiles.vectorWidth, t.cpuVectorF32);
        EXPECT_GE(tiles.blockK, 1);
        EXPECT_FALSE(tiles.reason.empty());
      }
  }
}

TEST(KernelConfig, TargetsPickTheirVectorWidth) {
  EXPECT_EQ(TargetInfo::cpu("x86-64-v3").cpuVectorF32, kCpuAvx2F32Lanes);
  EXPECT_EQ(TargetInfo::cpu("x86-64-v4").cpuVectorF32, kCpuAvx512F32Lanes);
  // Head dim 128 on AVX2: 8-lane vectors; on AVX-512: 16.
  EXPECT_EQ(chooseTiles(TargetInfo::cpu("x86-64-v3"),
                        KernelFamily::kEncodeAttention, 128)
                .vectorWidth,
            8);
  EXPECT_EQ(chooseTiles(TargetInfo::cpu("x86-64-v4"),
                        KernelFamily::kEncodeAttention, 128)
                .vectorWidth,
            16);
  // A row of 20 takes 4-lane vectors, one of 6 takes pairs.
  EXPECT_EQ(chooseTiles(TargetInfo::cpu("x86-64-v3"), KernelFamily::kRowwise,
                        20)
                .vectorWidth,
            4);
  EXPECT_EQ(chooseTiles(TargetInfo::cpu("x86-64-v3"), KernelFamily::kRowwise,
                        6)
                .vectorWidth,
            2);
}

TEST(KernelConfig, AttentionBlocksKeysAndRoutingHasBlocks) {
  TargetInfo t = TargetInfo::cpu("x86-64-v3");
  EXPECT_EQ(chooseTiles(t, KernelFamily::kEncodeAttention, 64).blockK, 4);
  EXPECT_EQ(chooseTiles(t, KernelFamily::kMemoryAttention, 64).blockK, 4);
  EXPECT_EQ(chooseTiles(t, KernelFamily::kRoute, 128).routeBlocks, 64);
}

TEST(KernelConfig, CudaTargetsAndTheirTiles) {
  TargetInfo t;
  ASSERT_TRUE(TargetInfo::parse("cuda:sm_90", "x86-64-v3", t));
  EXPECT_EQ(t.kind, TargetInfo::Kind::kCuda);
  EXPECT_EQ(t.smVersion, 90);
  TargetInfo other;
  EXPECT_FALSE(TargetInfo::parse("cuda:sm_80", "x86-64-v3", other));
  EXPECT_FALSE(TargetInfo::parse("gpu", "x86-64-v3", other));
  ASSERT_TRUE(TargetInfo::parse("cpu", "x86-64-v4", other));
  EXPECT_EQ(other.kind, TargetInfo::Kind::kCpu);
  EXPECT_EQ(other.cpuVectorF32, kCpuAvx512F32Lanes);

  for (KernelFamily f :
       {KernelFamily::kRowwise, KernelFamily::kEncodeAttention,
        KernelFamily::kMemoryAttention, KernelFamily::kRoute})
    for (int64_t inner : {1, 6, 16, 20, 64, 128, 2560}) {
      KernelTiles tiles = chooseTiles(t, f, inner);
      // Whole warps, at most a block's threads, 16-byte vectors at most.
      EXPECT_EQ(tiles.threads % kWarpSize, 0);
      EXPECT_LE(tiles.threads, 1024);
      EXPECT_EQ(inner % tiles.vectorWidth, 0);
      EXPECT_LE(tiles.vectorWidth * 2, kCudaMaxVectorBytes);
      EXPECT_FALSE(tiles.reason.empty());
    }
  // A warp per row in row-wise kernels; encode attention's tiles need a
  // thread pair per query row; routing fills the SMs.
  KernelTiles row = chooseTiles(t, KernelFamily::kRowwise, 64);
  EXPECT_EQ(row.rowsPerBlock * kWarpSize, row.threads);
  KernelTiles enc = chooseTiles(t, KernelFamily::kEncodeAttention, 128);
  EXPECT_EQ(enc.threads, 2 * enc.blockM);
  EXPECT_EQ(enc.blockN % 2, 0);
  EXPECT_FALSE(enc.tensorCores);
  // The tensor-core encode kernel: a warp per (group head, 16 query rows),
  // 16-key steps; the cpu tiles ignore the group.
  for (int64_t group : {1, 2, 4}) {
    KernelTiles tc =
        chooseTiles(t, KernelFamily::kEncodeAttention, 128, group);
    EXPECT_TRUE(tc.tensorCores);
    EXPECT_EQ(tc.threads, kWarpSize * group * (tc.blockM / 16));
    EXPECT_LE(tc.threads, 1024);
    EXPECT_EQ(tc.blockN % 16, 0);
    // wgmma: a warpgroup (m64) per group head, whole 64-element panels.
    EXPECT_TRUE(tc.warpgroupMma);
    EXPECT_EQ(tc.blockM, kWgmmaRows);
    EXPECT_EQ(tc.threads, kWarpgroupThreads * group);
    for (int64_t d : {32, 96}) {
      KernelTiles narrow =
          chooseTiles(t, KernelFamily::kEncodeAttention, d, group);
      EXPECT_TRUE(narrow.tensorCores);
      EXPECT_FALSE(narrow.warpgroupMma) << "head dim " << d;
    }
  }
  EXPECT_FALSE(chooseTiles(TargetInfo::cpu("x86-64-v3"),
                           KernelFamily::kEncodeAttention, 128, 4)
                   .tensorCores);
  KernelTiles mem = chooseTiles(t, KernelFamily::kMemoryAttention, 128);
  EXPECT_EQ(mem.rowsPerBlock * mem.keySplits * kWarpSize, mem.threads);
  EXPECT_GT(mem.keySplits, 1);
  EXPECT_EQ(chooseTiles(t, KernelFamily::kRoute, 128).routeBlocks %
                kSm90MultiProcessors,
            0);
  // route_topk on wgmma for whole 64-element panels: whole warpgroups and
  // a ring deep enough to read one head's panels while the next load.
  for (int64_t d : {64, 128, 256}) {
    KernelTiles route = chooseTiles(t, KernelFamily::kRoute, d);
    EXPECT_TRUE(route.warpgroupMma) << "head dim " << d;
    EXPECT_EQ(route.threads % kWarpgroupThreads, 0);
    EXPECT_GE(route.ringStages, 2 * d / 64);
  }
  for (int64_t d : {16, 32, 96, 192}) {
    KernelTiles route = chooseTiles(t, KernelFamily::kRoute, d);
    EXPECT_FALSE(route.warpgroupMma) << "head dim " << d;
    EXPECT_EQ(route.ringStages, 0);
  }
}

} // namespace
