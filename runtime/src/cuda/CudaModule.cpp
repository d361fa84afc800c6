//===- CudaModule.cpp - a loaded CUDA module and its kernels --------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/cuda/CudaModule.h"

#include <cstring>
#include <vector>

namespace msa::runtime {

using namespace cuda;

namespace {

/// Whether cuModuleLoadData refused a cubin because it was built for
/// another card or is not a cubin this driver reads, so the PTX may still
/// serve.
bool cubinDoesNotFit(CUresult r) {
  switch (r) {
  case CUDA_ERROR_NO_BINARY_FOR_GPU:
  case CUDA_ERROR_INVALID_IMAGE:
  case CUDA_ERROR_INVALID_PTX:
  case CUDA_ERROR_INVALID_SOURCE:
  case CUDA_ERROR_UNSUPPORTED_PTX_VERSION:
    return true;
  default:
    return false;
  }
}

/// The first non-empty line of a NUL-terminated log, trimmed.
std::string firstLine(const char *log) {
  std::string_view text(log);
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
      line.remove_suffix(1);
    if (!line.empty())
      return std::string(line);
    if (end == std::string_view::npos)
      break;
    text.remove_prefix(end + 1);
  }
  return "";
}

} // namespace

StatusOr<std::unique_ptr<CudaModule>> CudaModule::load(CudaDevice &device,
                                                       const std::string &name,
                                                       std::string_view cubin,
                                                       std::string_view ptx) {
  if (cubin.empty() && ptx.empty())
    return dataLoss(name + ": no cubin and no PTX to load");
  MSA_RETURN_IF_ERROR(device.makeCurrent());
  const CudaDriver &drv = device.driver();
  std::unique_ptr<CudaModule> m(new CudaModule(device, name));

  if (!cubin.empty()) {
    // The driver reads the image in place as an ELF file; bundle sections
    // are page-aligned, other callers' bytes get an aligned copy.
    std::vector<uint64_t> aligned;
    const void *image = cubin.data();
    if (reinterpret_cast<uintptr_t>(image) % alignof(uint64_t) != 0) {
      aligned.resize((cubin.size() + sizeof(uint64_t) - 1) / sizeof(uint64_t));
      std::memcpy(aligned.data(), cubin.data(), cubin.size());
      image = aligned.data();
    }
    CUresult r = drv.cuModuleLoadData(&m->module_, image);
    if (r == CUDA_SUCCESS)
      return m;
    m->module_ = nullptr;
    if (!cubinDoesNotFit(r) || ptx.empty())
      return cudaStatus(r, "cuModuleLoadData", __FILE__, __LINE__)
          .withContext(name + ": loading the cubin");
    m->cubinRejection_ = cudaResultName(r);
  }

  // The driver wants the PTX NUL-terminated; a section is not.
  const std::string text(ptx);
  std::vector<char> log(kCudaJitLogBytes, '\0');
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {log.data(), reinterpret_cast<void *>(
                                    static_cast<uintptr_t>(log.size() - 1))};
  CUresult r = drv.cuModuleLoadDataEx(&m->module_, text.c_str(),
                                      sizeof(options) / sizeof(options[0]),
                                      options, values);
  if (r != CUDA_SUCCESS) {
    m->module_ = nullptr;
    Status s = cudaStatus(r, "cuModuleLoadDataEx", __FILE__, __LINE__);
    std::string message = name + ": compiling the PTX failed";
    if (!m->cubinRejection_.empty())
      message += " (the cubin was rejected with " + m->cubinRejection_ + ")";
    message += ": " + s.message();
    log.back() = '\0';
    if (std::string line = firstLine(log.data()); !line.empty())
      message += ": " + line;
    return Status(s.code(), message);
  }
  m->usedPtxJit_ = true;
  return m;
}

CudaModule::~CudaModule() {
  if (!module_)
    return;
  (void)device_.makeCurrent();
  (void)device_.driver().cuModuleUnload(module_);
}

StatusOr<CudaFunction *> CudaModule::function(const std::string &symbol) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = functions_.find(symbol);
  if (it != functions_.end())
    return it->second.get();
  MSA_RETURN_IF_ERROR(device_.makeCurrent());
  CUfunction handle = nullptr;
  CUresult r =
      device_.driver().cuModuleGetFunction(&handle, module_, symbol.c_str());
  if (r == CUDA_ERROR_NOT_FOUND)
    return notFound(name_ + ": the cuda module has no kernel '" + symbol + "'");
  MSA_RETURN_IF_ERROR(cudaStatus(r, "cuModuleGetFunction", __FILE__, __LINE__)
                          .withContext(name_ + ": kernel '" + symbol + "'"));
  std::unique_ptr<CudaFunction> fn(new CudaFunction(symbol, handle));
  CudaFunction *result = fn.get();
  functions_.emplace(symbol, std::move(fn));
  return result;
}

Status CudaModule::launch(CudaFunction &fn, int64_t gridX, int64_t blockX,
                          int64_t sharedBytes, void **params) {
  const std::string kernel = "kernel '" + fn.name() + "'";
  if (gridX == 0)
    return Status::ok();
  if (gridX < 0 || gridX > kCudaMaxGridX)
    return invalidArgument(kernel + ": " + std::to_string(gridX) +
                           " blocks, the limit is " +
                           std::to_string(kCudaMaxGridX));
  if (blockX < 1 || blockX > artifact::kCudaMaxThreadsPerBlock)
    return invalidArgument(kernel + ": " + std::to_string(blockX) +
                           " threads per block, expected 1 to " +
                           std::to_string(artifact::kCudaMaxThreadsPerBlock));
  const CudaDeviceProperties &props = device_.properties();
  if (sharedBytes < 0 || sharedBytes > props.maxSharedPerBlockOptin)
    return failedPrecondition(
        kernel + " needs " + std::to_string(sharedBytes) +
        " bytes of shared memory per block; cuda device " +
        std::to_string(props.ordinal) + " (" + props.name + ") has " +
        std::to_string(props.maxSharedPerBlockOptin));
  MSA_RETURN_IF_ERROR(device_.makeCurrent());
  const CudaDriver &drv = device_.driver();

  if (sharedBytes > fn.sharedLimit_.load()) {
    // Under the lock so that concurrent launches cannot lower the limit
    // below what another one recorded.
    std::lock_guard<std::mutex> lock(mutex_);
    if (sharedBytes > fn.sharedLimit_.load()) {
      MSA_RETURN_IF_ERROR(
          MSA_CU_CALL(drv, cuFuncSetAttribute, fn.handle(),
                      CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                      static_cast<int>(sharedBytes))
              .withContext(kernel));
      fn.sharedLimit_.store(sharedBytes);
    }
  }

  Status s = MSA_CU_CALL(
      drv, cuLaunchKernel, fn.handle(), static_cast<unsigned>(gridX), 1u, 1u,
      static_cast<unsigned>(blockX), 1u, 1u, static_cast<unsigned>(sharedBytes),
      device_.stream(), params, nullptr);
  if (!s.isOk())
    return s.withContext(kernel + " (" + std::to_string(gridX) + " blocks of " +
                         std::to_string(blockX) + " threads, " +
                         std::to_string(sharedBytes) +
                         " bytes of shared memory)");
  return device_.checkLaunch(fn.name());
}

} // namespace msa::runtime
