//===- KernelTest.cpp - every compiled kernel against the reference -------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The per-kernel suite of the cpu and cuda targets (TestTarget.h). Each
// test writes hand-made graph IR for one kernel family (several functions
// per bundle, so one msa-compile run serves many shapes), compiles it, runs
// every entry on seeded random inputs through CompiledModel and compares
// with the reference kernels (msa/runtime/reference/Kernels.h) run with the
// same numerics on the same rounded inputs:
// - bf16 IR: ||out - ref|| / ||ref|| <= 1e-2;
// - f32 IR: ||out - ref|| / ||ref|| <= 1e-5;
// - integers (chunk offsets, embeddings, top-k selections): identical.
// Each test also checks which kernel ops its entries launch, so a fusion
// that silently stopped firing shows up as a failure, not as a test of the
// unfused kernel. The worst error of every family is printed at the end.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/CompiledModel.h"
#include "msa/runtime/Random.h"
#include "msa/runtime/Tensor.h"
#include "msa/runtime/ThreadPool.h"
#include "msa/runtime/reference/Kernels.h"

#include "TestTarget.h"

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

using namespace msa::runtime;
using msa::test::compileOnly;
namespace ref = msa::runtime::ref;

namespace {

//===----------------------------------------------------------------------===//
// Precision, inputs and comparisons
//===----------------------------------------------------------------------===//

/// An element type of the IR and how closely it must match the reference.
struct Precision {
  DType dtype;
  const char *mlir;
  double tolerance;
  ref::Numerics numerics() const { return ref::Numerics{dtype, true}; }
};

const Precision kBf16{DType::kBF16, "bf16", 1e-2};
const Precision kF32{DType::kF32, "f32", 1e-5};

/// `n` normal values with `mean` and `stddev`, rounded to `p`'s type.
std::vector<float> randomValues(Rng &rng, int64_t n, const Precision &p,
                                double stddev = 1.0, double mean = 0.0) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float &x : v) {
    x = static_cast<float>(mean + stddev * rng.normal());
    if (p.dtype == DType::kBF16)
      x = roundToBf16(x);
  }
  return v;
}

/// Each token valid with probability `p`.
std::vector<uint8_t> randomMask(Rng &rng, int64_t n, double p) {
  std::vector<uint8_t> m(static_cast<size_t>(n));
  for (uint8_t &x : m)
    x = rng.uniform() < p ? 1 : 0;
  return m;
}

/// Worst relative error and number of comparisons of one family.
struct ErrorStats {
  double worst = 0.0;
  int64_t checks = 0;
};

std::map<std::string, ErrorStats> &errorStats() {
  static std::map<std::string, ErrorStats> stats;
  return stats;
}

/// ||out - expected|| / ||expected|| (absolute when expected is all zero);
/// infinity when anything is not finite.
double relativeError(const std::vector<float> &out,
                     const std::vector<float> &expected) {
  double diff = 0.0, norm = 0.0;
  for (size_t i = 0; i < out.size(); ++i) {
    double d = static_cast<double>(out[i]) - static_cast<double>(expected[i]);
    diff += d * d;
    norm += static_cast<double>(expected[i]) * expected[i];
  }
  if (!std::isfinite(diff))
    return std::numeric_limits<double>::infinity();
  return norm > 0.0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

/// Expects `out` within `p`'s tolerance of `expected`; records the error
/// under `family`.
void expectClose(const std::string &family, const Precision &p,
                 const std::string &what, const std::vector<float> &out,
                 const std::vector<float> &expected) {
  ASSERT_EQ(out.size(), expected.size()) << what;
  double err = relativeError(out, expected);
  ErrorStats &s = errorStats()[family + " (" + p.mlir + ")"];
  s.worst = std::max(s.worst, err);
  ++s.checks;
  EXPECT_LE(err, p.tolerance) << what;
}

/// Records an exact comparison under `family` (error 0 or 1).
void recordExact(const std::string &family, bool equal) {
  ErrorStats &s = errorStats()[family];
  s.worst = std::max(s.worst, equal ? 0.0 : 1.0);
  ++s.checks;
}

std::string describe(const std::vector<int32_t> &v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

//===----------------------------------------------------------------------===//
// Tensors
//===----------------------------------------------------------------------===//

Tensor floats(const std::vector<float> &v, const Precision &p,
              std::vector<int64_t> shape) {
  return fromF32(v, p.dtype, std::move(shape));
}

Tensor ints(const std::vector<int32_t> &v, std::vector<int64_t> shape) {
  Tensor t = Tensor::allocate(DType::kI32, std::move(shape));
  std::copy(v.begin(), v.end(), t.as<int32_t>());
  return t;
}

Tensor ints(const std::vector<int32_t> &v) {
  return ints(v, {static_cast<int64_t>(v.size())});
}

Tensor scalar(int32_t v) { return ints({v}, {}); }

/// An i1 tensor as the runtime passes it: i8 0/1.
Tensor mask(const std::vector<uint8_t> &v) {
  Tensor t = Tensor::allocate(DType::kI8, {static_cast<int64_t>(v.size())});
  for (size_t i = 0; i < v.size(); ++i)
    t.as<int8_t>()[i] = v[i] ? 1 : 0;
  return t;
}

std::vector<int32_t> intsOf(const Tensor &t) {
  return std::vector<int32_t>(t.as<int32_t>(), t.as<int32_t>() + t.numel());
}

//===----------------------------------------------------------------------===//
// IR text
//===----------------------------------------------------------------------===//

/// "tensor<?x4x16xbf16>" from {-1, 4, 16} (-1 is a dynamic dimension).
std::string ty(const std::vector<int64_t> &shape, const std::string &elem) {
  std::string s = "tensor<";
  for (int64_t d : shape)
    s += (d < 0 ? std::string("?") : std::to_string(d)) + "x";
  return s + elem + ">";
}

std::string quoted(const std::string &s) { return "\"" + s + "\""; }

/// {msa.name = "name", msa.dims = [...]}.
std::string attrs(const std::string &name,
                  const std::vector<std::string> &dims) {
  std::string s = "{msa.name = " + quoted(name);
  if (!dims.empty()) {
    s += ", msa.dims = [";
    for (size_t i = 0; i < dims.size(); ++i)
      s += (i ? ", " : "") + quoted(dims[i]);
    s += "]";
  }
  return s + "}";
}

/// An MLIR float literal.
std::string fp(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6e", v);
  return buf;
}

/// One entry function under construction.
class Func {
public:
  explicit Func(std::string name) : name_(std::move(name)) {}

  /// Adds an input named `name`; returns its SSA value.
  std::string arg(const std::string &name, const std::string &type,
                  const std::vector<std::string> &dims = {}) {
    std::string ssa = "%" + name;
    args_.push_back(ssa + ": " + type + " " + attrs(name, dims));
    return ssa;
  }
  void line(const std::string &text) { body_ += "  " + text + "\n"; }
  void result(const std::string &value, const std::string &type,
              const std::string &name,
              const std::vector<std::string> &dims = {}) {
    results_.push_back(type + " " + attrs(name, dims));
    values_.push_back(value);
    types_.push_back(type);
  }
  std::string text() const {
    auto join = [](const std::vector<std::string> &v) {
      std::string s;
      for (size_t i = 0; i < v.size(); ++i)
        s += (i ? ", " : "") + v[i];
      return s;
    };
    return "func.func @" + name_ + "(" + join(args_) + ") -> (" +
           join(results_) + ") {\n" + body_ + "  return " + join(values_) +
           " : " + join(types_) + "\n}\n\n";
  }

private:
  std::string name_, body_;
  std::vector<std::string> args_, results_, values_, types_;
};

//===----------------------------------------------------------------------===//
// Compiling and running
//===----------------------------------------------------------------------===//

/// Where this process writes its .mlir and .msab files.
const std::string &scratchDir() {
  static const std::string dir = [] {
    std::string tmpl = ::testing::TempDir() + "msa-kernel-test-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    const char *d = mkdtemp(buf.data());
    return d ? std::string(d) : std::string();
  }();
  return dir;
}

ThreadPool &pool() {
  // Two workers: kernels run split over work ranges, as on a real host.
  static ThreadPool p(2);
  return p;
}


/// Compiles `ir` with msa-compile for the test target (TestTarget.h) and
/// opens the bundle; nullptr (and a test failure) if either step fails,
/// nullptr alone in compile-only runs.
std::unique_ptr<CompiledModel> compile(const std::string &stem,
                                       const std::string &ir) {
  const std::string &dir = scratchDir();
  if (dir.empty()) {
    ADD_FAILURE() << "cannot create a scratch directory";
    return nullptr;
  }
  std::string mlir = dir + "/" + stem + ".mlir";
  {
    std::ofstream out(mlir);
    out << ir;
  }
  std::string bundle = msa::test::bundleFor(stem, ir, mlir, dir);
  if (bundle.empty() || compileOnly())
    return nullptr;
  StatusOr<std::unique_ptr<CompiledModel>> m =
      CompiledModel::openWithoutModel(bundle, pool());
  if (!m.isOk()) {
    ADD_FAILURE() << m.status().message();
    return nullptr;
  }
  return std::move(*m);
}

/// Compiles `ir` as `stem` into `var`: skips the test in compile-only runs
/// (TestTarget.h) and stops it if compiling failed.
#define COMPILE_OR_SKIP(var, stem, ir)                                         \
  std::unique_ptr<CompiledModel> var = compile(stem, ir);                      \
  if (compileOnly())                                                           \
    GTEST_SKIP() << "compile only";                                            \
  ASSERT_TRUE(var)

/// Runs `entry`; an empty map (and a test failure) on error.
CompiledModel::TensorMap
run(CompiledModel &m, const std::string &entry,
    const CompiledModel::TensorMap &inputs,
    const std::map<std::string, int64_t> &symbols = {}) {
  StatusOr<CompiledModel::TensorMap> r = m.run(entry, inputs, symbols);
  if (!r.isOk()) {
    ADD_FAILURE() << entry << ": " << r.status().message();
    return {};
  }
  return std::move(*r);
}

/// The output `name` as f32 values (empty, and a failure, if absent).
std::vector<float> output(const CompiledModel::TensorMap &out,
                          const std::string &name) {
  auto it = out.find(name);
  if (it == out.end()) {
    ADD_FAILURE() << "no output '" << name << "'";
    return {};
  }
  return toF32(it->second);
}

std::vector<int32_t> intOutput(const CompiledModel::TensorMap &out,
                               const std::string &name) {
  auto it = out.find(name);
  if (it == out.end()) {
    ADD_FAILURE() << "no output '" << name << "'";
    return {};
  }
  return intsOf(it->second);
}

/// The msa ops of the kernels `entry` launches, in order.
std::vector<std::string> launchedOps(const CompiledModel &m,
                                     const std::string &entry) {
  std::vector<std::string> ops;
  const PlanEntry *e = m.bundle().entry(entry);
  if (!e)
    return {"<no entry " + entry + ">"};
  for (const PlanStep &s : e->steps)
    if (s.kind == PlanStep::Kind::kLaunch)
      ops.push_back(m.bundle().kernels()[s.kernel].op);
  return ops;
}

using Ops = std::vector<std::string>;

/// Prints the error table and removes the scratch files (kept on failure).
class KernelTestEnvironment : public ::testing::Environment {
public:
  void TearDown() override {
    std::printf("[ errors ] family: worst ||out-ref||/||ref|| over N checks\n");
    for (const auto &[family, s] : errorStats())
      std::printf("[ errors ] %-40s %.3e  (N=%lld)\n", family.c_str(), s.worst,
                  static_cast<long long>(s.checks));
    const std::string &dir = scratchDir();
    if (dir.empty())
      return;
    if (::testing::UnitTest::GetInstance()->Passed()) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    } else {
      std::printf("[ errors ] IR and bundles kept in %s\n", dir.c_str());
    }
  }
};

[[maybe_unused]] ::testing::Environment *const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new KernelTestEnvironment);

/// Tokens x inner dims.
std::vector<int64_t> withTokens(int64_t tokens,
                                const std::vector<int64_t> &inner) {
  std::vector<int64_t> s{tokens};
  s.insert(s.end(), inner.begin(), inner.end());
  return s;
}

/// {"T", "", ...} for a tensor of rank `rank` with dynamic tokens.
std::vector<std::string> tokenDims(size_t rank, const std::string &t = "T") {
  std::vector<std::string> d(rank, "");
  d[0] = t;
  return d;
}

int64_t product(const std::vector<int64_t> &v) {
  return std::accumulate(v.begin(), v.end(), int64_t{1},
                         std::multiplies<int64_t>());
}

//===----------------------------------------------------------------------===//
// Row-wise kernels
//===----------------------------------------------------------------------===//

TEST(CompiledKernels, RmsNorm) {
  struct Case {
    std::string entry;
    Precision p;
    std::vector<int64_t> inner; ///< dims after tokens; the last is normalised
  };
  // Widths that take 8-, 4- and 1-lane vectors; rank 3 is the per-head
  // q_norm / k_norm.
  const std::vector<Case> cases = {
      {"rms2_bf16_64", kBf16, {64}},      {"rms2_bf16_36", kBf16, {36}},
      {"rms2_bf16_13", kBf16, {13}},      {"rms2_bf16_256", kBf16, {256}},
      {"rms3_bf16_4x16", kBf16, {4, 16}}, {"rms3_bf16_8x128", kBf16, {8, 128}},
      {"rms3_bf16_2x64", kBf16, {2, 64}}, {"rms2_f32_64", kF32, {64}},
      {"rms2_f32_13", kF32, {13}},        {"rms3_f32_4x16", kF32, {4, 16}}};
  std::string ir;
  for (const Case &c : cases) {
    Func f(c.entry);
    std::string xt = ty(withTokens(-1, c.inner), c.p.mlir);
    std::string wt = ty({c.inner.back()}, c.p.mlir);
    std::string x = f.arg("x", xt, tokenDims(c.inner.size() + 1));
    std::string w = f.arg("w", wt);
    f.line("%y = msa.rms_norm " + x + ", " + w + " epsilon = 1.0e-06 : (" + xt +
           ", " + wt + ") -> " + xt);
    f.result("%y", xt, "y");
    ir += f.text();
  }
  COMPILE_OR_SKIP(m, "rms_norm", ir);
  Rng rng(11);
  for (const Case &c : cases) {
    EXPECT_EQ(launchedOps(*m, c.entry), Ops{"msa.rms_norm"});
    const int64_t width = c.inner.back();
    for (int64_t tokens : {1, 5, 33}) {
      const int64_t rows = tokens * product(c.inner) / width;
      std::vector<float> x = randomValues(rng, rows * width, c.p, 2.0);
      std::vector<float> w = randomValues(rng, width, c.p, 0.25, 1.0);
      CompiledModel::TensorMap out =
          run(*m, c.entry,
              {{"x", floats(x, c.p, withTokens(tokens, c.inner))},
               {"w", floats(w, c.p, {width})}});
      std::vector<float> expected(x.size());
      ref::rmsNorm(x.data(), rows, width, w.data(), 1e-6, c.p.numerics(),
                   expected.data());
      expectClose("rms_norm", c.p, c.entry + " T=" + std::to_string(tokens),
                  output(out, "y"), expected);
    }
  }
}

TEST(CompiledKernels, SwiGlu) {
  struct Case {
    std::string entry;
    Precision p;
    int64_t width;
  };
  const std::vector<Case> cases = {{"swiglu_bf16_40", kBf16, 40},
                                   {"swiglu_bf16_128", kBf16, 128},
                                   {"swiglu_bf16_7", kBf16, 7},
                                   {"swiglu_f32_96", kF32, 96},
                                   {"swiglu_f32_5", kF32, 5}};
  std::string ir;
  for (const Case &c : cases) {
    Func f(c.entry);
    std::string t = ty({-1, c.width}, c.p.mlir);
    std::string g = f.arg("gate", t, {"T", ""});
    std::string u = f.arg("up", t, {"T", ""});
    f.line("%y = msa.swiglu " + g + ", " + u + " : (" + t + ", " + t + ") -> " +
           t);
    f.result("%y", t, "y");
    ir += f.text();
  }
  COMPILE_OR_SKIP(m, "swiglu", ir);
  Rng rng(12);
  for (const Case &c : cases) {
    EXPECT_EQ(launchedOps(*m, c.entry), Ops{"msa.swiglu"});
    for (int64_t tokens : {1, 9, 17}) {
      const int64_t n = tokens * c.width;
      // Wide gates reach silu's saturated tails on both sides.
      std::vector<float> gate = randomValues(rng, n, c.p, 3.0);
      std::vector<float> up = randomValues(rng, n, c.p, 1.0);
      CompiledModel::TensorMap out =
          run(*m, c.entry,
              {{"gate", floats(gate, c.p, {tokens, c.width})},
               {"up", floats(up, c.p, {tokens, c.width})}});
      std::vector<float> expected(static_cast<size_t>(n));
      ref::swiglu(gate.data(), up.data(), n, c.p.numerics(), expected.data());
      expectClose("swiglu", c.p, c.entry + " T=" + std::to_string(tokens),
                  output(out, "y"), expected);
    }
  }
}

TEST(CompiledKernels, ElementwiseResidual) {
  struct Case {
    std::string entry, op;
    Precision p;
    std::vector<int64_t> inner;
  };
  const std::vector<Case> cases = {{"add_bf16_64", "addf", kBf16, {64}},
                                   {"add_bf16_rank1", "addf", kBf16, {}},
                                   {"add_bf16_3x10", "addf", kBf16, {3, 10}},
                                   {"add_bf16_4x16", "addf", kBf16, {4, 16}},
                                   {"sub_bf16_24", "subf", kBf16, {24}},
                                   {"mul_bf16_9", "mulf", kBf16, {9}},
                                   {"add_f32_64", "addf", kF32, {64}},
                                   {"add_f32_5", "addf", kF32, {5}},
                                   {"mul_f32_2x8", "mulf", kF32, {2, 8}}};
  std::string ir;
  for (const Case &c : cases) {
    Func f(c.entry);
    std::string t = ty(withTokens(-1, c.inner), c.p.mlir);
    std::string a = f.arg("a", t, tokenDims(c.inner.size() + 1));
    std::string b = f.arg("b", t, tokenDims(c.inner.size() + 1));
    f.line("%y = arith." + c.op + " " + a + ", " + b + " : " + t);
    f.result("%y", t, "y");
    ir += f.text();
  }
  COMPILE_OR_SKIP(m, "elementwise", ir);
  Rng rng(13);
  for (const Case &c : cases) {
    EXPECT_EQ(launchedOps(*m, c.entry), Ops{"arith." + c.op});
    for (int64_t tokens : {1, 6, 31}) {
      const int64_t n = tokens * product(c.inner);
      std::vector<float> a = randomValues(rng, n, c.p, 4.0);
      std::vector<float> b = randomValues(rng, n, c.p, 1.0);
      CompiledModel::TensorMap out =
          run(*m, c.entry,
              {{"a", floats(a, c.p, withTokens(tokens, c.inner))},
               {"b", floats(b, c.p, withTokens(tokens, c.inner))}});
      ref::Numerics nx = c.p.numerics();
      std::vector<float> expected(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i)
        expected[i] = nx.round(c.op == "addf"   ? a[i] + b[i]
                               : c.op == "subf" ? a[i] - b[i]
                                                : a[i] * b[i]);
      std::vector<float> got = output(out, "y");
      expectClose("elementwise", c.p, c.entry + " T=" + std::to_string(tokens),
                  got, expected);
      // One rounding of an exact f32 result: bit-identical.
      EXPECT_EQ(got, expected) << c.entry;
    }
  }
}

TEST(CompiledKernels, Embedding) {
  struct Case {
    std::string entry;
    Precision p;
    int64_t vocab; ///< -1: a dynamic vocabulary
    int64_t width;
  };
  const std::vector<Case> cases = {{"embed_bf16_50x64", kBf16, 50, 64},
                                   {"embed_bf16_dynx24", kBf16, -1, 24},
                                   {"embed_bf16_7x5", kBf16, 7, 5},
                                   {"embed_f32_30x16", kF32, 30, 16}};
  std::string ir;
  for (const Case &c : cases) {
    Func f(c.entry);
    std::string tt = ty({c.vocab, c.width}, c.p.mlir);
    std::string it = ty({-1}, "i32");
    std::string ot = ty({-1, c.width}, c.p.mlir);
    std::string table = f.arg("table", tt,
                              c.vocab < 0 ? std::vector<std::string>{"V", ""}
                                          : std::vector<std::string>{});
    std::string ids = f.arg("ids", it, {"T"});
    f.line("%y = msa.embedding " + table + "[" + ids + "] : (" + tt + ", " +
           it + ") -> " + ot);
    f.result("%y", ot, "y");
    ir += f.text();
  }
  COMPILE_OR_SKIP(m, "embedding", ir);
  Rng rng(14);
  for (const Case &c : cases) {
    EXPECT_EQ(launchedOps(*m, c.entry), Ops{"msa.embedding"});
    for (int64_t vocab : c.vocab < 0 ? std::vector<int64_t>{3, 41}
                                     : std::vector<int64_t>{c.vocab}) {
      for (int64_t tokens : {1, 8, 20}) {
        std::vector<float> table = randomValues(rng, vocab * c.width, c.p);
        std::vector<int32_t> ids(static_cast<size_t>(tokens));
        for (int32_t &id : ids)
          id = static_cast<int32_t>(rng.uniformInt(0, vocab - 1));
        // The first and last rows of the table.
        ids[0] = 0;
        ids.back() = static_cast<int32_t>(vocab - 1);
        CompiledModel::TensorMap out =
            run(*m, c.entry,
                {{"table", floats(table, c.p, {vocab, c.width})},
                 {"ids", ints(ids)}});
        std::vector<float> expected;
        for (int32_t id : ids)
          expected.insert(expected.end(), table.begin() + id * c.width,
                          table.begin() + (id + 1) * c.width);
        std::vector<float> got = output(out, "y");
        EXPECT_EQ(got, expected) << c.entry << " T=" << tokens;
        recordExact("embedding (exact)", got == expected);
      }
    }
  }
}

//===----------------------------------------------------------------------===//
// RoPE
//===----------------------------------------------------------------------===//

constexpr int64_t kTemplateLen = 3, kKCfg = 16;

TEST(CompiledKernels, RopeDocumentMode) {
  struct Case {
    std::string entry;
    Precision p;
    int64_t heads, dim;
    double theta;
  };
  const std::vector<Case> cases = {{"rope_doc_bf16_4x16", kBf16, 4, 16, 1e4},
                                   {"rope_doc_bf16_2x128", kBf16, 2, 128, 1e6},
                                   {"rope_doc_bf16_3x64", kBf16, 3, 64, 1e4},
                                   {"rope_doc_bf16_1x6", kBf16, 1, 6, 1e4},
                                   {"rope_doc_bf16_3x20", kBf16, 3, 20, 1e4},
                                   {"rope_doc_f32_2x32", kF32, 2, 32, 1e6}};
  std::string ir;
  for (const Case &c : cases) {
    Func f(c.entry);
    std::string xt = ty({-1, c.heads, c.dim}, c.p.mlir);
    std::string st = ty({-1}, "i32");
    std::string x = f.arg("x", xt, tokenDims(3));
    std::string s = f.arg("segments", st, {"S"});
    f.line("%y = msa.rope " + x + ", " + s + " document theta = " +
           fp(c.theta) + " : (" + xt + ", " + st + ") -> " + xt);
    f.result("%y", xt, "y");
    ir += f.text();
  }
  COMPILE_OR_SKIP(m, "rope_document", ir);

  // (tokens, segment offsets): odd lengths, a token-free segment, tokens
  // before the first and after the last segment (left alone), no segment at
  // all, and one long document (positions where bf16 cos/sin matter).
  const std::vector<std::pair<int64_t, std::vector<int32_t>>> layouts = {
      {20, {0, 3, 3, 10, 17}},
      {21, {2, 9, 9, 16, 21}},
      {13, {0, 1, 2, 5, 13}},
      {6, {0}},
      {5, {5}},
      {130, {0, 130}},
      {0, {0, 0}}};
  Rng rng(21);
  for (const Case &c : cases) {
    EXPECT_EQ(launchedOps(*m, c.entry), Ops{"msa.rope"});
    for (const auto &[tokens, segments] : layouts) {
      const ref::Shape3 s{tokens, c.heads, c.dim};
      std::vector<float> x = randomValues(rng, s.size(), c.p);
      CompiledModel::TensorMap out =
          run(*m, c.entry,
              {{"x", floats(x, c.p, {tokens, c.heads, c.dim})},
               {"segments", ints(segments)}});
      std::vector<float> expected = x;
      std::vector<int64_t> pos = ref::documentPositions(segments, tokens);
      ref::rope(expected.data(), s, pos.data(), c.theta, c.p.numerics());
      expectClose("rope document", c.p,
                  c.entry + " segments " + describe(segments), output(out, "y"),
                  expected);
    }
  }
}

TEST(CompiledKernels, RopeGlobalMode) {
  struct Case {
    std::string entry;
    Precision p;
    int64_t heads, dim;
    double theta;
    bool perToken; ///< rank-1 positions, else a rank-0 start
  };
  const std::vector<Case> cases = {
      {"rope_start_bf16_4x16", kBf16, 4, 16, 1e4, false},
      {"rope_start_bf16_8x128", kBf16, 8, 128, 1e6, false},
      {"rope_pos_bf16_4x16", kBf16, 4, 16, 1e4, true},
      {"rope_pos_bf16_2x128", kBf16, 2, 128, 1e6, true},
      {"rope_start_f32_2x64", kF32, 2, 64, 1e6, false},
      {"rope_pos_f32_2x64", kF32, 2, 64, 1e6, true}};
  std::string ir;
  for (const Case &c : cases) {
    Func f(c.entry);
    std::string xt = ty({-1, c.heads, c.dim}, c.p.mlir);
    std::string pt = c.perToken ? ty({-1}, "i32") : ty({}, "i32");
    std::string x = f.arg("x", xt, tokenDims(3));
    std::string p =
        c.perToken ? f.arg("positions", pt, {"T"}) : f.arg("positions", pt);
    f.line("%y = msa.rope " + x + ", " + p + " global theta = " + fp(c.theta) +
           " {template_len = " + std::to_string(kTemplateLen) +
           " : i64, k_cfg = " + std::to_string(kKCfg) + " : i64} : (" + xt +
           ", " + pt + ") -> " + xt);
    f.result("%y", xt, "y");
    ir += f.text();
  }
  COMPILE_OR_SKIP(m, "rope_global", ir);
  Rng rng(22);
  for (const Case &c : cases) {
    EXPECT_EQ(launchedOps(*m, c.entry), Ops{"msa.rope"});
    for (int64_t tokens : {1, 6, 40}) {
      for (int32_t start : {0, 5, 3000}) {
        const ref::Shape3 s{tokens, c.heads, c.dim};
        std::vector<float> x = randomValues(rng, s.size(), c.p);
        // Rank 1: a decode-style sequence with frozen (repeated) positions.
        std::vector<int32_t> given(static_cast<size_t>(tokens));
        int32_t p = start;
        for (int32_t &g : given) {
          g = p;
          p += static_cast<int32_t>(rng.uniformInt(0, 2));
        }
        std::vector<int64_t> pos(static_cast<size_t>(tokens));
        for (int64_t t = 0; t < tokens; ++t)
          pos[t] = kTemplateLen + kKCfg + (c.perToken ? given[t] : start + t);
        CompiledModel::TensorMap out =
            run(*m, c.entry,
                {{"x", floats(x, c.p, {tokens, c.heads, c.dim})},
                 {"positions", c.perToken ? ints(given) : scalar(start)}});
        std::vector<float> expected = x;
        ref::rope(expected.data(), s, pos.data(), c.theta, c.p.numerics());
        expectClose("rope global", c.p,
                    c.entry + " T=" + std::to_string(tokens) +
                        " start=" + std::to_string(start),
                    output(out, "y"), expected);
      }
    }
  }
}

//===----------------------------------------------------------------------===//
// Chunk offsets and pooling
//===----------------------------------------------------------------------===//

TEST(CompiledKernels, ChunkOffsets) {
  const std::vector<int64_t> sizes = {1, 4, 5, 64};
  std::string ir;
  for (int64_t p : sizes) {
    Func f("chunk_offsets_p" + std::to_string(p));
    std::string st = ty({-1}, "i32");
    std::string s = f.arg("segments", st, {"S"});
    f.line("%o = msa.chunk_offsets " + s +
           " chunk_size = " + std::to_string(p) + " : (" + st + ") -> " + st);
    f.result("%o", st, "offsets");
    ir += f.text();
  }
  COMPILE_OR_SKIP(m, "chunk_offsets", ir);
  const std::vector<std::vector<int32_t>> layouts = {
      {0},                          // no document
      {7},                          // no document, offset 7
      {0, 1},                       // one token
      {0, 4, 9, 17, 18},            // P, P + 1, 2P, 1 (P = 4)
      {3, 3, 8, 8, 75, 140},        // token-free documents
      {0, 64, 129, 192, 193, 260}}; // P = 64 boundaries
  for (int64_t p : sizes) {
    std::string entry = "chunk_offsets_p" + std::to_string(p);
    EXPECT_EQ(launchedOps(*m, entry), Ops{"msa.chunk_offsets"});
    for (const std::vector<int32_t> &segments : layouts) {
      CompiledModel::TensorMap out =
          run(*m, entry, {{"segments", ints(segments)}});
      std::vector<int32_t> got = intOutput(out, "offsets");
      std::vector<int32_t> expected = ref::chunkOffsets(segments, p);
      EXPECT_EQ(got, expected) << entry << " segments " << describe(segments);
      recordExact("chunk_offsets (exact)", got == expected);
    }
  }
}

TEST(CompiledKernels, ChunkPool) {
  struct Case {
    std::string entry;
    Precision p;
    int64_t heads, dim, chunk;
    bool normalize;
  };
  const std::vector<Case> cases = {
      {"pool_bf16_2x16_p4", kBf16, 2, 16, 4, false},
      {"pool_bf16_2x16_p4_norm", kBf16, 2, 16, 4, true},
      {"pool_bf16_8x128_p5", kBf16, 8, 128, 5, false},
      {"pool_bf16_8x128_p5_norm", kBf16, 8, 128, 5, true},
      {"pool_bf16_1x64_p64", kBf16, 1, 64, 64, false},
      {"pool_bf16_3x12_p3_norm", kBf16, 3, 12, 3, true},
      {"pool_f32_2x32_p4", kF32, 2, 32, 4, false},
      {"pool_f32_2x32_p5_norm", kF32, 2, 32, 5, true}};
  std::string ir;
  for (const Case &c : cases) {
    Func f(c.entry);
    std::string xt = ty({-1, c.heads, c.dim}, c.p.mlir);
    std::string st = ty({-1}, "i32");
    std::string ot = ty({c.heads, -1, c.dim}, c.p.mlir);
    std::string x = f.arg("x", xt, tokenDims(3));
    std::string s = f.arg("segments", st, {"S"});
    f.line("%y = msa.chunk_pool " + x + ", " + s + " chunk_size = " +
           std::to_string(c.chunk) + (c.normalize ? " normalize" : "") +
           " : (" + xt + ", " + st + ") -> " + ot);
    f.result("%y", ot, "pooled", {"", "C", ""});
    ir += f.text();
  }
  COMPILE_OR_SKIP(m, "chunk_pool", ir);
  Rng rng(31);
  for (const Case &c : cases) {
    EXPECT_EQ(launchedOps(*m, c.entry), Ops{"msa.chunk_pool"});
    const int32_t P = static_cast<int32_t>(c.chunk);
    // Documents shorter than P, exactly P, P + 1, 2P + 3 (P need not divide
    // anything), a single token, a token-free document; tokens before and
    // after the segments are not pooled; no document at all.
    std::vector<std::vector<int32_t>> layouts;
    std::vector<int32_t> lengths = {P - 1, P, P + 1, 2 * P + 3, 1, 0, 3 * P};
    std::vector<int32_t> seg{2};
    for (int32_t n : lengths)
      seg.push_back(seg.back() + std::max(n, 0));
    layouts.push_back(seg);
    layouts.push_back({0, P});
    layouts.push_back({0, P + 1});
    layouts.push_back({0});
    for (const std::vector<int32_t> &segments : layouts) {
      const int64_t tokens = segments.back() + 3;
      const ref::Shape3 s{tokens, c.heads, c.dim};
      std::vector<float> x = randomValues(rng, s.size(), c.p, 1.0, 0.3);
      const int64_t chunks = ref::chunkOffsets(segments, c.chunk).back();
      CompiledModel::TensorMap out =
          run(*m, c.entry,
              {{"x", floats(x, c.p, {tokens, c.heads, c.dim})},
               {"segments", ints(segments)}},
              {{"C", chunks}});
      std::vector<float> expected = ref::chunkPool(
          x.data(), s, segments, c.chunk, c.normalize, c.p.numerics());
      expectClose("chunk_pool", c.p,
                  c.entry + " segments " + describe(segments),
                  output(out, "pooled"), expected);
    }
  }
}

//===----------------------------------------------------------------------===//
// Stage-1 attention: doc_attention, fused into msa.encode_docs
//===----------------------------------------------------------------------===//

/// GQA configuration of an attention test.
struct Heads {
  int64_t q, kv, dim;
  std::string tag() const {
    return std::to_string(q) + "x" + std::to_string(kv) + "x" +
           std::to_string(dim);
  }
};

/// GQA ratios 1, 4 and 8 with head dims 16, 64 and 128, and a ratio of 3
/// with a head dim that takes 4-lane vectors.
const std::vector<Heads> kAttentionHeads = {
    {4, 4, 16}, {8, 2, 64}, {8, 1, 128}, {4, 1, 16}, {2, 2, 128}, {3, 1, 20}};

enum class DocAttentionKind {
  kPlain,
  kScaled,
  kRope,
  kRopeKeyOut,
  kPool,
  kPoolRope
};

/// One encode_docs entry: graph IR of RoPE, doc_attention and pooling that
/// fuses into it.
struct DocAttentionCase {
  using Kind = DocAttentionKind;
  std::string entry;
  Precision p;
  Heads h;
  Kind kind;
  bool router = false, normalizeRouter = false;
  int64_t chunk = 4;
};

using SegmentLayouts = std::vector<std::pair<int64_t, std::vector<int32_t>>>;

/// Compiles `cases` into bundle `bundle` and checks every entry on every
/// (tokens, segments) layout against the reference.
void checkDocAttention(const std::string &bundle,
                       const std::vector<DocAttentionCase> &cases,
                       const SegmentLayouts &layouts) {
  using Kind = DocAttentionKind;
  using Case = DocAttentionCase;
  const double theta = 1e4, scaleAttr = 0.2;

  std::string ir;
  for (const Case &c : cases) {
    Func f(c.entry);
    std::string qt = ty({-1, c.h.q, c.h.dim}, c.p.mlir);
    std::string kt = ty({-1, c.h.kv, c.h.dim}, c.p.mlir);
    std::string st = ty({-1}, "i32");
    std::string pt = ty({c.h.kv, -1, c.h.dim}, c.p.mlir);
    std::string q = f.arg("q", qt, tokenDims(3));
    std::string k = f.arg("k", kt, tokenDims(3));
    std::string v = f.arg("v", kt, tokenDims(3));
    std::string rk = c.router ? f.arg("rk", kt, tokenDims(3)) : "";
    std::string s = f.arg("segments", st, {"S"});
    bool rope = c.kind == Kind::kRope || c.kind == Kind::kRopeKeyOut ||
                c.kind == Kind::kPoolRope;
    std::string qa = q, ka = k;
    if (rope) {
      f.line("%qr = msa.rope " + q + ", " + s + " document theta = " +
             fp(theta) + " : (" + qt + ", " + st + ") -> " + qt);
      f.line("%kr = msa.rope " + k + ", " + s + " document theta = " +
             fp(theta) + " : (" + kt + ", " + st + ") -> " + kt);
      qa = "%qr";
      ka = "%kr";
    }
    std::string scale =
        c.kind == Kind::kScaled ? " {scale = " + fp(scaleAttr) + " : f64}" : "";
    f.line("%o = msa.doc_attention " + qa + ", " + ka + ", " + v + ", " + s +
           scale + " : (" + qt + ", " + kt + ", " + kt + ", " + st + ") -> " +
           qt);
    f.result("%o", qt, "out");
    if (c.kind == Kind::kRopeKeyOut)
      f.result("%kr", kt, "rotated_key");
    if (c.kind == Kind::kPool || c.kind == Kind::kPoolRope) {
      // The rope variant pools documents only (segments[1:], the template
      // head is segment 0), as the model importer does; the plain one pools
      // every segment.
      std::string docs = s;
      if (c.kind == Kind::kPoolRope) {
        f.line("%c0 = arith.constant 0 : index");
        f.line("%c1 = arith.constant 1 : index");
        f.line("%ns = tensor.dim " + s + ", %c0 : " + st);
        f.line("%nd = arith.subi %ns, %c1 : index");
        f.line("%docs = tensor.extract_slice " + s + "[1] [%nd] [1] : " + st +
               " to " + st);
        docs = "%docs";
      }
      auto pool = [&](const std::string &res, const std::string &in,
                      bool normalize) {
        f.line(res + " = msa.chunk_pool " + in + ", " + docs +
               " chunk_size = " + std::to_string(c.chunk) +
               (normalize ? " normalize" : "") + " : (" + kt + ", " + st +
               ") -> " + pt);
      };
      pool("%kb", ka, false);
      pool("%vb", v, false);
      f.result("%kb", pt, "pooled_key", {"", "C", ""});
      f.result("%vb", pt, "pooled_value", {"", "C", ""});
      if (c.router) {
        pool("%rb", rk, c.normalizeRouter);
        f.result("%rb", pt, "pooled_router_key", {"", "C", ""});
      }
    }
    ir += f.text();
  }
  COMPILE_OR_SKIP(m, bundle, ir);

  Rng rng(41);
  for (const Case &c : cases) {
    EXPECT_EQ(launchedOps(*m, c.entry), Ops{"msa.encode_docs"}) << c.entry;
    ref::Numerics nx = c.p.numerics();
    for (const auto &[tokens, segments] : layouts) {
      const ref::Shape3 qs{tokens, c.h.q, c.h.dim}, ks{tokens, c.h.kv, c.h.dim};
      std::vector<float> q = randomValues(rng, qs.size(), c.p);
      std::vector<float> k = randomValues(rng, ks.size(), c.p);
      std::vector<float> v = randomValues(rng, ks.size(), c.p, 1.0, 0.2);
      std::vector<float> rk = randomValues(rng, ks.size(), c.p, 1.0, 0.1);
      bool rope = c.kind == Kind::kRope || c.kind == Kind::kRopeKeyOut ||
                  c.kind == Kind::kPoolRope;
      std::vector<int32_t> docs = segments;
      if (c.kind == Kind::kPoolRope)
        docs.erase(docs.begin());
      const int64_t chunks = ref::chunkOffsets(docs, c.chunk).back();
      CompiledModel::TensorMap in = {
          {"q", floats(q, c.p, {tokens, c.h.q, c.h.dim})},
          {"k", floats(k, c.p, {tokens, c.h.kv, c.h.dim})},
          {"v", floats(v, c.p, {tokens, c.h.kv, c.h.dim})},
          {"segments", ints(segments)}};
      if (c.router)
        in["rk"] = floats(rk, c.p, {tokens, c.h.kv, c.h.dim});
      bool pools = c.kind == Kind::kPool || c.kind == Kind::kPoolRope;
      std::map<std::string, int64_t> symbols;
      if (pools)
        symbols["C"] = chunks;
      CompiledModel::TensorMap out = run(*m, c.entry, in, symbols);

      std::vector<float> qr = q, kr = k;
      if (rope) {
        std::vector<int64_t> pos = ref::documentPositions(segments, tokens);
        ref::rope(qr.data(), qs, pos.data(), theta, nx);
        ref::rope(kr.data(), ks, pos.data(), theta, nx);
      }
      double scale = c.kind == Kind::kScaled
                         ? scaleAttr
                         : 1.0 / std::sqrt(static_cast<double>(c.h.dim));
      std::vector<float> expected(static_cast<size_t>(qs.size()));
      ref::docAttention(qr.data(), qs, kr.data(), v.data(), c.h.kv, segments,
                        scale, nx, expected.data());
      std::string what = c.entry + " segments " + describe(segments);
      expectClose("doc_attention", c.p, what, output(out, "out"), expected);
      if (c.kind == Kind::kRopeKeyOut)
        expectClose("encode_docs rotated key", c.p, what,
                    output(out, "rotated_key"), kr);
      if (pools) {
        expectClose("encode_docs pooled", c.p, what + " K",
                    output(out, "pooled_key"),
                    ref::chunkPool(kr.data(), ks, docs, c.chunk, false, nx));
        expectClose("encode_docs pooled", c.p, what + " V",
                    output(out, "pooled_value"),
                    ref::chunkPool(v.data(), ks, docs, c.chunk, false, nx));
        if (c.router)
          expectClose("encode_docs pooled", c.p, what + " router K",
                      output(out, "pooled_router_key"),
                      ref::chunkPool(rk.data(), ks, docs, c.chunk,
                                     c.normalizeRouter, nx));
      }
    }
  }
}

TEST(CompiledKernels, DocAttention) {
  using Kind = DocAttentionCase::Kind;
  std::vector<DocAttentionCase> cases;
  for (const Heads &h : kAttentionHeads) {
    cases.push_back({"enc_plain_" + h.tag(), kBf16, h, Kind::kPlain});
    cases.push_back({"enc_rope_" + h.tag(), kBf16, h, Kind::kRope});
    cases.push_back({"enc_pool_rope_router_" + h.tag(), kBf16, h,
                     Kind::kPoolRope, true, false, 4});
  }
  const Heads small{4, 2, 16}, wide{8, 2, 64}, narrow{8, 1, 128};
  cases.push_back({"enc_scaled", kBf16, small, Kind::kScaled});
  cases.push_back({"enc_rope_keyout", kBf16, wide, Kind::kRopeKeyOut});
  cases.push_back(
      {"enc_pool_rope_norm", kBf16, small, Kind::kPoolRope, true, true, 5});
  cases.push_back({"enc_pool_rope_norouter", kBf16, wide, Kind::kPoolRope,
                   false, false, 3});
  cases.push_back(
      {"enc_pool_plain", kBf16, small, Kind::kPool, false, false, 4});
  cases.push_back(
      {"enc_pool_plain_router", kBf16, narrow, Kind::kPool, true, true, 64});
  cases.push_back({"enc_f32_plain", kF32, small, Kind::kPlain});
  cases.push_back(
      {"enc_f32_pool_rope", kF32, wide, Kind::kPoolRope, true, true, 4});
  // The cuda target's tensor-core kernel: GQA groups 4 (MSA-4B's head dim)
  // and 2 (a head dim of three 32-element loads).
  cases.push_back({"enc_tc_pool_rope_router_8x2x128", kBf16, {8, 2, 128},
                   Kind::kPoolRope, true, true, 64});
  cases.push_back({"enc_tc_rope_keyout_4x2x96", kBf16, {4, 2, 96},
                   Kind::kRopeKeyOut});
  cases.push_back({"enc_tc_scaled_4x2x32", kBf16, {4, 2, 32}, Kind::kScaled});
  // (tokens, segments): a 3-token template head then documents of odd
  // lengths (1 token, 7, 19, a token-free one); one long document; packed
  // documents all shorter than the key block; documents across several
  // 64-token query and key tiles.
  const SegmentLayouts layouts = {
      {30, {0, 3, 10, 10, 11, 30}},
      {45, {0, 3, 45}},
      {9, {0, 3, 4, 6, 9}},
      {300, {0, 3, 70, 200, 201, 300}}};
  checkDocAttention("doc_attention", cases, layouts);
}

// One document longer than the cuda module's RoPE tables (4096 positions):
// its later positions take the computed cos and sin, in the tensor-core
// kernel's prologue, key tiles, key output and pooled keys alike.
TEST(CompiledKernels, DocAttentionLongDocument) {
  using Kind = DocAttentionCase::Kind;
  const Heads h{4, 2, 32};
  checkDocAttention("doc_attention_long",
                    {{"long_pool_rope_router", kBf16, h, Kind::kPoolRope,
                      true, true, 64},
                     {"long_rope_keyout", kBf16, h, Kind::kRopeKeyOut}},
                    {{4163, {0, 3, 4163}}});
}

/// Compiles doc_attention (plain and with RoPE, whose rotated keys are
/// also results) and runs it on `layouts` of tokens and segments.
void checkTokensOutsideSegments(
    const std::string &stem,
    const std::vector<std::pair<int64_t, std::vector<int32_t>>> &layouts) {
  const Heads h{4, 2, 16};
  std::string qt = ty({-1, h.q, h.dim}, "bf16");
  std::string kt = ty({-1, h.kv, h.dim}, "bf16");
  std::string st = ty({-1}, "i32");
  std::string ir;
  for (bool rope : {false, true}) {
    Func f(rope ? "outside_rope" : "outside_plain");
    std::string q = f.arg("q", qt, tokenDims(3));
    std::string k = f.arg("k", kt, tokenDims(3));
    std::string v = f.arg("v", kt, tokenDims(3));
    std::string s = f.arg("segments", st, {"S"});
    std::string qa = q, ka = k;
    if (rope) {
      f.line("%qr = msa.rope " + q + ", " + s + " document theta = " + fp(1e4) +
             " : (" + qt + ", " + st + ") -> " + qt);
      f.line("%kr = msa.rope " + k + ", " + s + " document theta = " + fp(1e4) +
             " : (" + kt + ", " + st + ") -> " + kt);
      qa = "%qr";
      ka = "%kr";
    }
    f.line("%o = msa.doc_attention " + qa + ", " + ka + ", " + v + ", " + s +
           " : (" + qt + ", " + kt + ", " + kt + ", " + st + ") -> " + qt);
    f.result("%o", qt, "out");
    if (rope)
      f.result("%kr", kt, "rotated_key");
    ir += f.text();
  }
  COMPILE_OR_SKIP(m, stem, ir);
  Rng rng(42);
  for (bool rope : {false, true}) {
    std::string entry = rope ? "outside_rope" : "outside_plain";
    EXPECT_EQ(launchedOps(*m, entry), Ops{"msa.encode_docs"});
    for (const auto &[tokens, segments] : layouts) {
      const ref::Shape3 qs{tokens, h.q, h.dim}, ks{tokens, h.kv, h.dim};
      std::vector<float> q = randomValues(rng, qs.size(), kBf16);
      std::vector<float> k = randomValues(rng, ks.size(), kBf16);
      std::vector<float> v = randomValues(rng, ks.size(), kBf16);
      CompiledModel::TensorMap in = {
          {"q", floats(q, kBf16, {tokens, h.q, h.dim})},
          {"k", floats(k, kBf16, {tokens, h.kv, h.dim})},
          {"v", floats(v, kBf16, {tokens, h.kv, h.dim})},
          {"segments", ints(segments)}};
      // The first run's outputs are dropped; the second run's fresh outputs
      // then typically reuse their non-zero memory, so rows the kernel does
      // not write show up.
      run(*m, entry, in);
      CompiledModel::TensorMap out = run(*m, entry, in);
      std::vector<float> qr = q, kr = k;
      if (rope) {
        std::vector<int64_t> pos = ref::documentPositions(segments, tokens);
        ref::rope(qr.data(), qs, pos.data(), 1e4, kBf16.numerics());
        ref::rope(kr.data(), ks, pos.data(), 1e4, kBf16.numerics());
      }
      std::vector<float> expected(static_cast<size_t>(qs.size()));
      ref::docAttention(qr.data(), qs, kr.data(), v.data(), h.kv, segments,
                        1.0 / std::sqrt(16.0), kBf16.numerics(),
                        expected.data());
      std::string what = entry + " T=" + std::to_string(tokens) + " segments " +
                         describe(segments);
      expectClose("doc_attention outside segments", kBf16, what,
                  output(out, "out"), expected);
      if (rope)
        expectClose("doc_attention outside segments", kBf16, what + " key",
                    output(out, "rotated_key"), kr);
    }
  }
}

TEST(CompiledKernels, DocAttentionTokensOutsideSegments) {
  // msa.doc_attention: "Tokens outside the segments produce 0"; msa.rope
  // leaves them unrotated. Outputs are fresh (uninitialised) buffers, so
  // the kernel must write those rows too.
  checkTokensOutsideSegments("doc_attention_outside",
                             {{12, {2, 5, 9}}, {7, {0, 4}}, {6, {3, 6}}});
}

// With no segment at all (segments = [s0]) every token is outside: the
// outputs are zeros and the unrotated keys, written by the launch even
// though there is no document (cpu: the grid's extra item; cuda: every
// tile's rows).
TEST(CompiledKernels, DocAttentionWithoutSegments) {
  checkTokensOutsideSegments("doc_attention_no_segments", {{5, {0}}, {4, {4}}});
}

//===----------------------------------------------------------------------===//
// Routing: route_scores -> doc_reduce -> topk, fused into route_topk +
// topk_merge
//===----------------------------------------------------------------------===//

struct RouteVariant {
  HeadReduce head;
  QueryReduce query;
  ChunkReduce chunk;
  bool normalize, scale;

  std::string tag() const {
    std::string s = std::string("h") + headReduceName(head) + "_t" +
                    queryReduceName(query) + "_c" + chunkReduceName(chunk);
    return s + (normalize ? "_norm" : "") + (scale ? "_scale" : "");
  }
  std::string reductions() const {
    return std::string(" heads(") + headReduceName(head) + ") tokens(" +
           queryReduceName(query) + ")";
  }
};

/// A routing problem: documents with their chunk keys and the queries.
struct RouteProblem {
  int64_t tokens = 0;
  std::vector<int32_t> offsets; ///< chunk offsets, documents + 1
  std::vector<float> q, keys;
  std::vector<uint8_t> mask;
  std::string name;
};

/// Random documents with 1..`maxChunks` chunks (0 if `allowEmpty` draws
/// it).
RouteProblem randomProblem(Rng &rng, const Precision &p, const Heads &h,
                           int64_t tokens, int64_t docs, bool allowEmpty,
                           std::string name, int64_t maxChunks = 4) {
  RouteProblem r;
  r.name = std::move(name);
  r.tokens = tokens;
  r.offsets = {0};
  for (int64_t j = 0; j < docs; ++j) {
    int64_t n = rng.uniformInt(allowEmpty ? 0 : 1, maxChunks);
    r.offsets.push_back(r.offsets.back() + static_cast<int32_t>(n));
  }
  const int64_t chunks = r.offsets.back();
  r.q = randomValues(rng, tokens * h.q * h.dim, p);
  r.keys = randomValues(rng, h.kv * chunks * h.dim, p, 1.0, 0.1);
  r.mask = randomMask(rng, tokens, 0.6);
  r.mask[rng.uniformInt(0, tokens - 1)] = 1;
  return r;
}

/// Makes the documents of each group identical (same chunk count and
/// keys), so their scores tie exactly under every reduction.
RouteProblem withTies(Rng &rng, const Precision &p, const Heads &h,
                      int64_t tokens, const std::vector<int64_t> &groupOf,
                      std::string name) {
  RouteProblem r;
  r.name = std::move(name);
  r.tokens = tokens;
  const int64_t docs = static_cast<int64_t>(groupOf.size());
  const int64_t groups = *std::max_element(groupOf.begin(), groupOf.end()) + 1;
  std::vector<int64_t> groupChunks(static_cast<size_t>(groups));
  for (int64_t &n : groupChunks)
    n = rng.uniformInt(1, 3);
  r.offsets = {0};
  for (int64_t j = 0; j < docs; ++j)
    r.offsets.push_back(r.offsets.back() +
                        static_cast<int32_t>(groupChunks[groupOf[j]]));
  const int64_t chunks = r.offsets.back();
  std::vector<std::vector<float>> groupKeys(static_cast<size_t>(groups));
  for (int64_t g = 0; g < groups; ++g)
    groupKeys[g] = randomValues(rng, h.kv * groupChunks[g] * h.dim, p);
  r.keys.assign(static_cast<size_t>(h.kv * chunks * h.dim), 0.0f);
  for (int64_t j = 0; j < docs; ++j) {
    const int64_t n = groupChunks[groupOf[j]];
    for (int64_t g = 0; g < h.kv; ++g)
      for (int64_t c = 0; c < n; ++c)
        std::copy_n(groupKeys[groupOf[j]].begin() + (g * n + c) * h.dim, h.dim,
                    r.keys.begin() + (g * chunks + r.offsets[j] + c) * h.dim);
  }
  r.q = randomValues(rng, tokens * h.q * h.dim, p);
  r.mask = randomMask(rng, tokens, 0.6);
  r.mask[0] = 1;
  return r;
}

/// The problems every routing variant is run on (k = `k`).
std::vector<RouteProblem> routeProblems(Rng &rng, const Precision &p,
                                        const Heads &h, int64_t k) {
  std::vector<RouteProblem> v;
  v.push_back(randomProblem(rng, p, h, 5, 12, false, "random 12 docs"));
  v.push_back(randomProblem(rng, p, h, 1, 9, true, "1 token, empty docs"));
  // More documents than 64 route blocks x k candidates: blocks drop some.
  v.push_back(randomProblem(rng, p, h, 7, 700, false, "700 docs"));
  v.push_back(randomProblem(rng, p, h, 4, k - 1, false, "k > docs"));
  RouteProblem none = randomProblem(rng, p, h, 4, 6, false, "no routing token");
  std::fill(none.mask.begin(), none.mask.end(), 0);
  v.push_back(none);
  // Groups of 3 identical documents: a group tie sits at the k-th place.
  std::vector<int64_t> triples(12);
  for (size_t j = 0; j < triples.size(); ++j)
    triples[j] = static_cast<int64_t>(j % 4);
  v.push_back(withTies(rng, p, h, 4, triples, "tied triples"));
  // All documents identical, more than k per route block: lowest ids win
  // inside each block and in the merge.
  v.push_back(withTies(rng, p, h, 3, std::vector<int64_t>(400, 0),
                       "400 identical docs"));
  // Mostly distinct, with pairs tied across route blocks.
  std::vector<int64_t> pairs(90);
  for (size_t j = 0; j < pairs.size(); ++j)
    pairs[j] = static_cast<int64_t>(j < 45 ? j : 89 - j);
  v.push_back(withTies(rng, p, h, 6, pairs, "mirrored pairs"));
  // Every token routing: at MSA-4B heads 16 fill the wgmma body's staged
  // columns, 18 fill two mma.sync column passes and 40 take the CUDA-core
  // body.
  for (int64_t tokens : {16, 18, 40}) {
    RouteProblem all = randomProblem(rng, p, h, tokens, 30, false,
                                     std::to_string(tokens) + " routing tokens");
    std::fill(all.mask.begin(), all.mask.end(), 1);
    v.push_back(all);
  }
  // Long documents, some longer than a 64-chunk wgmma tile: on the cuda
  // target each warpgroup walks several tiles and documents cross them
  // (132 route blocks, 2 warpgroups each). Only where the keys stay small.
  if (h.q * h.dim <= 512)
    v.push_back(randomProblem(rng, p, h, 4, 800, true, "800 long docs", 150));
  return v;
}

/// Route function IR; with `unfused`, the chunk and document scores are
/// results too, so the ops stay separate kernels.
std::string routeFunc(const std::string &entry, const Precision &p,
                      const Heads &h, const RouteVariant &r, int64_t k,
                      bool unfused) {
  Func f(entry);
  std::string qt = ty({-1, h.q, h.dim}, p.mlir);
  std::string kt = ty({h.kv, -1, h.dim}, p.mlir);
  std::string mt = ty({-1}, "i1"), ct = ty({-1}, "i32");
  std::string st = ty({-1}, p.mlir);
  std::string q = f.arg("q", qt, tokenDims(3));
  std::string keys = f.arg("keys", kt, {"", "C", ""});
  std::string mask = f.arg("mask", mt, {"T"});
  std::string coff = f.arg("chunk_offsets", ct, {"D"});
  f.line("%s = msa.route_scores " + q + ", " + keys + ", " + mask +
         r.reductions() + (r.normalize ? " normalize" : "") +
         (r.scale ? " scale" : "") + " : (" + qt + ", " + kt + ", " + mt +
         ") -> " + st);
  f.line(std::string("%d = msa.doc_reduce %s, ") + coff + " chunks(" +
         chunkReduceName(r.chunk) + ") : (" + st + ", " + ct + ") -> " + st);
  std::string it = ty({k}, "i32"), nt = ty({}, "i32");
  f.line("%idx, %n = msa.topk %d k = " + std::to_string(k) + " : (" + st +
         ") -> (" + it + ", " + nt + ")");
  f.result("%idx", it, "indices");
  f.result("%n", nt, "count");
  if (unfused) {
    f.result("%s", st, "chunk_scores");
    f.result("%d", st, "doc_scores");
  }
  return f.text();
}

TEST(CompiledKernels, Routing) {
  struct Case {
    std::string entry;
    Precision p;
    Heads h;
    RouteVariant r;
    int64_t k;
    bool unfused = false;
  };
  std::vector<Case> cases;
  // Head dim 16 runs on the CUDA cores of the cuda target, 32 on its
  // tensor cores (mma.sync), 64 on wgmma.
  const Heads small{4, 2, 16}, tensorCore{8, 2, 32}, warpgroup{8, 2, 64};
  // Every head / query / chunk reduction with NORM and SCALE on and off.
  for (auto head : {HeadReduce::kMean, HeadReduce::kMax})
    for (auto query :
         {QueryReduce::kMax, QueryReduce::kMean, QueryReduce::kLast})
      for (auto chunk : {ChunkReduce::kMax, ChunkReduce::kMean})
        for (bool normalize : {false, true})
          for (bool scale : {false, true}) {
            RouteVariant r{head, query, chunk, normalize, scale};
            for (const Heads &h : {small, tensorCore})
              cases.push_back({"route_" + r.tag() + "_" + h.tag(), kBf16, h,
                               r, 5});
            // wgmma: every reduction, NORM and SCALE as MSA-4B has them.
            if (!normalize && scale)
              cases.push_back({"route_" + r.tag() + "_" + warpgroup.tag(),
                               kBf16, warpgroup, r, 5});
          }
  const RouteVariant msa4b{HeadReduce::kMean, QueryReduce::kMax,
                           ChunkReduce::kMax, false, true};
  const RouteVariant infonce{HeadReduce::kMean, QueryReduce::kMax,
                             ChunkReduce::kMax, true, false};
  cases.push_back({"route_msa4b_8x1x64", kBf16, {8, 1, 64}, msa4b, 4});
  cases.push_back({"route_msa4b_32x8x128", kBf16, {32, 8, 128}, msa4b, 16});
  // Two 64-element panels a head on wgmma, with the long documents.
  cases.push_back({"route_msa4b_4x1x128", kBf16, {4, 1, 128}, msa4b, 16});
  cases.push_back({"route_infonce_8x8x64", kBf16, {8, 8, 64}, infonce, 3});
  cases.push_back({"route_msa4b_6x2x20", kBf16, {6, 2, 20}, msa4b, 2});
  cases.push_back({"route_msa4b_4x2x32", kBf16, {4, 2, 32}, msa4b, 5});
  cases.push_back({"route_f32_msa4b", kF32, small, msa4b, 5});
  cases.push_back(
      {"route_f32_infonce_mean",
       kF32,
       {8, 2, 32},
       {HeadReduce::kMean, QueryReduce::kMean, ChunkReduce::kMean, true, true},
       4});
  cases.push_back({"route_unfused", kBf16, small, msa4b, 5, true});
  cases.push_back(
      {"route_unfused_mean",
       kBf16,
       small,
       {HeadReduce::kMax, QueryReduce::kMean, ChunkReduce::kMean, true, true},
       5,
       true});

  std::string ir;
  for (const Case &c : cases)
    ir += routeFunc(c.entry, c.p, c.h, c.r, c.k, c.unfused);
  COMPILE_OR_SKIP(m, "routing", ir);

  Rng rng(51);
  for (const Case &c : cases) {
    EXPECT_EQ(launchedOps(*m, c.entry),
              c.unfused
                  ? Ops({"msa.route_scores", "msa.doc_reduce", "msa.topk"})
                  : Ops({"msa.route_topk", "msa.topk_merge"}))
        << c.entry;
    ref::Numerics nx = c.p.numerics();
    ref::RouteParams params{c.r.head, c.r.query, c.r.normalize, c.r.scale};
    for (const RouteProblem &pr : routeProblems(rng, c.p, c.h, c.k)) {
      const int64_t chunks = pr.offsets.back();
      CompiledModel::TensorMap out =
          run(*m, c.entry,
              {{"q", floats(pr.q, c.p, {pr.tokens, c.h.q, c.h.dim})},
               {"keys", floats(pr.keys, c.p, {c.h.kv, chunks, c.h.dim})},
               {"mask", mask(pr.mask)},
               {"chunk_offsets", ints(pr.offsets)}});
      const ref::Shape3 qs{pr.tokens, c.h.q, c.h.dim};
      std::vector<float> chunkScores = ref::routeScores(
          pr.q.data(), qs, pr.keys.data(), c.h.kv, chunks, pr.mask, params, nx);
      std::vector<float> docScores =
          ref::docReduce(chunkScores, pr.offsets, c.r.chunk, nx);
      std::vector<int32_t> selected = ref::topK(docScores, c.k);
      std::vector<int32_t> expected = selected;
      expected.resize(static_cast<size_t>(c.k), -1);
      std::vector<int32_t> indices = intOutput(out, "indices");
      std::vector<int32_t> count = intOutput(out, "count");
      std::string what = c.entry + " on " + pr.name;
      EXPECT_EQ(indices, expected) << what;
      ASSERT_EQ(count.size(), 1u) << what;
      EXPECT_EQ(count[0], static_cast<int32_t>(selected.size())) << what;
      recordExact("routing selections (exact)",
                  indices == expected &&
                      count[0] == static_cast<int32_t>(selected.size()));
      if (pr.name == "no routing token") {
        EXPECT_EQ(count[0], 0) << what;
      }
      if (c.unfused) {
        expectClose("route_scores", c.p, what, output(out, "chunk_scores"),
                    chunkScores);
        expectClose("doc_reduce", c.p, what, output(out, "doc_scores"),
                    docScores);
      }
    }
  }
}

//===----------------------------------------------------------------------===//
// Stages 2-3 attention: sparse_attention, fused into msa.memory_attention
//===----------------------------------------------------------------------===//

enum class Memory { kNone, kWhole, kSelected };
enum class Local { kPlain, kAppend };
enum class Rope { kNone, kStart, kPositions };

/// One sparse_attention entry: what feeds its memory, local keys and
/// queries.
struct AttentionCase {
  std::string entry;
  Precision p;
  Heads h;
  Memory memory;
  Local local;
  Rope rope;
  ref::CausalMode causal;
};

constexpr int64_t kTopK = 4;
constexpr double kGlobalTheta = 1e6;

/// The IR of `c`: gather_chunks of a bank by a selection (memory
/// kSelected), tensor.concat of a cache and the step's keys (local
/// kAppend) and a global rope of the queries feed one sparse_attention.
std::string attentionFunc(const AttentionCase &c) {
  const double theta = kGlobalTheta;
  Func f(c.entry);
  std::string qt = ty({-1, c.h.q, c.h.dim}, c.p.mlir);
  std::string kt = ty({-1, c.h.kv, c.h.dim}, c.p.mlir);
  std::string mt = ty({c.h.kv, -1, c.h.dim}, c.p.mlir);
  std::string vt = ty({-1}, "i1");
  std::string q = f.arg("q", qt, tokenDims(3));
  std::string tk = f.arg("template_key", kt, tokenDims(3, "N"));
  std::string tv = f.arg("template_value", kt, tokenDims(3, "N"));
  std::string mk, mv;
  if (c.memory == Memory::kWhole) {
    mk = f.arg("memory_key", mt, {"", "M", ""});
    mv = f.arg("memory_value", mt, {"", "M", ""});
  } else if (c.memory == Memory::kSelected) {
    std::string bk = f.arg("bank_key", mt, {"", "C", ""});
    std::string bv = f.arg("bank_value", mt, {"", "C", ""});
    std::string ct = ty({-1}, "i32"), it = ty({kTopK}, "i32");
    std::string nt = ty({}, "i32");
    std::string coff = f.arg("chunk_offsets", ct, {"D"});
    std::string idx = f.arg("indices", it);
    std::string n = f.arg("count", nt);
    std::string sig =
        " : (" + mt + ", " + it + ", " + nt + ", " + ct + ") -> " + mt;
    f.line("%gk = msa.gather_chunks " + bk + "[" + idx + ", " + n + "], " +
           coff + sig);
    f.line("%gv = msa.gather_chunks " + bv + "[" + idx + ", " + n + "], " +
           coff + sig);
    mk = "%gk";
    mv = "%gv";
  }
  // Local keys: the step's own keys (T of them) after a cache (L) in the
  // append form, else L keys of which the queries are the last T.
  std::string lk, lv, lvalid;
  if (c.local == Local::kAppend) {
    std::string ck = f.arg("cache_key", kt, tokenDims(3, "L"));
    std::string cv = f.arg("cache_value", kt, tokenDims(3, "L"));
    std::string cvalid = f.arg("cache_valid", vt, {"L"});
    std::string k = f.arg("key", kt, tokenDims(3));
    std::string v = f.arg("value", kt, tokenDims(3));
    std::string valid = f.arg("valid", vt, {"T"});
    f.line("%lk = tensor.concat dim(0) " + ck + ", " + k + " : (" + kt + ", " +
           kt + ") -> " + kt);
    f.line("%lv = tensor.concat dim(0) " + cv + ", " + v + " : (" + kt + ", " +
           kt + ") -> " + kt);
    f.line("%lvalid = tensor.concat dim(0) " + cvalid + ", " + valid + " : (" +
           vt + ", " + vt + ") -> " + vt);
    lk = "%lk";
    lv = "%lv";
    lvalid = "%lvalid";
  } else {
    lk = f.arg("local_key", kt, tokenDims(3, "L"));
    lv = f.arg("local_value", kt, tokenDims(3, "L"));
    lvalid = f.arg("local_valid", vt, {"L"});
  }
  std::string qa = q;
  if (c.rope != Rope::kNone) {
    std::string pt = c.rope == Rope::kStart ? ty({}, "i32") : ty({-1}, "i32");
    std::string pos = c.rope == Rope::kStart ? f.arg("positions", pt)
                                             : f.arg("positions", pt, {"T"});
    f.line("%qr = msa.rope " + q + ", " + pos + " global theta = " + fp(theta) +
           " {template_len = " + std::to_string(kTemplateLen) +
           " : i64, k_cfg = " + std::to_string(kKCfg) + " : i64} : (" + qt +
           ", " + pt + ") -> " + qt);
    qa = "%qr";
  }
  std::string memory = mk.empty() ? "" : " memory(" + mk + ", " + mv + ")";
  std::string memTypes = mk.empty() ? "" : mt + ", " + mt + ", ";
  f.line("%o = msa.sparse_attention " + qa + ", template(" + tk + ", " + tv +
         ")" + memory + " local(" + lk + ", " + lv + ", " + lvalid +
         ") causal = " +
         (c.causal == ref::CausalMode::kBlock ? "block" : "bottom_right") +
         " : (" + qt + ", " + kt + ", " + kt + ", " + memTypes + kt + ", " +
         kt + ", " + vt + ") -> " + qt);
  f.result("%o", qt, "out");
  return f.text();
}

/// A problem size of the attention tests.
struct AttentionShape {
  int64_t tokens, localLen, templateLen, docs;
  double validP;
  std::string name;
};

// Prefill (T = L), a longer local context than queries (bottom-right
// shift), a decode step (T = 1), a multi-token decode block, holes in the
// validity, no template, and nothing visible but the memory (an empty bank
// or memory: then the output is 0).
const std::vector<AttentionShape> kAttentionShapes = {
    {9, 9, 3, 6, 1.0, "prefill"},    {6, 20, 3, 10, 0.7, "shifted, holes"},
    {1, 13, 3, 5, 0.8, "one token"}, {3, 11, 0, 7, 0.6, "no template, holes"},
    {5, 5, 3, 3, 0.5, "many holes"}, {2, 4, 0, 0, 0.0, "nothing visible"}};

/// Runs entry `c` of `m` on every shape and compares with the reference.
void checkAttention(CompiledModel &m, const AttentionCase &c, Rng &rng) {
  const double theta = kGlobalTheta;
  EXPECT_EQ(launchedOps(m, c.entry), Ops{"msa.memory_attention"}) << c.entry;
  ref::Numerics nx = c.p.numerics();
  const int64_t hk = c.h.kv, d = c.h.dim;
  for (const AttentionShape &s : kAttentionShapes) {
    // In the append form the cache holds L - T keys, the step T.
    const int64_t T = s.tokens, L = s.localLen;
    const int64_t cacheLen = L - T;
    std::vector<float> q = randomValues(rng, T * c.h.q * d, c.p);
    std::vector<float> tk = randomValues(rng, s.templateLen * hk * d, c.p);
    std::vector<float> tv = randomValues(rng, s.templateLen * hk * d, c.p);
    std::vector<float> lk = randomValues(rng, L * hk * d, c.p);
    std::vector<float> lv = randomValues(rng, L * hk * d, c.p, 1.0, 0.3);
    std::vector<uint8_t> valid = randomMask(rng, L, s.validP);
    CompiledModel::TensorMap in = {
        {"q", floats(q, c.p, {T, c.h.q, d})},
        {"template_key", floats(tk, c.p, {s.templateLen, hk, d})},
        {"template_value", floats(tv, c.p, {s.templateLen, hk, d})}};
    if (c.local == Local::kAppend) {
      auto part = [&](const std::vector<float> &x, int64_t b, int64_t n) {
        return floats(std::vector<float>(x.begin() + b * hk * d,
                                         x.begin() + (b + n) * hk * d),
                      c.p, {n, hk, d});
      };
      in["cache_key"] = part(lk, 0, cacheLen);
      in["cache_value"] = part(lv, 0, cacheLen);
      in["key"] = part(lk, cacheLen, T);
      in["value"] = part(lv, cacheLen, T);
      in["cache_valid"] =
          mask(std::vector<uint8_t>(valid.begin(), valid.begin() + cacheLen));
      in["valid"] =
          mask(std::vector<uint8_t>(valid.begin() + cacheLen, valid.end()));
    } else {
      in["local_key"] = floats(lk, c.p, {L, hk, d});
      in["local_value"] = floats(lv, c.p, {L, hk, d});
      in["local_valid"] = mask(valid);
    }

    // Memory: a bank of documents with 0..4 chunks and a selection of at
    // most k of them (ascending ids, padded with -1).
    std::vector<float> memK, memV;
    int64_t memChunks = 0;
    std::string memDesc;
    if (c.memory == Memory::kWhole) {
      memChunks = s.docs;
      memK = randomValues(rng, hk * memChunks * d, c.p);
      memV = randomValues(rng, hk * memChunks * d, c.p);
      in["memory_key"] = floats(memK, c.p, {hk, memChunks, d});
      in["memory_value"] = floats(memV, c.p, {hk, memChunks, d});
    } else if (c.memory == Memory::kSelected) {
      std::vector<int32_t> offsets{0};
      for (int64_t j = 0; j < s.docs; ++j)
        offsets.push_back(offsets.back() +
                          static_cast<int32_t>(rng.uniformInt(0, 4)));
      const int64_t chunks = offsets.back();
      std::vector<float> bk = randomValues(rng, hk * chunks * d, c.p);
      std::vector<float> bv = randomValues(rng, hk * chunks * d, c.p);
      std::vector<int32_t> all(static_cast<size_t>(s.docs));
      std::iota(all.begin(), all.end(), 0);
      for (int64_t j = s.docs - 1; j > 0; --j)
        std::swap(all[j], all[rng.uniformInt(0, j)]);
      int64_t count = std::min<int64_t>(s.docs, rng.uniformInt(1, kTopK));
      std::vector<int32_t> selected(all.begin(), all.begin() + count);
      std::sort(selected.begin(), selected.end());
      std::vector<int32_t> indices = selected;
      indices.resize(kTopK, -1);
      memK = ref::gatherChunks(bk.data(), hk, chunks, d, offsets, selected);
      memV = ref::gatherChunks(bv.data(), hk, chunks, d, offsets, selected);
      memChunks = static_cast<int64_t>(memK.size()) / (hk * d);
      in["bank_key"] = floats(bk, c.p, {hk, chunks, d});
      in["bank_value"] = floats(bv, c.p, {hk, chunks, d});
      in["chunk_offsets"] = ints(offsets);
      in["indices"] = ints(indices);
      in["count"] = scalar(static_cast<int32_t>(count));
      memDesc = " selected " + describe(selected) + " of offsets " +
                describe(offsets);
    }

    // Queries rotated in the prologue (the keys arrive rotated).
    std::vector<float> qr = q;
    if (c.rope != Rope::kNone) {
      int32_t start = static_cast<int32_t>(rng.uniformInt(0, 200));
      std::vector<int32_t> given(static_cast<size_t>(T));
      for (int64_t t = 0; t < T; ++t)
        given[t] = start + static_cast<int32_t>(t);
      if (T > 2)
        given[1] = given[0]; // a frozen (masked) token repeats its position
      std::vector<int64_t> pos(static_cast<size_t>(T));
      for (int64_t t = 0; t < T; ++t)
        pos[t] = kTemplateLen + kKCfg +
                 (c.rope == Rope::kStart ? start + t : given[t]);
      in["positions"] = c.rope == Rope::kStart ? scalar(start) : ints(given);
      ref::rope(qr.data(), {T, c.h.q, d}, pos.data(), theta, nx);
    }

    CompiledModel::TensorMap out = run(m, c.entry, in);
    std::vector<float> expected(static_cast<size_t>(T * c.h.q * d));
    ref::sparseAttention(
        qr.data(), {T, c.h.q, d}, tk.data(), tv.data(), s.templateLen,
        memK.data(), memV.data(), memChunks, lk.data(), lv.data(), L, valid, hk,
        c.causal, 1.0 / std::sqrt(static_cast<double>(d)), nx, expected.data());
    expectClose("sparse_attention", c.p, c.entry + " " + s.name + memDesc,
                output(out, "out"), expected);
  }
}

TEST(CompiledKernels, SparseAttention) {
  using CM = ref::CausalMode;
  std::vector<AttentionCase> cases;
  for (const Heads &h : kAttentionHeads) {
    cases.push_back({"sa_nomem_br_" + h.tag(), kBf16, h, Memory::kNone,
                     Local::kPlain, Rope::kNone, CM::kBottomRight});
    cases.push_back({"sa_sel_br_" + h.tag(), kBf16, h, Memory::kSelected,
                     Local::kPlain, Rope::kNone, CM::kBottomRight});
    cases.push_back({"sa_decode_" + h.tag(), kBf16, h, Memory::kSelected,
                     Local::kAppend, Rope::kPositions, CM::kBlock});
  }
  const Heads small{4, 2, 16}, wide{8, 2, 64};
  cases.push_back({"sa_nomem_block", kBf16, small, Memory::kNone, Local::kPlain,
                   Rope::kNone, CM::kBlock});
  cases.push_back({"sa_whole_br", kBf16, wide, Memory::kWhole, Local::kPlain,
                   Rope::kNone, CM::kBottomRight});
  cases.push_back({"sa_whole_block", kBf16, small, Memory::kWhole,
                   Local::kPlain, Rope::kNone, CM::kBlock});
  cases.push_back({"sa_sel_block", kBf16, wide, Memory::kSelected,
                   Local::kPlain, Rope::kNone, CM::kBlock});
  cases.push_back({"sa_sel_br_start", kBf16, wide, Memory::kSelected,
                   Local::kPlain, Rope::kStart, CM::kBottomRight});
  cases.push_back({"sa_nomem_br_start", kBf16, small, Memory::kNone,
                   Local::kPlain, Rope::kStart, CM::kBottomRight});
  // A non-router decode layer as the model importer writes it (without
  // the RoPE: DISABLED_SparseAttentionAppendWithoutRope).
  cases.push_back({"sa_append_block", kBf16, small, Memory::kNone,
                   Local::kAppend, Rope::kPositions, CM::kBlock});
  cases.push_back({"sa_append_br", kBf16, wide, Memory::kSelected,
                   Local::kAppend, Rope::kNone, CM::kBottomRight});
  cases.push_back({"sa_append_br_pos", kBf16, small, Memory::kNone,
                   Local::kAppend, Rope::kPositions, CM::kBottomRight});
  cases.push_back({"sa_f32_sel_br", kF32, wide, Memory::kSelected,
                   Local::kPlain, Rope::kStart, CM::kBottomRight});
  cases.push_back({"sa_f32_decode", kF32, small, Memory::kSelected,
                   Local::kAppend, Rope::kPositions, CM::kBlock});
  std::string ir;
  for (const AttentionCase &c : cases)
    ir += attentionFunc(c);
  COMPILE_OR_SKIP(m, "sparse_attention", ir);
  Rng rng(61);
  for (const AttentionCase &c : cases)
    checkAttention(*m, c, rng);
}

// A sparse_attention whose local keys are concatenations but whose memory
// is not gathered and whose queries are not rotated: msa-fuse-assembly
// folds the concatenations into its appended keys too.
TEST(CompiledKernels, SparseAttentionAppendWithoutRope) {
  using CM = ref::CausalMode;
  const std::vector<AttentionCase> cases = {{"append_block",
                                             kBf16,
                                             {4, 2, 16},
                                             Memory::kNone,
                                             Local::kAppend,
                                             Rope::kNone,
                                             CM::kBlock},
                                            {"append_whole_br",
                                             kBf16,
                                             {4, 2, 16},
                                             Memory::kWhole,
                                             Local::kAppend,
                                             Rope::kNone,
                                             CM::kBottomRight}};
  std::string ir;
  for (const AttentionCase &c : cases)
    ir += attentionFunc(c);
  COMPILE_OR_SKIP(m, "append_without_rope", ir);
  Rng rng(62);
  for (const AttentionCase &c : cases)
    checkAttention(*m, c, rng);
}

//===----------------------------------------------------------------------===//
// Empty documents, chunks, selections and caches
//===----------------------------------------------------------------------===//

TEST(CompiledKernels, ChunkLevelEdgeCases) {
  const Heads h{4, 2, 16};
  const Precision &p = kBf16;
  std::string qt = ty({-1, h.q, h.dim}, p.mlir);
  std::string kt = ty({-1, h.kv, h.dim}, p.mlir);
  std::string mt = ty({h.kv, -1, h.dim}, p.mlir);
  std::string st = ty({-1}, "i32"), vt = ty({-1}, "i1");
  std::string ir;
  {
    // Stage 1 of a block with a template head and no documents.
    Func f("encode_no_docs");
    std::string q = f.arg("q", qt, tokenDims(3));
    std::string k = f.arg("k", kt, tokenDims(3));
    std::string v = f.arg("v", kt, tokenDims(3));
    std::string s = f.arg("segments", st, {"S"});
    f.line("%c0 = arith.constant 0 : index");
    f.line("%c1 = arith.constant 1 : index");
    f.line("%ns = tensor.dim " + s + ", %c0 : " + st);
    f.line("%nd = arith.subi %ns, %c1 : index");
    f.line("%docs = tensor.extract_slice " + s + "[1] [%nd] [1] : " + st +
           " to " + st);
    f.line("%o = msa.doc_attention " + q + ", " + k + ", " + v + ", " + s +
           " : (" + qt + ", " + kt + ", " + kt + ", " + st + ") -> " + qt);
    f.line("%kb = msa.chunk_pool " + k + ", %docs chunk_size = 4 : (" + kt +
           ", " + st + ") -> " + mt);
    f.line("%vb = msa.chunk_pool " + v + ", %docs chunk_size = 4 : (" + kt +
           ", " + st + ") -> " + mt);
    f.result("%o", qt, "out");
    f.result("%kb", mt, "pooled_key", {"", "C", ""});
    f.result("%vb", mt, "pooled_value", {"", "C", ""});
    ir += f.text();
  }
  ir += routeFunc(
      "route_no_docs", p, h,
      {HeadReduce::kMean, QueryReduce::kMax, ChunkReduce::kMax, false, true}, 3,
      false);
  {
    // Attention over a (possibly empty) bank with a (possibly empty)
    // selection and an empty cache.
    Func f("attend_empty");
    std::string q = f.arg("q", qt, tokenDims(3));
    std::string tk = f.arg("template_key", kt, tokenDims(3, "N"));
    std::string tv = f.arg("template_value", kt, tokenDims(3, "N"));
    std::string bk = f.arg("bank_key", mt, {"", "C", ""});
    std::string bv = f.arg("bank_value", mt, {"", "C", ""});
    std::string coff = f.arg("chunk_offsets", st, {"D"});
    std::string idx = f.arg("indices", ty({2}, "i32"));
    std::string n = f.arg("count", ty({}, "i32"));
    std::string ck = f.arg("cache_key", kt, tokenDims(3, "L"));
    std::string cv = f.arg("cache_value", kt, tokenDims(3, "L"));
    std::string cvalid = f.arg("cache_valid", vt, {"L"});
    std::string k = f.arg("key", kt, tokenDims(3));
    std::string v = f.arg("value", kt, tokenDims(3));
    std::string valid = f.arg("valid", vt, {"T"});
    std::string sig = " : (" + mt + ", " + ty({2}, "i32") + ", " +
                      ty({}, "i32") + ", " + st + ") -> " + mt;
    f.line("%gk = msa.gather_chunks " + bk + "[" + idx + ", " + n + "], " +
           coff + sig);
    f.line("%gv = msa.gather_chunks " + bv + "[" + idx + ", " + n + "], " +
           coff + sig);
    f.line("%lk = tensor.concat dim(0) " + ck + ", " + k + " : (" + kt + ", " +
           kt + ") -> " + kt);
    f.line("%lv = tensor.concat dim(0) " + cv + ", " + v + " : (" + kt + ", " +
           kt + ") -> " + kt);
    f.line("%lvalid = tensor.concat dim(0) " + cvalid + ", " + valid + " : (" +
           vt + ", " + vt + ") -> " + vt);
    f.line("%o = msa.sparse_attention " + q + ", template(" + tk + ", " + tv +
           ") memory(%gk, %gv) local(%lk, %lv, %lvalid) causal = block : (" +
           qt + ", " + kt + ", " + kt + ", " + mt + ", " + mt + ", " + kt +
           ", " + kt + ", " + vt + ") -> " + qt);
    f.result("%o", qt, "out");
    ir += f.text();
  }
  COMPILE_OR_SKIP(m, "edge_cases", ir);
  EXPECT_EQ(launchedOps(*m, "encode_no_docs"), Ops{"msa.encode_docs"});
  EXPECT_EQ(launchedOps(*m, "route_no_docs"),
            Ops({"msa.route_topk", "msa.topk_merge"}));
  EXPECT_EQ(launchedOps(*m, "attend_empty"), Ops{"msa.memory_attention"});
  Rng rng(71);
  ref::Numerics nx = p.numerics();
  const double scale = 1.0 / std::sqrt(static_cast<double>(h.dim));

  // Stage 1: the template only (C = 0), then one empty document.
  for (const std::vector<int32_t> &segments :
       {std::vector<int32_t>{0, 3}, std::vector<int32_t>{0, 3, 3}}) {
    const int64_t tokens = 3;
    const ref::Shape3 qs{tokens, h.q, h.dim}, ks{tokens, h.kv, h.dim};
    std::vector<float> q = randomValues(rng, qs.size(), p);
    std::vector<float> k = randomValues(rng, ks.size(), p);
    std::vector<float> v = randomValues(rng, ks.size(), p);
    CompiledModel::TensorMap out =
        run(*m, "encode_no_docs",
            {{"q", floats(q, p, {tokens, h.q, h.dim})},
             {"k", floats(k, p, {tokens, h.kv, h.dim})},
             {"v", floats(v, p, {tokens, h.kv, h.dim})},
             {"segments", ints(segments)}},
            {{"C", 0}});
    std::vector<float> expected(static_cast<size_t>(qs.size()));
    ref::docAttention(q.data(), qs, k.data(), v.data(), h.kv, segments, scale,
                      nx, expected.data());
    expectClose("edge cases", p, "encode without documents", output(out, "out"),
                expected);
    ASSERT_TRUE(out.count("pooled_key"));
    EXPECT_EQ(out["pooled_key"].shape, (std::vector<int64_t>{h.kv, 0, h.dim}));
  }

  // Routing over an empty bank (no documents, no chunks) and over
  // documents that all have no chunks: nothing is selected.
  for (const std::vector<int32_t> &offsets :
       {std::vector<int32_t>{0}, std::vector<int32_t>{0, 0, 0}}) {
    const int64_t tokens = 4;
    std::vector<float> q = randomValues(rng, tokens * h.q * h.dim, p);
    CompiledModel::TensorMap out =
        run(*m, "route_no_docs",
            {{"q", floats(q, p, {tokens, h.q, h.dim})},
             {"keys", floats({}, p, {h.kv, 0, h.dim})},
             {"mask", mask({1, 0, 1, 1})},
             {"chunk_offsets", ints(offsets)}});
    EXPECT_EQ(intOutput(out, "indices"), (std::vector<int32_t>{-1, -1, -1}));
    EXPECT_EQ(intOutput(out, "count"), (std::vector<int32_t>{0}));
  }

  // Attention: an empty bank, an empty selection of a non-empty bank, a
  // selected document without chunks; each with an empty and a short cache.
  struct Mem {
    std::vector<int32_t> offsets, indices;
    int32_t count;
  };
  const std::vector<Mem> mems = {{{0}, {-1, -1}, 0},
                                 {{0, 2, 5}, {-1, -1}, 0},
                                 {{0, 2, 2, 5}, {1, -1}, 1},
                                 {{0, 2, 2, 5}, {1, 2}, 2}};
  for (const Mem &mem : mems) {
    for (int64_t cacheLen : {0, 4}) {
      const int64_t T = 2, L = cacheLen + T, tpl = 3, hk = h.kv, d = h.dim;
      const int64_t chunks = mem.offsets.back();
      std::vector<float> q = randomValues(rng, T * h.q * d, p);
      std::vector<float> tk = randomValues(rng, tpl * hk * d, p);
      std::vector<float> tv = randomValues(rng, tpl * hk * d, p);
      std::vector<float> bk = randomValues(rng, hk * chunks * d, p);
      std::vector<float> bv = randomValues(rng, hk * chunks * d, p);
      std::vector<float> lk = randomValues(rng, L * hk * d, p);
      std::vector<float> lv = randomValues(rng, L * hk * d, p);
      std::vector<uint8_t> valid = randomMask(rng, L, 0.7);
      auto part = [&](const std::vector<float> &x, int64_t b, int64_t n) {
        return floats(std::vector<float>(x.begin() + b * hk * d,
                                         x.begin() + (b + n) * hk * d),
                      p, {n, hk, d});
      };
      CompiledModel::TensorMap out =
          run(*m, "attend_empty",
              {{"q", floats(q, p, {T, h.q, d})},
               {"template_key", floats(tk, p, {tpl, hk, d})},
               {"template_value", floats(tv, p, {tpl, hk, d})},
               {"bank_key", floats(bk, p, {hk, chunks, d})},
               {"bank_value", floats(bv, p, {hk, chunks, d})},
               {"chunk_offsets", ints(mem.offsets)},
               {"indices", ints(mem.indices)},
               {"count", scalar(mem.count)},
               {"cache_key", part(lk, 0, cacheLen)},
               {"cache_value", part(lv, 0, cacheLen)},
               {"cache_valid", mask(std::vector<uint8_t>(
                                   valid.begin(), valid.begin() + cacheLen))},
               {"key", part(lk, cacheLen, T)},
               {"value", part(lv, cacheLen, T)},
               {"valid", mask(std::vector<uint8_t>(valid.begin() + cacheLen,
                                                   valid.end()))}});
      std::vector<int32_t> selected(mem.indices.begin(),
                                    mem.indices.begin() + mem.count);
      std::vector<float> memK =
          ref::gatherChunks(bk.data(), hk, chunks, d, mem.offsets, selected);
      std::vector<float> memV =
          ref::gatherChunks(bv.data(), hk, chunks, d, mem.offsets, selected);
      std::vector<float> expected(static_cast<size_t>(T * h.q * d));
      ref::sparseAttention(q.data(), {T, h.q, d}, tk.data(), tv.data(), tpl,
                           memK.data(), memV.data(),
                           static_cast<int64_t>(memK.size()) / (hk * d),
                           lk.data(), lv.data(), L, valid, hk,
                           ref::CausalMode::kBlock, scale, nx, expected.data());
      expectClose("edge cases", p,
                  "attention, offsets " + describe(mem.offsets) +
                      " selection " + describe(selected) + " cache " +
                      std::to_string(cacheLen),
                  output(out, "out"), expected);
    }
  }
}

} // namespace
