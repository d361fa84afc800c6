//===- CudaMirrorTest.cpp - the mirrored CUDA declarations are cuda.h's ---===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The runtime declares the driver and cuBLASLt types, values and entry
// points it uses itself (CudaDriver.h, CublasLt.h) so that it builds without
// CUDA. This file is compiled only where the toolkit's headers are found and
// checks, at compile time, every mirrored value against the real enumerator
// and every entry point's type against the real declaration. Mirrored types
// differ from the real ones only where the mirror has no choice: enums are
// int, CUdeviceptr is uint64_t, cuBLASLt's descriptors point to structs of
// msa's own; `Mirror` maps each real type to its stand-in (checking that
// they have the same size) before the function types are compared.
//
//===----------------------------------------------------------------------===//

// The mirror first, so that it is parsed before cuda.h's macros exist.
#include "msa/runtime/cuda/CublasLt.h"
#include "msa/runtime/cuda/CudaDriver.h"

#include <cublasLt.h>
#include <cuda.h>

#include <gtest/gtest.h>

#include <cstddef>
#include <type_traits>

namespace cu = msa::runtime::cuda;

namespace {

/// The mirror's stand-in for a type of the real headers.
template <typename T, typename = void> struct Mirror { using type = T; };
template <typename T> using MirrorT = typename Mirror<T>::type;

template <typename T> struct Mirror<T, std::enable_if_t<std::is_enum_v<T>>> {
  static_assert(sizeof(T) == sizeof(int), "enums are mirrored as int");
  using type = int;
};
template <typename T> struct Mirror<T *> { using type = MirrorT<T> *; };
template <typename T> struct Mirror<const T> { using type = const MirrorT<T>; };
template <> struct Mirror<unsigned long long> {
  static_assert(sizeof(unsigned long long) == sizeof(uint64_t));
  using type = uint64_t;
};
template <> struct Mirror<cublasLtMatmulDescOpaque_t> {
  using type = cu::CublasLtMatmulDescOpaque;
};
template <> struct Mirror<cublasLtMatrixLayoutOpaque_t> {
  using type = cu::CublasLtMatrixLayoutOpaque;
};
template <> struct Mirror<cublasLtMatmulPreferenceOpaque_t> {
  using type = cu::CublasLtMatmulPreferenceOpaque;
};
template <> struct Mirror<cublasLtMatmulAlgo_t> {
  using type = cu::cublasLtMatmulAlgo_t;
};
template <> struct Mirror<cublasLtMatmulHeuristicResult_t> {
  using type = cu::cublasLtMatmulHeuristicResult_t;
};
template <typename R, typename... A> struct Mirror<R (*)(A...)> {
  using type = MirrorT<R> (*)(MirrorT<A>...);
};

// Types.
static_assert(std::is_same_v<MirrorT<CUresult>, cu::CUresult>);
static_assert(std::is_same_v<CUdevice, cu::CUdevice>);
static_assert(std::is_same_v<MirrorT<CUdeviceptr>, cu::CUdeviceptr>);
static_assert(std::is_same_v<CUcontext, cu::CUcontext>);
static_assert(std::is_same_v<CUstream, cu::CUstream>);
static_assert(std::is_same_v<CUevent, cu::CUevent>);
static_assert(std::is_same_v<CUmodule, cu::CUmodule>);
static_assert(std::is_same_v<CUfunction, cu::CUfunction>);
static_assert(std::is_same_v<cudaStream_t, cu::CUstream>);
static_assert(std::is_same_v<cublasLtHandle_t, cu::cublasLtHandle_t>);
static_assert(
    std::is_same_v<MirrorT<cublasLtMatmulDesc_t>, cu::cublasLtMatmulDesc_t>);
static_assert(std::is_same_v<MirrorT<cublasLtMatrixLayout_t>,
                             cu::cublasLtMatrixLayout_t>);
static_assert(std::is_same_v<MirrorT<cublasLtMatmulPreference_t>,
                             cu::cublasLtMatmulPreference_t>);
static_assert(sizeof(cublasOperation_t) == sizeof(cu::cublasOperation_t));

// Structs passed by value or through arrays: same layout.
static_assert(sizeof(cublasLtMatmulAlgo_t) == sizeof(cu::cublasLtMatmulAlgo_t));
static_assert(alignof(cublasLtMatmulAlgo_t) ==
              alignof(cu::cublasLtMatmulAlgo_t));
static_assert(sizeof(cublasLtMatmulHeuristicResult_t) ==
              sizeof(cu::cublasLtMatmulHeuristicResult_t));
static_assert(alignof(cublasLtMatmulHeuristicResult_t) ==
              alignof(cu::cublasLtMatmulHeuristicResult_t));
#define MSA_CHECK_FIELD(field)                                                 \
  static_assert(offsetof(cublasLtMatmulHeuristicResult_t, field) ==            \
                offsetof(cu::cublasLtMatmulHeuristicResult_t, field));
MSA_CHECK_FIELD(algo)
MSA_CHECK_FIELD(workspaceSize)
MSA_CHECK_FIELD(state)
MSA_CHECK_FIELD(wavesCount)
MSA_CHECK_FIELD(reserved)
#undef MSA_CHECK_FIELD

// Values: every mirrored CUresult and cublasStatus_t.
#define MSA_CHECK_VALUE(name, value)                                           \
  static_assert(cu::name == ::name && value == ::name, #name);
MSA_CUDA_RESULTS(MSA_CHECK_VALUE)
MSA_CUBLAS_STATUSES(MSA_CHECK_VALUE)
#undef MSA_CHECK_VALUE

// Values: the other constants.
#define MSA_CHECK_CONSTANT(name) static_assert(cu::name == ::name, #name);
MSA_CHECK_CONSTANT(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK)
MSA_CHECK_CONSTANT(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)
MSA_CHECK_CONSTANT(CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE)
MSA_CHECK_CONSTANT(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)
MSA_CHECK_CONSTANT(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)
MSA_CHECK_CONSTANT(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN)
MSA_CHECK_CONSTANT(CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES)
MSA_CHECK_CONSTANT(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)
MSA_CHECK_CONSTANT(CU_JIT_ERROR_LOG_BUFFER)
MSA_CHECK_CONSTANT(CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES)
MSA_CHECK_CONSTANT(CU_STREAM_NON_BLOCKING)
MSA_CHECK_CONSTANT(CU_EVENT_DEFAULT)
MSA_CHECK_CONSTANT(CUBLAS_COMPUTE_32F)
MSA_CHECK_CONSTANT(CUDA_R_32F)
MSA_CHECK_CONSTANT(CUDA_R_16F)
MSA_CHECK_CONSTANT(CUDA_R_16BF)
MSA_CHECK_CONSTANT(CUBLAS_OP_N)
MSA_CHECK_CONSTANT(CUBLAS_OP_T)
MSA_CHECK_CONSTANT(CUBLASLT_MATMUL_DESC_TRANSA)
MSA_CHECK_CONSTANT(CUBLASLT_MATMUL_DESC_TRANSB)
MSA_CHECK_CONSTANT(CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES)
MSA_CHECK_CONSTANT(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES)
MSA_CHECK_CONSTANT(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES)
MSA_CHECK_CONSTANT(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES)
MSA_CHECK_CONSTANT(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES)
#undef MSA_CHECK_CONSTANT

// The library wants 32 MiB on Hopper; the runtime's own constant must not
// drift below what it asks for (CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES).
static_assert(msa::runtime::kCublasLtWorkspaceBytes >= (size_t(32) << 20));

// Entry points: `&::name` is the real declaration, which cuda.h's macros
// give the versioned name; the test fails to compile if a symbol is not
// declared under the name the runtime looks up.
#define MSA_CHECK_DRIVER_SYMBOL(name, params)                                  \
  static_assert(std::is_same_v<MirrorT<decltype(&::name)>, cu::PFN_##name>,    \
                #name);
MSA_CUDA_DRIVER_SYMBOLS(MSA_CHECK_DRIVER_SYMBOL)
#undef MSA_CHECK_DRIVER_SYMBOL

#define MSA_CHECK_CUBLASLT_SYMBOL(ret, name, params)                           \
  static_assert(std::is_same_v<MirrorT<decltype(&::name)>, cu::PFN_##name>,    \
                #name);
MSA_CUBLASLT_SYMBOLS(MSA_CHECK_CUBLASLT_SYMBOL)
#undef MSA_CHECK_CUBLASLT_SYMBOL

// The headers are CUDA 13's, whose symbol versions the runtime uses.
static_assert(CUDA_VERSION >= 13000, "the mirror follows CUDA 13 headers");

TEST(CudaMirror, MatchesTheToolkitHeaders) {
  // Everything is checked at compile time; this records that it was.
  SUCCEED() << "checked against CUDA " << CUDA_VERSION;
}

} // namespace
