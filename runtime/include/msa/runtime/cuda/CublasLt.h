//===- CublasLt.h - the GEMM provider of the cuda backend -------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Plans run every projection as `c = a bᵀ` (b a weight in the checkpoint's
// [out, in] layout) with f32 accumulation (design.md §2, Gemm.h). On a cuda
// device that is one cublasLtMatmul. cuBLASLt is column-major, and a
// row-major [R, C] matrix is its column-major transpose, so the call
// computes cᵀ[N, M] = b[N, K] · aᵀ[K, M]: b's memory read transposed ("T"),
// a's as is ("N"), the layout cuBLASLt serves best.
//
// As with the driver (CudaDriver.h), libcublasLt is opened with dlopen and
// the types, values and entry points used are mirrored here under
// cublasLt.h's names; test/unittests/Cuda/CudaMirrorTest.cpp checks them.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_CUDA_CUBLASLT_H
#define MSA_RUNTIME_CUDA_CUBLASLT_H

#include "msa/runtime/Status.h"
#include "msa/runtime/Tensor.h"
#include "msa/runtime/cuda/CudaDevice.h"
#include "msa/runtime/cuda/CudaDriver.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

// As in cublasLt.h, so the handle is the same type as the real one.
struct cublasLtContext;

namespace msa::runtime::cuda {

using cublasStatus_t = int;
using cublasLtHandle_t = ::cublasLtContext *;
// cublasLt.h's descriptors are pointers to typedefs of unnamed structs,
// which cannot be declared here; only pointers to them cross the API.
struct CublasLtMatmulDescOpaque;
struct CublasLtMatrixLayoutOpaque;
struct CublasLtMatmulPreferenceOpaque;
using cublasLtMatmulDesc_t = CublasLtMatmulDescOpaque *;
using cublasLtMatrixLayout_t = CublasLtMatrixLayoutOpaque *;
using cublasLtMatmulPreference_t = CublasLtMatmulPreferenceOpaque *;
/// Enums of cublasLt.h and library_types.h, passed as int.
using cublasComputeType_t = int;
using cudaDataType_t = int;
using cublasOperation_t = int;
using cublasLtMatmulDescAttributes_t = int;
using cublasLtMatmulPreferenceAttributes_t = int;

/// Layout-compatible with cublasLt.h's structs of the same names.
struct cublasLtMatmulAlgo_t {
  uint64_t data[8];
};
struct cublasLtMatmulHeuristicResult_t {
  cublasLtMatmulAlgo_t algo;
  size_t workspaceSize;
  cublasStatus_t state;
  float wavesCount;
  int reserved[4];
};

/// Every cublasStatus_t of CUDA 13.0 (X(name, value)).
#define MSA_CUBLAS_STATUSES(X)                                                 \
  X(CUBLAS_STATUS_SUCCESS, 0)                                                  \
  X(CUBLAS_STATUS_NOT_INITIALIZED, 1)                                          \
  X(CUBLAS_STATUS_ALLOC_FAILED, 3)                                             \
  X(CUBLAS_STATUS_INVALID_VALUE, 7)                                            \
  X(CUBLAS_STATUS_ARCH_MISMATCH, 8)                                            \
  X(CUBLAS_STATUS_MAPPING_ERROR, 11)                                           \
  X(CUBLAS_STATUS_EXECUTION_FAILED, 13)                                        \
  X(CUBLAS_STATUS_INTERNAL_ERROR, 14)                                          \
  X(CUBLAS_STATUS_NOT_SUPPORTED, 15)                                           \
  X(CUBLAS_STATUS_LICENSE_ERROR, 16)

#define MSA_CUBLAS_STATUS_CONSTANT(name, value)                                \
  inline constexpr cublasStatus_t name = value;
MSA_CUBLAS_STATUSES(MSA_CUBLAS_STATUS_CONSTANT)
#undef MSA_CUBLAS_STATUS_CONSTANT

inline constexpr cublasComputeType_t CUBLAS_COMPUTE_32F = 68;
inline constexpr cudaDataType_t CUDA_R_32F = 0;
inline constexpr cudaDataType_t CUDA_R_16F = 2;
inline constexpr cudaDataType_t CUDA_R_16BF = 14;
inline constexpr cublasOperation_t CUBLAS_OP_N = 0;
inline constexpr cublasOperation_t CUBLAS_OP_T = 1;
inline constexpr cublasLtMatmulDescAttributes_t CUBLASLT_MATMUL_DESC_TRANSA = 3;
inline constexpr cublasLtMatmulDescAttributes_t CUBLASLT_MATMUL_DESC_TRANSB = 4;
inline constexpr cublasLtMatmulPreferenceAttributes_t
    CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES = 1;
inline constexpr cublasLtMatmulPreferenceAttributes_t
    CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES = 5;
inline constexpr cublasLtMatmulPreferenceAttributes_t
    CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES = 6;
inline constexpr cublasLtMatmulPreferenceAttributes_t
    CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES = 7;
inline constexpr cublasLtMatmulPreferenceAttributes_t
    CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES = 8;

/// The cuBLASLt entry points used, X(result type, symbol, parameters).
#define MSA_CUBLASLT_SYMBOLS(X)                                                \
  X(const char *, cublasLtGetStatusName, (cublasStatus_t status))              \
  X(size_t, cublasLtGetVersion, ())                                            \
  X(cublasStatus_t, cublasLtCreate, (cublasLtHandle_t * handle))               \
  X(cublasStatus_t, cublasLtDestroy, (cublasLtHandle_t handle))                \
  X(cublasStatus_t, cublasLtMatmulDescCreate,                                  \
    (cublasLtMatmulDesc_t * desc, cublasComputeType_t computeType,             \
     cudaDataType_t scaleType))                                                \
  X(cublasStatus_t, cublasLtMatmulDescDestroy, (cublasLtMatmulDesc_t desc))    \
  X(cublasStatus_t, cublasLtMatmulDescSetAttribute,                            \
    (cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attr,           \
     const void *buf, size_t sizeInBytes))                                     \
  X(cublasStatus_t, cublasLtMatrixLayoutCreate,                                \
    (cublasLtMatrixLayout_t * layout, cudaDataType_t type, uint64_t rows,      \
     uint64_t cols, int64_t ld))                                               \
  X(cublasStatus_t, cublasLtMatrixLayoutDestroy,                               \
    (cublasLtMatrixLayout_t layout))                                           \
  X(cublasStatus_t, cublasLtMatmulPreferenceCreate,                            \
    (cublasLtMatmulPreference_t * pref))                                       \
  X(cublasStatus_t, cublasLtMatmulPreferenceDestroy,                           \
    (cublasLtMatmulPreference_t pref))                                         \
  X(cublasStatus_t, cublasLtMatmulPreferenceSetAttribute,                      \
    (cublasLtMatmulPreference_t pref,                                          \
     cublasLtMatmulPreferenceAttributes_t attr, const void *buf,               \
     size_t sizeInBytes))                                                      \
  X(cublasStatus_t, cublasLtMatmulAlgoGetHeuristic,                            \
    (cublasLtHandle_t handle, cublasLtMatmulDesc_t desc,                       \
     cublasLtMatrixLayout_t aDesc, cublasLtMatrixLayout_t bDesc,               \
     cublasLtMatrixLayout_t cDesc, cublasLtMatrixLayout_t dDesc,               \
     cublasLtMatmulPreference_t pref, int requestedAlgoCount,                  \
     cublasLtMatmulHeuristicResult_t *results, int *returnAlgoCount))          \
  X(cublasStatus_t, cublasLtMatmul,                                            \
    (cublasLtHandle_t handle, cublasLtMatmulDesc_t desc, const void *alpha,    \
     const void *a, cublasLtMatrixLayout_t aDesc, const void *b,               \
     cublasLtMatrixLayout_t bDesc, const void *beta, const void *c,            \
     cublasLtMatrixLayout_t cDesc, void *d, cublasLtMatrixLayout_t dDesc,      \
     const cublasLtMatmulAlgo_t *algo, void *workspace,                        \
     size_t workspaceSizeInBytes, CUstream stream))

#define MSA_CUBLASLT_PFN(ret, name, params) using PFN_##name = ret(*) params;
MSA_CUBLASLT_SYMBOLS(MSA_CUBLASLT_PFN)
#undef MSA_CUBLASLT_PFN

/// The loaded cuBLASLt library: one pointer per entry point, all resolved.
class CublasLtLibrary {
public:
  /// The libraries to try, in order: $MSA_CUBLASLT, or libcublasLt.so.13
  /// then libcublasLt.so.
  static std::vector<std::string> libraryNames();

  /// The first of libraryNames() that loads, loaded once per list and kept
  /// for the life of the process (thread-safe). An unavailable() Status,
  /// one line naming each library tried, when none loads.
  static StatusOr<const CublasLtLibrary *> get();

  /// Loads the first of `libraries` that opens, afresh.
  static StatusOr<std::unique_ptr<CublasLtLibrary>>
  load(const std::vector<std::string> &libraries);

  ~CublasLtLibrary();
  CublasLtLibrary(const CublasLtLibrary &) = delete;
  CublasLtLibrary &operator=(const CublasLtLibrary &) = delete;

  const std::string &library() const { return library_; }

#define MSA_CUBLASLT_MEMBER(ret, name, params) PFN_##name name = nullptr;
  MSA_CUBLASLT_SYMBOLS(MSA_CUBLASLT_MEMBER)
#undef MSA_CUBLASLT_MEMBER

private:
  CublasLtLibrary() = default;
  std::string library_;
  void *handle_ = nullptr;
};

/// "CUBLAS_STATUS_NOT_SUPPORTED"; "cublasStatus 42" for an unknown value.
std::string cublasStatusName(cublasStatus_t status);

/// As cudaStatus: "<NAME> from <call> (<file>:<line>)".
Status cublasStatus(cublasStatus_t status, const char *call, const char *file,
                    int line);

} // namespace msa::runtime::cuda

/// Calls `lib.fn(args...)` and gives its Status (see cublasStatus).
#define MSA_CUBLAS_CALL(lib, fn, ...)                                          \
  ::msa::runtime::cuda::cublasStatus((lib).fn(__VA_ARGS__), #fn, __FILE__,     \
                                     __LINE__)

namespace msa::runtime {

/// Workspace handed to cuBLASLt: enough for its split-K and stream-K
/// algorithms on Hopper (NVIDIA recommends 32 MiB there).
inline constexpr size_t kCublasLtWorkspaceBytes = size_t(32) << 20;

class CublasLtGemm {
public:
  /// A GEMM provider on `device`, which must outlive it; unavailable() when
  /// libcublasLt cannot be loaded.
  static StatusOr<std::unique_ptr<CublasLtGemm>> create(CudaDevice &device);
  ~CublasLtGemm();
  CublasLtGemm(const CublasLtGemm &) = delete;
  CublasLtGemm &operator=(const CublasLtGemm &) = delete;

  const char *name() const { return "cublaslt"; }

  /// Queues c[M, N] = a[M, K] b[N, K]ᵀ on the device's stream: cuda
  /// tensors, a and b both bf16, f16 or f32, c bf16, f16 or f32, f32
  /// accumulation (no TF32), shapes checked as GemmProvider::run does.
  Status run(const Tensor &a, const Tensor &b, Tensor &c);

  /// Matmul plans built so far (one per shape, dtypes and alignment).
  size_t cachedPlans() const;

private:
  struct Plan;
  /// M, N, K, dtypes of a and c, alignments of a, b and c.
  using PlanKey =
      std::tuple<int64_t, int64_t, int64_t, DType, DType, int, int, int>;

  explicit CublasLtGemm(CudaDevice &device);
  StatusOr<const Plan *> plan(const PlanKey &key, const Tensor &a,
                              const Tensor &b, const Tensor &c);

  CudaDevice &device_;
  const cuda::CublasLtLibrary *lib_ = nullptr;
  cuda::cublasLtHandle_t handle_ = nullptr;
  Tensor workspace_;
  mutable std::mutex mutex_;
  std::map<PlanKey, std::unique_ptr<Plan>> plans_;
};

} // namespace msa::runtime

#endif // MSA_RUNTIME_CUDA_CUBLASLT_H
