// See Fp8Variants.h.
#include "bench/fp8/Fp8Variants.h"

#include <algorithm>
#include <future>

#include <fmt/format.h>

namespace tilefuse::bench {

std::vector<Variant> tilefuse_variants(const Selection& sel) {
  std::vector<Variant> variants;
  for (Fp8Scaling scaling : sel.scalings)
    for (bool fp8_out : {false, true}) {
      if (fp8_out && (!sel.fp8_out || scaling != Fp8Scaling::PerTensor)) continue;
      for (const std::string& activation : sel.activations) variants.push_back({"tilefuse", activation, scaling, fp8_out});
    }
  return variants;
}

std::string tilefuse_expression(const std::string& activation, Fp8Scaling scaling) {
  return scaling == Fp8Scaling::RowWise ? fmt::format("{}(x * sa * sb)", activation) : activation;
}

Expected<dsl::ResolvedProgram> reference_program(const std::string& activation, Fp8Scaling scaling) {
  dsl::OperandDeclarations declared;
  if (scaling == Fp8Scaling::RowWise) declared = {{"sa"}, {"sb"}};
  return dsl::resolve(tilefuse_expression(activation, scaling), declared);
}

MatmulOptions tilefuse_options(const Variant& v) {
  MatmulOptions options{.activation = tilefuse_expression(v.activation, v.scaling), .dtype = DType::E4M3};
  options.b_col_major = true;
  options.out_dtype = v.fp8_out ? DType::E4M3 : DType::BF16;
  options.amax = v.fp8_out;
  options.scale = v.scaling == Fp8Scaling::Block128 ? ScaleMode::Block128 : ScaleMode::PerTensor;
  if (v.scaling == Fp8Scaling::RowWise) {
    options.row_inputs = {"sa"};
    options.col_inputs = {"sb"};
  }
  return options;
}

Expected<CompiledOp> compile_tilefuse(Runtime& rt, const Variant& v, const Shape3& s, Arch arch) {
  auto build = [&](Arch target, bool forced) -> Expected<CompiledOp> {
    MatmulOptions o = tilefuse_options(v);
    if (forced) o.arch = target;
    auto op = rt.matmul(o);
    if (!op) return op.take_error();
    auto info = op->compile({s.m, s.n, s.k}, target);
    if (!info) return info.take_error();
    return CompiledOp{*op, *info, std::nullopt};
  };
  auto op = build(arch, false);
  if (op || arch != Arch::Sm90a || op.error().code != ErrorCode::Unsupported) return op;
  auto fallback = build(Arch::Sm90, true);
  if (fallback) fallback->sm90a_unsupported = op.error();
  return fallback;
}

std::vector<CompileJob> compile_jobs(const std::vector<Shape3>& shapes, const Selection& sel) {
  std::vector<CompileJob> work;
  for (const Shape3& s : shapes)
    for (const Variant& v : tilefuse_variants(sel)) work.push_back({s, v});
  return work;
}

std::vector<Expected<CompiledOp>> compile_all(Runtime& rt, const std::vector<CompileJob>& work, Arch arch,
                                              unsigned jobs) {
  std::vector<Expected<CompiledOp>> results;
  results.reserve(work.size());
  jobs = std::max(1u, jobs);
  for (size_t first = 0; first < work.size(); first += jobs) {
    std::vector<std::future<Expected<CompiledOp>>> batch;
    for (size_t i = first; i < std::min(work.size(), first + jobs); ++i)
      batch.push_back(std::async(std::launch::async, [&rt, &job = work[i], arch] {
        return compile_tilefuse(rt, job.variant, job.shape, arch);
      }));
    for (auto& f : batch) results.push_back(f.get());
  }
  return results;
}

}  // namespace tilefuse::bench
