// libFuzzer target: arbitrary bytes through the parser, name resolution, the
// float64 interpreter and the whole MLIR pipeline down to CUDA text. Any
// crash, sanitizer report or uncaught exception is a bug; an Error is fine.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "compiler/Pipeline.h"
#include "dsl/Interpreter.h"
#include "dsl/Resolve.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto resolved = tilefuse::dsl::resolve(text);
  if (!resolved) return 0;

  // Give every parameter a value so evaluation runs to the end.
  tilefuse::dsl::ParameterValues params;
  for (const auto& name : resolved->analysis.parameters) params[name] = 0.5;
  for (double x : {-3.0, 0.0, 2.5}) {
    tilefuse::dsl::InputValues in{.x = x, .gate = x, .up = -x};
    (void)tilefuse::dsl::evaluate(*resolved, in, params);
  }

  tilefuse::compiler::KernelSpec spec;
  spec.expression = std::string(text);
  for (auto precision : {tilefuse::compiler::Precision::Precise, tilefuse::compiler::Precision::Fast}) {
    spec.precision = precision;
    (void)tilefuse::compiler::compile(spec);
  }
  return 0;
}
