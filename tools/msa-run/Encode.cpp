//===- Encode.cpp - msa-run encode ----------------------------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Encodes a corpus into a memory bank (stage 1), committing every block as
// it is done: a killed encode continues where it stopped when run again,
// and --append adds a corpus to an existing bank. On a terminal a progress
// bar shows tokens/s and the time left; otherwise it is quiet.
//
//===----------------------------------------------------------------------===//

#include "Args.h"
#include "Commands.h"

#include "msa/runtime/Engine.h"

#include <cstdio>
#include <unistd.h>

namespace msa::tools {

using namespace msa::runtime;

namespace {

const std::vector<FlagSpec> kFlags = {
    {"model", "DIR", "checkpoint directory"},
    {"corpus", "FILE", "documents: .jsonl ({\"id\", \"text\"} per line) or "
                       "plain text (blank-line separated)"},
    {"bank", "DIR", "memory bank to create, continue or extend"},
    {"append", "", "add the corpus's documents after the bank's"},
    {"backend", "NAME",
     "reference, cpu or cuda (default: the bundle's target when --bundle is "
     "given)"},
    {"bundle", "FILE", "the .msab bundle of the cpu or cuda backend"},
    {"threads", "N", "threads of the cpu backend (default: one per core)"},
    {"help", "", "show this help"},
};

void showProgress(const EncodeProgress &p) {
  double rate = p.seconds > 0 ? p.tokensDone / p.seconds : 0;
  double eta = rate > 0 ? (p.tokensTotal - p.tokensDone) / rate : 0;
  double pct = p.tokensTotal ? 100.0 * p.tokensDone / p.tokensTotal : 100.0;
  std::fprintf(stderr,
               "\rencoding %5.1f%%  %lld/%lld documents  %lld/%lld tokens  "
               "%.0f tokens/s  ETA %.0f s   ",
               pct, (long long)p.docsDone, (long long)p.docsTotal,
               (long long)p.tokensDone, (long long)p.tokensTotal, rate, eta);
  std::fflush(stderr);
}

} // namespace

int runEncode(int argc, char **argv) {
  StatusOr<Args> parsed = Args::parse("encode", kFlags, argc, argv, 2);
  if (!parsed.isOk())
    return fail(parsed.status());
  const Args &args = *parsed;
  if (args.has("help")) {
    std::printf("usage: msa-run encode --model DIR --corpus FILE --bank DIR "
                "[flags]\n\n%s",
                Args::usage(kFlags).c_str());
    return 0;
  }
  StatusOr<std::string> model = args.required("model");
  StatusOr<std::string> corpus = args.required("corpus");
  StatusOr<std::string> bank = args.required("bank");
  for (const StatusOr<std::string> *v : {&model, &corpus, &bank})
    if (!v->isOk())
      return fail(v->status());
  EngineOptions options;
  options.bundle = args.get("bundle").value_or("");
  options.backend =
      args.get("backend").value_or(options.bundle.empty() ? "reference"
                                                          : "compiled");
  StatusOr<int64_t> threads = args.integer("threads", 0, 0, 4096);
  if (!threads.isOk())
    return fail(threads.status());
  options.threads = static_cast<unsigned>(*threads);

  StatusOr<std::vector<Document>> docs = readCorpus(*corpus);
  if (!docs.isOk())
    return fail(docs.status());
  StatusOr<std::unique_ptr<Engine>> engine = Engine::open(*model, options);
  if (!engine.isOk())
    return fail(engine.status());
  bool tty = isatty(STDERR_FILENO);
  StatusOr<EncodeReport> report = (*engine)->encodeToBank(
      *docs, *bank, args.has("append"),
      tty ? ProgressFn(showProgress) : ProgressFn());
  if (tty)
    std::fprintf(stderr, "\n");
  if (!report.isOk())
    return fail(report.status());
  if (report->newDocs == 0) {
    std::printf("%s: nothing to encode, the bank already holds all %lld "
                "documents of %s\n",
                bank->c_str(), (long long)report->skippedDocs, corpus->c_str());
    return 0;
  }
  std::printf("%s: encoded %lld documents, %lld tokens, %lld chunks in %.2f s "
              "(%.0f tokens/s, backend %s)%s\n",
              bank->c_str(), (long long)report->newDocs,
              (long long)report->newTokens, (long long)report->newChunks,
              report->seconds, report->newTokens / report->seconds,
              (*engine)->backend().name(),
              report->skippedDocs
                  ? (", after " + std::to_string(report->skippedDocs) +
                     " already in the bank")
                        .c_str()
                  : "");
  return 0;
}

} // namespace msa::tools
