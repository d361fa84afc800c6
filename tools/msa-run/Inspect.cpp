//===- Inspect.cpp - msa-run inspect --------------------------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Prints what a file holds so that a bundle can be checked without running
// it: for a .msab bundle its ABI version, target, model, sections, kernels
// and every entry's plan (or, with --json, the manifest). Opening the bundle
// validates all of it, so inspect is also the quickest way to see why a
// bundle is refused.
//
//===----------------------------------------------------------------------===//

#include "Args.h"
#include "Commands.h"

#include "msa/runtime/Bundle.h"
#include "msa/runtime/FileUtil.h"
#include "msa/runtime/MemoryBank.h"
#include "msa/runtime/Json.h"

#include <cstdio>

namespace msa::tools {

using namespace msa::runtime;

namespace {

const std::vector<FlagSpec> kFlags = {
    {"json", "", "print the bundle's manifest or the bank's header as JSON"},
    {"help", "", "show this help"},
};

const char *kUsageLine =
    "usage: msa-run inspect BUNDLE.msab|BANK-DIR [--json]";

std::string join(const std::vector<std::string> &items,
                 const char *separator = ", ") {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i)
    out += (i ? separator : "") + items[i];
  return out;
}

std::string bufferRef(int64_t id) { return "%" + std::to_string(id); }

std::string bufferList(const std::vector<int64_t> &ids) {
  std::vector<std::string> refs;
  for (int64_t id : ids)
    refs.push_back(bufferRef(id));
  return join(refs);
}

std::string typeString(DType dtype, const std::vector<PlanDim> &shape) {
  std::vector<std::string> dims;
  for (const PlanDim &d : shape)
    dims.push_back(d.isSymbol() ? d.symbol : std::to_string(d.value));
  return std::string(mlirTypeName(dtype)) + "[" + join(dims) + "]";
}

std::string typeString(const KernelArgSpec &arg) {
  std::vector<std::string> dims;
  for (const std::optional<int64_t> &d : arg.shape)
    dims.push_back(d ? std::to_string(*d) : "?");
  return std::string(mlirTypeName(arg.dtype)) + "[" + join(dims) + "]";
}

std::string modelSummary(const std::optional<ModelConfig> &model) {
  if (!model)
    return "hand-written IR";
  std::vector<std::string> routers;
  for (int64_t l : model->msa.routerLayers)
    routers.push_back(std::to_string(l));
  return std::to_string(model->numLayers) + " layers, hidden " +
         std::to_string(model->hiddenSize) + ", router layers " +
         (routers.empty() ? "none" : join(routers, ",")) +
         ", P=" + std::to_string(model->msa.poolingKernelSize) +
         ", k=" + std::to_string(model->msa.docTopK);
}

std::string gridString(const KernelSpec &k) {
  if (k.grid.empty())
    return "1 item";
  std::vector<std::string> terms;
  for (const GridTerm &t : k.grid) {
    std::string term =
        "arg" + std::to_string(t.arg) + ".shape[" + std::to_string(t.dim) + "]";
    if (t.add > 0)
      term = "(" + term + " + " + std::to_string(t.add) + ")";
    else if (t.add < 0)
      term = "(" + term + " - " + std::to_string(-t.add) + ")";
    if (t.div != 1)
      term = "ceil(" + term + " / " + std::to_string(t.div) + ")";
    terms.push_back(term);
  }
  return join(terms, " * ");
}

std::string stepString(const Bundle &bundle, const PlanStep &step) {
  switch (step.kind) {
  case PlanStep::Kind::kLaunch: {
    const KernelSpec &k = bundle.kernels()[step.kernel];
    size_t numOperands = step.args.size() - k.numResults;
    std::vector<int64_t> operands(step.args.begin(),
                                  step.args.begin() + numOperands);
    std::vector<int64_t> results(step.args.begin() + numOperands,
                                 step.args.end());
    return "launch " + k.name + "(" + bufferList(operands) + ") -> " +
           bufferList(results);
  }
  case PlanStep::Kind::kGemm:
    return "gemm " + bufferRef(step.a) + " x " + bufferRef(step.b) + "^T -> " +
           bufferRef(step.c);
  case PlanStep::Kind::kView:
    return "view " + bufferRef(step.src) + " -> " + bufferRef(step.dst);
  case PlanStep::Kind::kSlice: {
    const PlanDim &o = step.offset;
    std::string off = !o.isSymbol() ? std::to_string(o.value)
                      : o.value == 0
                          ? o.symbol
                          : o.symbol + (o.value > 0 ? "+" : "") +
                                std::to_string(o.value);
    return "slice " + bufferRef(step.src) + "[" + off + ":] -> " +
           bufferRef(step.dst);
  }
  }
  return "?";
}

std::string bindings(const std::vector<std::pair<std::string, int64_t>> &b) {
  std::vector<std::string> items;
  for (const auto &[name, id] : b)
    items.push_back(name + " = " + bufferRef(id));
  return items.empty() ? "none" : join(items);
}

void printEntry(const Bundle &bundle, const PlanEntry &e) {
  std::printf("entry %s:\n", e.name.c_str());
  std::printf("  symbols: %s\n",
              e.symbols.empty() ? "none" : join(e.symbols).c_str());
  std::printf("  inputs: %s\n", bindings(e.inputs).c_str());
  std::printf("  outputs: %s\n", bindings(e.outputs).c_str());
  std::printf("  buffers: %zu\n", e.buffers.size());
  for (const auto &[id, b] : e.buffers)
    std::printf("    %s: %s%s\n", bufferRef(id).c_str(),
                typeString(b.dtype, b.shape).c_str(),
                b.isWeight() ? (" weight " + b.weight).c_str() : "");
  std::printf("  steps: %zu\n", e.steps.size());
  int width = static_cast<int>(
      std::to_string(e.steps.empty() ? 0 : e.steps.size() - 1).size());
  for (size_t i = 0; i < e.steps.size(); ++i)
    std::printf("    %*zu %s\n", width, i,
                stepString(bundle, e.steps[i]).c_str());
}

/// Prints a bundle: the header and target, the model, the sections, the
/// kernels and every entry's plan; or, with `json`, the manifest.
int inspectBundle(const std::string &path, bool json) {
  StatusOr<std::unique_ptr<Bundle>> opened = Bundle::open(path);
  if (!opened.isOk())
    return fail(opened.status());
  const Bundle &bundle = **opened;
  if (json) {
    std::printf("%s\n", bundle.manifest().dump(2).c_str());
    return 0;
  }

  std::printf("bundle: %s\n", path.c_str());
  std::printf("abi version: %u\n", bundle.abiVersion());
  if (const JsonValue *producer = bundle.manifest().find("producer"))
    std::printf("producer: %s\n", producer->asString().c_str());
  const TargetSpec &t = bundle.target();
  std::vector<std::string> details;
  if (!t.triple.empty())
    details.push_back("triple " + t.triple);
  if (!t.cpu.empty())
    details.push_back("cpu " + t.cpu);
  std::printf("target: %s%s\n", t.toString().c_str(),
              details.empty() ? "" : (" (" + join(details) + ")").c_str());
  std::printf("model: %s\n", modelSummary(bundle.model()).c_str());

  std::vector<std::string> names = bundle.sectionNames();
  std::printf("sections: %zu\n", names.size());
  for (const std::string &name : names)
    std::printf("  %s: %zu bytes\n", name.c_str(),
                bundle.section(name)->second);

  std::printf("kernels: %zu\n", bundle.kernels().size());
  for (const KernelSpec &k : bundle.kernels()) {
    std::printf("  %s: %s, symbol %s\n", k.name.c_str(), k.op.c_str(),
                k.symbol.c_str());
    std::vector<std::string> operands, results;
    for (size_t i = 0; i < k.args.size(); ++i)
      (i + k.numResults < k.args.size() ? operands : results)
          .push_back(typeString(k.args[i]));
    std::printf("    args: (%s) -> %s\n", join(operands).c_str(),
                join(results).c_str());
    std::printf("    grid: %s\n", gridString(k).c_str());
    if (k.launch)
      std::printf("    launch: %lld threads, %lld items per block, %lld bytes "
                  "of shared memory\n",
                  static_cast<long long>(k.launch->threads),
                  static_cast<long long>(k.launch->itemsPerBlock),
                  static_cast<long long>(k.launch->sharedBytes));
    if (!k.config.isNull())
      std::printf("    config: %s\n", k.config.dump().c_str());
  }

  for (const auto &entry : bundle.entries())
    printEntry(bundle, entry.second);
  return 0;
}

} // namespace

/// Prints a memory bank: header, segments, a sample of its documents. The
/// whole bank is verified (checksums) as it is opened.
int inspectBank(const std::string &dir, bool json) {
  StatusOr<std::unique_ptr<MemoryBank>> bank = MemoryBank::open(dir, "");
  if (!bank.isOk())
    return fail(bank.status());
  const MemoryBank &b = **bank;
  if (json) {
    JsonValue out = JsonValue::object();
    out.set("bank", dir);
    out.set("fingerprint", b.fingerprint());
    out.set("documents", b.numDocs());
    out.set("chunks", b.numChunks());
    out.set("segments", b.numSegments());
    out.set("template_len", b.templateLen());
    out.set("payload_bytes", b.payloadBytes());
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("%s", b.summary().c_str());
  const std::vector<BankDocument> &docs = b.documents();
  size_t shown = std::min<size_t>(docs.size(), 5);
  for (size_t i = 0; i < shown; ++i) {
    std::string text = docs[i].text.substr(0, 60);
    for (char &c : text)
      if (c == '\n')
        c = ' ';
    std::printf("  doc %zu%s: %lld tokens, %lld chunks: %s%s\n", i,
                docs[i].id.empty() ? "" : (" (" + docs[i].id + ")").c_str(),
                (long long)docs[i].tokens, (long long)docs[i].chunks,
                text.c_str(), docs[i].text.size() > 60 ? "..." : "");
  }
  if (docs.size() > shown)
    std::printf("  ... %zu more\n", docs.size() - shown);
  std::printf("checksums: all files verified\n");
  return 0;
}

int runInspect(int argc, char **argv) {
  // FILE is positional, which Args does not take: take it out first. Every
  // flag of inspect is a switch, so no flag value can be mistaken for it.
  std::string file;
  std::vector<char *> flags(argv, argv + 2);
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) == 0) {
      flags.push_back(argv[i]);
      continue;
    }
    if (!file.empty())
      return fail(invalidArgument("inspect: more than one FILE ('" + file +
                                  "', '" + arg + "')"));
    file = arg;
  }
  StatusOr<Args> parsed = Args::parse(
      "inspect", kFlags, static_cast<int>(flags.size()), flags.data(), 2);
  if (!parsed.isOk())
    return fail(parsed.status());
  if (parsed->has("help")) {
    std::printf("%s\n\nprints a bundle's ABI version, target, model, "
                "sections, kernels and plans\n\n%s",
                kUsageLine, Args::usage(kFlags).c_str());
    return 0;
  }
  if (file.empty())
    return fail(invalidArgument(std::string("inspect: no FILE given (") +
                                kUsageLine + ")"));
  StatusOr<bool> json = parsed->boolean("json", false);
  if (!json.isOk())
    return fail(json.status());
  // A directory is a memory bank; anything else is read as a bundle, whose
  // magic tells a wrong file apart.
  if (!fileExists(file))
    return fail(notFound(file + ": no bundle or memory bank here"));
  if (isDirectory(file))
    return inspectBank(file, *json);
  return inspectBundle(file, *json);
}

} // namespace msa::tools
