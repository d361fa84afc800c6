//===- Bundle.h - reading and writing .msab bundles -------------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A bundle is what msa-compile hands to the runtime: the model config, the
// kernels' machine code and one execution plan per entry function (layout in
// ArtifactFormat.h, schema and plan rules in docs/bundle-format.md). Bundles
// come from other machines and other builds, so Bundle::open checks the
// container, the checksum, the manifest schema and every plan rule before it
// returns; code that executes a plan may then index buffers and kernels
// without checking again. BundleWriter is the one place that lays out the
// container, for msa-compile and for tests.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_BUNDLE_H
#define MSA_RUNTIME_BUNDLE_H

#include "msa/runtime/DType.h"
#include "msa/runtime/Json.h"
#include "msa/runtime/ModelConfig.h"
#include "msa/runtime/Status.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace msa::runtime {

class MappedFile;

/// One argument of a kernel as the manifest declares it.
struct KernelArgSpec {
  DType dtype = DType::kF32;
  /// A static size per dimension, or nullopt where the size is dynamic.
  std::vector<std::optional<int64_t>> shape;
};

/// One factor of a launch's work-item count:
/// ceil((args[arg].shape[dim] + add) / div).
struct GridTerm {
  int64_t arg = 0;
  int64_t dim = 0;
  int64_t add = 0;
  int64_t div = 1;

  /// The factor for a dimension of `size`; 0 when size + add <= 0.
  int64_t factor(int64_t size) const {
    int64_t n = size + add;
    return n <= 0 ? 0 : (n + div - 1) / div;
  }
};

/// How a cuda kernel is launched (ArtifactFormat.h, CUDA kernel ABI).
struct CudaLaunch {
  int64_t threads = 0;
  int64_t itemsPerBlock = 1;
  int64_t sharedBytes = 0;
};

/// A kernel of the bundle: its exported symbol and signature.
struct KernelSpec {
  std::string name;
  std::string symbol;
  std::string op; ///< The msa op it implements ("msa.rms_norm").
  /// Operands, then results.
  std::vector<KernelArgSpec> args;
  /// How many trailing entries of args are results (manifest "results",
  /// 1 when absent); the rest are operands.
  size_t numResults = 1;
  /// Work items are the product of the terms; no terms means one item.
  std::vector<GridTerm> grid;
  /// Free-form tuning parameters (null when absent).
  JsonValue config;
  /// The launch of a cuda kernel; nullopt in cpu bundles.
  std::optional<CudaLaunch> launch;
};

/// One dimension of a plan buffer: a static size or a symbol bound per call.
/// A buffer dimension: an integer, or a symbol plus a constant
/// (manifest `"T"` or `["S", -1]`).
struct PlanDim {
  int64_t value = 0; ///< The integer, or the constant added to the symbol.
  std::string symbol;
  bool isSymbol() const { return !symbol.empty(); }
};

/// A buffer of an execution plan.
struct PlanBuffer {
  int64_t id = 0;
  DType dtype = DType::kF32;
  std::vector<PlanDim> shape;
  /// The checkpoint tensor that fills this buffer; empty unless a weight.
  std::string weight;
  bool isWeight() const { return !weight.empty(); }
};

/// One step of an execution plan. Only the fields of its kind are set.
struct PlanStep {
  enum class Kind { kLaunch, kGemm, kView, kSlice };
  Kind kind = Kind::kLaunch;
  size_t kernel = 0;         ///< kLaunch: index into Bundle::kernels().
  std::vector<int64_t> args; ///< kLaunch: buffer ids, operands then results.
  int64_t a = -1, b = -1, c = -1; ///< kGemm: c = a bᵀ.
  int64_t src = -1, dst = -1;     ///< kView, kSlice: dst aliases src.
  PlanDim offset;                 ///< kSlice: first row of src in dst.
};

/// The execution plan of one entry function.
struct PlanEntry {
  std::string name;
  /// Symbols that buffer shapes may use, bound when the entry is called.
  std::vector<std::string> symbols;
  /// (name, buffer id) pairs in the manifest's order.
  std::vector<std::pair<std::string, int64_t>> inputs;
  std::vector<std::pair<std::string, int64_t>> outputs;
  std::map<int64_t, PlanBuffer> buffers;
  std::vector<PlanStep> steps;
};

/// What the kernels were compiled for.
struct TargetSpec {
  std::string name; ///< "cpu" or "cuda".
  std::string triple;
  std::string cpu;
  std::string chip; ///< cuda only ("sm_90").
  /// "cpu" or "cuda:<chip>", the form Bundle::checkTarget compares.
  std::string toString() const;
};

/// A validated, read-only bundle. Section payloads point into the mapped
/// file and live as long as the Bundle.
class Bundle {
public:
  /// Maps `path` and validates the container, the checksum, the manifest
  /// and every plan. Errors are one line starting with `path`.
  static StatusOr<std::unique_ptr<Bundle>> open(const std::string &path);
  /// As open() on bytes in memory; `name` stands for the path in errors.
  static StatusOr<std::unique_ptr<Bundle>> fromBytes(std::vector<uint8_t> bytes,
                                                     const std::string &name);

  ~Bundle();
  Bundle(const Bundle &) = delete;
  Bundle &operator=(const Bundle &) = delete;

  const std::string &path() const { return path_; }
  uint32_t abiVersion() const { return abiVersion_; }
  const TargetSpec &target() const { return target_; }
  /// The whole manifest as stored.
  const JsonValue &manifest() const { return manifest_; }
  /// The model config, or nullopt for bundles compiled from hand-written IR.
  const std::optional<ModelConfig> &model() const { return model_; }
  const std::vector<KernelSpec> &kernels() const { return kernels_; }
  const std::map<std::string, PlanEntry> &entries() const { return entries_; }
  /// The entry called `name`, or nullptr.
  const PlanEntry *entry(const std::string &name) const;

  /// The payload of section `name` (pointer, size), or nullopt.
  std::optional<std::pair<const uint8_t *, size_t>>
  section(const std::string &name) const;
  /// Section names in table order.
  std::vector<std::string> sectionNames() const;

  /// Fails unless the bundle was compiled for `wanted`: "cpu", "cuda" (any
  /// chip) or "cuda:<chip>".
  Status checkTarget(const std::string &wanted) const;

private:
  struct Section {
    std::string name;
    uint64_t offset = 0;
    uint64_t size = 0;
  };

  Bundle() = default;
  static StatusOr<std::unique_ptr<Bundle>> validate(std::unique_ptr<Bundle>);
  Status parseContainer();
  Status parseManifest();
  Status checkSections() const;

  std::string path_;
  std::unique_ptr<MappedFile> file_; ///< Backs data_ after open().
  std::vector<uint8_t> bytes_;       ///< Backs data_ after fromBytes().
  const uint8_t *data_ = nullptr;
  size_t size_ = 0;

  uint32_t abiVersion_ = 0;
  uint64_t manifestOffset_ = 0;
  uint64_t manifestSize_ = 0;
  std::vector<Section> sections_;

  JsonValue manifest_;
  TargetSpec target_;
  std::optional<ModelConfig> model_;
  std::vector<KernelSpec> kernels_;
  std::map<std::string, PlanEntry> entries_;
};

/// Lays out a bundle: header, manifest, section table and page-aligned
/// payloads, with the checksum. The manifest schema is the reader's to
/// check; the writer only stamps "format" and "abi_version".
class BundleWriter {
public:
  /// The manifest to store; must be a JSON object when serialized.
  void setManifest(JsonValue manifest) { manifest_ = std::move(manifest); }
  /// Adds a payload. Names are 1 to 47 bytes without NUL and unique.
  Status addSection(const std::string &name, std::vector<uint8_t> bytes);
  /// The bundle's bytes.
  StatusOr<std::vector<uint8_t>> serialize() const;
  /// Serializes and replaces `path` atomically.
  Status write(const std::string &path) const;

private:
  JsonValue manifest_ = JsonValue::object();
  std::vector<std::pair<std::string, std::vector<uint8_t>>> sections_;
};

} // namespace msa::runtime

#endif // MSA_RUNTIME_BUNDLE_H
