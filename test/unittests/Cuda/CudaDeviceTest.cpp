//===- CudaDeviceTest.cpp - device properties, memory, copies, events -----===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// GPU tests (skipped without a driver or device): what the device reports,
// byte-exact round trips through device and pinned memory for several
// dtypes and sizes (empty and odd ones too), the caching allocator's reuse,
// and events timing queued work.
//
//===----------------------------------------------------------------------===//

#include "CudaTestSupport.h"

#include "msa/runtime/ArtifactFormat.h"
#include "msa/runtime/cuda/CudaDevice.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace msa::runtime;
using namespace msa::runtime::cudatest;

namespace {

TEST(CudaDevice, Properties) {
  MSA_CUDA_DEVICE_OR_SKIP(device);
  const CudaDeviceProperties &p = device->properties();
  EXPECT_EQ(p.ordinal, 0);
  EXPECT_FALSE(p.name.empty());
  // CUDA 13 supports Turing (sm_75) and later.
  EXPECT_GE(p.computeMajor * 10 + p.computeMinor, 75);
  EXPECT_EQ(p.chip(), "sm_" + std::to_string(p.computeMajor) +
                          std::to_string(p.computeMinor));
  EXPECT_GT(p.multiprocessors, 0);
  EXPECT_GT(p.totalMemory, 0u);
  EXPECT_GT(p.freeMemory, 0u);
  EXPECT_LE(p.freeMemory, p.totalMemory);
  EXPECT_GE(p.maxSharedPerBlockOptin, artifact::kCudaDefaultSharedBytes);
  EXPECT_GE(p.driverVersion, 13000);
  StatusOr<size_t> free = device->freeMemory();
  ASSERT_TRUE(free.isOk()) << free.status().message();
  EXPECT_LE(*free, p.totalMemory);
  EXPECT_NE(device->stream(), nullptr);
  EXPECT_NE(device->context(), nullptr);
  std::printf(
      "[ device   ] %s, %s, %d SMs, %zu MiB, %lld bytes of shared "
      "memory per block, driver %d\n",
      p.name.c_str(), p.chip().c_str(), p.multiprocessors, p.totalMemory >> 20,
      static_cast<long long>(p.maxSharedPerBlockOptin), p.driverVersion);
}

TEST(CudaDevice, RoundTripsEveryDtypeAndSize) {
  MSA_CUDA_DEVICE_OR_SKIP(device);
  std::mt19937_64 rng(testSeed());
  SCOPED_TRACE("MSA_TEST_SEED=" + std::to_string(testSeed()));
  const DType dtypes[] = {DType::kF32, DType::kBF16, DType::kF16, DType::kI32,
                          DType::kI64, DType::kU8,   DType::kF64};
  const std::vector<std::vector<int64_t>> shapes = {
      {0}, {1}, {3}, {1001}, {7, 0, 3}, {3, 5}, {65537}, {(1 << 20) + 7}};
  for (DType dtype : dtypes)
    for (const std::vector<int64_t> &shape : shapes) {
      Tensor host = Tensor::allocate(dtype, shape);
      SCOPED_TRACE(host.describe());
      std::vector<uint8_t> bytes = randomBytes(host.bytes(), rng);
      if (!bytes.empty())
        std::memcpy(host.data, bytes.data(), bytes.size());

      StatusOr<Tensor> onDevice = device->upload(host);
      ASSERT_TRUE(onDevice.isOk()) << onDevice.status().message();
      EXPECT_EQ(onDevice->placement, Placement::kCuda);
      EXPECT_EQ(onDevice->dtype, dtype);
      EXPECT_EQ(onDevice->shape, shape);
      EXPECT_NE(onDevice->data, nullptr);
      // Scribble on the host copy: the device copy must not change.
      if (host.bytes())
        std::memset(host.data, 0x5a, host.bytes());

      StatusOr<Tensor> back = device->download(*onDevice);
      ASSERT_TRUE(back.isOk()) << back.status().message();
      EXPECT_TRUE(back->onHost());
      EXPECT_EQ(back->shape, shape);
      EXPECT_TRUE(bytes.empty() ||
                  std::memcmp(back->data, bytes.data(), bytes.size()) == 0);

      // Device to device, into poisoned memory, then through pinned
      // buffers with the asynchronous copies.
      StatusOr<Tensor> copy = device->allocate(dtype, shape);
      ASSERT_TRUE(copy.isOk()) << copy.status().message();
      ASSERT_TRUE(device->memsetAsync(*copy, 0xff).isOk());
      ASSERT_TRUE(device->copyAsync(*onDevice, *copy).isOk());
      StatusOr<Tensor> pinned = device->allocatePinned(dtype, shape);
      ASSERT_TRUE(pinned.isOk()) << pinned.status().message();
      EXPECT_TRUE(pinned->onHost());
      if (pinned->bytes())
        std::memset(pinned->data, 0xa5, pinned->bytes());
      ASSERT_TRUE(device->copyAsync(*copy, *pinned).isOk());
      ASSERT_TRUE(device->synchronize().isOk());
      EXPECT_TRUE(bytes.empty() ||
                  std::memcmp(pinned->data, bytes.data(), bytes.size()) == 0);

      StatusOr<Tensor> pinnedIn = device->allocatePinned(dtype, shape);
      ASSERT_TRUE(pinnedIn.isOk());
      if (!bytes.empty())
        std::memcpy(pinnedIn->data, bytes.data(), bytes.size());
      ASSERT_TRUE(device->memsetAsync(*copy, 0x00).isOk());
      ASSERT_TRUE(device->copyAsync(*pinnedIn, *copy).isOk());
      StatusOr<Tensor> again = device->download(*copy);
      ASSERT_TRUE(again.isOk());
      EXPECT_TRUE(bytes.empty() ||
                  std::memcmp(again->data, bytes.data(), bytes.size()) == 0);
    }
}

TEST(CudaDevice, MemsetSetsEveryByte) {
  MSA_CUDA_DEVICE_OR_SKIP(device);
  StatusOr<Tensor> t = device->allocate(DType::kU8, {4099});
  ASSERT_TRUE(t.isOk());
  ASSERT_TRUE(device->memsetAsync(*t, 0x3c).isOk());
  StatusOr<Tensor> back = device->download(*t);
  ASSERT_TRUE(back.isOk());
  for (int64_t i = 0; i < back->numel(); ++i)
    ASSERT_EQ(back->as<uint8_t>()[i], 0x3c) << i;
}

TEST(CudaDevice, CopyErrors) {
  MSA_CUDA_DEVICE_OR_SKIP(device);
  Tensor host = Tensor::allocate(DType::kF32, {4});
  StatusOr<Tensor> dev = device->allocate(DType::kF32, {4});
  ASSERT_TRUE(dev.isOk());
  StatusOr<Tensor> up = device->upload(*dev);
  ASSERT_FALSE(up.isOk());
  EXPECT_EQ(up.status().message(), "upload: f32[4] on the cuda device, "
                                   "expected a host tensor");
  StatusOr<Tensor> down = device->download(host);
  ASSERT_FALSE(down.isOk());
  EXPECT_EQ(down.status().message(),
            "download: f32[4] on the host, expected a cuda tensor");
  StatusOr<Tensor> five = device->allocate(DType::kF32, {5});
  ASSERT_TRUE(five.isOk());
  EXPECT_EQ(device->copyAsync(*dev, *five).message(),
            "copy of f32[4] on the cuda device into f32[5] on the cuda "
            "device: sizes differ");
  Tensor host2 = Tensor::allocate(DType::kF32, {4});
  EXPECT_EQ(device->copyAsync(host, host2).message(),
            "copy of f32[4] on the host into f32[4] on the host: neither is "
            "on the cuda device");
  StatusOr<Tensor> negative = device->allocate(DType::kF32, {-1});
  ASSERT_FALSE(negative.isOk());
  EXPECT_EQ(negative.status().message(),
            "cuda allocation of f32[-1]: negative dimension");
}

TEST(CudaDevice, AllocatorReusesFreedBlocks) {
  MSA_CUDA_DEVICE_OR_SKIP(device);
  ASSERT_TRUE(device->trim().isOk());
  const CudaAllocatorStats s0 = device->allocatorStats();
  EXPECT_EQ(s0.bytesCached, 0u);

  StatusOr<Tensor> a = device->allocate(DType::kF32, {1000}); // 4000 bytes
  ASSERT_TRUE(a.isOk());
  void *first = a->data;
  EXPECT_EQ(reinterpret_cast<uintptr_t>(first) % CudaDevice::kMinBlockBytes,
            0u);
  const CudaAllocatorStats s1 = device->allocatorStats();
  EXPECT_EQ(s1.driverAllocations, s0.driverAllocations + 1);
  EXPECT_EQ(s1.bytesInUse, s0.bytesInUse + 4096);

  // A view keeps the block alive.
  Tensor view = a->reshaped({10, 100});
  *a = Tensor();
  EXPECT_EQ(device->allocatorStats().bytesCached, 0u);
  view = Tensor();
  const CudaAllocatorStats s2 = device->allocatorStats();
  EXPECT_EQ(s2.bytesCached, 4096u);
  EXPECT_EQ(s2.bytesInUse, s0.bytesInUse);

  // Another request of the same class gets the same block, without the
  // driver.
  StatusOr<Tensor> b = device->allocate(DType::kBF16, {2001}); // 4002 bytes
  ASSERT_TRUE(b.isOk());
  EXPECT_EQ(b->data, first);
  const CudaAllocatorStats s3 = device->allocatorStats();
  EXPECT_EQ(s3.driverAllocations, s1.driverAllocations);
  EXPECT_EQ(s3.reuses, s0.reuses + 1);
  EXPECT_EQ(s3.bytesCached, 0u);

  // A plan-like loop: allocate and free the same buffers every step.
  for (int step = 0; step < 100; ++step) {
    StatusOr<Tensor> x = device->allocate(DType::kBF16, {37, 2560});
    StatusOr<Tensor> y = device->allocate(DType::kF32, {37, 9728});
    ASSERT_TRUE(x.isOk() && y.isOk());
  }
  const CudaAllocatorStats s4 = device->allocatorStats();
  EXPECT_LE(s4.driverAllocations, s3.driverAllocations + 2);

  *b = Tensor();
  ASSERT_TRUE(device->trim().isOk());
  const CudaAllocatorStats s5 = device->allocatorStats();
  EXPECT_EQ(s5.bytesCached, 0u);
  EXPECT_EQ(s5.bytesInUse, s0.bytesInUse);
}

TEST(CudaDevice, EventsTimeQueuedWork) {
  MSA_CUDA_DEVICE_OR_SKIP(device);
  StatusOr<Tensor> big = device->allocate(DType::kU8, {int64_t(256) << 20});
  ASSERT_TRUE(big.isOk()) << big.status().message();
  StatusOr<CudaEvent> start = device->createEvent();
  StatusOr<CudaEvent> end = device->createEvent();
  ASSERT_TRUE(start.isOk() && end.isOk());
  ASSERT_TRUE(start->record().isOk());
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(device->memsetAsync(*big, static_cast<uint8_t>(i)).isOk());
  ASSERT_TRUE(end->record().isOk());
  StatusOr<float> ms = CudaEvent::elapsedMs(*start, *end);
  ASSERT_TRUE(ms.isOk()) << ms.status().message();
  EXPECT_GT(*ms, 0.0f);
  std::printf("[ timing   ] 4 x 256 MiB memset: %.3f ms\n", *ms);
}

TEST(CudaDevice, SyncAfterLaunchFollowsTheEnvironment) {
  MSA_CUDA_DEVICE_OR_SKIP(shared);
  ScopedEnv env("MSA_CUDA_SYNC", "1");
  StatusOr<std::unique_ptr<CudaDevice>> device = CudaDevice::open(0);
  ASSERT_TRUE(device.isOk()) << device.status().message();
  EXPECT_TRUE((*device)->syncAfterLaunch());
  EXPECT_TRUE((*device)->checkLaunch("nothing").isOk());
  StatusOr<std::unique_ptr<CudaDevice>> none = CudaDevice::open(1 << 20);
  ASSERT_FALSE(none.isOk());
  EXPECT_EQ(none.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(none.status().message().rfind("no cuda device 1048576: ", 0), 0u)
      << none.status().message();
}

} // namespace
