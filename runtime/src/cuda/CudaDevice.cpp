//===- CudaDevice.cpp - one CUDA device: memory, copies, stream -----------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/cuda/CudaDevice.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

namespace msa::runtime {

using namespace cuda;

namespace {

/// Buffer for cuDeviceGetName; names are far shorter.
constexpr int kDeviceNameBytes = 256;
/// Classes per doubling of the block size (CudaDevice::sizeClass).
constexpr size_t kSizeClassesPerDoubling = 8;
/// Pinned blocks are at least this big, as Tensor::allocate's are.
constexpr size_t kMinPinnedBytes = 64;

CUdeviceptr devicePtr(const void *p) {
  return static_cast<CUdeviceptr>(reinterpret_cast<uintptr_t>(p));
}

/// "bf16[4, 64] on the host", for messages about placements.
std::string placed(const Tensor &t) {
  return t.describe() + (t.onHost() ? " on the host" : " on the cuda device");
}

} // namespace

/// What tensors share with their device: freeing a tensor returns its block
/// here, so the state lives until the device and all its tensors are gone,
/// and keeps the primary context retained that long.
struct CudaDevice::State {
  const CudaDriver *driver = nullptr;
  CUdevice device = 0;
  CUcontext context = nullptr;
  CUstream stream = nullptr;

  std::mutex mutex;
  std::map<size_t, std::vector<CUdeviceptr>> freeLists;
  CudaAllocatorStats stats;

  ~State();
  Status makeCurrent() const;
  StatusOr<CUdeviceptr> allocateBlock(size_t size);
  void releaseBlock(CUdeviceptr ptr, size_t size);
  Status trim();
};

CudaDevice::State::~State() {
  if (!context)
    return;
  // Errors cannot be reported from here; at exit the driver may already be
  // shutting down, and whatever is left is released with the process.
  (void)makeCurrent();
  for (auto &[size, blocks] : freeLists)
    for (CUdeviceptr p : blocks)
      (void)driver->cuMemFree_v2(p);
  if (stream)
    (void)driver->cuStreamDestroy_v2(stream);
  (void)driver->cuDevicePrimaryCtxRelease_v2(device);
}

Status CudaDevice::State::makeCurrent() const {
  CUcontext current = nullptr;
  MSA_CU_RETURN_IF_ERROR(*driver, cuCtxGetCurrent, &current);
  if (current != context)
    MSA_CU_RETURN_IF_ERROR(*driver, cuCtxSetCurrent, context);
  return Status::ok();
}

StatusOr<CUdeviceptr> CudaDevice::State::allocateBlock(size_t size) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = freeLists.find(size);
    if (it != freeLists.end() && !it->second.empty()) {
      CUdeviceptr p = it->second.back();
      it->second.pop_back();
      ++stats.reuses;
      stats.bytesCached -= size;
      stats.bytesInUse += size;
      return p;
    }
  }
  MSA_RETURN_IF_ERROR(makeCurrent());
  CUdeviceptr p = 0;
  CUresult r = driver->cuMemAlloc_v2(&p, size);
  if (r == CUDA_ERROR_OUT_OF_MEMORY) {
    // The memory may be sitting in free lists of other sizes.
    MSA_RETURN_IF_ERROR(trim());
    r = driver->cuMemAlloc_v2(&p, size);
  }
  MSA_RETURN_IF_ERROR(cudaStatus(r, "cuMemAlloc_v2", __FILE__, __LINE__));
  std::lock_guard<std::mutex> lock(mutex);
  ++stats.driverAllocations;
  stats.bytesInUse += size;
  return p;
}

void CudaDevice::State::releaseBlock(CUdeviceptr ptr, size_t size) {
  std::lock_guard<std::mutex> lock(mutex);
  freeLists[size].push_back(ptr);
  stats.bytesInUse -= size;
  stats.bytesCached += size;
}

Status CudaDevice::State::trim() {
  MSA_RETURN_IF_ERROR(makeCurrent());
  // Blocks in the free lists may still be used by queued work.
  MSA_CU_RETURN_IF_ERROR(*driver, cuStreamSynchronize, stream);
  std::map<size_t, std::vector<CUdeviceptr>> blocks;
  {
    std::lock_guard<std::mutex> lock(mutex);
    blocks.swap(freeLists);
    stats.bytesCached = 0;
  }
  Status first;
  for (auto &[size, list] : blocks)
    for (CUdeviceptr p : list) {
      Status s = MSA_CU_CALL(*driver, cuMemFree_v2, p);
      if (first.isOk())
        first = s;
    }
  return first;
}

std::string CudaDeviceProperties::chip() const {
  return "sm_" + std::to_string(computeMajor) + std::to_string(computeMinor);
}

StatusOr<std::unique_ptr<CudaDevice>> CudaDevice::open(int ordinal) {
  const std::string what = "cuda device " + std::to_string(ordinal);
  StatusOr<const CudaDriver *> loaded = CudaDriver::get();
  if (!loaded.isOk())
    return loaded.status();
  const CudaDriver &drv = **loaded;
  auto opening = [&](Status s) { return s.withContext("opening " + what); };

  if (Status s = MSA_CU_CALL(drv, cuInit, 0); !s.isOk())
    return opening(s);
  int count = 0;
  if (Status s = MSA_CU_CALL(drv, cuDeviceGetCount, &count); !s.isOk())
    return opening(s);
  if (ordinal < 0 || ordinal >= count)
    return unavailable("no " + what + ": " + std::to_string(count) +
                       " CUDA device(s) present");

  std::unique_ptr<CudaDevice> device(new CudaDevice());
  device->driver_ = &drv;
  auto state = std::make_shared<State>();
  state->driver = &drv;
  CudaDeviceProperties &p = device->properties_;
  p.ordinal = ordinal;
  Status s = MSA_CU_CALL(drv, cuDeviceGet, &state->device, ordinal);
  if (s.isOk()) {
    s = MSA_CU_CALL(drv, cuDevicePrimaryCtxRetain, &state->context,
                    state->device);
    if (!s.isOk())
      state->context = nullptr; // Nothing to release.
  }
  if (s.isOk())
    s = MSA_CU_CALL(drv, cuCtxSetCurrent, state->context);
  if (s.isOk())
    s = MSA_CU_CALL(drv, cuStreamCreate, &state->stream,
                    CU_STREAM_NON_BLOCKING);
  char name[kDeviceNameBytes] = {};
  if (s.isOk())
    s = MSA_CU_CALL(drv, cuDeviceGetName, name, kDeviceNameBytes - 1,
                    state->device);
  p.name = name;
  const std::pair<CUdevice_attribute, int *> attributes[] = {
      {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, &p.computeMajor},
      {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, &p.computeMinor},
      {CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, &p.multiprocessors},
  };
  for (const auto &[attribute, value] : attributes)
    if (s.isOk())
      s = MSA_CU_CALL(drv, cuDeviceGetAttribute, value, attribute,
                      state->device);
  int sharedOptin = 0;
  if (s.isOk())
    s = MSA_CU_CALL(drv, cuDeviceGetAttribute, &sharedOptin,
                    CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
                    state->device);
  p.maxSharedPerBlockOptin = sharedOptin;
  if (s.isOk())
    s = MSA_CU_CALL(drv, cuDeviceTotalMem_v2, &p.totalMemory, state->device);
  size_t total = 0;
  if (s.isOk())
    s = MSA_CU_CALL(drv, cuMemGetInfo_v2, &p.freeMemory, &total);
  if (s.isOk())
    s = MSA_CU_CALL(drv, cuDriverGetVersion, &p.driverVersion);
  if (!s.isOk())
    return opening(s); // `state` releases what was acquired.

  device->state_ = std::move(state);
  const char *sync = std::getenv("MSA_CUDA_SYNC");
  device->syncAfterLaunch_ = sync && std::strcmp(sync, "1") == 0;
  return device;
}

CudaDevice::~CudaDevice() {
  if (!state_)
    return;
  (void)synchronize();
  (void)trim();
}

CUcontext CudaDevice::context() const { return state_->context; }
CUstream CudaDevice::stream() const { return state_->stream; }

Status CudaDevice::makeCurrent() const { return state_->makeCurrent(); }

StatusOr<size_t> CudaDevice::freeMemory() const {
  MSA_RETURN_IF_ERROR(makeCurrent());
  size_t free = 0, total = 0;
  MSA_CU_RETURN_IF_ERROR(*driver_, cuMemGetInfo_v2, &free, &total);
  return free;
}

size_t CudaDevice::sizeClass(size_t bytes) {
  if (bytes <= kMinBlockBytes)
    return kMinBlockBytes;
  size_t power = size_t(1) << (63 - __builtin_clzll(bytes));
  size_t step = std::min(
      std::max(power / kSizeClassesPerDoubling, kMinBlockBytes), kMaxClassStep);
  return (bytes + step - 1) / step * step;
}

StatusOr<Tensor> CudaDevice::allocate(DType dtype, std::vector<int64_t> shape) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.placement = Placement::kCuda;
  for (int64_t d : t.shape)
    if (d < 0)
      return invalidArgument("cuda allocation of " + t.describe() +
                             ": negative dimension");
  const size_t size = sizeClass(t.bytes());
  StatusOr<CUdeviceptr> block = state_->allocateBlock(size);
  if (!block.isOk())
    return block.status().withContext(
        "allocating " + t.describe() + " (" + std::to_string(t.bytes()) +
        " bytes) on cuda device " + std::to_string(properties_.ordinal));
  t.data = reinterpret_cast<void *>(static_cast<uintptr_t>(*block));
  std::shared_ptr<State> state = state_;
  t.owner = std::shared_ptr<void>(t.data, [state, size](void *p) {
    state->releaseBlock(devicePtr(p), size);
  });
  return t;
}

StatusOr<Tensor> CudaDevice::allocatePinned(DType dtype,
                                            std::vector<int64_t> shape) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  for (int64_t d : t.shape)
    if (d < 0)
      return invalidArgument("pinned allocation of " + t.describe() +
                             ": negative dimension");
  MSA_RETURN_IF_ERROR(makeCurrent());
  void *p = nullptr;
  if (Status s = MSA_CU_CALL(*driver_, cuMemAllocHost_v2, &p,
                             std::max(t.bytes(), kMinPinnedBytes));
      !s.isOk())
    return s.withContext("allocating pinned " + t.describe());
  std::shared_ptr<State> state = state_;
  t.data = p;
  t.owner = std::shared_ptr<void>(p, [state](void *q) {
    (void)state->makeCurrent();
    (void)state->driver->cuMemFreeHost(q);
  });
  return t;
}

Status CudaDevice::trim() { return state_->trim(); }

CudaAllocatorStats CudaDevice::allocatorStats() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->stats;
}

Status CudaDevice::checkOnDevice(const Tensor &t, const char *what) const {
  if (t.placement != Placement::kCuda)
    return invalidArgument(std::string(what) + ": " + placed(t) +
                           ", expected a cuda tensor");
  return Status::ok();
}

StatusOr<Tensor> CudaDevice::upload(const Tensor &host) {
  if (!host.onHost())
    return invalidArgument("upload: " + placed(host) +
                           ", expected a host tensor");
  MSA_ASSIGN_OR_RETURN(Tensor device, allocate(host.dtype, host.shape));
  MSA_RETURN_IF_ERROR(copyAsync(host, device));
  // The caller may free `host` as soon as this returns.
  MSA_RETURN_IF_ERROR(synchronize());
  return device;
}

StatusOr<Tensor> CudaDevice::download(const Tensor &device) {
  MSA_RETURN_IF_ERROR(checkOnDevice(device, "download"));
  Tensor host = Tensor::allocate(device.dtype, device.shape);
  MSA_RETURN_IF_ERROR(copyAsync(device, host));
  MSA_RETURN_IF_ERROR(synchronize());
  return host;
}

Status CudaDevice::copyAsync(const Tensor &src, Tensor &dst) {
  if (src.bytes() != dst.bytes())
    return invalidArgument("copy of " + placed(src) + " into " + placed(dst) +
                           ": sizes differ");
  if (src.onHost() && dst.onHost())
    return invalidArgument("copy of " + placed(src) + " into " + placed(dst) +
                           ": neither is on the cuda device");
  if (src.bytes() == 0)
    return Status::ok();
  MSA_RETURN_IF_ERROR(makeCurrent());
  const CUstream s = stream();
  if (src.onHost())
    return MSA_CU_CALL(*driver_, cuMemcpyHtoDAsync_v2, devicePtr(dst.data),
                       src.data, src.bytes(), s);
  if (dst.onHost())
    return MSA_CU_CALL(*driver_, cuMemcpyDtoHAsync_v2, dst.data,
                       devicePtr(src.data), src.bytes(), s);
  return MSA_CU_CALL(*driver_, cuMemcpyDtoDAsync_v2, devicePtr(dst.data),
                     devicePtr(src.data), src.bytes(), s);
}

Status CudaDevice::memsetAsync(Tensor &t, uint8_t value) {
  MSA_RETURN_IF_ERROR(checkOnDevice(t, "memset"));
  if (t.bytes() == 0)
    return Status::ok();
  MSA_RETURN_IF_ERROR(makeCurrent());
  return MSA_CU_CALL(*driver_, cuMemsetD8Async, devicePtr(t.data), value,
                     t.bytes(), stream());
}

Status CudaDevice::synchronize() {
  MSA_RETURN_IF_ERROR(makeCurrent());
  return MSA_CU_CALL(*driver_, cuStreamSynchronize, stream());
}

Status CudaDevice::checkLaunch(const std::string &kernel) {
  if (!syncAfterLaunch_)
    return Status::ok();
  Status s = synchronize();
  if (!s.isOk())
    return s.withContext("kernel '" + kernel + "' (MSA_CUDA_SYNC=1)");
  return s;
}

StatusOr<CudaEvent> CudaDevice::createEvent() {
  MSA_RETURN_IF_ERROR(makeCurrent());
  CUevent event = nullptr;
  MSA_CU_RETURN_IF_ERROR(*driver_, cuEventCreate, &event, CU_EVENT_DEFAULT);
  return CudaEvent(this, event);
}

CudaEvent::CudaEvent(CudaEvent &&other) noexcept
    : device_(other.device_), event_(other.event_) {
  other.event_ = nullptr;
}

CudaEvent &CudaEvent::operator=(CudaEvent &&other) noexcept {
  if (this != &other) {
    this->~CudaEvent();
    device_ = other.device_;
    event_ = other.event_;
    other.event_ = nullptr;
  }
  return *this;
}

CudaEvent::~CudaEvent() {
  if (!event_)
    return;
  (void)device_->makeCurrent();
  (void)device_->driver().cuEventDestroy_v2(event_);
  event_ = nullptr;
}

Status CudaEvent::record() {
  MSA_RETURN_IF_ERROR(device_->makeCurrent());
  return MSA_CU_CALL(device_->driver(), cuEventRecord, event_,
                     device_->stream());
}

StatusOr<float> CudaEvent::elapsedMs(const CudaEvent &start,
                                     const CudaEvent &end) {
  const CudaDevice &device = *end.device_;
  MSA_RETURN_IF_ERROR(device.makeCurrent());
  MSA_CU_RETURN_IF_ERROR(device.driver(), cuEventSynchronize, end.event_);
  float ms = 0;
  MSA_CU_RETURN_IF_ERROR(device.driver(), cuEventElapsedTime_v2, &ms,
                         start.event_, end.event_);
  return ms;
}

} // namespace msa::runtime
