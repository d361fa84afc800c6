//===- Args.cpp - command-line flags of msa-run ---------------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "Args.h"

#include <cerrno>
#include <cstdlib>

namespace msa::tools {

using namespace msa::runtime;

StatusOr<Args> Args::parse(const std::string &command,
                           const std::vector<FlagSpec> &specs, int argc,
                           char **argv, int first) {
  Args args;
  args.command_ = command;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0)
      return invalidArgument(command + ": unexpected argument '" + arg +
                             "' (flags start with --)");
    std::string name = arg.substr(2), value;
    bool hasValue = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      hasValue = true;
    }
    const FlagSpec *spec = nullptr;
    for (const FlagSpec &s : specs)
      if (s.name == name)
        spec = &s;
    if (!spec)
      return invalidArgument(command + ": unknown flag --" + name);
    if (!spec->valueName.empty() && !hasValue) {
      if (i + 1 >= argc)
        return invalidArgument(command + ": --" + name + " needs a value (" +
                               spec->valueName + ")");
      value = argv[++i];
      hasValue = true;
    }
    if (!spec->repeatable && args.values_.count(name))
      return invalidArgument(command + ": --" + name + " given twice");
    args.values_[name].push_back(hasValue ? value : "true");
  }
  return args;
}

bool Args::has(const std::string &name) const { return values_.count(name); }

std::optional<std::string> Args::get(const std::string &name) const {
  auto it = values_.find(name);
  if (it == values_.end())
    return std::nullopt;
  return it->second.back();
}

std::vector<std::string> Args::getAll(const std::string &name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

StatusOr<std::string> Args::required(const std::string &name) const {
  std::optional<std::string> v = get(name);
  if (!v || v->empty())
    return invalidArgument(command_ + ": --" + name + " is required");
  return *v;
}

StatusOr<int64_t> Args::integer(const std::string &name, int64_t fallback,
                                int64_t min, int64_t max) const {
  std::optional<std::string> v = get(name);
  if (!v)
    return fallback;
  errno = 0;
  char *end = nullptr;
  long long x = std::strtoll(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || errno == ERANGE || x < min || x > max)
    return invalidArgument(command_ + ": --" + name + " must be an integer in [" +
                           std::to_string(min) + ", " + std::to_string(max) +
                           "], got '" + *v + "'");
  return static_cast<int64_t>(x);
}

StatusOr<double> Args::number(const std::string &name, double fallback) const {
  std::optional<std::string> v = get(name);
  if (!v)
    return fallback;
  errno = 0;
  char *end = nullptr;
  double x = std::strtod(v->c_str(), &end);
  if (v->empty() || *end != '\0' || errno == ERANGE)
    return invalidArgument(command_ + ": --" + name +
                           " must be a number, got '" + *v + "'");
  return x;
}

StatusOr<bool> Args::boolean(const std::string &name, bool fallback) const {
  std::optional<std::string> v = get(name);
  if (!v)
    return fallback;
  if (*v == "true" || *v == "1")
    return true;
  if (*v == "false" || *v == "0")
    return false;
  return invalidArgument(command_ + ": --" + name +
                         " must be true or false, got '" + *v + "'");
}

std::string Args::usage(const std::vector<FlagSpec> &specs) {
  std::string out;
  for (const FlagSpec &s : specs) {
    std::string left = "  --" + s.name;
    if (!s.valueName.empty())
      left += " " + s.valueName;
    if (left.size() < 28)
      left.resize(28, ' ');
    else
      left += "  ";
    out += left + s.help + "\n";
  }
  return out;
}

} // namespace msa::tools
