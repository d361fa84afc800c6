//===- TestTarget.h - which target the compiled suites run on ---*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The compiled suites run on the cpu by default. The GPU machine has no
// MLIR, so for cuda they run in two halves (scripts/gpu-build.sh and
// scripts/gpu-check.sh):
//   MSA_TEST_TARGET=cuda:sm_90   the target to compile for and run on;
//   MSA_TEST_BUNDLE_DIR=DIR      where bundles are kept between machines;
//   MSA_TEST_COMPILE_ONLY=1      (build machine) compile every bundle into
//                                DIR and skip the runs;
//   MSA_TEST_PREBUILT=1          (GPU machine) never run msa-compile: take
//                                DIR's bundle, which must have been made
//                                from the same source.
// A bundle's source (its IR, or the model's config.json) is stored beside
// it as STEM.source, so a stale bundle is an error, not a silent mismatch.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_TEST_COMPILED_TESTTARGET_H
#define MSA_TEST_COMPILED_TESTTARGET_H

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#ifndef MSA_TOOLS_DIR
#error "MSA_TOOLS_DIR must name the directory that holds msa-compile"
#endif

namespace msa::test {

inline std::string envOr(const char *name, const std::string &fallback) {
  const char *v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

/// "cpu" or "cuda:sm_90".
inline std::string testTarget() { return envOr("MSA_TEST_TARGET", "cpu"); }

/// The Engine backend of testTarget(): "cpu" or "cuda".
inline std::string testBackend() {
  std::string t = testTarget();
  return t.substr(0, t.find(':'));
}

inline bool compileOnly() { return !envOr("MSA_TEST_COMPILE_ONLY", "").empty(); }
inline bool prebuilt() { return !envOr("MSA_TEST_PREBUILT", "").empty(); }

inline std::string slurp(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The bundle for `stem` made from `source` by `msa-compile ARGS --target
/// T -o BUNDLE` (`args` names the input), in MSA_TEST_BUNDLE_DIR or
/// `scratch`; empty (and a test failure) if it cannot be had.
inline std::string bundleFor(const std::string &stem, const std::string &source,
                             const std::string &args,
                             const std::string &scratch) {
  std::string dir = envOr("MSA_TEST_BUNDLE_DIR", scratch);
  std::string bundle = dir + "/" + stem + ".msab";
  std::string sourceFile = dir + "/" + stem + ".source";
  if (prebuilt()) {
    if (slurp(sourceFile) != source) {
      ADD_FAILURE() << bundle << " is missing or was made from another source "
                    << "(run scripts/gpu-build.sh again)";
      return "";
    }
    return bundle;
  }
  std::string log = dir + "/" + stem + ".log";
  std::string cmd = std::string(MSA_TOOLS_DIR) + "/msa-compile " + args +
                    " --target " + testTarget() + " -o " + bundle + " 2> " +
                    log;
  int rc = std::system(cmd.c_str());
  if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
    ADD_FAILURE() << "msa-compile failed (status " << rc << "): " << cmd
                  << "\n"
                  << slurp(log);
    return "";
  }
  std::ofstream(sourceFile, std::ios::binary) << source;
  return bundle;
}

} // namespace msa::test

#endif // MSA_TEST_COMPILED_TESTTARGET_H
