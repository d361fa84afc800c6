//===- CudaDriver.h - the CUDA driver API, loaded with dlopen ---*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The runtime builds and its CPU tests run where there is no CUDA at all, so
// it never includes <cuda.h> and never links libcuda: this header mirrors the
// few types, constants and entry points the runtime uses, and CudaDriver
// opens libcuda.so.1 at first use (IREE's cuda_dynamic_symbol_table.h).
// Names are cuda.h's own so they can be looked up there;
// test/unittests/Cuda/CudaMirrorTest.cpp checks every value and signature
// against the real header wherever the toolkit is installed.
//
// Every entry point is the versioned symbol that cuda.h's macros map the
// plain name to in CUDA 13 (cuMemAlloc -> cuMemAlloc_v2): the unversioned
// symbols are kept by the driver for old binaries and have other ABIs.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_CUDA_CUDADRIVER_H
#define MSA_RUNTIME_CUDA_CUDADRIVER_H

#include "msa/runtime/Status.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

// The handle types are pointers to these incomplete structs, exactly as in
// cuda.h, so they are the same types as the real ones.
struct CUctx_st;
struct CUstream_st;
struct CUevent_st;
struct CUmod_st;
struct CUfunc_st;

namespace msa::runtime::cuda {

/// cuda.h's CUresult is an enum; its values are mirrored below.
using CUresult = int;
using CUdevice = int;
/// A device address (cuda.h: unsigned long long, also 64 bits).
using CUdeviceptr = uint64_t;
using CUcontext = ::CUctx_st *;
using CUstream = ::CUstream_st *;
using CUevent = ::CUevent_st *;
using CUmodule = ::CUmod_st *;
using CUfunction = ::CUfunc_st *;
/// Enums of cuda.h, passed as int (same size and calling convention).
using CUdevice_attribute = int;
using CUfunction_attribute = int;
using CUjit_option = int;

/// Every CUresult of CUDA 13.0, so that errors are named even when the
/// driver cannot be asked (X(name, value)).
#define MSA_CUDA_RESULTS(X)                                                    \
  X(CUDA_SUCCESS, 0)                                                           \
  X(CUDA_ERROR_INVALID_VALUE, 1)                                               \
  X(CUDA_ERROR_OUT_OF_MEMORY, 2)                                               \
  X(CUDA_ERROR_NOT_INITIALIZED, 3)                                             \
  X(CUDA_ERROR_DEINITIALIZED, 4)                                               \
  X(CUDA_ERROR_PROFILER_DISABLED, 5)                                           \
  X(CUDA_ERROR_PROFILER_NOT_INITIALIZED, 6)                                    \
  X(CUDA_ERROR_PROFILER_ALREADY_STARTED, 7)                                    \
  X(CUDA_ERROR_PROFILER_ALREADY_STOPPED, 8)                                    \
  X(CUDA_ERROR_STUB_LIBRARY, 34)                                               \
  X(CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER, 36)                                 \
  X(CUDA_ERROR_DEVICE_UNAVAILABLE, 46)                                         \
  X(CUDA_ERROR_NO_DEVICE, 100)                                                 \
  X(CUDA_ERROR_INVALID_DEVICE, 101)                                            \
  X(CUDA_ERROR_DEVICE_NOT_LICENSED, 102)                                       \
  X(CUDA_ERROR_INVALID_IMAGE, 200)                                             \
  X(CUDA_ERROR_INVALID_CONTEXT, 201)                                           \
  X(CUDA_ERROR_CONTEXT_ALREADY_CURRENT, 202)                                   \
  X(CUDA_ERROR_MAP_FAILED, 205)                                                \
  X(CUDA_ERROR_UNMAP_FAILED, 206)                                              \
  X(CUDA_ERROR_ARRAY_IS_MAPPED, 207)                                           \
  X(CUDA_ERROR_ALREADY_MAPPED, 208)                                            \
  X(CUDA_ERROR_NO_BINARY_FOR_GPU, 209)                                         \
  X(CUDA_ERROR_ALREADY_ACQUIRED, 210)                                          \
  X(CUDA_ERROR_NOT_MAPPED, 211)                                                \
  X(CUDA_ERROR_NOT_MAPPED_AS_ARRAY, 212)                                       \
  X(CUDA_ERROR_NOT_MAPPED_AS_POINTER, 213)                                     \
  X(CUDA_ERROR_ECC_UNCORRECTABLE, 214)                                         \
  X(CUDA_ERROR_UNSUPPORTED_LIMIT, 215)                                         \
  X(CUDA_ERROR_CONTEXT_ALREADY_IN_USE, 216)                                    \
  X(CUDA_ERROR_PEER_ACCESS_UNSUPPORTED, 217)                                   \
  X(CUDA_ERROR_INVALID_PTX, 218)                                               \
  X(CUDA_ERROR_INVALID_GRAPHICS_CONTEXT, 219)                                  \
  X(CUDA_ERROR_NVLINK_UNCORRECTABLE, 220)                                      \
  X(CUDA_ERROR_JIT_COMPILER_NOT_FOUND, 221)                                    \
  X(CUDA_ERROR_UNSUPPORTED_PTX_VERSION, 222)                                   \
  X(CUDA_ERROR_JIT_COMPILATION_DISABLED, 223)                                  \
  X(CUDA_ERROR_UNSUPPORTED_EXEC_AFFINITY, 224)                                 \
  X(CUDA_ERROR_UNSUPPORTED_DEVSIDE_SYNC, 225)                                  \
  X(CUDA_ERROR_CONTAINED, 226)                                                 \
  X(CUDA_ERROR_INVALID_SOURCE, 300)                                            \
  X(CUDA_ERROR_FILE_NOT_FOUND, 301)                                            \
  X(CUDA_ERROR_SHARED_OBJECT_SYMBOL_NOT_FOUND, 302)                            \
  X(CUDA_ERROR_SHARED_OBJECT_INIT_FAILED, 303)                                 \
  X(CUDA_ERROR_OPERATING_SYSTEM, 304)                                          \
  X(CUDA_ERROR_INVALID_HANDLE, 400)                                            \
  X(CUDA_ERROR_ILLEGAL_STATE, 401)                                             \
  X(CUDA_ERROR_LOSSY_QUERY, 402)                                               \
  X(CUDA_ERROR_NOT_FOUND, 500)                                                 \
  X(CUDA_ERROR_NOT_READY, 600)                                                 \
  X(CUDA_ERROR_ILLEGAL_ADDRESS, 700)                                           \
  X(CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, 701)                                   \
  X(CUDA_ERROR_LAUNCH_TIMEOUT, 702)                                            \
  X(CUDA_ERROR_LAUNCH_INCOMPATIBLE_TEXTURING, 703)                             \
  X(CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED, 704)                               \
  X(CUDA_ERROR_PEER_ACCESS_NOT_ENABLED, 705)                                   \
  X(CUDA_ERROR_PRIMARY_CONTEXT_ACTIVE, 708)                                    \
  X(CUDA_ERROR_CONTEXT_IS_DESTROYED, 709)                                      \
  X(CUDA_ERROR_ASSERT, 710)                                                    \
  X(CUDA_ERROR_TOO_MANY_PEERS, 711)                                            \
  X(CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED, 712)                            \
  X(CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED, 713)                                \
  X(CUDA_ERROR_HARDWARE_STACK_ERROR, 714)                                      \
  X(CUDA_ERROR_ILLEGAL_INSTRUCTION, 715)                                       \
  X(CUDA_ERROR_MISALIGNED_ADDRESS, 716)                                        \
  X(CUDA_ERROR_INVALID_ADDRESS_SPACE, 717)                                     \
  X(CUDA_ERROR_INVALID_PC, 718)                                                \
  X(CUDA_ERROR_LAUNCH_FAILED, 719)                                             \
  X(CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE, 720)                              \
  X(CUDA_ERROR_TENSOR_MEMORY_LEAK, 721)                                        \
  X(CUDA_ERROR_NOT_PERMITTED, 800)                                             \
  X(CUDA_ERROR_NOT_SUPPORTED, 801)                                             \
  X(CUDA_ERROR_SYSTEM_NOT_READY, 802)                                          \
  X(CUDA_ERROR_SYSTEM_DRIVER_MISMATCH, 803)                                    \
  X(CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE, 804)                            \
  X(CUDA_ERROR_MPS_CONNECTION_FAILED, 805)                                     \
  X(CUDA_ERROR_MPS_RPC_FAILURE, 806)                                           \
  X(CUDA_ERROR_MPS_SERVER_NOT_READY, 807)                                      \
  X(CUDA_ERROR_MPS_MAX_CLIENTS_REACHED, 808)                                   \
  X(CUDA_ERROR_MPS_MAX_CONNECTIONS_REACHED, 809)                               \
  X(CUDA_ERROR_MPS_CLIENT_TERMINATED, 810)                                     \
  X(CUDA_ERROR_CDP_NOT_SUPPORTED, 811)                                         \
  X(CUDA_ERROR_CDP_VERSION_MISMATCH, 812)                                      \
  X(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, 900)                                \
  X(CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, 901)                                \
  X(CUDA_ERROR_STREAM_CAPTURE_MERGE, 902)                                      \
  X(CUDA_ERROR_STREAM_CAPTURE_UNMATCHED, 903)                                  \
  X(CUDA_ERROR_STREAM_CAPTURE_UNJOINED, 904)                                   \
  X(CUDA_ERROR_STREAM_CAPTURE_ISOLATION, 905)                                  \
  X(CUDA_ERROR_STREAM_CAPTURE_IMPLICIT, 906)                                   \
  X(CUDA_ERROR_CAPTURED_EVENT, 907)                                            \
  X(CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD, 908)                               \
  X(CUDA_ERROR_TIMEOUT, 909)                                                   \
  X(CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE, 910)                                 \
  X(CUDA_ERROR_EXTERNAL_DEVICE, 911)                                           \
  X(CUDA_ERROR_INVALID_CLUSTER_SIZE, 912)                                      \
  X(CUDA_ERROR_FUNCTION_NOT_LOADED, 913)                                       \
  X(CUDA_ERROR_INVALID_RESOURCE_TYPE, 914)                                     \
  X(CUDA_ERROR_INVALID_RESOURCE_CONFIGURATION, 915)                            \
  X(CUDA_ERROR_KEY_ROTATION, 916)                                              \
  X(CUDA_ERROR_UNKNOWN, 999)

#define MSA_CUDA_RESULT_CONSTANT(name, value)                                  \
  inline constexpr CUresult name = value;
MSA_CUDA_RESULTS(MSA_CUDA_RESULT_CONSTANT)
#undef MSA_CUDA_RESULT_CONSTANT

// CUdevice_attribute values.
inline constexpr CUdevice_attribute CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK =
    1;
inline constexpr CUdevice_attribute CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT =
    16;
inline constexpr CUdevice_attribute CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE = 38;
inline constexpr CUdevice_attribute
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
inline constexpr CUdevice_attribute
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
inline constexpr CUdevice_attribute
    CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;

// CUfunction_attribute values.
inline constexpr CUfunction_attribute CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES = 1;
inline constexpr CUfunction_attribute
    CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;

// CUjit_option values.
inline constexpr CUjit_option CU_JIT_ERROR_LOG_BUFFER = 5;
inline constexpr CUjit_option CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;

// Flags of cuStreamCreate (CUstream_flags) and cuEventCreate
// (CUevent_flags).
inline constexpr unsigned CU_STREAM_NON_BLOCKING = 0x1;
inline constexpr unsigned CU_EVENT_DEFAULT = 0x0;

/// The driver entry points the runtime uses, X(symbol, parameters); each
/// returns CUresult. Signatures are cuda.h's with the mirrored types.
#define MSA_CUDA_DRIVER_SYMBOLS(X)                                             \
  X(cuGetErrorName, (CUresult error, const char **str))                        \
  X(cuGetErrorString, (CUresult error, const char **str))                      \
  X(cuInit, (unsigned int flags))                                              \
  X(cuDriverGetVersion, (int *version))                                        \
  X(cuDeviceGet, (CUdevice * device, int ordinal))                             \
  X(cuDeviceGetCount, (int *count))                                            \
  X(cuDeviceGetName, (char *name, int len, CUdevice dev))                      \
  X(cuDeviceGetAttribute,                                                      \
    (int *value, CUdevice_attribute attrib, CUdevice dev))                     \
  X(cuDeviceTotalMem_v2, (size_t * bytes, CUdevice dev))                       \
  X(cuDevicePrimaryCtxRetain, (CUcontext * ctx, CUdevice dev))                 \
  X(cuDevicePrimaryCtxRelease_v2, (CUdevice dev))                              \
  X(cuCtxSetCurrent, (CUcontext ctx))                                          \
  X(cuCtxGetCurrent, (CUcontext * ctx))                                        \
  X(cuCtxGetDevice, (CUdevice * device))                                       \
  X(cuMemGetInfo_v2, (size_t * free, size_t * total))                          \
  X(cuMemAlloc_v2, (CUdeviceptr * ptr, size_t bytes))                          \
  X(cuMemFree_v2, (CUdeviceptr ptr))                                           \
  X(cuMemAllocHost_v2, (void **ptr, size_t bytes))                             \
  X(cuMemFreeHost, (void *ptr))                                                \
  X(cuMemcpyHtoDAsync_v2,                                                      \
    (CUdeviceptr dst, const void *src, size_t bytes, CUstream stream))         \
  X(cuMemcpyDtoHAsync_v2,                                                      \
    (void *dst, CUdeviceptr src, size_t bytes, CUstream stream))               \
  X(cuMemcpyDtoDAsync_v2,                                                      \
    (CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream stream))         \
  X(cuMemsetD8Async,                                                           \
    (CUdeviceptr dst, unsigned char value, size_t count, CUstream stream))     \
  X(cuStreamCreate, (CUstream * stream, unsigned int flags))                   \
  X(cuStreamDestroy_v2, (CUstream stream))                                     \
  X(cuStreamSynchronize, (CUstream stream))                                    \
  X(cuEventCreate, (CUevent * event, unsigned int flags))                      \
  X(cuEventDestroy_v2, (CUevent event))                                        \
  X(cuEventRecord, (CUevent event, CUstream stream))                           \
  X(cuEventSynchronize, (CUevent event))                                       \
  X(cuEventElapsedTime_v2, (float *ms, CUevent start, CUevent end))            \
  X(cuModuleLoadData, (CUmodule * module, const void *image))                  \
  X(cuModuleLoadDataEx,                                                        \
    (CUmodule * module, const void *image, unsigned int numOptions,            \
     CUjit_option *options, void **optionValues))                              \
  X(cuModuleUnload, (CUmodule module))                                         \
  X(cuModuleGetFunction,                                                       \
    (CUfunction * function, CUmodule module, const char *name))                \
  X(cuFuncGetAttribute,                                                        \
    (int *value, CUfunction_attribute attrib, CUfunction function))            \
  X(cuFuncSetAttribute,                                                        \
    (CUfunction function, CUfunction_attribute attrib, int value))             \
  X(cuLaunchKernel,                                                            \
    (CUfunction function, unsigned int gridDimX, unsigned int gridDimY,        \
     unsigned int gridDimZ, unsigned int blockDimX, unsigned int blockDimY,    \
     unsigned int blockDimZ, unsigned int sharedMemBytes, CUstream stream,     \
     void **kernelParams, void **extra))

#define MSA_CUDA_DRIVER_PFN(name, params) using PFN_##name = CUresult(*) params;
MSA_CUDA_DRIVER_SYMBOLS(MSA_CUDA_DRIVER_PFN)
#undef MSA_CUDA_DRIVER_PFN

/// The loaded driver: one pointer per entry point, all resolved.
class CudaDriver {
public:
  /// The library to load: $MSA_CUDA_DRIVER, or libcuda.so.1.
  static std::string libraryName();

  /// The driver in libraryName(), loaded at the first call for that name
  /// and kept for the life of the process (thread-safe). An unavailable()
  /// Status, one line naming the library, when it cannot be loaded or lacks
  /// an entry point.
  static StatusOr<const CudaDriver *> get();

  /// Loads `library` afresh, closed again with the returned object.
  static StatusOr<std::unique_ptr<CudaDriver>> load(const std::string &library);

  ~CudaDriver();
  CudaDriver(const CudaDriver &) = delete;
  CudaDriver &operator=(const CudaDriver &) = delete;

  /// The name it was loaded by.
  const std::string &library() const { return library_; }

#define MSA_CUDA_DRIVER_MEMBER(name, params) PFN_##name name = nullptr;
  MSA_CUDA_DRIVER_SYMBOLS(MSA_CUDA_DRIVER_MEMBER)
#undef MSA_CUDA_DRIVER_MEMBER

private:
  CudaDriver() = default;
  std::string library_;
  void *handle_ = nullptr;
};

/// "CUDA_ERROR_OUT_OF_MEMORY"; "CUresult 12345" for a value CUDA 13.0 does
/// not define and a loaded driver cannot name.
std::string cudaResultName(CUresult result);

/// Ok for CUDA_SUCCESS, else describeFailure(cudaResultName(result), ...)
/// with a code for the kind of failure (unavailable for a missing device or
/// memory, failed precondition for a module that does not fit the device,
/// internal otherwise).
Status cudaStatus(CUresult result, const char *call, const char *file,
                  int line);

/// "<error> from <call> (<file>:<line>)", `file` (from __FILE__) cut to
/// start at its last "runtime/", "test/" or "tools/" directory so that
/// messages do not depend on where the tree was built.
std::string describeFailure(const std::string &error, const char *call,
                            const char *file, int line);

} // namespace msa::runtime::cuda

/// Calls `driver.fn(args...)` and gives its Status (see cudaStatus), named
/// after the entry point and the calling line.
#define MSA_CU_CALL(driver, fn, ...)                                           \
  ::msa::runtime::cuda::cudaStatus((driver).fn(__VA_ARGS__), #fn, __FILE__,    \
                                   __LINE__)

/// Returns from the enclosing function if `driver.fn(args...)` fails.
#define MSA_CU_RETURN_IF_ERROR(driver, fn, ...)                                \
  MSA_RETURN_IF_ERROR(MSA_CU_CALL(driver, fn, __VA_ARGS__))

#endif // MSA_RUNTIME_CUDA_CUDADRIVER_H
