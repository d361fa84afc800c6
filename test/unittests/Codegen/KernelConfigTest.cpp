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

} // namespace
