//===- msa-compile.cpp - checkpoint or .mlir to an .msab bundle -----------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
//   msa-compile --model DIR --target cpu -o model.msab
//   msa-compile --model DIR --target cuda:sm_90 -o model.msab
//   msa-compile in.mlir --target cpu -o out.msab
//
// Imports the model's config into the graph IR of its entry functions (or
// reads hand-written IR), fuses and outlines kernels, extracts the execution
// plans, lowers the kernels to machine code (a shared object for cpu; PTX
// and, with ptxas, a cubin for cuda) and writes the bundle.
// `--emit=STAGE` stops after a stage and prints it; MLIR's
// `--mlir-print-ir-after=PASS` prints the IR after any pass.
//
//===----------------------------------------------------------------------===//

#include "msa/Codegen/CpuTarget.h"
#include "msa/Codegen/CudaTarget.h"
#include "msa/Codegen/KernelConfig.h"
#include "msa/Codegen/Passes.h"
#include "msa/Codegen/ModelImporter.h"
#include "msa/Codegen/PlanExtraction.h"
#include "msa/InitAll.h"
#include "msa/Passes/Pipelines.h"

#include "msa/runtime/ArtifactFormat.h"
#include "msa/runtime/Bundle.h"
#include "msa/runtime/FileUtil.h"
#include "msa/runtime/ModelConfig.h"
#include "msa/runtime/Prompt.h"
#include "msa/runtime/Tokenizer.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace rt = msa::runtime;

namespace {

llvm::cl::opt<std::string> inputFile(llvm::cl::Positional,
                                     llvm::cl::desc("[input.mlir]"),
                                     llvm::cl::init(""));
llvm::cl::opt<std::string> modelDir("model",
                                    llvm::cl::desc("Checkpoint directory"),
                                    llvm::cl::value_desc("DIR"));
llvm::cl::opt<std::string> outputFile("o", llvm::cl::desc("Output file"),
                                      llvm::cl::value_desc("FILE"),
                                      llvm::cl::init("-"));
llvm::cl::opt<std::string> target("target",
                                  llvm::cl::desc("cpu or cuda:sm_90"),
                                  llvm::cl::init("cpu"));
llvm::cl::opt<std::string>
    cpuName("cpu", llvm::cl::desc("LLVM CPU of the cpu target, or native"),
            llvm::cl::init("x86-64-v3"));
llvm::cl::opt<std::string> linker("linker",
                                  llvm::cl::desc("C driver that links the "
                                                 "kernels' shared object"),
                                  llvm::cl::init("cc"));
llvm::cl::opt<std::string>
    ptxasPath("ptxas",
              llvm::cl::desc("ptxas that assembles the cuda cubin (default: "
                             "$CUDA_HOME/bin, /usr/local/cuda/bin, PATH)"),
              llvm::cl::value_desc("PATH"));

llvm::cl::opt<std::string> tileOverrides(
    "tiles",
    llvm::cl::desc("Tiles instead of the tile table's, for experiments: "
                   "op:key=value[,key=value...][;op:...], e.g. "
                   "route_topk:threads=512"),
    llvm::cl::value_desc("OVERRIDES"));
llvm::cl::opt<int64_t> routeBlocks(
    "route-blocks",
    llvm::cl::desc("Candidate blocks of the fused routing kernel instead of "
                   "the tile table's"),
    llvm::cl::init(0));

enum class Emit {
  Graph,
  Fused,
  Kernels,
  Loops,
  Gpu,
  Llvm,
  LlvmIr,
  Asm,
  Ptx,
  Bundle
};
llvm::cl::opt<Emit> emit(
    "emit", llvm::cl::desc("Stop after a stage and print it"),
    llvm::cl::init(Emit::Bundle),
    llvm::cl::values(
        clEnumValN(Emit::Graph, "graph", "msa graph IR (after import)"),
        clEnumValN(Emit::Fused, "fused",
                   "msa IR after fusion and kernel formation"),
        clEnumValN(Emit::Kernels, "kernels",
                   "entry functions of dispatches and outlined kernels"),
        clEnumValN(Emit::Loops, "loops", "kernels lowered to scf/vector (cpu)"),
        clEnumValN(Emit::Gpu, "gpu", "kernels as gpu.func thread blocks (cuda)"),
        clEnumValN(Emit::Llvm, "llvm", "kernels in the LLVM dialect"),
        clEnumValN(Emit::LlvmIr, "llvm-ir", "optimised LLVM IR (cpu)"),
        clEnumValN(Emit::Asm, "asm", "assembly of the kernels (cpu)"),
        clEnumValN(Emit::Ptx, "ptx", "PTX of the kernels (cuda)"),
        clEnumValN(Emit::Bundle, "bundle", "the .msab bundle (default)")));

int fail(const std::string &message) {
  llvm::errs() << "msa-compile: " << message << "\n";
  return 1;
}

/// Writes text output to -o (stdout by default).
int writeText(const std::string &text) {
  std::string err;
  auto out = openOutputFile(outputFile, &err);
  if (!out)
    return fail(err);
  out->os() << text;
  out->keep();
  return 0;
}

int printModule(ModuleOp module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os);
  return writeText(text);
}

/// The cpu kernels to a shared object in `writer`; returns an exit code
/// when it stops early (an --emit stage or an error), else -1.
int lowerCpu(ModuleOp module, rt::JsonValue &manifest,
             rt::BundleWriter &writer) {
  {
    PassManager pm(module.getContext());
    if (failed(applyPassManagerCLOptions(pm)))
      return 1;
    if (emit == Emit::Loops) {
      pm.addPass(msa::createMsaLowerKernelsToLoopsPass());
      if (failed(pm.run(module)))
        return 1;
      return printModule(module);
    }
    msa::codegen::buildCpuLowerToLlvmPipeline(pm);
    if (failed(pm.run(module)))
      return 1;
  }
  if (emit == Emit::Llvm)
    return printModule(module);

  msa::codegen::CpuTargetOptions options{cpuName, "x86_64-unknown-linux-gnu",
                                         3, linker};
  llvm::LLVMContext llvmContext;
  FailureOr<std::unique_ptr<llvm::Module>> ir =
      msa::codegen::translateToLlvmIr(module, llvmContext, options);
  if (failed(ir))
    return 1;
  if (emit == Emit::LlvmIr) {
    std::string text;
    llvm::raw_string_ostream os(text);
    (*ir)->print(os, nullptr);
    return writeText(text);
  }
  FailureOr<std::string> code =
      msa::codegen::emitMachineCode(**ir, options, emit == Emit::Asm);
  if (failed(code))
    return fail("machine code emission failed for '" + options.triple + "'");
  if (emit == Emit::Asm)
    return writeText(*code);

  std::string linkError;
  FailureOr<std::vector<uint8_t>> so =
      msa::codegen::linkSharedObject(*code, options, linkError);
  if (failed(so))
    return fail(linkError);
  rt::JsonValue t = rt::JsonValue::object();
  t.set("name", "cpu");
  t.set("triple", options.triple);
  t.set("cpu", msa::codegen::resolveCpuName(options));
  manifest.set("target", std::move(t));
  if (rt::Status s = writer.addSection(rt::artifact::kCpuObjectSection,
                                       std::move(*so));
      !s.isOk())
    return fail(s.message());
  return -1;
}

/// The cuda kernels to PTX and, with ptxas, a cubin in `writer`; returns an
/// exit code when it stops early, else -1.
int lowerCuda(ModuleOp module, rt::JsonValue &manifest,
              rt::BundleWriter &writer) {
  msa::codegen::CudaTargetOptions options;
  options.chip = target.getValue().substr(std::string("cuda:").size());
  {
    PassManager pm(module.getContext());
    if (failed(applyPassManagerCLOptions(pm)))
      return 1;
    msa::codegen::buildCudaLowerToNvvmPipeline(pm, options);
    if (failed(pm.run(module)))
      return 1;
  }
  if (emit == Emit::Llvm)
    return printModule(module);
  FailureOr<std::string> ptx = msa::codegen::serializeToPtx(module, options);
  if (failed(ptx))
    return 1;
  if (emit == Emit::Ptx)
    return writeText(*ptx);

  rt::JsonValue t = rt::JsonValue::object();
  t.set("name", "cuda");
  t.set("triple", "nvptx64-nvidia-cuda");
  t.set("chip", options.chip);
  manifest.set("target", std::move(t));
  std::string ptxas = msa::codegen::findPtxas(ptxasPath);
  if (!ptxasPath.empty() && !llvm::sys::fs::can_execute(ptxasPath))
    return fail("--ptxas " + ptxasPath + ": not an executable");
  if (ptxas.empty()) {
    // PTX alone is a complete bundle: the driver compiles it when loading.
    llvm::errs() << "msa-compile: warning: no ptxas found (give --ptxas or "
                    "install the CUDA toolkit); the bundle holds PTX only\n";
  } else {
    std::string error, log;
    FailureOr<std::vector<uint8_t>> cubin =
        msa::codegen::assembleCubin(*ptx, ptxas, options, error, log);
    if (failed(cubin))
      return fail(error);
    if (rt::Status s = writer.addSection(rt::artifact::kCudaCubinSection,
                                         std::move(*cubin));
        !s.isOk())
      return fail(s.message());
  }
  if (rt::Status s = writer.addSection(
          rt::artifact::kCudaPtxSection,
          std::vector<uint8_t>(ptx->begin(), ptx->end()));
      !s.isOk())
    return fail(s.message());
  return -1;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerAsmPrinterCLOptions();
  msa::registerAllPasses();
  llvm::cl::ParseCommandLineOptions(
      argc, argv, "msa-compile: MSA checkpoints or msa IR to .msab bundles\n");

  const bool cuda = target.getValue().rfind("cuda:", 0) == 0;
  msa::codegen::TargetInfo info;
  if (!msa::codegen::TargetInfo::parse(target, cpuName, info))
    return fail("unknown target '" + target +
                "' (targets: cpu, cuda:sm_90)");
  if (cuda && (emit == Emit::Loops || emit == Emit::LlvmIr || emit == Emit::Asm))
    return fail("--emit=" + std::string(emit.getValue() == Emit::Loops ? "loops"
                                        : emit.getValue() == Emit::LlvmIr
                                            ? "llvm-ir"
                                            : "asm") +
                " is a cpu stage; cuda stops after graph, fused, kernels, gpu, "
                "llvm or ptx");
  if (!cuda && (emit == Emit::Gpu || emit == Emit::Ptx))
    return fail(std::string("--emit=") +
                (emit.getValue() == Emit::Gpu ? "gpu" : "ptx") +
                " is a cuda stage; cpu stops after graph, fused, kernels, "
                "loops, llvm, llvm-ir or asm");
  if (modelDir.empty() == inputFile.empty())
    return fail("give either --model DIR or an input .mlir file");

  DialectRegistry registry;
  msa::registerAllDialects(registry);
  registry.insert<LLVM::LLVMDialect>();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  OwningOpRef<ModuleOp> module;
  rt::JsonValue modelJson;
  // Lives for the whole compile so that diagnostics of every later pass
  // print as file:line:col with the source line.
  llvm::SourceMgr sourceMgr;
  std::unique_ptr<SourceMgrDiagnosticHandler> handler;
  if (!modelDir.empty()) {
    rt::StatusOr<rt::ModelConfig> config =
        rt::ModelConfig::load(rt::joinPath(modelDir, "config.json"));
    if (!config.isOk())
      return fail(config.status().message());
    rt::StatusOr<std::unique_ptr<rt::Tokenizer>> tok =
        rt::Tokenizer::load(rt::joinPath(modelDir, "tokenizer.json"));
    if (!tok.isOk())
      return fail(tok.status().message());
    int64_t templateLen =
        static_cast<int64_t>(rt::templateHead(**tok).size());
    module = msa::codegen::importModel(&context, *config, templateLen);
    modelJson = config->toJson();
  } else {
    std::string err;
    auto file = openInputFile(inputFile, &err);
    if (!file)
      return fail(err);
    sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
    handler = std::make_unique<SourceMgrDiagnosticHandler>(sourceMgr, &context);
    module = parseSourceFile<ModuleOp>(sourceMgr, &context);
    if (!module)
      return 1; // the parser reported file:line:col
  }
  if (failed(verify(*module)))
    return 1;
  if (emit == Emit::Graph)
    return printModule(*module);

  msa::PipelineOptions pipelineOptions;
  pipelineOptions.target = target;
  pipelineOptions.tileOverrides = tileOverrides;
  if (routeBlocks < 0)
    return fail("--route-blocks " + std::to_string(routeBlocks) +
                " is negative");
  pipelineOptions.routeBlocks = routeBlocks;
  pipelineOptions.cpu = msa::codegen::resolveCpuName(
      msa::codegen::CpuTargetOptions{cpuName, "x86_64-unknown-linux-gnu", 3,
                                     linker});
  {
    PassManager pm(&context);
    if (failed(applyPassManagerCLOptions(pm)))
      return 1;
    if (emit == Emit::Fused) {
      msa::buildFusionPipeline(pm, pipelineOptions);
      if (failed(pm.run(*module)))
        return 1;
      return printModule(*module);
    }
    msa::buildGraphToKernelsPipeline(pm, pipelineOptions);
    if (cuda)
      pm.addPass(msa::createMsaLowerKernelsToGpuPass());
    if (failed(pm.run(*module)))
      return 1;
  }
  if (emit == Emit::Kernels || emit == Emit::Gpu)
    return printModule(*module);

  FailureOr<msa::codegen::ExtractedPlans> plans =
      msa::codegen::extractPlans(*module);
  if (failed(plans))
    return 1;
  // Entry functions live on as plans; only kernels become machine code (on
  // cuda, the gpu.funcs: the kernel func.funcs only carried the manifest).
  for (auto fn : llvm::make_early_inc_range(module->getOps<func::FuncOp>()))
    if (cuda || !fn->hasAttr("msa.kernel"))
      fn.erase();

  rt::JsonValue manifest = rt::JsonValue::object();
  manifest.set("producer", "msa-compile 0.1");
  manifest.set("model", std::move(modelJson));
  manifest.set("kernels", std::move(plans->kernels));
  manifest.set("entries", std::move(plans->entries));
  rt::BundleWriter writer;
  if (cuda) {
    int rc = lowerCuda(*module, manifest, writer);
    if (rc != -1)
      return rc;
  } else {
    int rc = lowerCpu(*module, manifest, writer);
    if (rc != -1)
      return rc;
  }
  writer.setManifest(std::move(manifest));
  if (outputFile == "-")
    return fail("a bundle is binary: give -o FILE");
  if (rt::Status s = writer.write(outputFile); !s.isOk())
    return fail(s.message());
  // The written bundle must pass the runtime's own validation.
  rt::StatusOr<std::unique_ptr<rt::Bundle>> check = rt::Bundle::open(outputFile);
  if (!check.isOk())
    return fail("the bundle written fails validation: " +
                check.status().message());
  return 0;
}
