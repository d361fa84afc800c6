//===- CublasLt.cpp - the GEMM provider of the cuda backend ---------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/cuda/CublasLt.h"

#include "msa/runtime/Gemm.h"

#include "LoadOnce.h"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <optional>

namespace msa::runtime {

namespace cuda {

namespace {

constexpr const char *kCublasLtLibraryEnv = "MSA_CUBLASLT";
/// cuBLASLt's default alignment assumption (and cuMemAlloc's guarantee);
/// pointers less aligned than this must be declared to the heuristic.
constexpr uint32_t kCublasLtMaxAlignment = 256;

/// The first library loaded by get(), asked to name unknown statuses.
std::atomic<const CublasLtLibrary *> namingLibrary{nullptr};

std::string dlopenError(const std::string &library) {
  const char *e = dlerror();
  std::string message = e ? e : "unknown error";
  const std::string prefix = library + ": ";
  if (message.compare(0, prefix.size(), prefix) == 0)
    message.erase(0, prefix.size());
  return message;
}

} // namespace

std::vector<std::string> CublasLtLibrary::libraryNames() {
  const char *env = std::getenv(kCublasLtLibraryEnv);
  if (env && *env)
    return {env};
  return {"libcublasLt.so.13", "libcublasLt.so"};
}

StatusOr<std::unique_ptr<CublasLtLibrary>>
CublasLtLibrary::load(const std::vector<std::string> &libraries) {
  std::unique_ptr<CublasLtLibrary> lib(new CublasLtLibrary());
  std::string tried;
  for (const std::string &name : libraries) {
    lib->handle_ = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib->handle_) {
      lib->library_ = name;
      break;
    }
    tried += (tried.empty() ? "cannot load " : "; cannot load ") + name + ": " +
             dlopenError(name);
  }
  if (!lib->handle_)
    return unavailable("no cuBLASLt library was found: " + tried);
#define MSA_CUBLASLT_RESOLVE(ret, name, params)                                \
  lib->name = reinterpret_cast<PFN_##name>(dlsym(lib->handle_, #name));        \
  if (!lib->name)                                                              \
    return unavailable("the cuBLASLt library " + lib->library_ +               \
                       " has no entry point " #name);
  MSA_CUBLASLT_SYMBOLS(MSA_CUBLASLT_RESOLVE)
#undef MSA_CUBLASLT_RESOLVE
  return lib;
}

CublasLtLibrary::~CublasLtLibrary() {
  if (handle_)
    dlclose(handle_);
}

StatusOr<const CublasLtLibrary *> CublasLtLibrary::get() {
  return loadOnce<CublasLtLibrary>(
      libraryNames(), kCublasLtLibraryEnv,
      [](const std::vector<std::string> &names) { return load(names); },
      namingLibrary);
}

std::string cublasStatusName(cublasStatus_t status) {
  switch (status) {
#define MSA_CUBLAS_STATUS_NAME(name, value)                                    \
  case value:                                                                  \
    return #name;
    MSA_CUBLAS_STATUSES(MSA_CUBLAS_STATUS_NAME)
#undef MSA_CUBLAS_STATUS_NAME
  default:
    break;
  }
  // The library answers "unrecognized status" for values it does not know.
  if (const CublasLtLibrary *lib = namingLibrary.load())
    if (const char *name = lib->cublasLtGetStatusName(status);
        name && std::strncmp(name, "CUBLAS_", 7) == 0)
      return name;
  return "cublasStatus " + std::to_string(status);
}

Status cublasStatus(cublasStatus_t status, const char *call, const char *file,
                    int line) {
  if (status == CUBLAS_STATUS_SUCCESS)
    return Status::ok();
  StatusCode code = StatusCode::kInternal;
  if (status == CUBLAS_STATUS_ALLOC_FAILED)
    code = StatusCode::kUnavailable;
  else if (status == CUBLAS_STATUS_NOT_SUPPORTED ||
           status == CUBLAS_STATUS_ARCH_MISMATCH)
    code = StatusCode::kUnimplemented;
  return Status(code,
                describeFailure(cublasStatusName(status), call, file, line));
}

} // namespace cuda

using namespace cuda;

namespace {

/// The cuBLASLt type of a GEMM operand, or nullopt.
std::optional<cudaDataType_t> cublasType(DType t) {
  switch (t) {
  case DType::kBF16:
    return CUDA_R_16BF;
  case DType::kF16:
    return CUDA_R_16F;
  case DType::kF32:
    return CUDA_R_32F;
  default:
    return std::nullopt;
  }
}

/// The largest power of two that divides `p`, at most 256.
int alignmentOf(const void *p) {
  uintptr_t v = reinterpret_cast<uintptr_t>(p);
  if (v == 0)
    return static_cast<int>(kCublasLtMaxAlignment);
  return static_cast<int>(
      std::min<uintptr_t>(v & (~v + 1), kCublasLtMaxAlignment));
}

} // namespace

/// A ready cublasLtMatmul: the descriptors and the heuristic's algorithm.
/// In cuBLASLt's column-major terms its "A" is our b, its "B" our a.
struct CublasLtGemm::Plan {
  const CublasLtLibrary *lib = nullptr;
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t ltA = nullptr, ltB = nullptr, ltC = nullptr;
  cublasLtMatmulAlgo_t algo = {};

  ~Plan() {
    for (cublasLtMatrixLayout_t l : {ltA, ltB, ltC})
      if (l)
        (void)lib->cublasLtMatrixLayoutDestroy(l);
    if (desc)
      (void)lib->cublasLtMatmulDescDestroy(desc);
  }
};

CublasLtGemm::CublasLtGemm(CudaDevice &device) : device_(device) {}

StatusOr<std::unique_ptr<CublasLtGemm>>
CublasLtGemm::create(CudaDevice &device) {
  MSA_ASSIGN_OR_RETURN(const CublasLtLibrary *lib, CublasLtLibrary::get());
  MSA_RETURN_IF_ERROR(device.makeCurrent());
  std::unique_ptr<CublasLtGemm> gemm(new CublasLtGemm(device));
  gemm->lib_ = lib;
  MSA_RETURN_IF_ERROR(MSA_CUBLAS_CALL(*lib, cublasLtCreate, &gemm->handle_));
  MSA_ASSIGN_OR_RETURN(
      gemm->workspace_,
      device.allocate(DType::kU8,
                      {static_cast<int64_t>(kCublasLtWorkspaceBytes)}));
  return gemm;
}

CublasLtGemm::~CublasLtGemm() {
  plans_.clear();
  if (handle_) {
    (void)device_.makeCurrent();
    (void)lib_->cublasLtDestroy(handle_);
  }
}

size_t CublasLtGemm::cachedPlans() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return plans_.size();
}

StatusOr<const CublasLtGemm::Plan *> CublasLtGemm::plan(const PlanKey &key,
                                                        const Tensor &a,
                                                        const Tensor &b,
                                                        const Tensor &c) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = plans_.find(key);
  if (it != plans_.end())
    return it->second.get();

  const auto [m, n, k, abType, cType, alignA, alignB, alignC] = key;
  const CublasLtLibrary &lib = *lib_;
  auto p = std::make_unique<Plan>();
  p->lib = lib_;
  MSA_RETURN_IF_ERROR(MSA_CUBLAS_CALL(lib, cublasLtMatmulDescCreate, &p->desc,
                                      CUBLAS_COMPUTE_32F, CUDA_R_32F));
  const cublasOperation_t transA = CUBLAS_OP_T, transB = CUBLAS_OP_N;
  MSA_RETURN_IF_ERROR(MSA_CUBLAS_CALL(lib, cublasLtMatmulDescSetAttribute,
                                      p->desc, CUBLASLT_MATMUL_DESC_TRANSA,
                                      &transA, sizeof(transA)));
  MSA_RETURN_IF_ERROR(MSA_CUBLAS_CALL(lib, cublasLtMatmulDescSetAttribute,
                                      p->desc, CUBLASLT_MATMUL_DESC_TRANSB,
                                      &transB, sizeof(transB)));
  const cudaDataType_t inType = *cublasType(abType);
  const cudaDataType_t outType = *cublasType(cType);
  // Column-major: b's memory is K x N, a's K x M, c's N x M.
  MSA_RETURN_IF_ERROR(MSA_CUBLAS_CALL(lib, cublasLtMatrixLayoutCreate, &p->ltA,
                                      inType, k, n, k));
  MSA_RETURN_IF_ERROR(MSA_CUBLAS_CALL(lib, cublasLtMatrixLayoutCreate, &p->ltB,
                                      inType, k, m, k));
  MSA_RETURN_IF_ERROR(MSA_CUBLAS_CALL(lib, cublasLtMatrixLayoutCreate, &p->ltC,
                                      outType, n, m, n));

  cublasLtMatmulPreference_t pref = nullptr;
  MSA_RETURN_IF_ERROR(
      MSA_CUBLAS_CALL(lib, cublasLtMatmulPreferenceCreate, &pref));
  struct PrefGuard {
    const CublasLtLibrary &lib;
    cublasLtMatmulPreference_t pref;
    ~PrefGuard() { (void)lib.cublasLtMatmulPreferenceDestroy(pref); }
  } guard{lib, pref};
  const uint64_t workspace = kCublasLtWorkspaceBytes;
  MSA_RETURN_IF_ERROR(MSA_CUBLAS_CALL(
      lib, cublasLtMatmulPreferenceSetAttribute, pref,
      CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace, sizeof(workspace)));
  // Row slices of a tensor start at any element; the heuristic must only
  // pick kernels that accept the actual alignment.
  const std::pair<cublasLtMatmulPreferenceAttributes_t, uint32_t> alignments[] =
      {{CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, uint32_t(alignB)},
       {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, uint32_t(alignA)},
       {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, uint32_t(alignC)},
       {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, uint32_t(alignC)}};
  for (const auto &[attribute, value] : alignments)
    MSA_RETURN_IF_ERROR(
        MSA_CUBLAS_CALL(lib, cublasLtMatmulPreferenceSetAttribute, pref,
                        attribute, &value, sizeof(value)));

  cublasLtMatmulHeuristicResult_t result = {};
  int found = 0;
  cublasStatus_t st = lib.cublasLtMatmulAlgoGetHeuristic(
      handle_, p->desc, p->ltA, p->ltB, p->ltC, p->ltC, pref, 1, &result,
      &found);
  if (st == CUBLAS_STATUS_NOT_SUPPORTED ||
      (st == CUBLAS_STATUS_SUCCESS && found == 0))
    return unimplemented("gemm: cuBLASLt has no algorithm for " + a.describe() +
                         " x " + b.describe() + "^T -> " + c.describe());
  MSA_RETURN_IF_ERROR(
      cublasStatus(st, "cublasLtMatmulAlgoGetHeuristic", __FILE__, __LINE__));
  p->algo = result.algo;
  const Plan *ready = p.get();
  plans_.emplace(key, std::move(p));
  return ready;
}

Status CublasLtGemm::run(const Tensor &a, const Tensor &b, Tensor &c) {
  MSA_RETURN_IF_ERROR(checkGemmShapes(a, b, c));
  const int64_t m = a.shape[0], k = a.shape[1], n = b.shape[0];
  const std::pair<const char *, const Tensor *> operands[] = {
      {"a", &a}, {"b", &b}, {"c", &c}};
  for (const auto &[role, t] : operands) {
    if (t->placement != Placement::kCuda)
      return invalidArgument(std::string("gemm: ") + role + " is " +
                             t->describe() +
                             " on the host; cuBLASLt needs cuda tensors");
    if (!cublasType(t->dtype))
      return invalidArgument(std::string("gemm: ") + role + " is " +
                             t->describe() + ", expected bf16, f16 or f32");
  }
  if (a.dtype != b.dtype)
    return invalidArgument("gemm: a is " + a.describe() + " and b is " +
                           b.describe() +
                           "; cuBLASLt needs one element type for both");
  if (m == 0 || n == 0)
    return Status::ok();
  MSA_RETURN_IF_ERROR(device_.makeCurrent());
  // An empty sum: cuBLASLt refuses K = 0, and zero bytes are 0.0 in every
  // float type.
  if (k == 0)
    return device_.memsetAsync(c, 0);

  const PlanKey key{m,
                    n,
                    k,
                    a.dtype,
                    c.dtype,
                    alignmentOf(a.data),
                    alignmentOf(b.data),
                    alignmentOf(c.data)};
  MSA_ASSIGN_OR_RETURN(const Plan *p, plan(key, a, b, c));
  const float alpha = 1.0f, beta = 0.0f;
  Status s = MSA_CUBLAS_CALL(*lib_, cublasLtMatmul, handle_, p->desc, &alpha,
                             b.data, p->ltA, a.data, p->ltB, &beta, c.data,
                             p->ltC, c.data, p->ltC, &p->algo, workspace_.data,
                             kCublasLtWorkspaceBytes, device_.stream());
  const std::string what =
      "gemm " + a.describe() + " x " + b.describe() + "^T -> " + c.describe();
  if (!s.isOk())
    return s.withContext(what);
  return device_.checkLaunch(what);
}

} // namespace msa::runtime
