// The parameterised sweep both emulation suites run: every registered
// configuration x a list of shapes x a list of legal executions, each case
// checked end to end against the float64 reference (GemmCase.h). The suites
// differ only in their shapes and executions (gemm_emulation_test.cpp for
// sm_80, gemm_sm90_emulation_test.cpp for sm_90a).
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "GemmCase.h"

namespace emu {

struct NamedShape {
  const char* name;
  CaseShape shape;
};

/// One legal schedule of the emulator (copy landing, thread order, SM count).
struct Execution {
  const char* name;
  RunOptions options;
};

struct SweepCase {
  const GemmVariant* variant;
  const NamedShape* shape;
  const Execution* execution;
};

/// The interleaved weight matrix holds whole gate/up blocks: the host rejects
/// N that is not a multiple of the block (runtime/ops/GemmArguments.cpp).
inline CaseShape fit_to_variant(CaseShape s, const GemmVariant& v) {
  if (v.gated && v.gate_interleave > 0) s.n = (s.n + v.gate_interleave - 1) / v.gate_interleave * v.gate_interleave;
  return s;
}

/// The variants of one kind: plain (batched) ones, or with `grouped` the
/// grouped ones (whose shapes carry group sizes).
inline std::vector<SweepCase> sweep_cases(std::span<const NamedShape> shapes, std::span<const Execution> executions,
                                          bool grouped = false) {
  std::vector<SweepCase> cases;
  for (const GemmVariant& v : registered_variants())
    if ((v.grouped != 0) == grouped)
      for (const NamedShape& s : shapes)
        for (const Execution& e : executions) cases.push_back({&v, &s, &e});
  return cases;
}

inline void PrintTo(const SweepCase& c, std::ostream* os) {
  *os << c.variant->name << " " << c.shape->name << " " << c.execution->name;
}

/// A gtest name: variant_shape_execution with every non-alphanumeric as '_'.
inline std::string sweep_case_name(const ::testing::TestParamInfo<SweepCase>& info) {
  std::string name =
      fmt::format("{}_{}_{}", info.param.variant->name, info.param.shape->name, info.param.execution->name);
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return name;
}

/// Runs one case and reports every failure it found (a gtest expectation).
inline void expect_case_matches_reference(const SweepCase& c) {
  const CaseShape shape = fit_to_variant(c.shape->shape, *c.variant);
  const CaseOutcome outcome = run_gemm_case(*c.variant, shape, c.execution->options);
  std::string report;
  for (const std::string& failure : outcome.failures) report += "\n  " + failure;
  std::string groups;
  for (long long rows : shape.group_rows) groups += (groups.empty() ? " groups " : ",") + std::to_string(rows);
  EXPECT_TRUE(outcome.failures.empty()) << c.variant->name << " on " << shape.m << "x" << shape.n << "x" << shape.k
                                        << " batch " << shape.batch << groups << ":" << report;
  ::testing::Test::RecordProperty("relative_error", fmt::format("{:.3g}", outcome.relative_error));
}

}  // namespace emu
