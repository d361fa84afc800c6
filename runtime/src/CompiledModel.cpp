//===- CompiledModel.cpp - run a bundle's plans ---------------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/CompiledModel.h"

#include <chrono>
#include <set>
#include <unordered_map>

namespace msa::runtime {

namespace {

std::string shapeString(const std::vector<int64_t> &s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i)
    r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

/// The first config.json key whose value differs, for the mismatch error.
std::string firstDifference(const JsonValue &a, const JsonValue &b,
                            const std::string &prefix = "") {
  for (const JsonValue::Member &m : a.members()) {
    const JsonValue *other = b.find(m.first);
    if (!other)
      return prefix + m.first;
    if (m.second.isObject() && other->isObject()) {
      std::string inner = firstDifference(m.second, *other, prefix + m.first + ".");
      if (!inner.empty())
        return inner;
    } else if (m.second.dump() != other->dump()) {
      return prefix + m.first + " (" + m.second.dump() + " in the bundle, " +
             other->dump() + " in the checkpoint)";
    }
  }
  return "";
}

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

} // namespace

StatusOr<std::unique_ptr<PlanDevice>>
CompiledModel::openDevice(const Bundle &bundle, ThreadPool &pool,
                          bool builtinGemm) {
  if (bundle.target().name == "cuda")
    return makeCudaPlanDevice(bundle);
  return makeCpuPlanDevice(bundle, pool, builtinGemm);
}

StatusOr<std::unique_ptr<CompiledModel>>
CompiledModel::open(const std::string &bundlePath, const Checkpoint &checkpoint,
                    ThreadPool &pool, bool builtinGemm) {
  std::unique_ptr<CompiledModel> m(new CompiledModel());
  MSA_ASSIGN_OR_RETURN(m->bundle_, Bundle::open(bundlePath));
  const std::optional<ModelConfig> &model = m->bundle_->model();
  if (!model)
    return failedPrecondition(bundlePath +
                              ": compiled from hand-written IR, not a model");
  std::string diff =
      firstDifference(model->toJson(), checkpoint.config().toJson());
  if (!diff.empty())
    return failedPrecondition(bundlePath + ": compiled for another model than " +
                              checkpoint.dir() + ": config key " + diff);
  MSA_ASSIGN_OR_RETURN(m->device_, openDevice(*m->bundle_, pool, builtinGemm));
  for (const auto &[name, entry] : m->bundle_->entries())
    for (const auto &[id, buffer] : entry.buffers) {
      if (!buffer.isWeight() || m->weights_.count(buffer.weight))
        continue;
      std::vector<int64_t> shape;
      for (const PlanDim &d : buffer.shape)
        shape.push_back(d.value);
      MSA_ASSIGN_OR_RETURN(Tensor t, checkpoint.view(buffer.weight, shape));
      if (t.dtype != buffer.dtype) {
        // The checkpoint stores another float type than the plan computes
        // in: convert once.
        if (!(t.dtype == DType::kBF16 || t.dtype == DType::kF16 ||
              t.dtype == DType::kF32))
          return invalidArgument(checkpoint.dir() + ": tensor '" +
                                 buffer.weight + "' has dtype " +
                                 dtypeName(t.dtype) +
                                 ", expected a floating-point dtype");
        t = fromF32(toF32(t), buffer.dtype, t.shape);
      }
      MSA_ASSIGN_OR_RETURN(m->weights_[buffer.weight], m->device_->place(t));
    }
  for (const auto &[name, entry] : m->bundle_->entries())
    m->releases_[&entry] = releasesOf(entry);
  return m;
}

StatusOr<std::unique_ptr<CompiledModel>>
CompiledModel::openWithoutModel(const std::string &bundlePath,
                                ThreadPool &pool) {
  std::unique_ptr<CompiledModel> m(new CompiledModel());
  MSA_ASSIGN_OR_RETURN(m->bundle_, Bundle::open(bundlePath));
  for (const auto &[name, entry] : m->bundle_->entries())
    for (const auto &[id, buffer] : entry.buffers)
      if (buffer.isWeight())
        return failedPrecondition(bundlePath + ": entry '" + name +
                                  "' reads weight '" + buffer.weight +
                                  "'; open it with its checkpoint");
  MSA_ASSIGN_OR_RETURN(m->device_, openDevice(*m->bundle_, pool, false));
  for (const auto &[name, entry] : m->bundle_->entries())
    m->releases_[&entry] = releasesOf(entry);
  return m;
}

StatusOr<CompiledModel::TensorMap>
CompiledModel::run(const std::string &name, const TensorMap &inputs,
                   const std::map<std::string, int64_t> &symbols) {
  return runPlan(name, inputs, symbols, /*outputsToHost=*/true);
}

StatusOr<CompiledModel::TensorMap>
CompiledModel::runOnDevice(const std::string &name, const TensorMap &inputs,
                           const std::map<std::string, int64_t> &symbols) {
  return runPlan(name, inputs, symbols, /*outputsToHost=*/false);
}

std::vector<std::vector<int64_t>>
CompiledModel::releasesOf(const PlanEntry &entry) {
  // Last step reading each buffer; outputs live to the end, weights
  // always. Worked out once per entry, so a run's steps cost their own
  // buffers, not a walk over every live one (a 36-layer model's weights
  // are hundreds).
  std::map<int64_t, size_t> lastUse;
  for (size_t i = 0; i < entry.steps.size(); ++i) {
    const PlanStep &s = entry.steps[i];
    for (int64_t id : s.args)
      lastUse[id] = i;
    for (int64_t id : {s.a, s.b, s.c, s.src, s.dst})
      if (id >= 0)
        lastUse[id] = i;
  }
  std::set<int64_t> outputs;
  for (const auto &[n, id] : entry.outputs)
    outputs.insert(id);
  std::vector<std::vector<int64_t>> freeAfter(entry.steps.size());
  for (const auto &[id, step] : lastUse)
    if (!outputs.count(id) && !entry.buffers.at(id).isWeight())
      freeAfter[step].push_back(id);
  return freeAfter;
}

StatusOr<CompiledModel::TensorMap>
CompiledModel::runPlan(const std::string &name, const TensorMap &inputs,
                       const std::map<std::string, int64_t> &symbols,
                       bool outputsToHost) {
  const PlanEntry *entry = bundle_->entry(name);
  if (!entry)
    return notFound(bundle_->path() + ": no entry '" + name + "'");
  const std::string where = bundle_->path() + ": " + name;

  // Bind symbols from the inputs' dimensions, then from the caller.
  std::map<std::string, int64_t> bound = symbols;
  for (const auto &[inputName, id] : entry->inputs) {
    auto it = inputs.find(inputName);
    if (it == inputs.end())
      return invalidArgument(where + ": input '" + inputName + "' is missing");
    const Tensor &t = it->second;
    const PlanBuffer &b = entry->buffers.at(id);
    if (t.dtype != b.dtype)
      return invalidArgument(where + ": input '" + inputName + "' is " +
                             t.describe() + ", expected dtype " +
                             mlirTypeName(b.dtype));
    if (t.shape.size() != b.shape.size())
      return invalidArgument(where + ": input '" + inputName + "' is " +
                             t.describe() + ", expected rank " +
                             std::to_string(b.shape.size()));
    for (size_t d = 0; d < b.shape.size(); ++d) {
      const PlanDim &pd = b.shape[d];
      int64_t want = pd.isSymbol() ? t.shape[d] - pd.value : pd.value;
      if (!pd.isSymbol()) {
        if (t.shape[d] != pd.value)
          return invalidArgument(where + ": input '" + inputName + "' is " +
                                 t.describe() + ", dimension " +
                                 std::to_string(d) + " must be " +
                                 std::to_string(pd.value));
        continue;
      }
      auto [slot, fresh] = bound.emplace(pd.symbol, want);
      if (!fresh && slot->second != want)
        return invalidArgument(where + ": input '" + inputName + "' gives " +
                               pd.symbol + " = " + std::to_string(want) +
                               ", but another input or the caller gave " +
                               std::to_string(slot->second));
    }
  }
  for (const std::string &s : entry->symbols)
    if (!bound.count(s))
      return invalidArgument(where + ": size '" + s +
                             "' is not bound by any input; pass it");

  auto concrete = [&](const PlanBuffer &b) {
    std::vector<int64_t> shape;
    for (const PlanDim &d : b.shape)
      shape.push_back(d.isSymbol() ? bound[d.symbol] + d.value : d.value);
    return shape;
  };
  auto dimOf = [&](const PlanDim &d) {
    return d.isSymbol() ? bound[d.symbol] + d.value : d.value;
  };

  const std::vector<std::vector<int64_t>> &freeAfter = releases_.at(entry);

  std::unordered_map<int64_t, Tensor> live;
  live.reserve(entry->buffers.size());
  for (const auto &[inputName, id] : entry->inputs) {
    StatusOr<Tensor> placed = device_->place(inputs.at(inputName));
    if (!placed.isOk())
      return placed.status().withContext(where + ": input '" + inputName +
                                         "'");
    live[id] = std::move(placed).value();
  }
  // Weights are read where they are, not copied into `live` per run.
  auto get = [&](int64_t id) -> StatusOr<Tensor *> {
    auto it = live.find(id);
    if (it != live.end())
      return &it->second;
    auto b = entry->buffers.find(id);
    if (b != entry->buffers.end() && b->second.isWeight())
      return &weights_.at(b->second.weight);
    return internalError(where + ": buffer " + std::to_string(id) +
                         " is read before it is written");
  };
  auto produce = [&](int64_t id) -> StatusOr<Tensor *> {
    const PlanBuffer &b = entry->buffers.at(id);
    MSA_ASSIGN_OR_RETURN(live[id], device_->allocate(b.dtype, concrete(b)));
    return &live[id];
  };
  // A launch or GEMM, and its seconds: profiled, PlanDevice::timed (events
  // on a GPU: queueing and running, not the host's wait); otherwise the
  // host's time to queue it (the entry is timed as a whole at its end).
  // Generic, so an unprofiled step (every decode step's launches) makes
  // no std::function.
  auto run = [&](auto &&work, double &seconds) -> Status {
    if (profiling_) {
      StatusOr<double> t = device_->timed(std::function<Status()>(work));
      if (t.isOk())
        seconds = *t;
      return t.isOk() ? Status::ok() : t.status();
    }
    auto t0 = std::chrono::steady_clock::now();
    Status st = work();
    seconds = since(t0);
    return st;
  };

  for (size_t i = 0; i < entry->steps.size(); ++i) {
    const PlanStep &s = entry->steps[i];
    switch (s.kind) {
    case PlanStep::Kind::kLaunch: {
      const KernelSpec &k = bundle_->kernels()[s.kernel];
      size_t numOperands = s.args.size() - k.numResults;
      std::vector<const Tensor *> args;
      for (size_t a = 0; a < s.args.size(); ++a) {
        if (a < numOperands) {
          MSA_ASSIGN_OR_RETURN(Tensor * t, get(s.args[a]));
          args.push_back(t);
        } else {
          MSA_ASSIGN_OR_RETURN(Tensor * t, produce(s.args[a]));
          args.push_back(t);
        }
      }
      double dt = 0;
      Status st = run([&] { return device_->launch(s.kernel, args); }, dt);
      timings_.launchSeconds += dt;
      timings_.byOp[k.op] += dt;
      ++timings_.launches;
      if (!st.isOk())
        return st.withContext(where + " step " + std::to_string(i));
      break;
    }
    case PlanStep::Kind::kGemm: {
      MSA_ASSIGN_OR_RETURN(Tensor * a, get(s.a));
      MSA_ASSIGN_OR_RETURN(Tensor * b, get(s.b));
      MSA_ASSIGN_OR_RETURN(Tensor * c, produce(s.c));
      bool weight = entry->buffers.at(s.b).isWeight();
      double dt = 0;
      Status st =
          run([&] { return device_->gemm(*a, *b, *c, weight); }, dt);
      timings_.gemmSeconds += dt;
      ++timings_.gemms;
      if (!st.isOk())
        return st.withContext(where + " step " + std::to_string(i));
      break;
    }
    case PlanStep::Kind::kView: {
      MSA_ASSIGN_OR_RETURN(Tensor * src, get(s.src));
      std::vector<int64_t> shape = concrete(entry->buffers.at(s.dst));
      Tensor v = *src;
      v.shape = shape;
      if (v.numel() != src->numel())
        return invalidArgument(where + " step " + std::to_string(i) +
                               ": view of " + src->describe() + " as " +
                               shapeString(shape) +
                               " changes the element count");
      live[s.dst] = std::move(v);
      break;
    }
    case PlanStep::Kind::kSlice: {
      MSA_ASSIGN_OR_RETURN(Tensor * src, get(s.src));
      std::vector<int64_t> shape = concrete(entry->buffers.at(s.dst));
      int64_t offset = dimOf(s.offset);
      if (offset < 0 || shape.empty() || offset + shape[0] > src->shape[0])
        return invalidArgument(where + " step " + std::to_string(i) +
                               ": rows [" + std::to_string(offset) + ", " +
                               std::to_string(offset + shape[0]) + ") of " +
                               src->describe() + " are out of range");
      live[s.dst] = src->rows(offset, shape[0]);
      break;
    }
    }
    // Free what no later step reads (views keep their memory alive).
    for (int64_t id : freeAfter[i])
      live.erase(id);
  }

  TensorMap result;
  for (const auto &[outName, id] : entry->outputs) {
    MSA_ASSIGN_OR_RETURN(Tensor * t, get(id));
    if (!outputsToHost) {
      result[outName] = *t;
      continue;
    }
    StatusOr<Tensor> host = device_->toHost(*t);
    if (!host.isOk())
      return host.status().withContext(where);
    result[outName] = std::move(host).value();
  }
  return result;
}

} // namespace msa::runtime
