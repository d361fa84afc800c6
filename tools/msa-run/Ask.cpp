//===- Ask.cpp - msa-run ask ----------------------------------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Routes questions over a memory bank (or documents given inline, encoded on
// the spot) in every router layer (stage 2) and decodes the answers
// (stage 3); prints, per question, the documents selected in each router
// layer, the answer and the timings, or all of it as JSON.
//
//===----------------------------------------------------------------------===//

#include "Args.h"
#include "Commands.h"

#include "msa/runtime/Corpus.h"
#include "msa/runtime/Engine.h"
#include "msa/runtime/Json.h"

#include <chrono>
#include <cstdio>

namespace msa::tools {

using namespace msa::runtime;

namespace {

const std::vector<FlagSpec> kFlags = {
    {"model", "DIR", "checkpoint directory"},
    {"bank", "DIR", "memory bank made by msa-run encode"},
    {"corpus", "FILE", "documents to encode first instead of a bank: .jsonl "
                       "or plain text (blank-line separated)"},
    {"doc", "TEXT", "a document (repeatable; instead of a bank)", true},
    {"question", "TEXT", "a question (repeatable: a batch)", true},
    {"max-new-tokens", "N", "decode at most N tokens (default 32)"},
    {"temperature", "T", "0 (default): greedy; otherwise sample"},
    {"top-p", "P", "nucleus of the sampling (default 1)"},
    {"seed", "N", "seed of the sampling (default 0)"},
    {"backend", "NAME",
     "reference, cpu or cuda (default: the bundle's target when --bundle is "
     "given)"},
    {"bundle", "FILE", "the .msab bundle of the cpu or cuda backend"},
    {"threads", "N", "threads of the cpu backend (default: one per core)"},
    {"json", "", "print the results as one JSON object"},
    {"help", "", "show this help"},
};

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string docLabel(int32_t d, const std::vector<BankDocument> &docs) {
  if (d >= 0 && d < static_cast<int32_t>(docs.size()) && !docs[d].id.empty())
    return std::to_string(d) + " (" + docs[d].id + ")";
  return std::to_string(d);
}

} // namespace

int runAsk(int argc, char **argv) {
  StatusOr<Args> parsed = Args::parse("ask", kFlags, argc, argv, 2);
  if (!parsed.isOk())
    return fail(parsed.status());
  const Args &args = *parsed;
  if (args.has("help")) {
    std::printf("usage: msa-run ask --model DIR (--bank DIR | --corpus FILE | "
                "--doc TEXT...) --question TEXT... [flags]\n\n%s",
                Args::usage(kFlags).c_str());
    return 0;
  }
  EngineOptions options;
  options.bundle = args.get("bundle").value_or("");
  options.backend =
      args.get("backend").value_or(options.bundle.empty() ? "reference"
                                                          : "compiled");
  StatusOr<int64_t> threads = args.integer("threads", 0, 0, 4096);
  StatusOr<int64_t> maxNew = args.integer("max-new-tokens", 32, 0, 1 << 20);
  StatusOr<int64_t> seed = args.integer("seed", 0, 0, INT64_MAX);
  StatusOr<double> temperature = args.number("temperature", 0.0);
  StatusOr<double> topP = args.number("top-p", 1.0);
  for (const Status *s : {&threads.status(), &maxNew.status(), &seed.status(),
                          &temperature.status(), &topP.status()})
    if (!s->isOk())
      return fail(*s);
  if (*temperature < 0 || *topP <= 0 || *topP > 1)
    return fail(invalidArgument(
        "ask: --temperature must be >= 0 and --top-p in (0, 1]"));
  options.threads = static_cast<unsigned>(*threads);
  GenerationOptions generation;
  generation.maxNewTokens = *maxNew;
  generation.temperature = *temperature;
  generation.topP = *topP;
  generation.seed = static_cast<uint64_t>(*seed);

  StatusOr<std::string> modelDir = args.required("model");
  if (!modelDir.isOk())
    return fail(modelDir.status());
  std::vector<std::string> questions = args.getAll("question");
  if (questions.empty())
    return fail(invalidArgument("ask: --question is required"));
  int sources = args.has("bank") + args.has("corpus") + args.has("doc");
  if (sources != 1)
    return fail(invalidArgument(
        "ask: give exactly one of --bank, --corpus or --doc"));

  auto t0 = Clock::now();
  StatusOr<std::unique_ptr<Engine>> engine = Engine::open(*modelDir, options);
  if (!engine.isOk())
    return fail(engine.status());
  double loadSeconds = secondsSince(t0);

  t0 = Clock::now();
  StatusOr<PooledMemory> memory = Status();
  std::vector<BankDocument> bankDocs;
  std::string memorySource;
  if (std::optional<std::string> bank = args.get("bank")) {
    memory = (*engine)->loadBank(*bank, &bankDocs);
    memorySource = "bank " + *bank;
  } else {
    std::vector<Document> docs;
    if (std::optional<std::string> corpus = args.get("corpus")) {
      StatusOr<std::vector<Document>> read = readCorpus(*corpus);
      if (!read.isOk())
        return fail(read.status());
      docs = std::move(read).value();
      memorySource = "corpus " + *corpus;
    } else {
      for (const std::string &t : args.getAll("doc"))
        docs.push_back({"", t});
      memorySource = "documents given inline";
    }
    for (const Document &d : docs)
      bankDocs.push_back({d.id, d.text, 0, 0});
    memory = (*engine)->encode(docs);
  }
  if (!memory.isOk())
    return fail(memory.status());
  double memorySeconds = secondsSince(t0);

  const ModelConfig &c = (*engine)->config();
  JsonValue results = JsonValue::array();
  std::vector<std::pair<Answer, double>> answers;
  for (const std::string &q : questions) {
    t0 = Clock::now();
    StatusOr<Answer> a = (*engine)->ask(*memory, q, generation);
    if (!a.isOk())
      return fail(a.status());
    answers.push_back({std::move(a).value(), secondsSince(t0)});
  }

  if (args.has("json")) {
    JsonValue out = JsonValue::object();
    out.set("backend", (*engine)->backend().name());
    out.set("memory", memorySource);
    out.set("documents", memory->numDocs());
    out.set("chunks", memory->numChunks);
    for (size_t i = 0; i < questions.size(); ++i) {
      const Answer &a = answers[i].first;
      JsonValue r = JsonValue::object();
      r.set("question", questions[i]);
      JsonValue layers = JsonValue::array();
      for (size_t l = 0; l < a.selected.size(); ++l) {
        JsonValue layer = JsonValue::object();
        layer.set("layer", c.msa.routerLayers[l]);
        JsonValue sel = JsonValue::array();
        for (int32_t d : a.selected[l])
          sel.push(static_cast<int64_t>(d));
        layer.set("selected", std::move(sel));
        layers.push(std::move(layer));
      }
      r.set("routing", std::move(layers));
      JsonValue toks = JsonValue::array();
      for (int32_t t : a.tokens)
        toks.push(static_cast<int64_t>(t));
      r.set("tokens", std::move(toks));
      r.set("answer", a.text);
      r.set("stopped_at_eos", a.stoppedAtEos);
      r.set("seconds", answers[i].second);
      results.push(std::move(r));
    }
    out.set("answers", std::move(results));
    JsonValue timing = JsonValue::object();
    timing.set("load_s", loadSeconds);
    timing.set(args.has("bank") ? "bank_load_s" : "encode_s", memorySeconds);
    out.set("timings", std::move(timing));
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }

  std::printf("backend: %s; %s: %lld documents, %lld chunks (P=%lld, k=%lld)\n",
              (*engine)->backend().name(), memorySource.c_str(),
              (long long)memory->numDocs(), (long long)memory->numChunks,
              (long long)c.msa.poolingKernelSize, (long long)c.msa.docTopK);
  for (size_t i = 0; i < questions.size(); ++i) {
    const Answer &a = answers[i].first;
    std::printf("question: %s\n", questions[i].c_str());
    for (size_t l = 0; l < a.selected.size(); ++l) {
      std::string list;
      for (int32_t d : a.selected[l])
        list += (list.empty() ? "" : ", ") + docLabel(d, bankDocs);
      std::printf("router layer %lld: selected documents [%s]\n",
                  (long long)c.msa.routerLayers[l], list.c_str());
    }
    std::string toks;
    for (int32_t t : a.tokens)
      toks += (toks.empty() ? "" : ", ") + std::to_string(t);
    std::printf("tokens: [%s]%s\n", toks.c_str(),
                a.stoppedAtEos ? " <eos>" : "");
    JsonValue text(a.text);
    std::printf("answer: %s\n", text.dump().c_str());
    std::printf("time: %.3f s (route, prefill and %zu decode steps)\n",
                answers[i].second, a.tokens.size());
  }
  std::printf("timings: load %.3f s, %s %.3f s\n", loadSeconds,
              args.has("bank") ? "bank load" : "encode", memorySeconds);
  return 0;
}

} // namespace msa::tools
