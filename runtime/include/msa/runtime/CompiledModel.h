//===- CompiledModel.h - run a bundle's plans -------------------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The plan interpreter of design.md §5: binds an entry's symbols from its
// inputs, sizes every buffer, runs the steps (kernel launches and GEMMs on
// the bundle's target device, views and slices that alias memory) and
// frees each buffer after its last use. On the cpu, weights come from the
// checkpoint's mapped files without copies; on cuda they are uploaded once.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_COMPILEDMODEL_H
#define MSA_RUNTIME_COMPILEDMODEL_H

#include "msa/runtime/Bundle.h"
#include "msa/runtime/Checkpoint.h"
#include "msa/runtime/PlanDevice.h"
#include "msa/runtime/Tensor.h"
#include "msa/runtime/ThreadPool.h"

#include <map>
#include <memory>
#include <string>

namespace msa::runtime {

/// Wall time by step kind of the last runs (msa-run bench reports it).
struct PlanTimings {
  double launchSeconds = 0, gemmSeconds = 0;
  int64_t launches = 0, gemms = 0;
  /// Kernel time by op ("msa.route_topk").
  std::map<std::string, double> byOp;
};

class CompiledModel {
public:
  using TensorMap = std::map<std::string, Tensor>;

  /// Opens and validates `bundlePath`, checks it was compiled for
  /// `checkpoint`'s model, loads its kernels on the device of its target
  /// (cpu: `pool`; cuda: device 0) and every weight its plans name.
  /// `checkpoint` and `pool` must outlive the model.
  static StatusOr<std::unique_ptr<CompiledModel>>
  open(const std::string &bundlePath, const Checkpoint &checkpoint,
       ThreadPool &pool, bool builtinGemm = false);

  /// Opens a bundle compiled from hand-written IR: no model, no weights
  /// (a plan that names a weight is an error).
  static StatusOr<std::unique_ptr<CompiledModel>>
  openWithoutModel(const std::string &bundlePath, ThreadPool &pool);

  /// Runs entry `name`. Inputs are matched by name and must have the
  /// plan's dtypes and dimensions, on the host or already on the device;
  /// `symbols` binds sizes no input carries (the chunk count "C" of
  /// encode_block). Returns the named outputs on the host.
  StatusOr<TensorMap> run(const std::string &name, const TensorMap &inputs,
                          const std::map<std::string, int64_t> &symbols = {});
  /// As run, but the outputs stay where the plan left them (device memory
  /// on cuda): for what the next run reads again, such as KV caches.
  StatusOr<TensorMap>
  runOnDevice(const std::string &name, const TensorMap &inputs,
              const std::map<std::string, int64_t> &symbols = {});

  const Bundle &bundle() const { return *bundle_; }
  PlanDevice &device() { return *device_; }
  PlanTimings &timings() { return timings_; }
  /// Waits for each step before timing the next, so timings().byOp is
  /// per kernel on devices that queue work (cuda); slower.
  void setProfiling(bool on) { profiling_ = on; }

private:
  CompiledModel() = default;
  StatusOr<TensorMap> runPlan(const std::string &name, const TensorMap &inputs,
                              const std::map<std::string, int64_t> &symbols,
                              bool outputsToHost);
  static StatusOr<std::unique_ptr<PlanDevice>>
  openDevice(const Bundle &bundle, ThreadPool &pool, bool builtinGemm);
  /// The buffers each step of `entry` is the last to read (and so frees):
  /// worked out once per entry when the bundle opens.
  static std::vector<std::vector<int64_t>> releasesOf(const PlanEntry &entry);

  std::unique_ptr<Bundle> bundle_;
  std::unique_ptr<PlanDevice> device_;
  std::map<std::string, Tensor> weights_;
  PlanTimings timings_;
  bool profiling_ = false;
  std::map<const PlanEntry *, std::vector<std::vector<int64_t>>> releases_;
};

} // namespace msa::runtime

#endif // MSA_RUNTIME_COMPILEDMODEL_H
