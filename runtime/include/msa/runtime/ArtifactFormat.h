//===- ArtifactFormat.h - the .msab bundle: layout and kernel ABI -*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The contract between msa-compile (writer) and the runtime (reader), owned
// by the runtime as in IREE: codegen includes this header, the runtime never
// includes the compiler. docs/bundle-format.md describes the same layout in
// prose with the manifest schema.
//
// File layout (all integers little-endian):
//
//   offset  size  field
//   0       8     magic "MSAB\0\r\n\x1a"
//   8       4     abi version (kAbiVersion)
//   12      4     flags (0)
//   16      8     total file size in bytes
//   24      8     manifest offset   (JSON, UTF-8)
//   32      8     manifest size
//   40      8     section table offset
//   48      8     section count
//   56      8     checksum: CRC-32C of every byte after this header
//   64      ...   manifest, section table, section payloads
//
// A section table entry is 64 bytes: a NUL-padded name of 48 bytes, the
// payload offset and the payload size (8 bytes each). Payloads start on
// kSectionAlignment boundaries. Sections: "cpu.so" (the kernels of a cpu
// bundle as one ELF shared object); "cuda.cubin" (one module with every
// kernel, machine code for the target's chip) and "cuda.ptx" (the same
// module as PTX, which the driver compiles for cards the cubin does not
// fit); a cuda bundle has at least one of the two.
//
// CPU kernel ABI (kAbiVersion 1). Every kernel is exported as
//
//   void <symbol>(Descriptor *arg0, ..., Descriptor *argN-1,
//                 int64_t begin, int64_t end);
//
// where each argument is a pointer to an MLIR ranked memref descriptor of
// the rank the manifest gives,
//
//   struct { T *allocated; T *aligned; int64_t offset;
//            int64_t sizes[rank]; int64_t strides[rank]; }
//
// and [begin, end) is the range of work items (see KernelInfo::grid) this
// call must do. Arguments are operands then results, in the manifest's
// order; result buffers are written, never read. Every argument is passed in
// an integer register or stack slot of the System V x86-64 ABI, so the
// runtime calls any kernel through one pointer-sized calling sequence chosen
// by arity (up to kMaxKernelArgs).
//
// CUDA kernel ABI (kAbiVersion 1). Every kernel is an entry <symbol> of the
// module whose parameters are its arguments' memref descriptors flattened
// field by field (MLIR's default lowering of gpu.func arguments):
//
//   u64 allocated, u64 aligned, i64 offset, i64 sizes[rank], i64 strides[rank]
//
// per argument, operands then results, with device pointers. The manifest's
// "launch" object gives the launch: blockDim = (threads, 1, 1), gridDim =
// (ceil(items / items_per_block), 1, 1) where items is the product of the
// grid terms (no launch when it is 0), and shared_bytes of dynamic shared
// memory (above kCudaDefaultSharedBytes the runtime raises the kernel's
// limit first). Each block finds its items from blockIdx.x and guards the
// last, partial block itself.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_ARTIFACTFORMAT_H
#define MSA_RUNTIME_ARTIFACTFORMAT_H

#include <cstddef>
#include <cstdint>

namespace msa::runtime::artifact {

/// Bumped on any change to the layout, the manifest schema or the kernel
/// ABI; the runtime refuses any other version.
inline constexpr uint32_t kAbiVersion = 1;

inline constexpr char kMagic[8] = {'M', 'S', 'A', 'B', '\0', '\r', '\n', '\x1a'};
inline constexpr size_t kHeaderSize = 64;
inline constexpr size_t kSectionEntrySize = 64;
inline constexpr size_t kSectionNameSize = 48;
/// Payload alignment: a page, so a payload can be mapped on its own.
inline constexpr size_t kSectionAlignment = 4096;
/// Kernels take at most this many arguments (buffers plus the range).
inline constexpr size_t kMaxKernelArgs = 32;

/// Field offsets within the header.
inline constexpr size_t kOffAbiVersion = 8;
inline constexpr size_t kOffFlags = 12;
inline constexpr size_t kOffFileSize = 16;
inline constexpr size_t kOffManifestOffset = 24;
inline constexpr size_t kOffManifestSize = 32;
inline constexpr size_t kOffSectionTableOffset = 40;
inline constexpr size_t kOffSectionCount = 48;
inline constexpr size_t kOffChecksum = 56;

/// Name of the shared object section of cpu bundles.
inline constexpr const char *kCpuObjectSection = "cpu.so";
/// Names of the module sections of cuda bundles.
inline constexpr const char *kCudaCubinSection = "cuda.cubin";
inline constexpr const char *kCudaPtxSection = "cuda.ptx";

/// Threads per block a cuda launch may ask for (every CUDA architecture).
inline constexpr int64_t kCudaMaxThreadsPerBlock = 1024;
/// Dynamic shared memory a kernel gets without raising its limit.
inline constexpr int64_t kCudaDefaultSharedBytes = 48 * 1024;
/// Most dynamic shared memory one block may have on sm_90 (227 KiB).
inline constexpr int64_t kCudaMaxSharedBytes = 227 * 1024;

/// CRC-32C (Castagnoli) of `size` bytes, continuing from `crc` (start at 0).
uint32_t crc32c(const void *data, size_t size, uint32_t crc = 0);

} // namespace msa::runtime::artifact

#endif // MSA_RUNTIME_ARTIFACTFORMAT_H
