//===- HardwareLimits.h - named hardware numbers for codegen ----*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Every hardware number a lowering or the runtime relies on, named once with
// its source, so no kernel or launch carries a bare literal.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_CODEGEN_HARDWARELIMITS_H
#define MSA_CODEGEN_HARDWARELIMITS_H

#include <cstdint>

namespace msa::codegen {

/// Threads per warp on every NVIDIA architecture (CUDA C Programming Guide).
inline constexpr int64_t kWarpSize = 32;
/// Warps in a Hopper warpgroup, the issuing unit of wgmma (PTX ISA 9.7.15).
inline constexpr int64_t kWarpgroupWarps = 4;
inline constexpr int64_t kWarpgroupThreads = kWarpSize * kWarpgroupWarps;
/// Dynamic shared memory a kernel gets without cuFuncSetAttribute opt-in.
inline constexpr int64_t kDefaultDynamicSmemBytes = 48 * 1024;
/// Largest opt-in shared memory per block on sm_90 (H100/H200: 227 KiB).
inline constexpr int64_t kSm90MaxSmemPerBlockBytes = 227 * 1024;
/// NVVM address space of shared (workgroup) memory.
inline constexpr unsigned kSharedAddressSpace = 3;
/// NVVM address space of global memory.
inline constexpr unsigned kGlobalAddressSpace = 1;
/// Alignment TMA needs for 128-byte swizzled shared-memory tiles.
inline constexpr int64_t kTmaSwizzleAlignmentBytes = 1024;
/// Rows (M) of one wgmma.mma_async: a warpgroup's 4 warps, 16 rows each.
inline constexpr int64_t kWgmmaRows = 64;
/// K of one bf16 wgmma.mma_async (m64nNk16), and its widest N.
inline constexpr int64_t kWgmmaBf16K = 16;
inline constexpr int64_t kWgmmaMaxN = 256;
/// wgmma matrix descriptors count addresses and offsets in 16-byte units
/// (PTX ISA 9.7.15.5.1.2).
inline constexpr int64_t kWgmmaDescUnitBytes = 16;
/// Bytes of one row of a 128-byte swizzled wgmma operand (a "panel" of 64
/// bf16), and the rows of one swizzle atom (8 x 128 = 1024 bytes, which is
/// also kTmaSwizzleAlignmentBytes): PTX ISA 9.7.15.5.1.
inline constexpr int64_t kSwizzleBytes = 128;
inline constexpr int64_t kSwizzleAtomRows = 8;
/// Bytes one cp.async moves at most per thread.
inline constexpr int64_t kCpAsyncMaxBytes = 16;
/// Widest load or store one thread issues (ld.global.v4.b32).
inline constexpr int64_t kCudaMaxVectorBytes = 16;
/// Streaming multiprocessors of the H100 SXM and H200 (both 132).
inline constexpr int64_t kSm90MultiProcessors = 132;
/// Cache line of the x86-64 CPUs the cpu target runs on.
inline constexpr int64_t kCpuCacheLineBytes = 64;
/// f32 lanes of one AVX2 (256-bit) vector register.
inline constexpr int64_t kCpuAvx2F32Lanes = 8;
/// f32 lanes of one AVX-512 (512-bit) vector register.
inline constexpr int64_t kCpuAvx512F32Lanes = 16;

} // namespace msa::codegen

#endif // MSA_CODEGEN_HARDWARELIMITS_H
