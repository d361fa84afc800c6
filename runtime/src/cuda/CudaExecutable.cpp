//===- CudaExecutable.cpp - the kernels of a cuda bundle, loaded ----------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/cuda/CudaExecutable.h"

#include "msa/runtime/ArtifactFormat.h"

#include <string_view>

namespace msa::runtime {

namespace {

/// The dtype as Tensor::describe() spells it.
std::string spelling(DType t) {
  const char *mlir = mlirTypeName(t);
  return mlir ? mlir : dtypeName(t);
}

} // namespace

std::vector<void *> CudaLaunchParams::kernelParams() {
  std::vector<void *> params(fields.size());
  for (size_t i = 0; i < fields.size(); ++i)
    params[i] = &fields[i];
  return params;
}

StatusOr<CudaLaunchParams>
packCudaLaunch(const KernelSpec &k, const std::vector<const Tensor *> &args) {
  if (!k.launch)
    return internalError("kernel '" + k.name +
                         "' has no cuda launch (not a cuda kernel)");
  if (args.size() != k.args.size())
    return internalError("kernel '" + k.name + "' takes " +
                         std::to_string(k.args.size()) + " arguments, got " +
                         std::to_string(args.size()));
  CudaLaunchParams p;
  for (size_t i = 0; i < args.size(); ++i) {
    const Tensor &t = *args[i];
    const KernelArgSpec &spec = k.args[i];
    const std::string arg =
        "kernel '" + k.name + "' argument " + std::to_string(i);
    if (t.placement != Placement::kCuda)
      return internalError(arg + " is " + t.describe() +
                           " on the host, expected cuda memory");
    // A kernel reading bf16 from f32 memory would produce garbage without
    // any fault, so the dtype is checked too.
    if (t.dtype != spec.dtype)
      return internalError(arg + " is " + t.describe() + ", expected " +
                           spelling(spec.dtype));
    if (t.shape.size() != spec.shape.size())
      return internalError(arg + ": rank " + std::to_string(t.shape.size()) +
                           ", expected " + std::to_string(spec.shape.size()));
    for (size_t d = 0; d < t.shape.size(); ++d)
      if (spec.shape[d] && *spec.shape[d] != t.shape[d])
        return internalError(arg + " is " + t.describe() + ", dimension " +
                             std::to_string(d) + " must be " +
                             std::to_string(*spec.shape[d]));
    // MLIR's memref descriptor, field by field.
    const size_t rank = t.shape.size();
    const int64_t ptr =
        static_cast<int64_t>(reinterpret_cast<intptr_t>(t.data));
    p.fields.push_back(ptr); // allocated
    p.fields.push_back(ptr); // aligned
    p.fields.push_back(0);   // offset
    const size_t sizesAt = p.fields.size();
    p.fields.resize(sizesAt + 2 * rank);
    int64_t stride = 1;
    for (size_t d = rank; d-- > 0;) {
      p.fields[sizesAt + d] = t.shape[d];
      p.fields[sizesAt + rank + d] = stride;
      stride *= t.shape[d];
    }
  }

  int64_t items = 1;
  for (const GridTerm &g : k.grid) {
    if (g.arg < 0 || static_cast<size_t>(g.arg) >= args.size() || g.dim < 0 ||
        static_cast<size_t>(g.dim) >= args[g.arg]->shape.size())
      return internalError(
          "kernel '" + k.name + "': grid term [" + std::to_string(g.arg) +
          ", " + std::to_string(g.dim) + ", " + std::to_string(g.add) +
          "] names no argument dimension");
    items *= g.factor(args[g.arg]->shape[g.dim]);
  }
  const CudaLaunch &launch = *k.launch;
  if (launch.itemsPerBlock < 1)
    return internalError("kernel '" + k.name + "': items_per_block is " +
                         std::to_string(launch.itemsPerBlock));
  p.items = items;
  p.gridX = (p.items + launch.itemsPerBlock - 1) / launch.itemsPerBlock;
  p.blockX = launch.threads;
  p.sharedBytes = launch.sharedBytes;
  return p;
}

StatusOr<std::unique_ptr<CudaExecutable>>
CudaExecutable::load(const Bundle &bundle, CudaDevice &device) {
  MSA_RETURN_IF_ERROR(bundle.checkTarget("cuda"));
  auto text = [&](const char *section) -> std::string_view {
    std::optional<std::pair<const uint8_t *, size_t>> s =
        bundle.section(section);
    if (!s)
      return {};
    return std::string_view(reinterpret_cast<const char *>(s->first),
                            s->second);
  };
  std::string_view cubin = text(artifact::kCudaCubinSection);
  std::string_view ptx = text(artifact::kCudaPtxSection);
  if (cubin.empty() && ptx.empty())
    return dataLoss(bundle.path() + ": no " + artifact::kCudaCubinSection +
                    " or " + artifact::kCudaPtxSection + " section");

  std::unique_ptr<CudaExecutable> exe(new CudaExecutable());
  exe->bundle_ = &bundle;
  exe->device_ = &device;
  MSA_ASSIGN_OR_RETURN(exe->module_,
                       CudaModule::load(device, bundle.path(), cubin, ptx));
  for (const KernelSpec &k : bundle.kernels()) {
    StatusOr<CudaFunction *> fn = exe->module_->function(k.symbol);
    if (fn.status().code() == StatusCode::kNotFound)
      return dataLoss(bundle.path() + ": kernel '" + k.name + "' (symbol " +
                      k.symbol + ") is missing from the cuda module");
    if (!fn.isOk())
      return fn.status();
    exe->functions_.push_back(*fn);
  }
  return exe;
}

Status CudaExecutable::launch(size_t kernelIndex,
                              const std::vector<const Tensor *> &args) const {
  const std::vector<KernelSpec> &kernels = bundle_->kernels();
  if (kernelIndex >= kernels.size())
    return internalError("kernel index " + std::to_string(kernelIndex) +
                         " is out of range: " + bundle_->path() + " has " +
                         std::to_string(kernels.size()) + " kernels");
  MSA_ASSIGN_OR_RETURN(CudaLaunchParams p,
                       packCudaLaunch(kernels[kernelIndex], args));
  if (p.gridX == 0)
    return Status::ok();
  std::vector<void *> params = p.kernelParams();
  return module_->launch(*functions_[kernelIndex], p.gridX, p.blockX,
                         p.sharedBytes, params.data());
}

} // namespace msa::runtime
