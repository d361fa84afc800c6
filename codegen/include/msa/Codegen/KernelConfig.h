//===- KernelConfig.h - every tile choice, with its reason ------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The one table of tile sizes (FA3's tile_size.h analogue): what each kernel
// family uses on each target, chosen in one function with the reason for
// every branch. msa-assign-tiles copies these into the IR as attributes, so
// a researcher can override them there; the lowerings read the attributes.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_CODEGEN_KERNELCONFIG_H
#define MSA_CODEGEN_KERNELCONFIG_H

#include <cstdint>
#include <string>

namespace msa::codegen {

/// What the code generator knows about the machine it targets.
struct TargetInfo {
  enum class Kind { kCpu, kCuda };
  Kind kind = Kind::kCpu;
  /// CPU: widest f32 vector in elements (8 for AVX2, 16 for AVX-512).
  int64_t cpuVectorF32 = 8;
  /// CUDA: compute capability times ten (90 for sm_90).
  int64_t smVersion = 0;

  /// The CPU target for an LLVM CPU name ("x86-64-v3", "x86-64-v4",
  /// "native" resolved by the caller).
  static TargetInfo cpu(const std::string &cpuName);
  /// The CUDA target for a chip ("sm_90"); false if it is not one msa
  /// generates code for.
  static bool cuda(const std::string &chip, TargetInfo &out);
  /// "cpu" or "cuda:sm_90" with `cpuName` for cpu targets; false for any
  /// other target.
  static bool parse(const std::string &target, const std::string &cpuName,
                    TargetInfo &out);
};

/// Tiles of one kernel instance.
struct KernelTiles {
  /// Elements per vector along the head dim (or row) of CPU kernels.
  int64_t vectorWidth = 1;
  /// Keys scored per step of the attention inner loop (register blocking).
  int64_t blockK = 1;
  /// Independent candidate blocks of route_topk (work items per row).
  int64_t routeBlocks = 64;
  /// CUDA: threads per block.
  int64_t threads = 1;
  /// CUDA: rows (or (token, head) pairs) one block handles, a warp each.
  int64_t rowsPerBlock = 1;
  /// CUDA memory attention: warps sharing one query's keys (split-K).
  int64_t keySplits = 1;
  /// CUDA attention: query rows and key rows of one tile.
  int64_t blockM = 1, blockN = 1;
  /// CUDA encode attention: mma.sync tiles instead of CUDA-core ones.
  bool tensorCores = false;
  /// CUDA encode attention on the tensor cores and route_topk: Hopper's
  /// wgmma (a warpgroup per group head, or per run of documents) instead
  /// of mma.sync.
  bool warpgroupMma = false;
  /// CUDA route_topk on wgmma: stages of the cp.async ring that streams
  /// the router keys (0: no ring).
  int64_t ringStages = 0;
  /// Why these numbers; printed by msa-compile --print-tiles.
  std::string reason;
};

/// Kernel families with distinct tile needs.
enum class KernelFamily { kRowwise, kEncodeAttention, kMemoryAttention, kRoute };

/// The tiles for `family` with rows (or heads) of `innerDim` elements on
/// `target`.
/// `tensorCoreGroup`: for encode attention whose shapes the tensor-core
/// kernel takes (bf16, head dim 32-128 in steps of 32, GQA group 1, 2 or
/// 4), the GQA group; 0 otherwise.
KernelTiles chooseTiles(const TargetInfo &target, KernelFamily family,
                        int64_t innerDim, int64_t tensorCoreGroup = 0);

} // namespace msa::codegen

#endif // MSA_CODEGEN_KERNELCONFIG_H
