//===- CudaDriver.cpp - the CUDA driver API, loaded with dlopen -----------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/cuda/CudaDriver.h"

#include "LoadOnce.h"

#include <dlfcn.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

namespace msa::runtime::cuda {

namespace {

constexpr const char *kDefaultDriverLibrary = "libcuda.so.1";
constexpr const char *kDriverLibraryEnv = "MSA_CUDA_DRIVER";

/// The first driver loaded by get(), asked to name results that CUDA 13.0
/// did not have.
std::atomic<const CudaDriver *> namingDriver{nullptr};

/// dlerror() without the "<library>: " it usually starts with, as the
/// caller's message names the library already.
std::string dlopenError(const std::string &library) {
  const char *e = dlerror();
  std::string message = e ? e : "unknown error";
  const std::string prefix = library + ": ";
  if (message.compare(0, prefix.size(), prefix) == 0)
    message.erase(0, prefix.size());
  return message;
}

} // namespace

std::string CudaDriver::libraryName() {
  const char *env = std::getenv(kDriverLibraryEnv);
  return env && *env ? env : kDefaultDriverLibrary;
}

StatusOr<std::unique_ptr<CudaDriver>>
CudaDriver::load(const std::string &library) {
  std::unique_ptr<CudaDriver> driver(new CudaDriver());
  driver->library_ = library;
  driver->handle_ = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!driver->handle_)
    return unavailable("no CUDA driver was found: cannot load " + library +
                       ": " + dlopenError(library));
#define MSA_CUDA_DRIVER_RESOLVE(name, params)                                  \
  driver->name = reinterpret_cast<PFN_##name>(dlsym(driver->handle_, #name));  \
  if (!driver->name)                                                           \
    return unavailable("the CUDA driver " + library +                          \
                       " has no entry point " #name                            \
                       " (msa needs a CUDA 13 driver)");
  MSA_CUDA_DRIVER_SYMBOLS(MSA_CUDA_DRIVER_RESOLVE)
#undef MSA_CUDA_DRIVER_RESOLVE
  return driver;
}

CudaDriver::~CudaDriver() {
  if (handle_)
    dlclose(handle_);
}

StatusOr<const CudaDriver *> CudaDriver::get() {
  return loadOnce<CudaDriver>(
      libraryName(), kDriverLibraryEnv,
      [](const std::string &library) { return load(library); }, namingDriver);
}

std::string cudaResultName(CUresult result) {
  switch (result) {
#define MSA_CUDA_RESULT_NAME(name, value)                                      \
  case value:                                                                  \
    return #name;
    MSA_CUDA_RESULTS(MSA_CUDA_RESULT_NAME)
#undef MSA_CUDA_RESULT_NAME
  default:
    break;
  }
  if (const CudaDriver *driver = namingDriver.load()) {
    const char *name = nullptr;
    if (driver->cuGetErrorName(result, &name) == CUDA_SUCCESS && name)
      return name;
  }
  return "CUresult " + std::to_string(result);
}

namespace {

StatusCode statusCodeOf(CUresult result) {
  switch (result) {
  case CUDA_ERROR_OUT_OF_MEMORY:
  case CUDA_ERROR_NOT_INITIALIZED:
  case CUDA_ERROR_DEINITIALIZED:
  case CUDA_ERROR_STUB_LIBRARY:
  case CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER:
  case CUDA_ERROR_DEVICE_UNAVAILABLE:
  case CUDA_ERROR_NO_DEVICE:
  case CUDA_ERROR_INVALID_DEVICE:
  case CUDA_ERROR_DEVICE_NOT_LICENSED:
  case CUDA_ERROR_SYSTEM_NOT_READY:
  case CUDA_ERROR_SYSTEM_DRIVER_MISMATCH:
  case CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE:
    return StatusCode::kUnavailable;
  case CUDA_ERROR_INVALID_IMAGE:
  case CUDA_ERROR_NO_BINARY_FOR_GPU:
  case CUDA_ERROR_INVALID_PTX:
  case CUDA_ERROR_JIT_COMPILER_NOT_FOUND:
  case CUDA_ERROR_UNSUPPORTED_PTX_VERSION:
  case CUDA_ERROR_JIT_COMPILATION_DISABLED:
  case CUDA_ERROR_INVALID_SOURCE:
    return StatusCode::kFailedPrecondition;
  default:
    return StatusCode::kInternal;
  }
}

const char *sourceRelativePath(const char *file) {
  const char *best = file;
  for (const char *dir : {"/runtime/", "/test/", "/tools/"}) {
    for (const char *at = std::strstr(file, dir); at;
         at = std::strstr(at + 1, dir))
      if (at + 1 > best)
        best = at + 1;
  }
  return best;
}

} // namespace

std::string describeFailure(const std::string &error, const char *call,
                            const char *file, int line) {
  return error + " from " + call + " (" + sourceRelativePath(file) + ":" +
         std::to_string(line) + ")";
}

Status cudaStatus(CUresult result, const char *call, const char *file,
                  int line) {
  if (result == CUDA_SUCCESS)
    return Status::ok();
  return Status(statusCodeOf(result),
                describeFailure(cudaResultName(result), call, file, line));
}

} // namespace msa::runtime::cuda
