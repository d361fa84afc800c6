//===- CudaExecutableTest.cpp - cuda launch parameters and grids ----------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// packCudaLaunch without a GPU: the flattened memref descriptors of the CUDA
// kernel ABI (ArtifactFormat.h) for ranks 0 to 3, the grid sizes, and the
// argument checks with CpuExecutable's messages. Tensors here are cuda
// tensors with made-up device addresses; nothing dereferences them.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/cuda/CudaExecutable.h"

#include <gtest/gtest.h>

using namespace msa::runtime;

namespace {

Tensor deviceTensor(DType dtype, std::vector<int64_t> shape, uintptr_t addr) {
  Tensor t =
      Tensor::view(dtype, std::move(shape), reinterpret_cast<void *>(addr));
  t.placement = Placement::kCuda;
  return t;
}

KernelArgSpec arg(DType dtype, std::vector<std::optional<int64_t>> shape) {
  KernelArgSpec a;
  a.dtype = dtype;
  a.shape = std::move(shape);
  return a;
}

KernelSpec kernel(std::vector<KernelArgSpec> args, std::vector<GridTerm> grid,
                  CudaLaunch launch) {
  KernelSpec k;
  k.name = "k";
  k.symbol = "k_entry";
  k.args = std::move(args);
  k.grid = std::move(grid);
  k.launch = launch;
  return k;
}

constexpr std::nullopt_t kDyn = std::nullopt;
constexpr uintptr_t kAddrA = 0x7f0000000000, kAddrB = 0x7f0000100000,
                    kAddrC = 0x7f0000200000;

TEST(CudaLaunchPacking, RankOneDescriptorsAndPartialLastBlock) {
  KernelSpec k = kernel({arg(DType::kF32, {kDyn}), arg(DType::kF32, {kDyn})},
                        {{0, 0, 0}}, {128, 128, 0});
  Tensor x = deviceTensor(DType::kF32, {1000}, kAddrA);
  Tensor y = deviceTensor(DType::kF32, {1000}, kAddrB);
  StatusOr<CudaLaunchParams> p = packCudaLaunch(k, {&x, &y});
  ASSERT_TRUE(p.isOk()) << p.status().message();
  const int64_t a = kAddrA, b = kAddrB;
  EXPECT_EQ(p->fields,
            (std::vector<int64_t>{a, a, 0, 1000, 1, b, b, 0, 1000, 1}));
  EXPECT_EQ(p->items, 1000);
  EXPECT_EQ(p->gridX, 8); // 7 full blocks and one of 104 items.
  EXPECT_EQ(p->blockX, 128);
  EXPECT_EQ(p->sharedBytes, 0);

  std::vector<void *> params = p->kernelParams();
  ASSERT_EQ(params.size(), p->fields.size());
  for (size_t i = 0; i < params.size(); ++i)
    EXPECT_EQ(params[i], &p->fields[i]);
}

TEST(CudaLaunchPacking, RanksZeroToThreeWithStaticAndDynamicDims) {
  KernelSpec k = kernel({arg(DType::kBF16, {2, kDyn, 64}), arg(DType::kF32, {}),
                         arg(DType::kI32, {kDyn, 3})},
                        {{0, 0, 0}, {0, 1, 0}}, {256, 4, 65536});
  Tensor q = deviceTensor(DType::kBF16, {2, 37, 64}, kAddrA);
  Tensor s = deviceTensor(DType::kF32, {}, kAddrB);
  Tensor o = deviceTensor(DType::kI32, {5, 3}, kAddrC);
  StatusOr<CudaLaunchParams> p = packCudaLaunch(k, {&q, &s, &o});
  ASSERT_TRUE(p.isOk()) << p.status().message();
  const int64_t a = kAddrA, b = kAddrB, c = kAddrC;
  EXPECT_EQ(p->fields,
            (std::vector<int64_t>{a, a, 0, 2, 37, 64, 37 * 64, 64, 1, // rank 3
                                  b, b, 0,                            // rank 0
                                  c, c, 0, 5, 3, 3, 1}));             // rank 2
  EXPECT_EQ(p->items, 74);
  EXPECT_EQ(p->gridX, 19); // ceil(74 / 4)
  EXPECT_EQ(p->blockX, 256);
  EXPECT_EQ(p->sharedBytes, 65536);
}

TEST(CudaLaunchPacking, GridTermsAddAndMultiply) {
  KernelSpec k =
      kernel({arg(DType::kF32, {kDyn, kDyn})}, {{0, 1, -1}}, {32, 1, 0});
  Tensor t = deviceTensor(DType::kF32, {3, 1002}, kAddrA);
  StatusOr<CudaLaunchParams> p = packCudaLaunch(k, {&t});
  ASSERT_TRUE(p.isOk()) << p.status().message();
  EXPECT_EQ(p->items, 1001);
  EXPECT_EQ(p->gridX, 1001);

  k.launch->itemsPerBlock = 4;
  p = packCudaLaunch(k, {&t});
  ASSERT_TRUE(p.isOk());
  EXPECT_EQ(p->gridX, 251); // 1001 is not a multiple of 4.

  // A divisor rounds its factor up: ceil(1001 / 8) items.
  k.grid = {{0, 1, -1, 8}};
  p = packCudaLaunch(k, {&t});
  ASSERT_TRUE(p.isOk());
  EXPECT_EQ(p->items, 126);
  EXPECT_EQ(p->gridX, 32);

  // No terms: one item, one block.
  k.grid.clear();
  p = packCudaLaunch(k, {&t});
  ASSERT_TRUE(p.isOk());
  EXPECT_EQ(p->items, 1);
  EXPECT_EQ(p->gridX, 1);
}

TEST(CudaLaunchPacking, EmptyGridLaunchesNothing) {
  KernelSpec k = kernel({arg(DType::kF32, {kDyn, 8})}, {{0, 0, 0}, {0, 1, 0}},
                        {128, 16, 0});
  Tensor empty = deviceTensor(DType::kF32, {0, 8}, kAddrA);
  StatusOr<CudaLaunchParams> p = packCudaLaunch(k, {&empty});
  ASSERT_TRUE(p.isOk()) << p.status().message();
  EXPECT_EQ(p->items, 0);
  EXPECT_EQ(p->gridX, 0);
  // The descriptor is still complete.
  EXPECT_EQ(p->fields.size(), 7u);

  // A term that goes negative counts as no items.
  k.grid = {{0, 0, -1}};
  p = packCudaLaunch(k, {&empty});
  ASSERT_TRUE(p.isOk());
  EXPECT_EQ(p->items, 0);
  EXPECT_EQ(p->gridX, 0);
}

std::string packError(const KernelSpec &k,
                      const std::vector<const Tensor *> &args) {
  StatusOr<CudaLaunchParams> p = packCudaLaunch(k, args);
  EXPECT_FALSE(p.isOk());
  if (p.isOk())
    return "ok";
  EXPECT_EQ(p.status().code(), StatusCode::kInternal);
  return p.status().message();
}

TEST(CudaLaunchPacking, ArgumentMismatchesAreErrors) {
  KernelSpec k = kernel({arg(DType::kBF16, {kDyn, 64}), arg(DType::kF32, {4})},
                        {{0, 0, 0}}, {128, 1, 0});
  Tensor good0 = deviceTensor(DType::kBF16, {3, 64}, kAddrA);
  Tensor good1 = deviceTensor(DType::kF32, {4}, kAddrB);
  ASSERT_TRUE(packCudaLaunch(k, {&good0, &good1}).isOk());

  EXPECT_EQ(packError(k, {&good0}), "kernel 'k' takes 2 arguments, got 1");

  Tensor rank = deviceTensor(DType::kBF16, {3, 64, 1}, kAddrA);
  EXPECT_EQ(packError(k, {&rank, &good1}),
            "kernel 'k' argument 0: rank 3, expected 2");

  Tensor dim = deviceTensor(DType::kBF16, {3, 65}, kAddrA);
  EXPECT_EQ(packError(k, {&dim, &good1}),
            "kernel 'k' argument 0 is bf16[3, 65], dimension 1 must be 64");
  Tensor dim1 = deviceTensor(DType::kF32, {5}, kAddrB);
  EXPECT_EQ(packError(k, {&good0, &dim1}),
            "kernel 'k' argument 1 is f32[5], dimension 0 must be 4");

  Tensor dtype = deviceTensor(DType::kF32, {3, 64}, kAddrA);
  EXPECT_EQ(packError(k, {&dtype, &good1}),
            "kernel 'k' argument 0 is f32[3, 64], expected bf16");

  Tensor host = Tensor::allocate(DType::kF32, {4});
  EXPECT_EQ(packError(k, {&good0, &host}),
            "kernel 'k' argument 1 is f32[4] on the host, expected cuda "
            "memory");

  KernelSpec cpu = k;
  cpu.launch.reset();
  EXPECT_EQ(packError(cpu, {&good0, &good1}),
            "kernel 'k' has no cuda launch (not a cuda kernel)");

  KernelSpec badGrid = k;
  badGrid.grid = {{1, 1, 0}};
  EXPECT_EQ(packError(badGrid, {&good0, &good1}),
            "kernel 'k': grid term [1, 1, 0] names no argument dimension");
}

} // namespace
