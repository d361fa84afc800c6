//===- Bundle.cpp - reading and writing .msab bundles ---------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The reader checks in the order that gives the most useful message: magic
// and ABI version first (a file of another format or version says so rather
// than "corrupted"), then the size and the checksum (damage is reported as
// damage, not as whatever field it happened to hit), then the header's
// ranges, the section table, the manifest schema and the plans. Every
// manifest error names the JSON path of the offending value.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Bundle.h"

#include "msa/runtime/ArtifactFormat.h"
#include "msa/runtime/FileUtil.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <set>
#include <string_view>

namespace msa::runtime {

namespace af = artifact;

namespace {

uint32_t readLe32(const uint8_t *p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

uint64_t readLe64(const uint8_t *p) {
  return static_cast<uint64_t>(readLe32(p)) |
         static_cast<uint64_t>(readLe32(p + 4)) << 32;
}

void writeLe32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = static_cast<uint8_t>(v >> (8 * i));
}

void writeLe64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    p[i] = static_cast<uint8_t>(v >> (8 * i));
}

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%08" PRIx64, v);
  return buf;
}

uint64_t alignUp(uint64_t v, uint64_t alignment) {
  return (v + alignment - 1) / alignment * alignment;
}

/// True if [offset, offset + size) lies within [0, fileSize), without
/// overflowing on hostile values.
bool inFile(uint64_t offset, uint64_t size, uint64_t fileSize) {
  return offset <= fileSize && size <= fileSize - offset;
}

/// A JSON value as it appears in an error, cut short when long.
std::string describe(const JsonValue &v) {
  std::string s = v.dump();
  if (s.size() > 40)
    s = s.substr(0, 37) + "...";
  return s;
}

std::string quoted(const std::string &s) { return "'" + s + "'"; }

std::string child(const std::string &at, const std::string &key) {
  return at.empty() ? key : at + "." + key;
}

std::string item(const std::string &at, size_t i) {
  return at + "[" + std::to_string(i) + "]";
}

/// "T", "S-1", "S+2" or "64".
std::string formatDim(const PlanDim &d) {
  if (!d.isSymbol())
    return std::to_string(d.value);
  if (d.value == 0)
    return d.symbol;
  return d.symbol + (d.value > 0 ? "+" : "") + std::to_string(d.value);
}

std::string formatShape(const std::vector<PlanDim> &shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      out += ", ";
    out += formatDim(shape[i]);
  }
  return out + "]";
}

std::string formatShape(const std::vector<std::optional<int64_t>> &shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      out += ", ";
    out += shape[i] ? std::to_string(*shape[i]) : "?";
  }
  return out + "]";
}

bool sameDim(const PlanDim &x, const PlanDim &y) {
  return x.symbol == y.symbol && x.value == y.value;
}

/// A buffer's element count as an integer factor times a product of
/// symbols; `known` is false when the factor overflows.
struct ElementCount {
  int64_t factor = 1;
  std::vector<std::string> symbols; ///< Sorted, with repeats.
  bool known = true;

  explicit ElementCount(const std::vector<PlanDim> &shape) {
    for (const PlanDim &d : shape) {
      if (d.isSymbol())
        symbols.push_back(formatDim(d));
      else if (__builtin_mul_overflow(factor, d.value, &factor))
        known = false;
    }
    std::sort(symbols.begin(), symbols.end());
  }

  std::string str() const {
    std::string out = std::to_string(factor);
    for (const std::string &s : symbols)
      out += "*" + s;
    return out;
  }
};

/// The element types a manifest may name (docs/bundle-format.md).
constexpr DType kManifestDTypes[] = {DType::kBF16, DType::kF16, DType::kF32,
                                     DType::kI32, DType::kI8};

bool isFloat(DType t) {
  return t == DType::kBF16 || t == DType::kF16 || t == DType::kF32;
}

/// The manifest in the form the runtime uses.
struct ParsedManifest {
  TargetSpec target;
  std::optional<ModelConfig> model;
  std::vector<KernelSpec> kernels;
  std::map<std::string, PlanEntry> entries;
};

/// Checks the manifest against the schema and the plan rules of
/// docs/bundle-format.md while converting it. `at` arguments are JSON paths
/// ("entries.encode_block.steps[3]") that errors name.
class ManifestParser {
public:
  explicit ManifestParser(const std::string &file) : file_(file) {}

  StatusOr<ParsedManifest> parse(const JsonValue &root,
                                 uint32_t abiVersion) const;

private:
  Status error(const std::string &at, const std::string &what) const {
    return invalidArgument(file_ + ": manifest" +
                           (at.empty() ? "" : ": " + at) + ": " + what);
  }

  /// Fails unless `v` is an object whose keys are all in `allowed`. Unknown
  /// keys are refused: a misspelt "weight" would otherwise leave a buffer
  /// uninitialised.
  Status object(const JsonValue &v, const std::string &at,
                std::initializer_list<std::string_view> allowed) const {
    if (!v.isObject())
      return error(at, "expected an object, got " + describe(v));
    for (const JsonValue::Member &m : v.members())
      if (std::find(allowed.begin(), allowed.end(), m.first) == allowed.end())
        return error(at, "unknown key " + quoted(m.first));
    return Status::ok();
  }

  StatusOr<const JsonValue *>
  required(const JsonValue &obj, const std::string &at, const char *key) const {
    if (const JsonValue *v = obj.find(key))
      return v;
    return error(at, "key " + quoted(key) + " is missing");
  }

  Status array(const JsonValue &v, const std::string &at) const {
    if (!v.isArray())
      return error(at, "expected an array, got " + describe(v));
    return Status::ok();
  }

  Status string(const JsonValue &v, const std::string &at,
                std::string &out) const {
    if (!v.isString() || v.asString().empty())
      return error(at, "expected a non-empty string, got " + describe(v));
    out = v.asString();
    return Status::ok();
  }

  /// A required (or, with `optional`, possibly absent) non-empty string
  /// member.
  Status stringMember(const JsonValue &obj, const std::string &at,
                      const char *key, std::string &out,
                      bool optional = false) const {
    const JsonValue *v = obj.find(key);
    if (!v)
      return optional ? Status::ok()
                      : error(at, "key " + quoted(key) + " is missing");
    return string(*v, child(at, key), out);
  }

  Status integer(const JsonValue &v, const std::string &at, int64_t &out,
                 int64_t min = std::numeric_limits<int64_t>::min()) const {
    if (!v.isInteger() || v.asInt() < min) {
      std::string want = min == std::numeric_limits<int64_t>::min()
                             ? "an integer"
                         : min == 0 ? "a non-negative integer"
                                    : "an integer >= " + std::to_string(min);
      return error(at, "expected " + want + ", got " + describe(v));
    }
    out = v.asInt();
    return Status::ok();
  }

  /// A required integer member within [min, max].
  Status intMember(const JsonValue &obj, const std::string &at,
                   const char *key, int64_t &out, int64_t min,
                   int64_t max) const {
    MSA_ASSIGN_OR_RETURN(const JsonValue *v, required(obj, at, key));
    if (!v->isInteger() || v->asInt() < min || v->asInt() > max)
      return error(child(at, key), "expected an integer in [" +
                                       std::to_string(min) + ", " +
                                       std::to_string(max) + "], got " +
                                       describe(*v));
    out = v->asInt();
    return Status::ok();
  }

  Status dtype(const JsonValue &v, const std::string &at, DType &out) const {
    if (v.isString())
      for (DType t : kManifestDTypes)
        if (v.asString() == mlirTypeName(t)) {
          out = t;
          return Status::ok();
        }
    return error(at,
                 "expected one of bf16, f16, f32, i32, i8, got " + describe(v));
  }

  Status parseTarget(const JsonValue &v, const std::string &at,
                     TargetSpec &out) const;
  Status parseKernel(const JsonValue &v, const std::string &at,
                     const std::string &target, KernelSpec &out) const;
  Status parseEntry(const JsonValue &v, const std::string &at,
                    const ParsedManifest &m, PlanEntry &out) const;
  StatusOr<PlanDim> planDim(const JsonValue &dim, const std::string &at,
                            const std::set<std::string> &symbols) const;
  Status parseBuffer(const JsonValue &v, const std::string &at,
                     const std::set<std::string> &symbols,
                     PlanBuffer &out) const;
  Status parseBindings(const JsonValue &v, const std::string &at,
                       const PlanEntry &entry,
                       std::vector<std::pair<std::string, int64_t>> &out) const;
  Status parseStep(const JsonValue &v, const std::string &at,
                   const ParsedManifest &m, const PlanEntry &entry,
                   PlanStep &out) const;
  StatusOr<const PlanBuffer *> bufferRef(const JsonValue &v,
                                         const std::string &at,
                                         const PlanEntry &entry) const;
  Status checkLaunchArg(const std::string &at, const KernelSpec &kernel,
                        size_t index, const PlanBuffer &buffer) const;
  Status checkGemm(const std::string &at, const PlanBuffer &a,
                   const PlanBuffer &b, const PlanBuffer &c) const;
  Status checkView(const std::string &at, const PlanBuffer &src,
                   const PlanBuffer &dst) const;

  std::string file_;
};

StatusOr<ParsedManifest> ManifestParser::parse(const JsonValue &root,
                                               uint32_t abiVersion) const {
  MSA_RETURN_IF_ERROR(object(root, "",
                             {"format", "abi_version", "producer", "target",
                              "model", "kernels", "entries"}));
  ParsedManifest m;

  MSA_ASSIGN_OR_RETURN(const JsonValue *format, required(root, "", "format"));
  if (!format->isString() || format->asString() != "msab")
    return error("format", "expected \"msab\", got " + describe(*format));
  MSA_ASSIGN_OR_RETURN(const JsonValue *version,
                       required(root, "", "abi_version"));
  int64_t manifestVersion = 0;
  MSA_RETURN_IF_ERROR(integer(*version, "abi_version", manifestVersion));
  if (manifestVersion != static_cast<int64_t>(abiVersion))
    return error("abi_version", std::to_string(manifestVersion) +
                                    " differs from the header's " +
                                    std::to_string(abiVersion));
  if (const JsonValue *producer = root.find("producer"))
    if (!producer->isString())
      return error("producer", "expected a string, got " + describe(*producer));

  MSA_ASSIGN_OR_RETURN(const JsonValue *target, required(root, "", "target"));
  MSA_RETURN_IF_ERROR(parseTarget(*target, "target", m.target));

  // "model" is required so that a compiler which forgot it is caught; null
  // is how hand-written IR says it has no model.
  MSA_ASSIGN_OR_RETURN(const JsonValue *model, required(root, "", "model"));
  if (!model->isNull()) {
    StatusOr<ModelConfig> config =
        ModelConfig::fromJson(*model, file_ + ": manifest: model");
    if (!config.isOk())
      return config.status();
    m.model = std::move(config).value();
  }

  MSA_ASSIGN_OR_RETURN(const JsonValue *kernels, required(root, "", "kernels"));
  MSA_RETURN_IF_ERROR(array(*kernels, "kernels"));
  std::set<std::string> kernelNames;
  for (size_t i = 0; i < kernels->elements().size(); ++i) {
    std::string at = item("kernels", i);
    KernelSpec k;
    MSA_RETURN_IF_ERROR(
        parseKernel(kernels->elements()[i], at, m.target.name, k));
    if (!kernelNames.insert(k.name).second)
      return error(child(at, "name"), "duplicate kernel " + quoted(k.name));
    m.kernels.push_back(std::move(k));
  }

  MSA_ASSIGN_OR_RETURN(const JsonValue *entries, required(root, "", "entries"));
  if (!entries->isObject())
    return error("entries", "expected an object, got " + describe(*entries));
  for (const JsonValue::Member &member : entries->members()) {
    if (member.first.empty())
      return error("entries", "an entry has an empty name");
    PlanEntry e;
    e.name = member.first;
    MSA_RETURN_IF_ERROR(
        parseEntry(member.second, child("entries", member.first), m, e));
    m.entries.emplace(e.name, std::move(e));
  }
  return m;
}

Status ManifestParser::parseTarget(const JsonValue &v, const std::string &at,
                                   TargetSpec &out) const {
  MSA_RETURN_IF_ERROR(object(v, at, {"name", "triple", "cpu", "chip"}));
  MSA_RETURN_IF_ERROR(stringMember(v, at, "name", out.name));
  if (out.name != "cpu" && out.name != "cuda")
    return error(child(at, "name"), "expected \"cpu\" or \"cuda\", got " +
                                        describe(*v.find("name")));
  MSA_RETURN_IF_ERROR(stringMember(v, at, "triple", out.triple, true));
  MSA_RETURN_IF_ERROR(stringMember(v, at, "cpu", out.cpu, true));
  MSA_RETURN_IF_ERROR(stringMember(v, at, "chip", out.chip, true));
  if (out.name == "cuda" && out.chip.empty())
    return error(at, "key 'chip' is missing (a cuda target names its chip, "
                     "e.g. \"sm_90\")");
  return Status::ok();
}

Status ManifestParser::parseKernel(const JsonValue &v, const std::string &at,
                                   const std::string &target,
                                   KernelSpec &out) const {
  MSA_RETURN_IF_ERROR(object(
      v, at,
      {"name", "symbol", "op", "args", "results", "grid", "config", "launch"}));
  MSA_RETURN_IF_ERROR(stringMember(v, at, "name", out.name));
  MSA_RETURN_IF_ERROR(stringMember(v, at, "symbol", out.symbol));
  MSA_RETURN_IF_ERROR(stringMember(v, at, "op", out.op));

  std::string argsAt = child(at, "args");
  MSA_ASSIGN_OR_RETURN(const JsonValue *args, required(v, at, "args"));
  MSA_RETURN_IF_ERROR(array(*args, argsAt));
  size_t numArgs = args->elements().size();
  if (numArgs == 0)
    return error(argsAt, "a kernel has at least one argument (its result)");
  // Every kernel also takes [begin, end), and the runtime's calling
  // sequences stop at kMaxKernelArgs arguments in all.
  if (numArgs + 2 > af::kMaxKernelArgs)
    return error(argsAt, std::to_string(numArgs) +
                             " buffers plus the range exceed the ABI's " +
                             std::to_string(af::kMaxKernelArgs) +
                             " kernel arguments");
  for (size_t i = 0; i < numArgs; ++i) {
    std::string argAt = item(argsAt, i);
    const JsonValue &a = args->elements()[i];
    MSA_RETURN_IF_ERROR(object(a, argAt, {"dtype", "shape"}));
    KernelArgSpec spec;
    MSA_ASSIGN_OR_RETURN(const JsonValue *dt, required(a, argAt, "dtype"));
    MSA_RETURN_IF_ERROR(dtype(*dt, child(argAt, "dtype"), spec.dtype));
    std::string shapeAt = child(argAt, "shape");
    MSA_ASSIGN_OR_RETURN(const JsonValue *shape, required(a, argAt, "shape"));
    MSA_RETURN_IF_ERROR(array(*shape, shapeAt));
    for (size_t d = 0; d < shape->elements().size(); ++d) {
      const JsonValue &dim = shape->elements()[d];
      if (dim.isNull()) {
        spec.shape.push_back(std::nullopt);
        continue;
      }
      if (!dim.isInteger() || dim.asInt() < 0)
        return error(item(shapeAt, d),
                     "expected a non-negative integer or null, got " +
                         describe(dim));
      spec.shape.push_back(dim.asInt());
    }
    out.args.push_back(std::move(spec));
  }

  if (const JsonValue *results = v.find("results")) {
    int64_t n = 0;
    MSA_RETURN_IF_ERROR(integer(*results, child(at, "results"), n, 1));
    if (static_cast<size_t>(n) > numArgs)
      return error(child(at, "results"),
                   std::to_string(n) + " results but only " +
                       std::to_string(numArgs) + " arguments");
    out.numResults = static_cast<size_t>(n);
  }

  std::string gridAt = child(at, "grid");
  MSA_ASSIGN_OR_RETURN(const JsonValue *grid, required(v, at, "grid"));
  MSA_RETURN_IF_ERROR(array(*grid, gridAt));
  for (size_t i = 0; i < grid->elements().size(); ++i) {
    std::string termAt = item(gridAt, i);
    const JsonValue &t = grid->elements()[i];
    if (!t.isArray() ||
        (t.elements().size() != 3 && t.elements().size() != 4) ||
        !std::all_of(t.elements().begin(), t.elements().end(),
                     [](const JsonValue &x) { return x.isInteger(); }))
      return error(termAt, "expected [arg, dim, add] or [arg, dim, add, div] "
                           "integers, got " +
                               describe(t));
    GridTerm term{t.elements()[0].asInt(), t.elements()[1].asInt(),
                  t.elements()[2].asInt(), 1};
    if (t.elements().size() == 4) {
      term.div = t.elements()[3].asInt();
      if (term.div < 1)
        return error(termAt, "div must be at least 1, got " +
                                 std::to_string(term.div));
    }
    if (term.arg < 0 || static_cast<size_t>(term.arg) >= numArgs)
      return error(termAt, "argument " + std::to_string(term.arg) +
                               " does not exist (the kernel has " +
                               std::to_string(numArgs) + ")");
    size_t rank = out.args[term.arg].shape.size();
    if (term.dim < 0 || static_cast<size_t>(term.dim) >= rank)
      return error(termAt, "argument " + std::to_string(term.arg) +
                               " has rank " + std::to_string(rank) +
                               ", no dimension " + std::to_string(term.dim));
    out.grid.push_back(term);
  }

  if (const JsonValue *config = v.find("config"))
    out.config = *config;

  const JsonValue *launch = v.find("launch");
  if (target == "cuda" && !launch)
    return error(at, "key 'launch' is missing (a cuda kernel says how it is "
                     "launched)");
  if (launch) {
    std::string launchAt = child(at, "launch");
    if (target != "cuda")
      return error(launchAt, "only cuda kernels have a launch");
    MSA_RETURN_IF_ERROR(object(*launch, launchAt,
                               {"threads", "items_per_block", "shared_bytes"}));
    CudaLaunch l;
    MSA_RETURN_IF_ERROR(
        intMember(*launch, launchAt, "threads", l.threads, 1,
                  af::kCudaMaxThreadsPerBlock));
    MSA_RETURN_IF_ERROR(intMember(*launch, launchAt, "items_per_block",
                                  l.itemsPerBlock, 1, INT64_MAX));
    MSA_RETURN_IF_ERROR(intMember(*launch, launchAt, "shared_bytes",
                                  l.sharedBytes, 0, af::kCudaMaxSharedBytes));
    out.launch = l;
  }
  return Status::ok();
}

Status ManifestParser::parseBuffer(const JsonValue &v, const std::string &at,
                                   const std::set<std::string> &symbols,
                                   PlanBuffer &out) const {
  MSA_RETURN_IF_ERROR(object(v, at, {"id", "dtype", "shape", "weight"}));
  MSA_ASSIGN_OR_RETURN(const JsonValue *id, required(v, at, "id"));
  MSA_RETURN_IF_ERROR(integer(*id, child(at, "id"), out.id, 0));
  MSA_ASSIGN_OR_RETURN(const JsonValue *dt, required(v, at, "dtype"));
  MSA_RETURN_IF_ERROR(dtype(*dt, child(at, "dtype"), out.dtype));
  std::string shapeAt = child(at, "shape");
  MSA_ASSIGN_OR_RETURN(const JsonValue *shape, required(v, at, "shape"));
  MSA_RETURN_IF_ERROR(array(*shape, shapeAt));
  for (size_t d = 0; d < shape->elements().size(); ++d) {
    const JsonValue &dim = shape->elements()[d];
    MSA_ASSIGN_OR_RETURN(PlanDim pd, planDim(dim, item(shapeAt, d), symbols));
    out.shape.push_back(std::move(pd));
  }
  return stringMember(v, at, "weight", out.weight, true);
}

StatusOr<PlanDim>
ManifestParser::planDim(const JsonValue &dim, const std::string &at,
                        const std::set<std::string> &symbols) const {
  PlanDim pd;
  const JsonValue *sym = &dim;
  if (dim.isArray() && dim.elements().size() == 2 &&
      dim.elements()[1].isInteger()) {
    sym = &dim.elements()[0];
    pd.value = dim.elements()[1].asInt();
  }
  if (sym->isString() && !sym->asString().empty()) {
    if (!symbols.count(sym->asString()))
      return error(at, "symbol " + quoted(sym->asString()) +
                           " is not declared in symbols");
    pd.symbol = sym->asString();
    return pd;
  }
  if (sym == &dim && dim.isInteger() && dim.asInt() >= 0) {
    pd.value = dim.asInt();
    return pd;
  }
  return error(at, "expected a non-negative integer, a symbol or [symbol, "
                   "integer], got " +
                       describe(dim));
}

StatusOr<const PlanBuffer *>
ManifestParser::bufferRef(const JsonValue &v, const std::string &at,
                          const PlanEntry &entry) const {
  int64_t id = 0;
  MSA_RETURN_IF_ERROR(integer(v, at, id, 0));
  auto it = entry.buffers.find(id);
  if (it == entry.buffers.end())
    return error(at, "buffer " + std::to_string(id) +
                         " is not declared in buffers");
  return &it->second;
}

Status ManifestParser::parseBindings(
    const JsonValue &v, const std::string &at, const PlanEntry &entry,
    std::vector<std::pair<std::string, int64_t>> &out) const {
  MSA_RETURN_IF_ERROR(array(v, at));
  std::set<std::string> names;
  for (size_t i = 0; i < v.elements().size(); ++i) {
    std::string bindingAt = item(at, i);
    const JsonValue &b = v.elements()[i];
    MSA_RETURN_IF_ERROR(object(b, bindingAt, {"name", "buffer"}));
    std::string name;
    MSA_RETURN_IF_ERROR(stringMember(b, bindingAt, "name", name));
    if (!names.insert(name).second)
      return error(child(bindingAt, "name"), "duplicate name " + quoted(name));
    MSA_ASSIGN_OR_RETURN(const JsonValue *buffer,
                         required(b, bindingAt, "buffer"));
    MSA_ASSIGN_OR_RETURN(const PlanBuffer *ref,
                         bufferRef(*buffer, child(bindingAt, "buffer"), entry));
    out.emplace_back(std::move(name), ref->id);
  }
  return Status::ok();
}

Status ManifestParser::parseEntry(const JsonValue &v, const std::string &at,
                                  const ParsedManifest &m,
                                  PlanEntry &out) const {
  MSA_RETURN_IF_ERROR(
      object(v, at, {"symbols", "inputs", "outputs", "buffers", "steps"}));

  std::string symbolsAt = child(at, "symbols");
  MSA_ASSIGN_OR_RETURN(const JsonValue *symbols, required(v, at, "symbols"));
  MSA_RETURN_IF_ERROR(array(*symbols, symbolsAt));
  std::set<std::string> declared;
  for (size_t i = 0; i < symbols->elements().size(); ++i) {
    std::string s;
    MSA_RETURN_IF_ERROR(string(symbols->elements()[i], item(symbolsAt, i), s));
    if (!declared.insert(s).second)
      return error(item(symbolsAt, i), "duplicate symbol " + quoted(s));
    out.symbols.push_back(std::move(s));
  }

  std::string buffersAt = child(at, "buffers");
  MSA_ASSIGN_OR_RETURN(const JsonValue *buffers, required(v, at, "buffers"));
  MSA_RETURN_IF_ERROR(array(*buffers, buffersAt));
  for (size_t i = 0; i < buffers->elements().size(); ++i) {
    PlanBuffer b;
    MSA_RETURN_IF_ERROR(
        parseBuffer(buffers->elements()[i], item(buffersAt, i), declared, b));
    if (out.buffers.count(b.id))
      return error(child(item(buffersAt, i), "id"),
                   "duplicate buffer id " + std::to_string(b.id));
    out.buffers.emplace(b.id, std::move(b));
  }

  MSA_ASSIGN_OR_RETURN(const JsonValue *inputs, required(v, at, "inputs"));
  MSA_RETURN_IF_ERROR(
      parseBindings(*inputs, child(at, "inputs"), out, out.inputs));
  MSA_ASSIGN_OR_RETURN(const JsonValue *outputs, required(v, at, "outputs"));
  MSA_RETURN_IF_ERROR(
      parseBindings(*outputs, child(at, "outputs"), out, out.outputs));

  std::string stepsAt = child(at, "steps");
  MSA_ASSIGN_OR_RETURN(const JsonValue *steps, required(v, at, "steps"));
  MSA_RETURN_IF_ERROR(array(*steps, stepsAt));
  for (size_t i = 0; i < steps->elements().size(); ++i) {
    PlanStep step;
    MSA_RETURN_IF_ERROR(
        parseStep(steps->elements()[i], item(stepsAt, i), m, out, step));
    out.steps.push_back(std::move(step));
  }
  return Status::ok();
}

Status ManifestParser::parseStep(const JsonValue &v, const std::string &at,
                                 const ParsedManifest &m,
                                 const PlanEntry &entry, PlanStep &out) const {
  if (!v.isObject())
    return error(at, "expected an object, got " + describe(v));
  std::string op;
  MSA_RETURN_IF_ERROR(stringMember(v, at, "op", op));

  if (op == "launch") {
    out.kind = PlanStep::Kind::kLaunch;
    MSA_RETURN_IF_ERROR(object(v, at, {"op", "kernel", "args"}));
    std::string name;
    MSA_RETURN_IF_ERROR(stringMember(v, at, "kernel", name));
    auto it = std::find_if(m.kernels.begin(), m.kernels.end(),
                           [&](const KernelSpec &k) { return k.name == name; });
    if (it == m.kernels.end())
      return error(at, "launch of kernel " + quoted(name) +
                           " which is not in the manifest");
    out.kernel = static_cast<size_t>(it - m.kernels.begin());
    const KernelSpec &kernel = *it;

    std::string argsAt = child(at, "args");
    MSA_ASSIGN_OR_RETURN(const JsonValue *args, required(v, at, "args"));
    MSA_RETURN_IF_ERROR(array(*args, argsAt));
    std::vector<const PlanBuffer *> buffers;
    for (size_t i = 0; i < args->elements().size(); ++i) {
      MSA_ASSIGN_OR_RETURN(
          const PlanBuffer *b,
          bufferRef(args->elements()[i], item(argsAt, i), entry));
      buffers.push_back(b);
      out.args.push_back(b->id);
    }
    if (buffers.size() != kernel.args.size())
      return error(at, "kernel " + quoted(kernel.name) + " takes " +
                           std::to_string(kernel.args.size()) +
                           " arguments, got " + std::to_string(buffers.size()));
    for (size_t i = 0; i < buffers.size(); ++i)
      MSA_RETURN_IF_ERROR(
          checkLaunchArg(item(argsAt, i), kernel, i, *buffers[i]));
    return Status::ok();
  }

  if (op == "gemm") {
    out.kind = PlanStep::Kind::kGemm;
    MSA_RETURN_IF_ERROR(object(v, at, {"op", "a", "b", "c"}));
    const PlanBuffer *operands[3];
    const char *names[3] = {"a", "b", "c"};
    for (int i = 0; i < 3; ++i) {
      MSA_ASSIGN_OR_RETURN(const JsonValue *ref, required(v, at, names[i]));
      MSA_ASSIGN_OR_RETURN(operands[i],
                           bufferRef(*ref, child(at, names[i]), entry));
    }
    out.a = operands[0]->id;
    out.b = operands[1]->id;
    out.c = operands[2]->id;
    return checkGemm(at, *operands[0], *operands[1], *operands[2]);
  }

  if (op == "view") {
    out.kind = PlanStep::Kind::kView;
    MSA_RETURN_IF_ERROR(object(v, at, {"op", "src", "dst"}));
    MSA_ASSIGN_OR_RETURN(const JsonValue *srcRef, required(v, at, "src"));
    MSA_ASSIGN_OR_RETURN(const PlanBuffer *src,
                         bufferRef(*srcRef, child(at, "src"), entry));
    MSA_ASSIGN_OR_RETURN(const JsonValue *dstRef, required(v, at, "dst"));
    MSA_ASSIGN_OR_RETURN(const PlanBuffer *dst,
                         bufferRef(*dstRef, child(at, "dst"), entry));
    out.src = src->id;
    out.dst = dst->id;
    return checkView(at, *src, *dst);
  }

  if (op == "slice") {
    out.kind = PlanStep::Kind::kSlice;
    MSA_RETURN_IF_ERROR(object(v, at, {"op", "src", "dst", "offset"}));
    MSA_ASSIGN_OR_RETURN(const JsonValue *srcRef, required(v, at, "src"));
    MSA_ASSIGN_OR_RETURN(const PlanBuffer *src,
                         bufferRef(*srcRef, child(at, "src"), entry));
    MSA_ASSIGN_OR_RETURN(const JsonValue *dstRef, required(v, at, "dst"));
    MSA_ASSIGN_OR_RETURN(const PlanBuffer *dst,
                         bufferRef(*dstRef, child(at, "dst"), entry));
    MSA_ASSIGN_OR_RETURN(const JsonValue *off, required(v, at, "offset"));
    std::set<std::string> symbols(entry.symbols.begin(), entry.symbols.end());
    MSA_ASSIGN_OR_RETURN(out.offset,
                         planDim(*off, child(at, "offset"), symbols));
    out.src = src->id;
    out.dst = dst->id;
    std::string what = "slice of buffer " + std::to_string(src->id) + " " +
                       formatShape(src->shape) + " as buffer " +
                       std::to_string(dst->id) + " " + formatShape(dst->shape);
    if (src->dtype != dst->dtype)
      return error(at, what + " changes the dtype");
    if (src->shape.empty() || src->shape.size() != dst->shape.size())
      return error(at, what + " changes the rank or slices a scalar");
    for (size_t d = 1; d < src->shape.size(); ++d)
      if (!sameDim(src->shape[d], dst->shape[d]))
        return error(at, what + " changes dimension " + std::to_string(d) +
                             " (slices take whole rows)");
    return Status::ok();
  }

  return error(child(at, "op"), "expected \"launch\", \"gemm\", \"view\" "
                                "or \"slice\", got " +
                                    describe(*v.find("op")));
}

Status ManifestParser::checkLaunchArg(const std::string &at,
                                      const KernelSpec &kernel, size_t index,
                                      const PlanBuffer &buffer) const {
  const KernelArgSpec &spec = kernel.args[index];
  std::string argument =
      "argument " + std::to_string(index) + " of kernel " + quoted(kernel.name);
  std::string bufferName = "buffer " + std::to_string(buffer.id);
  if (buffer.dtype != spec.dtype)
    return error(at, bufferName + " is " + mlirTypeName(buffer.dtype) +
                         " but " + argument + " is " +
                         mlirTypeName(spec.dtype));
  if (buffer.shape.size() != spec.shape.size())
    return error(at, bufferName + " " + formatShape(buffer.shape) +
                         " has rank " + std::to_string(buffer.shape.size()) +
                         " but " + argument + " " + formatShape(spec.shape) +
                         " has rank " + std::to_string(spec.shape.size()));
  for (size_t d = 0; d < spec.shape.size(); ++d) {
    // A dynamic kernel dimension takes anything; a static one only the same
    // integer, since a symbol's value is not known until the entry is called.
    if (!spec.shape[d])
      continue;
    const PlanDim &dim = buffer.shape[d];
    if (dim.isSymbol() || dim.value != *spec.shape[d])
      return error(at, "dimension " + std::to_string(d) + " of " + bufferName +
                           " " + formatShape(buffer.shape) + " is " +
                           formatDim(dim) + " but " + argument + " " +
                           formatShape(spec.shape) + " needs " +
                           std::to_string(*spec.shape[d]));
  }
  return Status::ok();
}

Status ManifestParser::checkGemm(const std::string &at, const PlanBuffer &a,
                                 const PlanBuffer &b,
                                 const PlanBuffer &c) const {
  const PlanBuffer *operands[3] = {&a, &b, &c};
  const char *names[3] = {"a", "b", "c"};
  for (int i = 0; i < 3; ++i) {
    const PlanBuffer &x = *operands[i];
    if (x.shape.size() != 2)
      return error(at, std::string("gemm operand ") + names[i] + " (buffer " +
                           std::to_string(x.id) + " " + formatShape(x.shape) +
                           ") must have rank 2");
    if (!isFloat(x.dtype))
      return error(at, std::string("gemm operand ") + names[i] + " (buffer " +
                           std::to_string(x.id) + ") is " +
                           mlirTypeName(x.dtype) +
                           "; gemm takes bf16, f16 or f32");
  }
  struct Pair {
    const char *dim;
    const char *x;
    const PlanDim &xd;
    const char *y;
    const PlanDim &yd;
  };
  // c[M, N] = a[M, K] b[N, K]^T.
  const Pair pairs[3] = {{"M", "a", a.shape[0], "c", c.shape[0]},
                         {"N", "b", b.shape[0], "c", c.shape[1]},
                         {"K", "a", a.shape[1], "b", b.shape[1]}};
  for (const Pair &p : pairs)
    if (!sameDim(p.xd, p.yd))
      return error(at, std::string("gemm shapes do not fit a [M, K], b [N, "
                                   "K], c [M, N]: a is ") +
                           formatShape(a.shape) + ", b is " +
                           formatShape(b.shape) + ", c is " +
                           formatShape(c.shape) + " (" + p.dim + " is " +
                           formatDim(p.xd) + " in " + p.x + " but " +
                           formatDim(p.yd) + " in " + p.y + ")");
  return Status::ok();
}

Status ManifestParser::checkView(const std::string &at, const PlanBuffer &src,
                                 const PlanBuffer &dst) const {
  std::string what = "view of buffer " + std::to_string(src.id) + " " +
                     formatShape(src.shape) + " as buffer " +
                     std::to_string(dst.id) + " " + formatShape(dst.shape);
  if (src.dtype != dst.dtype)
    return error(at, what + " changes the dtype (" + mlirTypeName(src.dtype) +
                         " to " + mlirTypeName(dst.dtype) + ")");
  // Only counts over the same symbols can be compared here; others (T*64
  // against C*256) are checked when the entry's symbols are bound.
  ElementCount s(src.shape), d(dst.shape);
  if (s.known && d.known && s.symbols == d.symbols && s.factor != d.factor)
    return error(at, what + " changes the element count (" + s.str() + " to " +
                         d.str() + ")");
  return Status::ok();
}

} // namespace

std::string TargetSpec::toString() const {
  return name == "cuda" ? name + ":" + chip : name;
}

Bundle::~Bundle() = default;

StatusOr<std::unique_ptr<Bundle>> Bundle::open(const std::string &path) {
  std::unique_ptr<Bundle> b(new Bundle());
  b->path_ = path;
  MSA_ASSIGN_OR_RETURN(b->file_, MappedFile::open(path));
  b->data_ = b->file_->data();
  b->size_ = b->file_->size();
  return validate(std::move(b));
}

StatusOr<std::unique_ptr<Bundle>> Bundle::fromBytes(std::vector<uint8_t> bytes,
                                                    const std::string &name) {
  std::unique_ptr<Bundle> b(new Bundle());
  b->path_ = name;
  b->bytes_ = std::move(bytes);
  b->data_ = b->bytes_.data();
  b->size_ = b->bytes_.size();
  return validate(std::move(b));
}

StatusOr<std::unique_ptr<Bundle>> Bundle::validate(std::unique_ptr<Bundle> b) {
  MSA_RETURN_IF_ERROR(b->parseContainer());
  MSA_RETURN_IF_ERROR(b->parseManifest());
  MSA_RETURN_IF_ERROR(b->checkSections());
  return b;
}

Status Bundle::parseContainer() {
  const std::string &p = path_;
  if (size_ < sizeof(af::kMagic) ||
      std::memcmp(data_, af::kMagic, sizeof(af::kMagic)) != 0)
    return invalidArgument(p + ": not an msa bundle (bad magic)");
  if (size_ < af::kHeaderSize)
    return dataLoss(p + ": truncated: file has " + std::to_string(size_) +
                    " bytes, less than the " + std::to_string(af::kHeaderSize) +
                    "-byte header");
  abiVersion_ = readLe32(data_ + af::kOffAbiVersion);
  if (abiVersion_ != af::kAbiVersion)
    return failedPrecondition(
        p + ": ABI version " + std::to_string(abiVersion_) +
        ", this runtime reads version " + std::to_string(af::kAbiVersion));
  uint32_t flags = readLe32(data_ + af::kOffFlags);
  if (flags != 0)
    return invalidArgument(p + ": unknown header flags " + hex(flags) +
                           " (version " + std::to_string(af::kAbiVersion) +
                           " has none)");
  uint64_t fileSize = readLe64(data_ + af::kOffFileSize);
  if (fileSize != size_)
    return dataLoss(p + (fileSize > size_ ? ": truncated" : ": trailing data") +
                    ": header says " + std::to_string(fileSize) +
                    " bytes, file has " + std::to_string(size_));

  uint64_t stored = readLe64(data_ + af::kOffChecksum);
  uint32_t computed =
      af::crc32c(data_ + af::kHeaderSize, size_ - af::kHeaderSize);
  if (stored != computed)
    return dataLoss(p + ": checksum mismatch (stored " + hex(stored) +
                    ", computed " + hex(computed) + "): the file is corrupted");

  // Ranges: none may reach into the header or past the end, and none may
  // overlap another (a payload sharing bytes with the manifest is corrupt
  // even if the checksum was recomputed over it).
  struct Range {
    std::string what;
    uint64_t begin, end;
  };
  std::vector<Range> ranges;
  auto addRange = [&](const std::string &what, uint64_t offset,
                      uint64_t size) -> Status {
    if (offset < af::kHeaderSize || !inFile(offset, size, fileSize))
      return dataLoss(
          p + ": " + what + " (offset " + std::to_string(offset) + ", " +
          std::to_string(size) + " bytes) lies outside the file's " +
          std::to_string(af::kHeaderSize) + ".." + std::to_string(fileSize));
    ranges.push_back({what, offset, offset + size});
    return Status::ok();
  };

  manifestOffset_ = readLe64(data_ + af::kOffManifestOffset);
  manifestSize_ = readLe64(data_ + af::kOffManifestSize);
  MSA_RETURN_IF_ERROR(addRange("manifest", manifestOffset_, manifestSize_));

  uint64_t tableOffset = readLe64(data_ + af::kOffSectionTableOffset);
  uint64_t count = readLe64(data_ + af::kOffSectionCount);
  if (count > fileSize / af::kSectionEntrySize)
    return dataLoss(p + ": section count " + std::to_string(count) +
                    " is more than the file can hold");
  MSA_RETURN_IF_ERROR(
      addRange("section table", tableOffset, count * af::kSectionEntrySize));

  for (uint64_t i = 0; i < count; ++i) {
    const uint8_t *e = data_ + tableOffset + i * af::kSectionEntrySize;
    const char *raw = reinterpret_cast<const char *>(e);
    size_t len = strnlen(raw, af::kSectionNameSize);
    std::string index = "section " + std::to_string(i);
    if (len == af::kSectionNameSize)
      return dataLoss(p + ": " + index + ": name is not NUL-terminated");
    if (len == 0)
      return dataLoss(p + ": " + index + ": name is empty");
    std::string name(raw, len);
    for (size_t j = len; j < af::kSectionNameSize; ++j)
      if (raw[j] != '\0')
        return dataLoss(p + ": " + index + " (" + quoted(name) +
                        "): name is not NUL-padded");
    for (const Section &s : sections_)
      if (s.name == name)
        return dataLoss(p + ": duplicate section " + quoted(name));
    Section s{name, readLe64(e + af::kSectionNameSize),
              readLe64(e + af::kSectionNameSize + 8)};
    MSA_RETURN_IF_ERROR(addRange("section " + quoted(name), s.offset, s.size));
    if (s.offset % af::kSectionAlignment != 0)
      return dataLoss(p + ": section " + quoted(name) + " at offset " +
                      std::to_string(s.offset) + " is not aligned to " +
                      std::to_string(af::kSectionAlignment) + " bytes");
    sections_.push_back(std::move(s));
  }

  // Empty ranges hold no bytes, so they overlap nothing.
  ranges.erase(std::remove_if(ranges.begin(), ranges.end(),
                              [](const Range &r) { return r.begin == r.end; }),
               ranges.end());
  std::sort(ranges.begin(), ranges.end(),
            [](const Range &x, const Range &y) { return x.begin < y.begin; });
  // Sorted by start, a range overlaps an earlier one exactly when it starts
  // before the furthest end seen so far.
  const Range *furthest = nullptr;
  for (const Range &r : ranges) {
    if (furthest && r.begin < furthest->end)
      return dataLoss(p + ": " + furthest->what + " and " + r.what +
                      " overlap");
    if (!furthest || r.end > furthest->end)
      furthest = &r;
  }
  return Status::ok();
}

Status Bundle::parseManifest() {
  std::string_view text(reinterpret_cast<const char *>(data_ + manifestOffset_),
                        manifestSize_);
  StatusOr<JsonValue> json = JsonValue::parse(text);
  if (!json.isOk())
    return invalidArgument(path_ + ": manifest: " + json.status().message());
  manifest_ = std::move(json).value();
  ManifestParser parser(path_);
  MSA_ASSIGN_OR_RETURN(ParsedManifest m, parser.parse(manifest_, abiVersion_));
  target_ = std::move(m.target);
  model_ = std::move(m.model);
  kernels_ = std::move(m.kernels);
  entries_ = std::move(m.entries);
  return Status::ok();
}

Status Bundle::checkSections() const {
  if (target_.name == "cpu") {
    if (!section(af::kCpuObjectSection))
      return invalidArgument(path_ + ": target 'cpu' needs section '" +
                             af::kCpuObjectSection + "', which is missing");
    return Status::ok();
  }
  if (!section(af::kCudaCubinSection) && !section(af::kCudaPtxSection))
    return invalidArgument(path_ + ": target '" + target_.toString() +
                           "' needs section '" + af::kCudaCubinSection +
                           "' or '" + af::kCudaPtxSection +
                           "', and both are missing");
  return Status::ok();
}

const PlanEntry *Bundle::entry(const std::string &name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

std::optional<std::pair<const uint8_t *, size_t>>
Bundle::section(const std::string &name) const {
  for (const Section &s : sections_)
    if (s.name == name)
      return std::make_pair(data_ + s.offset, static_cast<size_t>(s.size));
  return std::nullopt;
}

std::vector<std::string> Bundle::sectionNames() const {
  std::vector<std::string> names;
  for (const Section &s : sections_)
    names.push_back(s.name);
  return names;
}

Status Bundle::checkTarget(const std::string &wanted) const {
  std::string have = target_.toString();
  if (wanted == have || wanted == target_.name)
    return Status::ok();
  return failedPrecondition(path_ + ": compiled for target '" + have +
                            "', not '" + wanted + "'");
}

Status BundleWriter::addSection(const std::string &name,
                                std::vector<uint8_t> bytes) {
  if (name.empty())
    return invalidArgument("bundle section name is empty");
  if (name.size() >= af::kSectionNameSize)
    return invalidArgument("bundle section name " + quoted(name) + " is " +
                           std::to_string(name.size()) +
                           " bytes, the limit is " +
                           std::to_string(af::kSectionNameSize - 1));
  if (name.find('\0') != std::string::npos)
    return invalidArgument("bundle section name contains a NUL byte");
  for (const auto &s : sections_)
    if (s.first == name)
      return invalidArgument("duplicate bundle section " + quoted(name));
  sections_.emplace_back(name, std::move(bytes));
  return Status::ok();
}

StatusOr<std::vector<uint8_t>> BundleWriter::serialize() const {
  if (!manifest_.isObject())
    return invalidArgument("bundle manifest must be a JSON object, got " +
                           describe(manifest_));
  // "format" and "abi_version" go first so `head` on a bundle shows them.
  JsonValue manifest = JsonValue::object();
  manifest.set("format", "msab");
  manifest.set("abi_version", static_cast<int64_t>(af::kAbiVersion));
  for (const JsonValue::Member &m : manifest_.members())
    if (m.first != "format" && m.first != "abi_version")
      manifest.set(m.first, m.second);
  std::string text = manifest.dump(2) + "\n";

  uint64_t manifestOffset = af::kHeaderSize;
  uint64_t tableOffset = alignUp(manifestOffset + text.size(), 8);
  uint64_t end = tableOffset + sections_.size() * af::kSectionEntrySize;
  std::vector<uint64_t> offsets;
  for (const auto &s : sections_) {
    end = alignUp(end, af::kSectionAlignment);
    offsets.push_back(end);
    end += s.second.size();
  }

  std::vector<uint8_t> out(end, 0);
  std::memcpy(out.data(), af::kMagic, sizeof(af::kMagic));
  writeLe32(&out[af::kOffAbiVersion], af::kAbiVersion);
  writeLe32(&out[af::kOffFlags], 0);
  writeLe64(&out[af::kOffFileSize], end);
  writeLe64(&out[af::kOffManifestOffset], manifestOffset);
  writeLe64(&out[af::kOffManifestSize], text.size());
  writeLe64(&out[af::kOffSectionTableOffset], tableOffset);
  writeLe64(&out[af::kOffSectionCount], sections_.size());
  std::memcpy(&out[manifestOffset], text.data(), text.size());
  for (size_t i = 0; i < sections_.size(); ++i) {
    uint8_t *e = &out[tableOffset + i * af::kSectionEntrySize];
    std::memcpy(e, sections_[i].first.data(), sections_[i].first.size());
    writeLe64(e + af::kSectionNameSize, offsets[i]);
    writeLe64(e + af::kSectionNameSize + 8, sections_[i].second.size());
    if (!sections_[i].second.empty())
      std::memcpy(&out[offsets[i]], sections_[i].second.data(),
                  sections_[i].second.size());
  }
  writeLe64(&out[af::kOffChecksum],
            af::crc32c(out.data() + af::kHeaderSize, end - af::kHeaderSize));
  return out;
}

Status BundleWriter::write(const std::string &path) const {
  StatusOr<std::vector<uint8_t>> bytes = serialize();
  if (!bytes.isOk())
    return bytes.status().withContext(path);
  return writeFileAtomic(
      path, std::string_view(reinterpret_cast<const char *>(bytes->data()),
                             bytes->size()));
}

} // namespace msa::runtime
