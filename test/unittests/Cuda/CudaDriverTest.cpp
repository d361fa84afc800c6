//===- CudaDriverTest.cpp - loading CUDA libraries, naming their errors ---===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// What needs no GPU: CUresult and cublasStatus_t formatting, the one-line
// errors when libcuda or libcublasLt is missing or lacks an entry point, and
// the caching allocator's size classes. Where the real libraries are
// installed, every entry point the runtime uses must resolve in them.
//
//===----------------------------------------------------------------------===//

#include "CudaTestSupport.h"

#include "msa/runtime/cuda/CublasLt.h"
#include "msa/runtime/cuda/CudaDevice.h"
#include "msa/runtime/cuda/CudaDriver.h"

#include <gtest/gtest.h>

#include <algorithm>

using namespace msa::runtime;
using namespace msa::runtime::cuda;
using msa::runtime::cudatest::ScopedEnv;

namespace {

bool startsWith(const std::string &s, const std::string &prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

TEST(CudaDriver, NamesResults) {
  EXPECT_EQ(cudaResultName(CUDA_ERROR_OUT_OF_MEMORY),
            "CUDA_ERROR_OUT_OF_MEMORY");
  EXPECT_EQ(cudaResultName(218), "CUDA_ERROR_INVALID_PTX");
  EXPECT_EQ(cudaResultName(999), "CUDA_ERROR_UNKNOWN");
  EXPECT_EQ(cudaResultName(12345), "CUresult 12345");
}

TEST(CudaDriver, StatusNamesTheErrorTheCallAndTheLine) {
  EXPECT_TRUE(cudaStatus(CUDA_SUCCESS, "cuInit", __FILE__, __LINE__).isOk());
  Status s = cudaStatus(CUDA_ERROR_INVALID_VALUE, "cuMemcpyHtoDAsync_v2",
                        "/src/msa/runtime/src/cuda/CudaDevice.cpp", 120);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(s.message(), "CUDA_ERROR_INVALID_VALUE from cuMemcpyHtoDAsync_v2 "
                         "(runtime/src/cuda/CudaDevice.cpp:120)");
  // A checkout inside a directory called "test" still gives the path from
  // the source root.
  EXPECT_EQ(cudaStatus(CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc_v2",
                       "/home/test/msa/runtime/src/cuda/CudaDevice.cpp", 7)
                .message(),
            "CUDA_ERROR_OUT_OF_MEMORY from cuMemAlloc_v2 "
            "(runtime/src/cuda/CudaDevice.cpp:7)");
  EXPECT_EQ(cudaStatus(CUDA_ERROR_OUT_OF_MEMORY, "f", "a.cpp", 1).code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(cudaStatus(CUDA_ERROR_NO_DEVICE, "f", "a.cpp", 1).code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(cudaStatus(CUDA_ERROR_NO_BINARY_FOR_GPU, "f", "a.cpp", 1).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(cudaStatus(CUDA_ERROR_ILLEGAL_ADDRESS, "f", "a.cpp", 1).code(),
            StatusCode::kInternal);
}

/// Stands in for CudaDriver in MSA_CU_CALL.
struct FakeDriver {
  CUresult cuMemAlloc_v2(CUdeviceptr *ptr, size_t) const {
    *ptr = 0;
    return CUDA_ERROR_OUT_OF_MEMORY;
  }
  CUresult cuInit(unsigned) const { return CUDA_SUCCESS; }
};

Status allocateThroughMacro(const FakeDriver &driver) {
  CUdeviceptr p = 0;
  MSA_CU_RETURN_IF_ERROR(driver, cuInit, 0);
  MSA_CU_RETURN_IF_ERROR(driver, cuMemAlloc_v2, &p, 64);
  return internalError("not reached");
}

TEST(CudaDriver, CallMacroRecordsTheEntryPointAndThisFile) {
  const int line = __LINE__ - 5; // The cuMemAlloc_v2 call above.
  Status s = allocateThroughMacro(FakeDriver());
  EXPECT_EQ(s.message(), "CUDA_ERROR_OUT_OF_MEMORY from cuMemAlloc_v2 "
                         "(test/unittests/Cuda/CudaDriverTest.cpp:" +
                             std::to_string(line) + ")");
}

TEST(CudaDriver, MissingDriverIsOneLineNamingTheLibrary) {
  ScopedEnv env("MSA_CUDA_DRIVER", "/nonexistent/libcuda.so.1");
  EXPECT_EQ(CudaDriver::libraryName(), "/nonexistent/libcuda.so.1");
  StatusOr<const CudaDriver *> driver = CudaDriver::get();
  ASSERT_FALSE(driver.isOk());
  const std::string &m = driver.status().message();
  EXPECT_EQ(driver.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(startsWith(m, "no CUDA driver was found: cannot load "
                            "/nonexistent/libcuda.so.1: "))
      << m;
  EXPECT_NE(m.find("(named by MSA_CUDA_DRIVER)"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;

  // Opening a device reports the same.
  StatusOr<std::unique_ptr<CudaDevice>> device = CudaDevice::open(0);
  ASSERT_FALSE(device.isOk());
  EXPECT_EQ(device.status().message(), m);
}

TEST(CudaDriver, DefaultLibraryName) {
  ScopedEnv env("MSA_CUDA_DRIVER", std::nullopt);
  EXPECT_EQ(CudaDriver::libraryName(), "libcuda.so.1");
}

TEST(CudaDriver, LibraryWithoutEntryPointsIsRefused) {
  StatusOr<std::unique_ptr<CudaDriver>> driver = CudaDriver::load("libm.so.6");
  ASSERT_FALSE(driver.isOk());
  EXPECT_EQ(driver.status().message(),
            "the CUDA driver libm.so.6 has no entry point cuGetErrorName "
            "(msa needs a CUDA 13 driver)");
}

TEST(CudaDriver, RealDriverHasEveryEntryPoint) {
  ScopedEnv env("MSA_CUDA_DRIVER", std::nullopt);
  StatusOr<std::unique_ptr<CudaDriver>> driver =
      CudaDriver::load(CudaDriver::libraryName());
  if (!driver.isOk() &&
      startsWith(driver.status().message(), "no CUDA driver was found"))
    GTEST_SKIP() << driver.status().message();
  ASSERT_TRUE(driver.isOk()) << driver.status().message();
#define MSA_EXPECT_RESOLVED(name, params)                                      \
  EXPECT_NE((*driver)->name, nullptr) << #name;
  MSA_CUDA_DRIVER_SYMBOLS(MSA_EXPECT_RESOLVED)
#undef MSA_EXPECT_RESOLVED
}

TEST(CublasLt, NamesStatuses) {
  // Where the library loads, it is asked about values msa does not know.
  (void)CublasLtLibrary::get();
  EXPECT_EQ(cublasStatusName(CUBLAS_STATUS_NOT_SUPPORTED),
            "CUBLAS_STATUS_NOT_SUPPORTED");
  EXPECT_EQ(cublasStatusName(1234), "cublasStatus 1234");
  EXPECT_TRUE(cublasStatus(CUBLAS_STATUS_SUCCESS, "x", "y", 1).isOk());
  Status s = cublasStatus(CUBLAS_STATUS_INVALID_VALUE, "cublasLtMatmul",
                          "/x/runtime/src/cuda/CublasLt.cpp", 42);
  EXPECT_EQ(s.message(), "CUBLAS_STATUS_INVALID_VALUE from cublasLtMatmul "
                         "(runtime/src/cuda/CublasLt.cpp:42)");
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(cublasStatus(CUBLAS_STATUS_NOT_SUPPORTED, "f", "a", 1).code(),
            StatusCode::kUnimplemented);
  EXPECT_EQ(cublasStatus(CUBLAS_STATUS_ALLOC_FAILED, "f", "a", 1).code(),
            StatusCode::kUnavailable);
}

TEST(CublasLt, MissingLibraryIsOneLineNamingIt) {
  ScopedEnv env("MSA_CUBLASLT", "/nonexistent/libcublasLt.so.13");
  EXPECT_EQ(CublasLtLibrary::libraryNames(),
            std::vector<std::string>{"/nonexistent/libcublasLt.so.13"});
  StatusOr<const CublasLtLibrary *> lib = CublasLtLibrary::get();
  ASSERT_FALSE(lib.isOk());
  const std::string &m = lib.status().message();
  EXPECT_EQ(lib.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(startsWith(m, "no cuBLASLt library was found: cannot load "
                            "/nonexistent/libcublasLt.so.13: "))
      << m;
  EXPECT_NE(m.find("(named by MSA_CUBLASLT)"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
}

TEST(CublasLt, DefaultLibrariesAndFallback) {
  ScopedEnv env("MSA_CUBLASLT", std::nullopt);
  EXPECT_EQ(CublasLtLibrary::libraryNames(),
            (std::vector<std::string>{"libcublasLt.so.13", "libcublasLt.so"}));
  StatusOr<std::unique_ptr<CublasLtLibrary>> lib =
      CublasLtLibrary::load({"/nonexistent/a.so", "/nonexistent/b.so"});
  ASSERT_FALSE(lib.isOk());
  const std::string &m = lib.status().message();
  EXPECT_TRUE(startsWith(m, "no cuBLASLt library was found: cannot load "
                            "/nonexistent/a.so: "))
      << m;
  EXPECT_NE(m.find("; cannot load /nonexistent/b.so: "), std::string::npos)
      << m;
  StatusOr<std::unique_ptr<CublasLtLibrary>> libm =
      CublasLtLibrary::load({"/nonexistent/a.so", "libm.so.6"});
  ASSERT_FALSE(libm.isOk());
  EXPECT_EQ(libm.status().message(), "the cuBLASLt library libm.so.6 has no "
                                     "entry point cublasLtGetStatusName");
}

TEST(CublasLt, RealLibraryHasEveryEntryPoint) {
  StatusOr<std::unique_ptr<CublasLtLibrary>> lib =
      CublasLtLibrary::load({"libcublasLt.so.13", "libcublasLt.so"});
  if (!lib.isOk() &&
      startsWith(lib.status().message(), "no cuBLASLt library was found"))
    GTEST_SKIP() << lib.status().message();
  ASSERT_TRUE(lib.isOk()) << lib.status().message();
#define MSA_EXPECT_RESOLVED(ret, name, params)                                 \
  EXPECT_NE((*lib)->name, nullptr) << #name;
  MSA_CUBLASLT_SYMBOLS(MSA_EXPECT_RESOLVED)
#undef MSA_EXPECT_RESOLVED
  // cuBLAS 13.x reports 130000 and up.
  EXPECT_GE((*lib)->cublasLtGetVersion(), 130000u);
  EXPECT_STREQ((*lib)->cublasLtGetStatusName(CUBLAS_STATUS_NOT_SUPPORTED),
               "CUBLAS_STATUS_NOT_SUPPORTED");
}

TEST(CudaAllocator, SizeClasses) {
  constexpr size_t kMiB = size_t(1) << 20;
  EXPECT_EQ(CudaDevice::sizeClass(0), 256u);
  EXPECT_EQ(CudaDevice::sizeClass(1), 256u);
  EXPECT_EQ(CudaDevice::sizeClass(256), 256u);
  EXPECT_EQ(CudaDevice::sizeClass(257), 512u);
  EXPECT_EQ(CudaDevice::sizeClass(4000), 4096u);
  EXPECT_EQ(CudaDevice::sizeClass(4097), 4608u);
  EXPECT_EQ(CudaDevice::sizeClass(kMiB), kMiB);
  EXPECT_EQ(CudaDevice::sizeClass(kMiB + 1), kMiB + kMiB / 8);
  EXPECT_EQ(CudaDevice::sizeClass(16 * kMiB + 1), 18 * kMiB);
  EXPECT_EQ(CudaDevice::sizeClass(1024 * kMiB + 1), 1026 * kMiB);
  // Classes hold the request, waste at most an eighth of it (or less than
  // one minimum block), and are their own class, so a freed block serves
  // its class exactly.
  for (size_t bytes = 1; bytes < (size_t(1) << 36); bytes = bytes * 3 / 2 + 1) {
    size_t c = CudaDevice::sizeClass(bytes);
    EXPECT_GE(c, bytes);
    EXPECT_LE(c - bytes, std::max(bytes / 8, CudaDevice::kMinBlockBytes - 1))
        << bytes;
    EXPECT_EQ(CudaDevice::sizeClass(c), c) << bytes;
    EXPECT_EQ(c % CudaDevice::kMinBlockBytes, 0u) << bytes;
  }
}

} // namespace
