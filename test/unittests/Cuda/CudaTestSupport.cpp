//===- CudaTestSupport.cpp - helpers of the CUDA HAL tests ----------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "CudaTestSupport.h"

#include "msa/runtime/Json.h"

#include <cstdlib>
#include <cstring>
#include <mutex>

namespace msa::runtime::cudatest {

ScopedEnv::ScopedEnv(const char *name, std::optional<std::string> value)
    : name_(name) {
  if (const char *old = std::getenv(name))
    saved_ = old;
  if (value)
    setenv(name, value->c_str(), 1);
  else
    unsetenv(name);
}

ScopedEnv::~ScopedEnv() {
  if (saved_)
    setenv(name_.c_str(), saved_->c_str(), 1);
  else
    unsetenv(name_.c_str());
}

CudaDevice *sharedCudaDevice(std::string &why) {
  static std::once_flag once;
  static CudaDevice *device = nullptr;
  static std::string reason;
  std::call_once(once, [] {
    StatusOr<std::unique_ptr<CudaDevice>> d = CudaDevice::open(0);
    if (d.isOk())
      device = d->release(); // Freed with the process.
    else
      reason = "no CUDA device to test on: " + d.status().message();
  });
  why = reason;
  return device;
}

uint64_t testSeed() {
  static const uint64_t seed = [] {
    if (const char *env = std::getenv("MSA_TEST_SEED"))
      return static_cast<uint64_t>(std::strtoull(env, nullptr, 10));
    return (static_cast<uint64_t>(std::random_device{}()) << 32) ^
           std::random_device{}();
  }();
  return seed;
}

std::vector<uint8_t> randomBytes(size_t n, std::mt19937_64 &rng) {
  std::vector<uint8_t> bytes(n);
  for (uint8_t &b : bytes)
    b = static_cast<uint8_t>(rng());
  return bytes;
}

Tensor randomFloats(DType dtype, std::vector<int64_t> shape,
                    std::mt19937_64 &rng) {
  Tensor t = Tensor::allocate(dtype, std::move(shape));
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.setF32(i, uniform(rng));
  return t;
}

std::unique_ptr<Bundle>
makeBundle(const std::string &manifest,
           const std::vector<std::pair<std::string, std::string>> &sections) {
  StatusOr<JsonValue> json = JsonValue::parse(manifest);
  EXPECT_TRUE(json.isOk()) << json.status().message();
  if (!json.isOk())
    return nullptr;
  BundleWriter writer;
  writer.setManifest(*json);
  for (const auto &[name, payload] : sections) {
    Status s = writer.addSection(
        name, std::vector<uint8_t>(payload.begin(), payload.end()));
    EXPECT_TRUE(s.isOk()) << s.message();
  }
  StatusOr<std::vector<uint8_t>> bytes = writer.serialize();
  EXPECT_TRUE(bytes.isOk()) << bytes.status().message();
  if (!bytes.isOk())
    return nullptr;
  StatusOr<std::unique_ptr<Bundle>> bundle =
      Bundle::fromBytes(std::move(*bytes), "test.msab");
  EXPECT_TRUE(bundle.isOk()) << bundle.status().message();
  if (!bundle.isOk())
    return nullptr;
  return std::move(*bundle);
}

} // namespace msa::runtime::cudatest
