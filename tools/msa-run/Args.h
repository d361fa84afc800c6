//===- Args.h - command-line flags of msa-run -------------------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// `--name value` and `--name=value` flags with typed getters. Every flag a
// subcommand reads is declared, so an unknown or misspelt flag is an error,
// never silently ignored.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_TOOLS_MSARUN_ARGS_H
#define MSA_TOOLS_MSARUN_ARGS_H

#include "msa/runtime/Status.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace msa::tools {

using runtime::Status;
using runtime::StatusOr;

/// One declared flag.
struct FlagSpec {
  std::string name;      ///< Without dashes.
  std::string valueName; ///< Empty for boolean switches.
  std::string help;
  bool repeatable = false;
};

class Args {
public:
  /// Parses argv[first..] against `specs`; `command` names the subcommand
  /// in errors ("msa-run make-model: unknown flag --hiden").
  static StatusOr<Args> parse(const std::string &command,
                              const std::vector<FlagSpec> &specs, int argc,
                              char **argv, int first);

  bool has(const std::string &name) const;
  /// The last value of a flag, or nullopt.
  std::optional<std::string> get(const std::string &name) const;
  /// Every value of a repeatable flag, in order.
  std::vector<std::string> getAll(const std::string &name) const;

  StatusOr<std::string> required(const std::string &name) const;
  StatusOr<int64_t> integer(const std::string &name, int64_t fallback,
                            int64_t min, int64_t max) const;
  StatusOr<double> number(const std::string &name, double fallback) const;
  /// A switch (`--x`) or `--x=true|false`.
  StatusOr<bool> boolean(const std::string &name, bool fallback) const;

  /// The help text of `specs`, one flag per line.
  static std::string usage(const std::vector<FlagSpec> &specs);

private:
  std::string command_;
  std::map<std::string, std::vector<std::string>> values_;
};

} // namespace msa::tools

#endif // MSA_TOOLS_MSARUN_ARGS_H
