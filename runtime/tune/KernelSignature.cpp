// See KernelSignature.h.
#include "runtime/tune/KernelSignature.h"

#include <xxhash.h>

#include <fmt/format.h>

namespace tilefuse::tune {
namespace {

/// The expression as text: the source for parsed specs, the printed AST for builder-made ones.
std::string expression_text(const compiler::KernelSpec& spec) {
  return spec.program ? dsl::to_string(*spec.program) : spec.expression;
}

/// Appends a length-prefixed field so that ("ab","c") and ("a","bc") differ.
void append_field(std::string& out, std::string_view field) {
  out += fmt::format("{}:", field.size());
  out += field;
}

}  // namespace

std::string kernel_signature(const compiler::KernelSpec& spec) {
  std::string bytes;
  append_field(bytes, "tilefuse-kernel-signature-v1");
  append_field(bytes, expression_text(spec));
  append_field(bytes, compiler::to_string(spec.input_type));
  append_field(bytes, compiler::to_string(spec.output_type));
  append_field(bytes, compiler::to_string(spec.precision));
  append_field(bytes, compiler::to_string(spec.arch));
  append_field(bytes, fmt::format("b_col_major={} bias={} residual={} aux={} gate_interleave={}",
                                  spec.b_col_major, spec.bias, spec.residual, spec.aux,
                                  spec.gate_interleave));
  // FP8 ops only, so that every earlier signature (and tuning record) stays valid.
  if (compiler::is_fp8(spec.input_type))
    append_field(bytes, fmt::format("b_type={} scale={} amax={}",
                                    compiler::to_string(spec.b_type.value_or(spec.input_type)),
                                    compiler::to_string(spec.scale), spec.amax));
  return fmt::format("{:016x}", XXH3_64bits(bytes.data(), bytes.size()));
}

std::string kernel_description(const compiler::KernelSpec& spec) {
  std::string text = fmt::format("{} {} {}->{} {}", expression_text(spec), compiler::to_string(spec.arch),
                                 compiler::to_string(spec.input_type),
                                 compiler::to_string(spec.output_type),
                                 compiler::to_string(spec.precision));
  if (spec.b_col_major) text += " b_col_major";
  if (spec.bias) text += " bias";
  if (spec.residual) text += " residual";
  if (spec.aux) text += " aux";
  if (spec.gate_interleave > 0) text += fmt::format(" gate_interleave={}", spec.gate_interleave);
  if (spec.b_type) text += fmt::format(" b_type={}", compiler::to_string(*spec.b_type));
  if (spec.scale != compiler::ScaleMode::PerTensor) text += fmt::format(" scale={}", compiler::to_string(spec.scale));
  if (spec.amax) text += " amax";
  return text;
}

}  // namespace tilefuse::tune
