//===- Ask.cpp - msa-run ask ----------------------------------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Routes questions over a memory bank (or documents given inline, encoded on
// the spot) in every router layer (stage 2) and decodes the answers
// (stage 3); prints, per question, the documents selected in each router
// layer, the answer and the timings, or all of it as JSON. With
// --interleave each question runs Memory Interleave (§8.3): every call's
// routing, generated ids and appended documents, then the answer.
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
    {"max-new-tokens", "N",
     "decode at most N tokens (default 32; with --interleave, per call, "
     "default 2048)"},
    {"interleave", "", "Memory Interleave: generate document ids, append "
                       "their texts and route again until the answer"},
    {"max-rounds", "N", "with --interleave: at most N calls (default 8)"},
    {"no-reuse", "",
     "with --interleave: prefill every call from scratch, as the reference "
     "does (default: reuse the shared prefix below the first router layer, "
     "docs/interleave-reuse.md)"},
    {"force-tokens", "TEXT",
     "forced decoding: the tokens of TEXT (special tokens recognised) "
     "replace the model's first generated tokens (with --interleave, "
     "consumed across the calls)"},
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

const char *endName(InterleaveCall::End e) {
  switch (e) {
  case InterleaveCall::End::kEvidence:
    return "evidence";
  case InterleaveCall::End::kQuestion:
    return "end-of-retrieve";
  case InterleaveCall::End::kResponseCap:
    return "response-cap";
  case InterleaveCall::End::kEos:
    return "eos";
  case InterleaveCall::End::kTokenLimit:
    return "token-limit";
  }
  return "?";
}

JsonValue idArray(const std::vector<int32_t> &v) {
  JsonValue a = JsonValue::array();
  for (int32_t x : v)
    a.push(static_cast<int64_t>(x));
  return a;
}

/// Runs and prints Memory Interleave for every question: each call's
/// routing, generated text and block, then the answer (or all of it,
/// transcripts included, as JSON).
int printInterleave(Engine &engine, const PooledMemory &memory,
                    const std::vector<std::string> &texts,
                    const std::vector<BankDocument> &docs,
                    const std::vector<std::string> &questions,
                    const InterleaveOptions &options,
                    const std::string &memorySource, bool json) {
  const ModelConfig &c = engine.config();
  JsonValue results = JsonValue::array();
  if (!json)
    std::printf("backend: %s; %s: %lld documents, %lld chunks (P=%lld, "
                "k=%lld); memory interleave, at most %lld calls\n",
                engine.backend().name(), memorySource.c_str(),
                (long long)memory.numDocs(), (long long)memory.numChunks,
                (long long)c.msa.poolingKernelSize, (long long)c.msa.docTopK,
                (long long)options.maxRounds);
  for (const std::string &q : questions) {
    auto t0 = Clock::now();
    StatusOr<InterleaveResult> r = engine.interleave(memory, texts, q, options);
    if (!r.isOk())
      return fail(r.status());
    double seconds = secondsSince(t0);
    JsonValue calls = JsonValue::array();
    if (!json)
      std::printf("question: %s\n", q.c_str());
    for (size_t i = 0; i < r->calls.size(); ++i) {
      const InterleaveCall &call = r->calls[i];
      JsonValue jc = JsonValue::object();
      JsonValue layers = JsonValue::array();
      for (size_t l = 0; l < call.selected.size(); ++l) {
        JsonValue layer = JsonValue::object();
        layer.set("layer", c.msa.routerLayers[l]);
        layer.set("selected", idArray(call.selected[l]));
        layers.push(std::move(layer));
        if (!json) {
          std::string list;
          for (int32_t d : call.selected[l])
            list += (list.empty() ? "" : ", ") + docLabel(d, docs);
          std::printf("call %zu: router layer %lld: selected documents [%s]\n",
                      i + 1, (long long)c.msa.routerLayers[l], list.c_str());
        }
      }
      jc.set("routing", std::move(layers));
      jc.set("prompt_tokens", call.promptTokens);
      jc.set("reused_tokens", call.reusedTokens);
      jc.set("generated", call.idText);
      jc.set("generated_tokens", idArray(call.idTokens));
      jc.set("end", endName(call.end));
      JsonValue appended = JsonValue::array();
      for (int64_t d : call.documents)
        appended.push(d);
      jc.set("appended_documents", std::move(appended));
      jc.set("block", call.block);
      jc.set("answer_text", call.answerText);
      jc.set("answer_tokens", idArray(call.answerTokens));
      calls.push(std::move(jc));
      if (!json) {
        std::printf("call %zu: generated %s (%s)\n", i + 1,
                    JsonValue(call.idText).dump().c_str(), endName(call.end));
        if (call.end == InterleaveCall::End::kEvidence) {
          std::string list;
          for (int64_t d : call.documents)
            list += (list.empty() ? "" : ", ") +
                    docLabel(static_cast<int32_t>(d), docs);
          std::printf("call %zu: appended documents [%s]\n", i + 1,
                      list.c_str());
        } else if (call.end == InterleaveCall::End::kQuestion) {
          std::printf("call %zu: question block, then %s\n", i + 1,
                      JsonValue(call.answerText).dump().c_str());
        } else if (!call.answerText.empty()) {
          std::printf("call %zu: then %s\n", i + 1,
                      JsonValue(call.answerText).dump().c_str());
        }
      }
    }
    if (json) {
      JsonValue jr = JsonValue::object();
      jr.set("question", q);
      jr.set("calls", std::move(calls));
      jr.set("transcript", r->transcript);
      jr.set("answer", r->answer ? JsonValue(*r->answer) : JsonValue());
      jr.set("hit_max_rounds", r->hitMaxRounds);
      jr.set("seconds", seconds);
      results.push(std::move(jr));
    } else {
      std::printf("answer: %s%s\n",
                  r->answer ? JsonValue(*r->answer).dump().c_str() : "(none)",
                  r->hitMaxRounds ? " (stopped at --max-rounds)" : "");
      std::printf("time: %.3f s (%zu calls)\n", seconds, r->calls.size());
    }
  }
  if (json) {
    JsonValue out = JsonValue::object();
    out.set("backend", engine.backend().name());
    out.set("memory", memorySource);
    out.set("documents", memory.numDocs());
    out.set("chunks", memory.numChunks);
    out.set("interleave", std::move(results));
    std::printf("%s\n", out.dump().c_str());
  }
  return 0;
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
  const bool interleaving = args.has("interleave");
  StatusOr<int64_t> maxNew = args.integer("max-new-tokens",
                                          interleaving ? 2048 : 32,
                                          interleaving ? 1 : 0, 1 << 20);
  StatusOr<int64_t> maxRounds = args.integer("max-rounds", 8, 1, 1 << 20);
  if (!maxRounds.isOk())
    return fail(maxRounds.status());
  if (args.has("max-rounds") && !interleaving)
    return fail(invalidArgument("ask: --max-rounds needs --interleave"));
  if (args.has("no-reuse") && !interleaving)
    return fail(invalidArgument("ask: --no-reuse needs --interleave"));
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

  if (std::optional<std::string> forced = args.get("force-tokens"))
    generation.forcedTokens = (*engine)->encodeText(*forced);
  if (interleaving) {
    InterleaveOptions io;
    io.generation = generation;
    io.maxRounds = *maxRounds;
    io.maxCallTokens = *maxNew;
    io.reusePrefix = !args.has("no-reuse");
    std::vector<std::string> texts;
    for (const BankDocument &d : bankDocs)
      texts.push_back(d.text);
    return printInterleave(**engine, *memory, texts, bankDocs, questions, io,
                           memorySource, args.has("json"));
  }

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
