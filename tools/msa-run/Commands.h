//===- Commands.h - the subcommands of msa-run ------------------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_TOOLS_MSARUN_COMMANDS_H
#define MSA_TOOLS_MSARUN_COMMANDS_H

#include "msa/runtime/Status.h"

namespace msa::tools {

/// Each returns the process exit code; errors are printed as one line.
int runMakeModel(int argc, char **argv);
int runAsk(int argc, char **argv);
int runEncode(int argc, char **argv);
int runInspect(int argc, char **argv);
int runBench(int argc, char **argv);

/// Prints "msa-run <command>: <message>" to stderr and returns 1.
int fail(const runtime::Status &status);

} // namespace msa::tools

#endif // MSA_TOOLS_MSARUN_COMMANDS_H
