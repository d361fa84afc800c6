//===- Ask.cpp - msa-run ask ----------------------------------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Encodes documents (stage 1), routes a question in every router layer
// (stage 2) and decodes the answer (stage 3); prints the selected documents
// per router layer, the answer and the timings, or all of it as JSON.
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
    {"corpus", "FILE", "documents: .jsonl ({\"id\", \"text\"} per line) or "
                       "plain text (blank-line separated)"},
    {"doc", "TEXT", "a document (repeatable; instead of --corpus)", true},
    {"question", "TEXT", "the question"},
    {"max-new-tokens", "N", "decode at most N tokens (default 32)"},
    {"backend", "NAME", "reference (C++ oracle) or cpu (compiled bundle)"},
    {"bundle", "FILE", "the .msab bundle of the cpu backend"},
    {"threads", "N", "threads of the cpu backend (default: one per core)"},
    {"json", "", "print the result as one JSON object"},
    {"help", "", "show this help"},
};

double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

std::string idList(const std::vector<int32_t> &ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i)
    s += (i ? ", " : "") + std::to_string(ids[i]);
  return s + "]";
}

} // namespace

int runAsk(int argc, char **argv) {
  StatusOr<Args> parsed = Args::parse("ask", kFlags, argc, argv, 2);
  if (!parsed.isOk())
    return fail(parsed.status());
  const Args &args = *parsed;
  if (args.has("help")) {
    std::printf("usage: msa-run ask --model DIR (--corpus FILE | --doc TEXT...) "
                "--question TEXT [flags]\n\n%s",
                Args::usage(kFlags).c_str());
    return 0;
  }
  EngineOptions options;
  options.backend = args.get("backend").value_or("reference");
  options.bundle = args.get("bundle").value_or("");
  StatusOr<int64_t> threads = args.integer("threads", 0, 0, 4096);
  if (!threads.isOk())
    return fail(threads.status());
  options.threads = static_cast<unsigned>(*threads);
  const std::string &backend = options.backend;
  StatusOr<std::string> modelDir = args.required("model");
  if (!modelDir.isOk())
    return fail(modelDir.status());
  StatusOr<std::string> question = args.required("question");
  if (!question.isOk())
    return fail(question.status());
  StatusOr<int64_t> maxNew = args.integer("max-new-tokens", 32, 0, 1 << 20);
  if (!maxNew.isOk())
    return fail(maxNew.status());

  std::vector<Document> docs;
  if (std::optional<std::string> corpus = args.get("corpus")) {
    if (args.has("doc"))
      return fail(invalidArgument("ask: give --corpus or --doc, not both"));
    StatusOr<std::vector<Document>> read = readCorpus(*corpus);
    if (!read.isOk())
      return fail(read.status());
    docs = std::move(read).value();
  } else {
    for (const std::string &t : args.getAll("doc"))
      docs.push_back({"", t});
    if (docs.empty())
      return fail(invalidArgument("ask: no documents (give --corpus or --doc)"));
  }

  auto t0 = std::chrono::steady_clock::now();
  StatusOr<std::unique_ptr<Engine>> engine = Engine::open(*modelDir, options);
  if (!engine.isOk())
    return fail(engine.status());
  double loadSeconds = secondsSince(t0);

  t0 = std::chrono::steady_clock::now();
  StatusOr<PooledMemory> memory = (*engine)->encode(docs);
  if (!memory.isOk())
    return fail(memory.status());
  double encodeSeconds = secondsSince(t0);

  t0 = std::chrono::steady_clock::now();
  StatusOr<Answer> answer = (*engine)->ask(*memory, *question, *maxNew);
  if (!answer.isOk())
    return fail(answer.status());
  double askSeconds = secondsSince(t0);

  const ModelConfig &c = (*engine)->config();
  if (args.has("json")) {
    JsonValue out = JsonValue::object();
    out.set("backend", backend);
    out.set("documents", static_cast<int64_t>(docs.size()));
    out.set("chunks", memory->numChunks);
    out.set("question", *question);
    JsonValue layers = JsonValue::array();
    for (size_t r = 0; r < answer->selected.size(); ++r) {
      JsonValue l = JsonValue::object();
      l.set("layer", c.msa.routerLayers[r]);
      JsonValue sel = JsonValue::array();
      for (int32_t d : answer->selected[r])
        sel.push(static_cast<int64_t>(d));
      l.set("selected", std::move(sel));
      layers.push(std::move(l));
    }
    out.set("routing", std::move(layers));
    JsonValue toks = JsonValue::array();
    for (int32_t t : answer->tokens)
      toks.push(static_cast<int64_t>(t));
    out.set("tokens", std::move(toks));
    out.set("answer", answer->text);
    out.set("stopped_at_eos", answer->stoppedAtEos);
    JsonValue timing = JsonValue::object();
    timing.set("load_s", loadSeconds);
    timing.set("encode_s", encodeSeconds);
    timing.set("ask_s", askSeconds);
    out.set("timings", std::move(timing));
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }

  std::printf("backend: %s; %zu documents, %lld chunks (P=%lld, k=%lld)\n",
              backend.c_str(), docs.size(),
              static_cast<long long>(memory->numChunks),
              static_cast<long long>(c.msa.poolingKernelSize),
              static_cast<long long>(c.msa.docTopK));
  std::printf("question: %s\n", question->c_str());
  for (size_t r = 0; r < answer->selected.size(); ++r)
    std::printf("router layer %lld: selected documents %s\n",
                static_cast<long long>(c.msa.routerLayers[r]),
                idList(answer->selected[r]).c_str());
  std::printf("tokens: %s%s\n", idList(answer->tokens).c_str(),
              answer->stoppedAtEos ? " <eos>" : "");
  JsonValue text(answer->text);
  std::printf("answer: %s\n", text.dump().c_str());
  std::printf("timings: load %.3f s, encode %.3f s, route+prefill+decode "
              "%.3f s\n",
              loadSeconds, encodeSeconds, askSeconds);
  return 0;
}

} // namespace msa::tools
