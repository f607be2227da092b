// 02 — the same activation from the C++ builder instead of text.
//
// Builds QuickGELU, x·σ(1.702·x), with operator overloading, checks that it is
// the same AST the parser makes from the text, and evaluates both on the CPU.
#include <cstdio>

#include "compiler/Pipeline.h"
#include "dsl/Builder.h"
#include "dsl/Parser.h"

namespace tf = tilefuse::builder;

int main() {
  auto x = tf::var("x");
  tilefuse::dsl::Program built = tf::program(x * tf::sigmoid(1.702 * x));

  auto parsed = tilefuse::dsl::parse("x * sigmoid(1.702 * x)");
  if (!parsed) return std::fprintf(stderr, "%s\n", parsed.error().message.c_str()), 1;
  const std::string a = tilefuse::dsl::to_string(built), b = tilefuse::dsl::to_string(*parsed);
  std::printf("builder: %sparser:  %s", a.c_str(), b.c_str());
  if (a != b) return std::fprintf(stderr, "the builder and the parser disagree\n"), 1;

  tilefuse::compiler::KernelSpec spec;
  spec.program = built;
  auto cpu = tilefuse::compiler::compile_for_cpu(spec);
  if (!cpu) return std::fprintf(stderr, "%s\n", cpu.error().message.c_str()), 1;
  const float in[] = {1.0f};
  float out[1];
  const float* inputs[] = {in};
  if (auto ok = (*cpu)->evaluate(inputs, {}, out); !ok) return 1;
  std::printf("quick_gelu(1) = %.9g\n", out[0]);
  return out[0] > 0.845f && out[0] < 0.846f ? 0 : 1;
}
