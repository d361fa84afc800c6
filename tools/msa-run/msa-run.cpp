//===- msa-run.cpp - the msa runtime's command-line tool ------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// make-model, encode, ask, bench, inspect (design.md §7). Every error is one
// line on stderr naming the input and the problem, with a non-zero exit.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include <cstdio>
#include <cstring>
#include <string>

namespace {

const char *kUsage =
    "usage: msa-run <command> [flags]\n"
    "\n"
    "commands:\n"
    "  make-model   write a random-weight MSA checkpoint (config.json,\n"
    "               model.safetensors, tokenizer.json)\n"
    "  encode       encode a corpus into a memory bank (stage 1)\n"
    "  ask          route questions over a bank (or documents) and answer\n"
    "  inspect      print a bundle (manifest, kernels, plans) or a memory bank\n"
    "  bench        time the stages of a compiled bundle against the "
    "reference\n"
    "\n"
    "msa-run <command> --help lists a command's flags.\n";

} // namespace

namespace msa::tools {

int fail(const runtime::Status &status) {
  std::fprintf(stderr, "msa-run: %s\n", status.message().c_str());
  return 1;
}

} // namespace msa::tools

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 1;
  }
  std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (cmd == "make-model")
    return msa::tools::runMakeModel(argc, argv);
  if (cmd == "encode")
    return msa::tools::runEncode(argc, argv);
  if (cmd == "ask")
    return msa::tools::runAsk(argc, argv);
  if (cmd == "inspect")
    return msa::tools::runInspect(argc, argv);
  if (cmd == "bench")
    return msa::tools::runBench(argc, argv);
  std::fprintf(stderr, "msa-run: unknown command '%s' (try msa-run --help)\n",
               cmd.c_str());
  return 1;
}
