//===- CudaModuleTest.cpp - loading modules and launching kernels ---------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// GPU tests (skipped without a driver or device) of CudaModule and
// CudaExecutable on a bundle whose module is a small hand-written PTX file
// with the CUDA kernel ABI (parameters are flattened memref descriptors):
// results checked exactly, a partial last block, an empty grid, more than
// 48 KiB of dynamic shared memory, the cubin path (when ptxas is present),
// the fallback to the PTX for a cubin of another chip or a corrupt one, and
// the errors for bad PTX, a missing symbol and a cpu bundle.
//
//===----------------------------------------------------------------------===//

#include "CudaTestSupport.h"

#include "msa/runtime/ArtifactFormat.h"
#include "msa/runtime/cuda/CudaExecutable.h"
#include "msa/runtime/cuda/CudaModule.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>

using namespace msa::runtime;
using namespace msa::runtime::cudatest;

namespace {

/// Two kernels in the CUDA kernel ABI; `ptxas -arch=sm_90` accepts it.
const char *kPtx = R"PTX(//
// out[i] = a * x[i] + y[i] (f32), and a dynamic shared memory probe.
// Parameters are flattened memref descriptors (ArtifactFormat.h):
// allocated, aligned, offset, sizes[rank], strides[rank].
//
.version 7.8
.target sm_75
.address_size 64

.visible .entry msa_axpy(
    .param .u64 a_allocated, .param .u64 a_aligned, .param .u64 a_offset,
    .param .u64 x_allocated, .param .u64 x_aligned, .param .u64 x_offset,
    .param .u64 x_size, .param .u64 x_stride,
    .param .u64 y_allocated, .param .u64 y_aligned, .param .u64 y_offset,
    .param .u64 y_size, .param .u64 y_stride,
    .param .u64 o_allocated, .param .u64 o_aligned, .param .u64 o_offset,
    .param .u64 o_size, .param .u64 o_stride)
{
    .reg .pred %p<2>;
    .reg .b32 %r<4>;
    .reg .f32 %f<5>;
    .reg .b64 %rd<20>;

    mov.u32 %r1, %ctaid.x;
    mov.u32 %r2, %ntid.x;
    mov.u32 %r3, %tid.x;
    mul.wide.u32 %rd1, %r1, %r2;
    cvt.u64.u32 %rd2, %r3;
    add.s64 %rd1, %rd1, %rd2;
    ld.param.u64 %rd3, [x_size];
    setp.ge.s64 %p1, %rd1, %rd3;
    @%p1 bra DONE;

    ld.param.u64 %rd4, [a_aligned];
    ld.param.u64 %rd5, [a_offset];
    shl.b64 %rd5, %rd5, 2;
    add.s64 %rd4, %rd4, %rd5;
    cvta.to.global.u64 %rd4, %rd4;
    ld.global.f32 %f1, [%rd4];

    ld.param.u64 %rd6, [x_aligned];
    ld.param.u64 %rd7, [x_offset];
    ld.param.u64 %rd8, [x_stride];
    mad.lo.s64 %rd7, %rd1, %rd8, %rd7;
    shl.b64 %rd7, %rd7, 2;
    add.s64 %rd6, %rd6, %rd7;
    cvta.to.global.u64 %rd6, %rd6;
    ld.global.f32 %f2, [%rd6];

    ld.param.u64 %rd9, [y_aligned];
    ld.param.u64 %rd10, [y_offset];
    ld.param.u64 %rd11, [y_stride];
    mad.lo.s64 %rd10, %rd1, %rd11, %rd10;
    shl.b64 %rd10, %rd10, 2;
    add.s64 %rd9, %rd9, %rd10;
    cvta.to.global.u64 %rd9, %rd9;
    ld.global.f32 %f3, [%rd9];

    fma.rn.f32 %f4, %f1, %f2, %f3;

    ld.param.u64 %rd12, [o_aligned];
    ld.param.u64 %rd13, [o_offset];
    ld.param.u64 %rd14, [o_stride];
    mad.lo.s64 %rd13, %rd1, %rd14, %rd13;
    shl.b64 %rd13, %rd13, 2;
    add.s64 %rd12, %rd12, %rd13;
    cvta.to.global.u64 %rd12, %rd12;
    st.global.f32 [%rd12], %f4;
DONE:
    ret;
}

.extern .shared .align 16 .b8 msa_smem_buffer[];

// out[i] = %dynamic_smem_size + (tid + 1) % ntid, where the second term
// travels through the last ntid words of the dynamic shared memory.
.visible .entry msa_smem(
    .param .u64 o_allocated, .param .u64 o_aligned, .param .u64 o_offset,
    .param .u64 o_size, .param .u64 o_stride)
{
    .reg .pred %p<2>;
    .reg .b32 %r<16>;
    .reg .b64 %rd<12>;

    mov.u32 %r1, %ctaid.x;
    mov.u32 %r2, %ntid.x;
    mov.u32 %r3, %tid.x;
    mov.u32 %r4, %dynamic_smem_size;
    mov.u32 %r5, msa_smem_buffer;
    // base = buffer + dynamic size - 4 * ntid
    shl.b32 %r6, %r2, 2;
    sub.s32 %r7, %r4, %r6;
    add.s32 %r5, %r5, %r7;
    shl.b32 %r8, %r3, 2;
    add.s32 %r9, %r5, %r8;
    st.shared.u32 [%r9], %r3;
    bar.sync 0;
    add.s32 %r10, %r3, 1;
    rem.u32 %r10, %r10, %r2;
    shl.b32 %r11, %r10, 2;
    add.s32 %r12, %r5, %r11;
    ld.shared.u32 %r13, [%r12];
    add.s32 %r13, %r13, %r4;

    mul.wide.u32 %rd1, %r1, %r2;
    cvt.u64.u32 %rd2, %r3;
    add.s64 %rd1, %rd1, %rd2;
    ld.param.u64 %rd3, [o_size];
    setp.ge.s64 %p1, %rd1, %rd3;
    @%p1 bra DONE;
    ld.param.u64 %rd4, [o_aligned];
    ld.param.u64 %rd5, [o_offset];
    ld.param.u64 %rd6, [o_stride];
    mad.lo.s64 %rd5, %rd1, %rd6, %rd5;
    shl.b64 %rd5, %rd5, 2;
    add.s64 %rd4, %rd4, %rd5;
    cvta.to.global.u64 %rd4, %rd4;
    st.global.u32 [%rd4], %r13;
DONE:
    ret;
}
)PTX";

/// A cuda bundle manifest for kPtx's kernels: 0 is axpy(a: f32[], x: f32[?],
/// y: f32[?]) -> out: f32[?] over x's elements, 1 is smem() -> out: i32[?]
/// with 100 KiB of dynamic shared memory.
std::string manifest(const std::string &axpySymbol = "msa_axpy") {
  return R"({
    "format": "msab",
    "target": {"name": "cuda", "chip": "sm_90"},
    "model": null,
    "kernels": [
      {"name": "axpy", "symbol": ")" +
         axpySymbol + R"(", "op": "test.axpy",
       "args": [{"dtype": "f32", "shape": []},
                {"dtype": "f32", "shape": [null]},
                {"dtype": "f32", "shape": [null]},
                {"dtype": "f32", "shape": [null]}],
       "grid": [[1, 0, 0]],
       "launch": {"threads": 128, "items_per_block": 128,
                  "shared_bytes": 0}},
      {"name": "smem", "symbol": "msa_smem", "op": "test.smem",
       "args": [{"dtype": "i32", "shape": [null]}],
       "grid": [[0, 0, 0]],
       "launch": {"threads": 256, "items_per_block": 256,
                  "shared_bytes": 102400}}
    ],
    "entries": {}
  })";
}

constexpr int64_t kSmemBytes = 102400;
constexpr int64_t kSmemThreads = 256;

/// Runs axpy over `n` elements of fresh random data and checks every result
/// exactly (fma.rn.f32 and std::fma both round once).
void checkAxpy(CudaDevice &device, const CudaExecutable &exe, int64_t n,
               std::mt19937_64 &rng) {
  SCOPED_TRACE("axpy over " + std::to_string(n) + " elements");
  Tensor a = randomFloats(DType::kF32, {}, rng);
  Tensor x = randomFloats(DType::kF32, {n}, rng);
  Tensor y = randomFloats(DType::kF32, {n}, rng);
  StatusOr<Tensor> da = device.upload(a), dx = device.upload(x),
                   dy = device.upload(y);
  ASSERT_TRUE(da.isOk() && dx.isOk() && dy.isOk());
  StatusOr<Tensor> out = device.allocate(DType::kF32, {n});
  ASSERT_TRUE(out.isOk());
  ASSERT_TRUE(device.memsetAsync(*out, 0xff).isOk()); // NaN
  Status s = exe.launch(0, {&*da, &*dx, &*dy, &*out});
  ASSERT_TRUE(s.isOk()) << s.message();
  StatusOr<Tensor> back = device.download(*out);
  ASSERT_TRUE(back.isOk()) << back.status().message();
  const float av = a.as<float>()[0];
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(back->as<float>()[i],
              std::fma(av, x.as<float>()[i], y.as<float>()[i]))
        << "element " << i;
}

// Needs no GPU: the test bundle is valid and packs as the kernels expect.
TEST(CudaModule, TestBundleIsValid) {
  std::unique_ptr<Bundle> bundle =
      makeBundle(manifest(), {{artifact::kCudaPtxSection, kPtx}});
  ASSERT_TRUE(bundle);
  ASSERT_EQ(bundle->kernels().size(), 2u);
  const KernelSpec &smem = bundle->kernels()[1];
  ASSERT_TRUE(smem.launch.has_value());
  EXPECT_EQ(smem.launch->sharedBytes, kSmemBytes);
  EXPECT_EQ(smem.launch->threads, kSmemThreads);
  Tensor out = Tensor::view(DType::kI32, {1000}, nullptr);
  out.placement = Placement::kCuda;
  StatusOr<CudaLaunchParams> p = packCudaLaunch(smem, {&out});
  ASSERT_TRUE(p.isOk()) << p.status().message();
  EXPECT_EQ(p->gridX, 4);
  // Five parameters, as msa_smem declares.
  EXPECT_EQ(p->fields.size(), 5u);
  StatusOr<CudaLaunchParams> axpy =
      packCudaLaunch(bundle->kernels()[0], {&out, &out, &out, &out});
  ASSERT_FALSE(axpy.isOk());
}

StatusOr<std::unique_ptr<CudaExecutable>> loadExecutable(CudaDevice &device,
                                                         const Bundle &bundle) {
  return CudaExecutable::load(bundle, device);
}

TEST(CudaModule, PtxBundleIsCompiledAndRuns) {
  MSA_CUDA_DEVICE_OR_SKIP(device);
  std::mt19937_64 rng(testSeed());
  SCOPED_TRACE("MSA_TEST_SEED=" + std::to_string(testSeed()));
  std::unique_ptr<Bundle> bundle =
      makeBundle(manifest(), {{artifact::kCudaPtxSection, kPtx}});
  ASSERT_TRUE(bundle);
  StatusOr<std::unique_ptr<CudaExecutable>> exe =
      loadExecutable(*device, *bundle);
  ASSERT_TRUE(exe.isOk()) << exe.status().message();
  EXPECT_TRUE((*exe)->usedPtxJit());
  EXPECT_EQ((*exe)->module().cubinRejection(), "");
  for (int64_t n : {1000, 1, 127, 128, 129, 100003})
    checkAxpy(*device, **exe, n, rng);
}

TEST(CudaModule, EmptyGridLaunchesNothing) {
  MSA_CUDA_DEVICE_OR_SKIP(device);
  std::mt19937_64 rng(testSeed());
  std::unique_ptr<Bundle> bundle =
      makeBundle(manifest(), {{artifact::kCudaPtxSection, kPtx}});
  ASSERT_TRUE(bundle);
  StatusOr<std::unique_ptr<CudaExecutable>> exe =
      loadExecutable(*device, *bundle);
  ASSERT_TRUE(exe.isOk()) << exe.status().message();
  checkAxpy(*device, **exe, 0, rng);
  EXPECT_TRUE(device->synchronize().isOk());
}

TEST(CudaModule, LaunchChecksItsArguments) {
  MSA_CUDA_DEVICE_OR_SKIP(device);
  std::unique_ptr<Bundle> bundle =
      makeBundle(manifest(), {{artifact::kCudaPtxSection, kPtx}});
  ASSERT_TRUE(bundle);
  StatusOr<std::unique_ptr<CudaExecutable>> exe =
      loadExecutable(*device, *bundle);
  ASSERT_TRUE(exe.isOk()) << exe.status().message();
  Tensor a = Tensor::allocate(DType::kF32, {});
  Tensor x = Tensor::allocate(DType::kF32, {4});
  EXPECT_EQ((*exe)->launch(0, {&a, &x, &x, &x}).message(),
            "kernel 'axpy' argument 0 is f32[] on the host, expected cuda "
            "memory");
  StatusOr<Tensor> d = device->allocate(DType::kF32, {4});
  ASSERT_TRUE(d.isOk());
  EXPECT_EQ((*exe)->launch(0, {&*d, &*d, &*d, &*d}).message(),
            "kernel 'axpy' argument 0: rank 1, expected 0");
  EXPECT_EQ((*exe)->launch(2, {&*d}).message(),
            "kernel index 2 is out of range: test.msab has 2 kernels");
}

TEST(CudaModule, MoreThan48KiBOfDynamicSharedMemory) {
  MSA_CUDA_DEVICE_OR_SKIP(device);
  ASSERT_GT(kSmemBytes, artifact::kCudaDefaultSharedBytes);
  std::unique_ptr<Bundle> bundle =
      makeBundle(manifest(), {{artifact::kCudaPtxSection, kPtx}});
  ASSERT_TRUE(bundle);
  StatusOr<std::unique_ptr<CudaExecutable>> exe =
      loadExecutable(*device, *bundle);
  ASSERT_TRUE(exe.isOk()) << exe.status().message();

  auto check = [&](const Tensor &out, int64_t shared) {
    StatusOr<Tensor> back = device->download(out);
    ASSERT_TRUE(back.isOk()) << back.status().message();
    for (int64_t i = 0; i < back->numel(); ++i) {
      int64_t expected = shared + ((i % kSmemThreads) + 1) % kSmemThreads;
      ASSERT_EQ(back->as<int32_t>()[i], expected) << "element " << i;
    }
  };
  const int64_t n = 1000; // Four blocks, the last one partial.
  for (int round = 0; round < 2; ++round) {
    StatusOr<Tensor> out = device->allocate(DType::kI32, {n});
    ASSERT_TRUE(out.isOk());
    ASSERT_TRUE(device->memsetAsync(*out, 0xff).isOk());
    Status s = (*exe)->launch(1, {&*out});
    ASSERT_TRUE(s.isOk()) << s.message();
    check(*out, kSmemBytes);
  }

  // The whole opt-in limit, through the module directly.
  const int64_t most = device->properties().maxSharedPerBlockOptin;
  StatusOr<CudaFunction *> fn = (*exe)->module().function("msa_smem");
  ASSERT_TRUE(fn.isOk()) << fn.status().message();
  StatusOr<Tensor> out = device->allocate(DType::kI32, {n});
  ASSERT_TRUE(out.isOk());
  ASSERT_TRUE(device->memsetAsync(*out, 0xff).isOk());
  StatusOr<CudaLaunchParams> p = packCudaLaunch(bundle->kernels()[1], {&*out});
  ASSERT_TRUE(p.isOk()) << p.status().message();
  std::vector<void *> params = p->kernelParams();
  Status s =
      (*exe)->module().launch(**fn, p->gridX, p->blockX, most, params.data());
  ASSERT_TRUE(s.isOk()) << s.message();
  check(*out, most);

  Status tooMuch = (*exe)->module().launch(**fn, p->gridX, p->blockX, most + 16,
                                           params.data());
  EXPECT_EQ(tooMuch.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(tooMuch.message(),
            "kernel 'msa_smem' needs " + std::to_string(most + 16) +
                " bytes of shared memory per block; cuda device 0 (" +
                device->properties().name + ") has " + std::to_string(most));
  EXPECT_TRUE(device->synchronize().isOk());
}

/// ptxas from the toolkit, if this machine has one.
std::optional<std::string> findPtxas() {
  std::vector<std::string> candidates;
  if (const char *home = std::getenv("CUDA_HOME"))
    candidates.push_back(std::string(home) + "/bin/ptxas");
#ifdef MSA_CUDA_BIN_DIR
  candidates.push_back(std::string(MSA_CUDA_BIN_DIR) + "/ptxas");
#endif
  candidates.push_back("/usr/local/cuda/bin/ptxas");
  for (const std::string &c : candidates)
    if (access(c.c_str(), X_OK) == 0)
      return c;
  return std::nullopt;
}

/// kPtx assembled for `arch` by `ptxas`, or an empty string (with a test
/// failure) if that fails.
std::string assemble(const std::string &ptxas, const std::string &arch) {
  char dir[] = "/tmp/msa-ptxas-XXXXXX";
  if (!mkdtemp(dir)) {
    ADD_FAILURE() << "mkdtemp failed";
    return "";
  }
  const std::string in = std::string(dir) + "/k.ptx";
  const std::string out = std::string(dir) + "/k.cubin";
  std::ofstream(in) << kPtx;
  const std::string cmd = ptxas + " -arch=" + arch + " -o " + out + " " + in;
  int rc = std::system(cmd.c_str());
  EXPECT_EQ(rc, 0) << cmd;
  std::ifstream f(out, std::ios::binary);
  std::string cubin((std::istreambuf_iterator<char>(f)),
                    std::istreambuf_iterator<char>());
  std::remove(in.c_str());
  std::remove(out.c_str());
  rmdir(dir);
  EXPECT_FALSE(cubin.empty()) << cmd;
  return cubin;
}

TEST(CudaModule, CubinForThisChipLoadsWithoutJit) {
  MSA_CUDA_DEVICE_OR_SKIP(device);
  std::optional<std::string> ptxas = findPtxas();
  if (!ptxas)
    GTEST_SKIP() << "no ptxas to build a cubin with";
  std::mt19937_64 rng(testSeed());
  SCOPED_TRACE("MSA_TEST_SEED=" + std::to_string(testSeed()));
  std::string cubin = assemble(*ptxas, device->properties().chip());
  ASSERT_FALSE(cubin.empty());
  std::unique_ptr<Bundle> bundle =
      makeBundle(manifest(), {{artifact::kCudaCubinSection, cubin},
                              {artifact::kCudaPtxSection, kPtx}});
  ASSERT_TRUE(bundle);
  StatusOr<std::unique_ptr<CudaExecutable>> exe =
      loadExecutable(*device, *bundle);
  ASSERT_TRUE(exe.isOk()) << exe.status().message();
  EXPECT_FALSE((*exe)->usedPtxJit());
  checkAxpy(*device, **exe, 4099, rng);
}

TEST(CudaModule, CubinForAnotherChipFallsBackToPtx) {
  MSA_CUDA_DEVICE_OR_SKIP(device);
  std::optional<std::string> ptxas = findPtxas();
  if (!ptxas)
    GTEST_SKIP() << "no ptxas to build a cubin with";
  std::mt19937_64 rng(testSeed());
  SCOPED_TRACE("MSA_TEST_SEED=" + std::to_string(testSeed()));
  // Cubins run only on their own major architecture.
  const std::string other =
      device->properties().computeMajor == 9 ? "sm_100" : "sm_90";
  std::string cubin = assemble(*ptxas, other);
  ASSERT_FALSE(cubin.empty());
  std::unique_ptr<Bundle> bundle =
      makeBundle(manifest(), {{artifact::kCudaCubinSection, cubin},
                              {artifact::kCudaPtxSection, kPtx}});
  ASSERT_TRUE(bundle);
  StatusOr<std::unique_ptr<CudaExecutable>> exe =
      loadExecutable(*device, *bundle);
  ASSERT_TRUE(exe.isOk()) << exe.status().message();
  EXPECT_TRUE((*exe)->usedPtxJit());
  EXPECT_EQ((*exe)->module().cubinRejection(), "CUDA_ERROR_NO_BINARY_FOR_GPU");
  checkAxpy(*device, **exe, 1000, rng);
}

/// Looks like an ELF file to the driver, but is not a cubin.
std::string corruptCubin(std::mt19937_64 &rng) {
  std::vector<uint8_t> bytes = randomBytes(4096, rng);
  std::string cubin(bytes.begin(), bytes.end());
  cubin.replace(0, 4,
                "\x7f"
                "ELF");
  return cubin;
}

TEST(CudaModule, CorruptCubinFallsBackToPtx) {
  MSA_CUDA_DEVICE_OR_SKIP(device);
  std::mt19937_64 rng(testSeed());
  SCOPED_TRACE("MSA_TEST_SEED=" + std::to_string(testSeed()));
  std::unique_ptr<Bundle> bundle =
      makeBundle(manifest(), {{artifact::kCudaCubinSection, corruptCubin(rng)},
                              {artifact::kCudaPtxSection, kPtx}});
  ASSERT_TRUE(bundle);
  StatusOr<std::unique_ptr<CudaExecutable>> exe =
      loadExecutable(*device, *bundle);
  ASSERT_TRUE(exe.isOk()) << exe.status().message();
  EXPECT_TRUE((*exe)->usedPtxJit());
  EXPECT_EQ((*exe)->module().cubinRejection().rfind("CUDA_ERROR_", 0), 0u)
      << (*exe)->module().cubinRejection();
  std::printf("[ cubin    ] a corrupt cubin was rejected with %s\n",
              (*exe)->module().cubinRejection().c_str());
  checkAxpy(*device, **exe, 777, rng);
}

TEST(CudaModule, CorruptCubinWithoutPtxIsAnError) {
  MSA_CUDA_DEVICE_OR_SKIP(device);
  std::mt19937_64 rng(testSeed());
  std::unique_ptr<Bundle> bundle = makeBundle(
      manifest(), {{artifact::kCudaCubinSection, corruptCubin(rng)}});
  ASSERT_TRUE(bundle);
  StatusOr<std::unique_ptr<CudaExecutable>> exe =
      loadExecutable(*device, *bundle);
  ASSERT_FALSE(exe.isOk());
  const std::string &m = exe.status().message();
  EXPECT_EQ(m.rfind("test.msab: loading the cubin: CUDA_ERROR_", 0), 0u) << m;
  EXPECT_NE(m.find(" from cuModuleLoadData (runtime/src/cuda/CudaModule.cpp:"),
            std::string::npos)
      << m;
}

TEST(CudaModule, BadPtxReportsTheJitLog) {
  MSA_CUDA_DEVICE_OR_SKIP(device);
  std::string bad = kPtx;
  const std::string good = "fma.rn.f32 %f4, %f1, %f2, %f3;";
  size_t at = bad.find(good);
  ASSERT_NE(at, std::string::npos);
  bad.replace(at, good.size(), "fma.rn.f32 %f4, %f1, %f2, %q3;");
  const size_t line = std::count(bad.begin(), bad.begin() + at, '\n') + 1;

  std::unique_ptr<Bundle> bundle =
      makeBundle(manifest(), {{artifact::kCudaPtxSection, bad}});
  ASSERT_TRUE(bundle);
  StatusOr<std::unique_ptr<CudaExecutable>> exe =
      loadExecutable(*device, *bundle);
  ASSERT_FALSE(exe.isOk());
  std::string m = exe.status().message();
  EXPECT_EQ(exe.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(m.rfind("test.msab: compiling the PTX failed: "
                    "CUDA_ERROR_INVALID_PTX from cuModuleLoadDataEx "
                    "(runtime/src/cuda/CudaModule.cpp:",
                    0),
            0u)
      << m;
  EXPECT_NE(m.find("line " + std::to_string(line) + ";"), std::string::npos)
      << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  std::printf("[ jit log  ] %s\n", m.c_str());

  // With a corrupt cubin in front, the message says why that was refused.
  std::mt19937_64 rng(testSeed());
  bundle =
      makeBundle(manifest(), {{artifact::kCudaCubinSection, corruptCubin(rng)},
                              {artifact::kCudaPtxSection, bad}});
  ASSERT_TRUE(bundle);
  exe = loadExecutable(*device, *bundle);
  ASSERT_FALSE(exe.isOk());
  m = exe.status().message();
  EXPECT_EQ(m.rfind("test.msab: compiling the PTX failed (the cubin was "
                    "rejected with CUDA_ERROR_",
                    0),
            0u)
      << m;
}

TEST(CudaModule, MissingSymbolNamesTheKernel) {
  MSA_CUDA_DEVICE_OR_SKIP(device);
  std::unique_ptr<Bundle> bundle =
      makeBundle(manifest("msa_nope"), {{artifact::kCudaPtxSection, kPtx}});
  ASSERT_TRUE(bundle);
  StatusOr<std::unique_ptr<CudaExecutable>> exe =
      loadExecutable(*device, *bundle);
  ASSERT_FALSE(exe.isOk());
  EXPECT_EQ(exe.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(exe.status().message(), "test.msab: kernel 'axpy' (symbol "
                                    "msa_nope) is missing from the cuda "
                                    "module");
}

TEST(CudaModule, CpuBundleIsRefused) {
  MSA_CUDA_DEVICE_OR_SKIP(device);
  std::string cpu = manifest();
  const std::string target = R"({"name": "cuda", "chip": "sm_90"})";
  cpu.replace(cpu.find(target), target.size(),
              R"({"name": "cpu", "triple": "x86_64-unknown-linux-gnu",
                  "cpu": "x86-64"})");
  // A cpu kernel has no launch.
  for (size_t at = cpu.find(R"("launch")"); at != std::string::npos;
       at = cpu.find(R"("launch")")) {
    size_t comma = cpu.rfind(',', at);
    cpu.erase(comma, cpu.find('}', at) + 1 - comma);
  }
  std::unique_ptr<Bundle> bundle =
      makeBundle(cpu, {{artifact::kCpuObjectSection, "\x7f"
                                                     "ELF"}});
  ASSERT_TRUE(bundle);
  StatusOr<std::unique_ptr<CudaExecutable>> exe =
      loadExecutable(*device, *bundle);
  ASSERT_FALSE(exe.isOk());
  EXPECT_EQ(exe.status().message(),
            "test.msab: compiled for target 'cpu', not 'cuda'");
}

} // namespace
