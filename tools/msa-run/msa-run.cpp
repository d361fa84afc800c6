//===- msa-run.cpp - the msa runtime's command-line tool ------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include <cstdio>
#include <cstring>

int main(int argc, char **argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help")) {
    std::printf("usage: msa-run <command> [options]\n");
    return argc < 2 ? 1 : 0;
  }
  std::fprintf(stderr, "msa-run: unknown command '%s'\n", argv[1]);
  return 1;
}
