//===- Bench.cpp - msa-run bench ------------------------------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Times the three stages of a compiled bundle (cpu or cuda) on synthetic
// documents and, on a smaller share of the same work, the reference
// backend: encode tokens/s (stage 1), routing time per router layer
// against the bytes of router keys it reads and the device's copy
// bandwidth (stage 2), prefill latency, and decode tokens/s (stage 3).
// Every figure is printed with its baseline and the ratio.
//
//===----------------------------------------------------------------------===//

#include "Args.h"
#include "Commands.h"

#include "msa/runtime/Backend.h"
#include "msa/runtime/Checkpoint.h"
#include "msa/runtime/CompiledModel.h"
#include "msa/runtime/Engine.h"
#include "msa/runtime/Json.h"
#include "msa/runtime/PlanDevice.h"
#include "msa/runtime/Prompt.h"
#include "msa/runtime/Random.h"
#include "msa/runtime/ThreadPool.h"
#include "msa/runtime/Tokenizer.h"

#include <chrono>
#include <cstdio>
#include <cstring>

namespace msa::tools {

using namespace msa::runtime;

namespace {

const std::vector<FlagSpec> kFlags = {
    {"model", "DIR", "checkpoint directory"},
    {"bundle", "FILE",
     "its bundle (msa-compile --model DIR --target T -o FILE)"},
    {"target", "T", "cpu or cuda: the bundle's target (checked)"},
    {"tokens", "N", "document tokens to encode (default 65536)"},
    {"doc-tokens", "N", "mean document length in tokens (default 512)"},
    {"reference-tokens", "N",
     "tokens the reference backend encodes for the ratio (default 1024; 0 "
     "skips the reference)"},
    {"query-tokens", "N", "question tokens, the last 3 of them template (default 64)"},
    {"bank-chunks", "N",
     "route and decode over a bank of N random chunks (documents of 16 "
     "chunks) instead of the encoded one; 0: the encoded bank (default)"},
    {"decode-steps", "N", "decode steps to time (default 32)"},
    {"threads", "N", "threads (default: one per core)"},
    {"gemm", "P", "blas (OpenBLAS, the default when built with it) or "
                  "builtin (msa's blocked loops)"},
    {"seed", "N", "seed of the synthetic documents (default 1)"},
    {"json", "", "print the results as one JSON object"},
    {"help", "", "show this help"},
};

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// This machine's memory copy bandwidth (bytes read + written per second),
/// the floor routing is measured against.
struct Encoded {
  PooledMemory memory;
  double seconds = 0;
  int64_t tokens = 0;
  /// FLOPs of the causal attention inside every segment (the template
  /// head and each document) over all layers: 2 L (L + 1) d H per
  /// segment and layer, the causal half of QKᵀ and PV.
  double attentionFlops = 0;
};

StatusOr<Encoded> encodeAll(Backend &backend, const ModelConfig &config,
                            const std::vector<int32_t> &head,
                            const std::vector<std::vector<int32_t>> &docs) {
  Encoded e;
  auto t0 = Clock::now();
  MSA_ASSIGN_OR_RETURN(e.memory, backend.encodeTemplate(head));
  const int64_t P = config.msa.poolingKernelSize, budget = 2048;
  auto segmentFlops = [&](int64_t len) {
    return 2.0 * static_cast<double>(len) * static_cast<double>(len + 1) *
           static_cast<double>(config.headDim * config.numHeads *
                               config.numLayers);
  };
  std::vector<std::vector<int32_t>> block;
  int64_t chunks = 0;
  auto flush = [&]() -> Status {
    if (block.empty())
      return Status::ok();
    e.attentionFlops += segmentFlops(static_cast<int64_t>(head.size()));
    MSA_ASSIGN_OR_RETURN(PooledMemory part, backend.encodeBlock(head, block));
    e.memory.append(part);
    block.clear();
    chunks = 0;
    return Status::ok();
  };
  for (const std::vector<int32_t> &d : docs) {
    e.attentionFlops += segmentFlops(static_cast<int64_t>(d.size()));
    int64_t c = (static_cast<int64_t>(d.size()) + P - 1) / P;
    if (!block.empty() && chunks + c > budget)
      MSA_RETURN_IF_ERROR(flush());
    block.push_back(d);
    chunks += c;
    e.tokens += static_cast<int64_t>(d.size());
  }
  MSA_RETURN_IF_ERROR(flush());
  e.seconds = since(t0);
  return e;
}

} // namespace

int runBench(int argc, char **argv) {
  StatusOr<Args> parsed = Args::parse("bench", kFlags, argc, argv, 2);
  if (!parsed.isOk())
    return fail(parsed.status());
  const Args &args = *parsed;
  if (args.has("help")) {
    std::printf("usage: msa-run bench --model DIR --bundle FILE [flags]\n\n%s",
                Args::usage(kFlags).c_str());
    return 0;
  }
  StatusOr<std::string> modelDir = args.required("model");
  StatusOr<std::string> bundlePath = args.required("bundle");
  if (!modelDir.isOk())
    return fail(modelDir.status());
  if (!bundlePath.isOk())
    return fail(bundlePath.status());
  auto num = [&](const char *flag, int64_t def, int64_t lo) {
    return args.integer(flag, def, lo, int64_t(1) << 40);
  };
  StatusOr<int64_t> tokens = num("tokens", 65536, 1),
                    docTokens = num("doc-tokens", 512, 1),
                    refTokens = num("reference-tokens", 1024, 0),
                    queryTokens = num("query-tokens", 64, 4),
                    steps = num("decode-steps", 32, 1),
                    threads = num("threads", 0, 0), seed = num("seed", 1, 0),
                    bankChunks = num("bank-chunks", 0, 0);
  for (const StatusOr<int64_t> *v : {&tokens, &docTokens, &refTokens,
                                     &queryTokens, &steps, &threads, &seed,
                                     &bankChunks})
    if (!v->isOk())
      return fail(v->status());

  StatusOr<std::unique_ptr<Checkpoint>> ckpt = Checkpoint::open(*modelDir);
  if (!ckpt.isOk())
    return fail(ckpt.status());
  const ModelConfig &c = (*ckpt)->config();
  StatusOr<std::unique_ptr<Tokenizer>> tok =
      Tokenizer::load((*ckpt)->tokenizerPath());
  if (!tok.isOk())
    return fail(tok.status());
  std::vector<int32_t> head = templateHead(**tok);
  ThreadPool pool(static_cast<unsigned>(*threads));
  std::string gemm = args.get("gemm").value_or("blas");
  if (gemm != "blas" && gemm != "builtin")
    return fail(invalidArgument("bench: --gemm must be blas or builtin, got '" +
                                gemm + "'"));
  StatusOr<std::unique_ptr<Backend>> compiled =
      makeCompiledBackend(*bundlePath, **ckpt, pool, gemm == "builtin");
  if (!compiled.isOk())
    return fail(compiled.status());
  if (std::optional<std::string> target = args.get("target");
      target && *target != (*compiled)->name())
    return fail(invalidArgument("bench: " + *bundlePath + " is compiled for " +
                                (*compiled)->name() + ", not --target " +
                                *target));

  // Synthetic documents of random byte tokens, lengths around the mean.
  Rng rng(static_cast<uint64_t>(*seed));
  auto makeDocs = [&](int64_t total) {
    std::vector<std::vector<int32_t>> docs;
    for (int64_t left = total; left > 0;) {
      int64_t n = std::min<int64_t>(
          left, std::max<int64_t>(1, *docTokens / 2 + rng.uniformInt(0, *docTokens)));
      std::vector<int32_t> d(static_cast<size_t>(n));
      for (int32_t &t : d)
        t = static_cast<int32_t>(rng.uniformInt(0, 255));
      docs.push_back(std::move(d));
      left -= n;
    }
    return docs;
  };
  std::vector<std::vector<int32_t>> docs = makeDocs(*tokens);
  // The question's tokens route; the last three are the template's turn
  // markers, as in a chat prompt.
  PromptRow row;
  int64_t routingTokens = 0;
  for (int64_t i = 0; i < *queryTokens; ++i) {
    routingTokens += i + 3 < *queryTokens;
    row.tokens.push_back(static_cast<int32_t>(rng.uniformInt(0, 255)));
    row.roles.push_back(i + 3 < *queryTokens ? kRoleRouting : kRoleTemplate);
  }

  JsonValue out = JsonValue::object();
  out.set("device", (*compiled)->name());
  out.set("threads", static_cast<int64_t>(pool.size()));
  out.set("gemm", gemmProviderName(**compiled));
  out.set("tokens", *tokens);

  // Stage 1, then the same documents again with every step waited for:
  // the time of each kernel and of the GEMMs.
  StatusOr<Encoded> enc = encodeAll(**compiled, c, head, docs);
  if (!enc.isOk())
    return fail(enc.status());
  double encodeRate = enc->tokens / enc->seconds;
  JsonValue encode = JsonValue::object();
  encode.set("tokens", enc->tokens);
  encode.set("seconds", enc->seconds);
  encode.set("tokens_per_s", encodeRate);
  PlanTimings *timings = planTimings(**compiled);
  PlanTimings before = *timings;
  setPlanProfiling(**compiled, true);
  if (StatusOr<Encoded> again = encodeAll(**compiled, c, head, docs);
      !again.isOk())
    return fail(again.status());
  setPlanProfiling(**compiled, false);
  JsonValue kernels = JsonValue::object();
  for (const auto &[op, seconds] : timings->byOp)
    kernels.set(op, seconds - before.byOp[op]);
  kernels.set("gemm", timings->gemmSeconds - before.gemmSeconds);
  double attentionSeconds =
      timings->byOp["msa.encode_docs"] - before.byOp["msa.encode_docs"];
  encode.set("kernel_seconds", std::move(kernels));
  encode.set("attention_flops", enc->attentionFlops);
  encode.set("attention_tflops",
             attentionSeconds > 0 ? enc->attentionFlops / attentionSeconds / 1e12
                                  : 0.0);

  std::unique_ptr<Backend> reference;
  double refEncodeRate = 0;
  if (*refTokens > 0) {
    StatusOr<std::unique_ptr<Backend>> r = makeReferenceBackend(**ckpt);
    if (!r.isOk())
      return fail(r.status());
    reference = std::move(*r);
    Rng refRng(static_cast<uint64_t>(*seed) + 1);
    std::swap(rng, refRng);
    std::vector<std::vector<int32_t>> refDocs = makeDocs(*refTokens);
    std::swap(rng, refRng);
    StatusOr<Encoded> re = encodeAll(*reference, c, head, refDocs);
    if (!re.isOk())
      return fail(re.status());
    refEncodeRate = re->tokens / re->seconds;
    encode.set("reference_tokens", re->tokens);
    encode.set("reference_tokens_per_s", refEncodeRate);
    encode.set("ratio", encodeRate / refEncodeRate);
  }
  out.set("encode", std::move(encode));

  if (*bankChunks > 0) {
    // A bank as large as asked without encoding it: random keys and values
    // (uniform in [-1, 1), bf16 or f32) cost only their bytes.
    const int64_t perDoc = 16;
    PooledMemory &m = enc->memory;
    m.numChunks = *bankChunks;
    m.docChunkOffsets.assign(1, 0);
    for (int64_t c = perDoc; c < *bankChunks; c += perDoc)
      m.docChunkOffsets.push_back(static_cast<int32_t>(c));
    m.docChunkOffsets.push_back(static_cast<int32_t>(*bankChunks));
    uint64_t state = static_cast<uint64_t>(*seed) * 0x9E3779B97F4A7C15ull + 1;
    auto random = [&]() {
      Tensor t =
          Tensor::allocate(c.dtype, {c.numKvHeads, *bankChunks, c.headDim});
      int64_t n = t.numel();
      pool.parallelFor(n, [&](int64_t i0, int64_t i1) {
        uint64_t x = state ^ (static_cast<uint64_t>(i0) * 0xD1B54A32D192ED03ull);
        for (int64_t i = i0; i < i1; ++i) {
          x ^= x << 13;
          x ^= x >> 7;
          x ^= x << 17;
          t.setF32(i, static_cast<float>(x >> 40) / float(1 << 23) - 1.0f);
        }
      });
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      return t;
    };
    for (size_t r = 0; r < m.keys.size(); ++r) {
      m.keys[r] = random();
      m.values[r] = random();
      if (r < m.routerKeys.size() && m.routerKeys[r].data)
        m.routerKeys[r] = random();
    }
  }

  // Stage 2: prefill over the whole bank; routing time per router layer.
  // Per-kernel times need each step waited for on devices that queue.
  setPlanProfiling(**compiled, true);
  double routeBefore = timings->byOp["msa.route_topk"];
  int reps = 3;
  double prefillSeconds = 1e30;
  std::unique_ptr<Session> session;
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    StatusOr<std::unique_ptr<Session>> s = (*compiled)->prefill(enc->memory, row);
    if (!s.isOk())
      return fail(s.status());
    prefillSeconds = std::min(prefillSeconds, since(t0));
    session = std::move(*s);
  }
  double routePerLayer = (timings->byOp["msa.route_topk"] - routeBefore) /
                         (reps * std::max<int64_t>(1, c.numRouterLayers()));
  int64_t keyBytes = c.numKvHeads * enc->memory.numChunks * c.headDim *
                     static_cast<int64_t>(dtypeSize(c.dtype));
  setPlanProfiling(**compiled, false);
  StatusOr<double> measured = planDevice(**compiled)->copyBandwidth();
  if (!measured.isOk())
    return fail(measured.status());
  double bandwidth = *measured;
  JsonValue route = JsonValue::object();
  route.set("chunks", enc->memory.numChunks);
  route.set("routing_tokens", routingTokens);
  route.set("documents", enc->memory.numDocs());
  route.set("seconds_per_layer", routePerLayer);
  route.set("key_bytes_per_layer", keyBytes);
  route.set("gb_per_s", keyBytes / routePerLayer / 1e9);
  route.set("copy_gb_per_s", bandwidth / 1e9);
  route.set("fraction_of_copy_bandwidth", keyBytes / routePerLayer / bandwidth);
  out.set("route", std::move(route));
  JsonValue prefill = JsonValue::object();
  prefill.set("query_tokens", *queryTokens);
  prefill.set("seconds", prefillSeconds);

  // Stage 3.
  auto t0 = Clock::now();
  for (int64_t i = 0; i < *steps; ++i) {
    Status s = (*compiled)->decode(enc->memory, *session,
                                   {argmax(session->logits)}, {1});
    if (!s.isOk())
      return fail(s);
  }
  double decodeRate = *steps / since(t0);
  JsonValue decode = JsonValue::object();
  decode.set("steps", *steps);
  decode.set("tokens_per_s", decodeRate);
  // Where a step's time goes: a few more steps, each kernel and GEMM waited
  // for, so the rest of the step is the host's (plan interpretation and
  // launching).
  {
    const int64_t profiled = std::min<int64_t>(*steps, 8);
    PlanTimings before = *timings;
    setPlanProfiling(**compiled, true);
    auto p0 = Clock::now();
    for (int64_t i = 0; i < profiled; ++i) {
      Status s = (*compiled)->decode(enc->memory, *session,
                                     {argmax(session->logits)}, {1});
      if (!s.isOk())
        return fail(s);
    }
    double step = since(p0) / profiled;
    setPlanProfiling(**compiled, false);
    double gemm = (timings->gemmSeconds - before.gemmSeconds) / profiled;
    double kernels =
        (timings->launchSeconds - before.launchSeconds) / profiled;
    double attention = (timings->byOp["msa.memory_attention"] -
                        before.byOp["msa.memory_attention"]) /
                       profiled;
    // The K/V bytes memory_attention reads in a step: per layer the
    // template, the cache (prompt and tokens so far) and, in router
    // layers, the selected documents' chunks; the cache at the profiled
    // steps' middle.
    const int64_t cacheRows =
        static_cast<int64_t>(row.tokens.size()) + *steps + profiled / 2;
    const double rowBytes = 2.0 * static_cast<double>(c.numKvHeads) *
                            static_cast<double>(c.headDim) *
                            static_cast<double>(dtypeSize(c.dtype));
    double kvBytes = 0;
    for (int64_t l = 0; l < c.numLayers; ++l) {
      int64_t entries = enc->memory.templateLen + cacheRows;
      int64_t r = c.routerIndex(l);
      if (r >= 0 && r < static_cast<int64_t>(session->selected.size()))
        for (int32_t doc : session->selected[static_cast<size_t>(r)])
          entries += enc->memory.docChunkOffsets[doc + 1] -
                     enc->memory.docChunkOffsets[doc];
      kvBytes += static_cast<double>(entries) * rowBytes;
    }
    JsonValue split = JsonValue::object();
    split.set("step_seconds", step);
    split.set("gemm_seconds", gemm);
    split.set("memory_attention_seconds", attention);
    split.set("other_kernel_seconds", kernels - attention);
    split.set("host_seconds", std::max(0.0, step - gemm - kernels));
    split.set("memory_attention_kv_bytes", kvBytes);
    split.set("memory_attention_gb_per_s",
              attention > 0 ? kvBytes / attention / 1e9 : 0.0);
    decode.set("profiled_step", std::move(split));
  }

  if (reference) {
    // The reference's stage 2 and 3 over the same bank.
    auto r0 = Clock::now();
    StatusOr<std::unique_ptr<Session>> rs = reference->prefill(enc->memory, row);
    if (!rs.isOk())
      return fail(rs.status());
    double refPrefill = since(r0);
    prefill.set("reference_seconds", refPrefill);
    prefill.set("ratio", refPrefill / prefillSeconds);
    int64_t refSteps = std::min<int64_t>(*steps, 4);
    r0 = Clock::now();
    for (int64_t i = 0; i < refSteps; ++i) {
      Status s = reference->decode(enc->memory, **rs, {argmax((*rs)->logits)},
                                   {1});
      if (!s.isOk())
        return fail(s);
    }
    double refDecode = refSteps / since(r0);
    decode.set("reference_tokens_per_s", refDecode);
    decode.set("ratio", decodeRate / refDecode);
  }
  out.set("prefill", std::move(prefill));
  out.set("decode", std::move(decode));

  if (args.has("json")) {
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  const JsonValue &e = *out.find("encode"), &r = *out.find("route"),
                  &p = *out.find("prefill"), &d = *out.find("decode");
  std::printf("model: %lld layers, hidden %lld, %lld/%lld heads x %lld, "
              "P=%lld, k=%lld, %s; device %s, %u threads; GEMM %s\n",
              (long long)c.numLayers, (long long)c.hiddenSize,
              (long long)c.numHeads, (long long)c.numKvHeads,
              (long long)c.headDim, (long long)c.msa.poolingKernelSize,
              (long long)c.msa.docTopK, dtypeName(c.dtype),
              (*compiled)->name(), pool.size(),
              gemmProviderName(**compiled));
  std::printf("encode:  %lld tokens, %.1f tokens/s compiled", (long long)enc->tokens,
              encodeRate);
  if (reference)
    std::printf("; reference %.1f tokens/s on %lld tokens; ratio %.1fx",
                refEncodeRate, (long long)e.find("reference_tokens")->asInt(),
                e.find("ratio")->asNumber());
  if (const JsonValue *attention =
          e.find("kernel_seconds")->find("msa.encode_docs"))
    std::printf("\n         encode_docs (attention, RoPE, pooling) %.3f ms "
                "for %.3g attention FLOPs = %.3g TFLOP/s; GEMMs %.3f s (steps "
                "waited for one by one)",
                1e3 * attention->asNumber(),
                e.find("attention_flops")->asNumber(),
                e.find("attention_tflops")->asNumber(),
                e.find("kernel_seconds")->find("gemm")->asNumber());
  else
    // A model whose only layer is the last: the bank takes its K and V,
    // and nothing reads its attention, so the compiler dropped it.
    std::printf("\n         no encode attention (no layer reads one); GEMMs "
                "%.3f s (steps waited for one by one)",
                e.find("kernel_seconds")->find("gemm")->asNumber());
  std::printf("\nroute:   %lld chunks, %lld routing tokens, %.3f ms per router "
              "layer reading %.2f MB of router keys = %.2f GB/s; copy "
              "bandwidth %.2f GB/s; %.1f%%\n",
              (long long)enc->memory.numChunks,
              (long long)r.find("routing_tokens")->asNumber(),
              r.find("seconds_per_layer")->asNumber() * 1e3, keyBytes / 1e6,
              r.find("gb_per_s")->asNumber(), r.find("copy_gb_per_s")->asNumber(),
              100 * r.find("fraction_of_copy_bandwidth")->asNumber());
  std::printf("prefill: %lld query tokens, %.2f ms compiled", (long long)*queryTokens,
              prefillSeconds * 1e3);
  if (reference)
    std::printf("; reference %.2f ms; ratio %.1fx",
                p.find("reference_seconds")->asNumber() * 1e3,
                p.find("ratio")->asNumber());
  std::printf("\ndecode:  %.1f tokens/s compiled", decodeRate);
  if (reference)
    std::printf("; reference %.2f tokens/s; ratio %.1fx",
                d.find("reference_tokens_per_s")->asNumber(),
                d.find("ratio")->asNumber());
  if (const JsonValue *split = d.find("profiled_step"))
    std::printf("\n         a step waited for kernel by kernel: %.3f ms = "
                "GEMMs %.3f + memory_attention %.3f + other kernels %.3f + "
                "host %.3f; memory_attention reads %.3g MB of K/V a step: "
                "%.1f GB/s",
                1e3 * split->find("step_seconds")->asNumber(),
                1e3 * split->find("gemm_seconds")->asNumber(),
                1e3 * split->find("memory_attention_seconds")->asNumber(),
                1e3 * split->find("other_kernel_seconds")->asNumber(),
                1e3 * split->find("host_seconds")->asNumber(),
                split->find("memory_attention_kv_bytes")->asNumber() / 1e6,
                split->find("memory_attention_gb_per_s")->asNumber());
  std::printf("\n");
  return 0;
}

} // namespace msa::tools
