// See ReferenceGemm.h.
#include "ReferenceGemm.h"

namespace emu {

tilefuse::Expected<ReferenceResult> reference_gemm(const ReferenceProblem& p,
                                                   const tilefuse::dsl::ResolvedProgram& activation,
                                                   const tilefuse::dsl::ParameterValues& parameters) {
  // Row i of batch b: A's row b·M + i times the weights of batch wb.
  auto product = [&](const std::vector<double>& w, unsigned b, unsigned wb, long long i, long long j) {
    double sum = 0.0;
    for (long long kk = 0; kk < p.k; ++kk) sum += p.a[(b * p.m + i) * p.k + kk] * w[(wb * p.k + kk) * p.n + j];
    return sum;
  };
  ReferenceResult r;
  const std::size_t count = static_cast<std::size_t>(p.batch * p.m * p.n);
  r.pre.resize(count);
  r.out.resize(count);
  if (p.gated) r.up.resize(count);
  for (unsigned b = 0; b < p.batch; ++b)
    for (long long i = 0; i < p.m; ++i)
      for (long long j = 0; j < p.n; ++j) {
        const std::size_t at = static_cast<std::size_t>((b * p.m + i) * p.n + j);
        const unsigned wb = p.row_weights.empty() ? b : p.row_weights[static_cast<std::size_t>(b * p.m + i)];
        tilefuse::dsl::InputValues inputs;
        for (const auto& [name, values] : p.row_inputs) inputs.rows[name] = values[b * p.m + i];
        for (const auto& [name, values] : p.col_inputs) inputs.cols[name] = values[wb * p.n + j];
        if (p.gated) {
          inputs.gate = product(p.weights, b, wb, i, j);
          inputs.up = product(p.up_weights, b, wb, i, j);
          r.pre[at] = inputs.gate;
          r.up[at] = inputs.up;
        } else {
          double v = p.alpha * product(p.weights, b, wb, i, j);
          if (p.has_bias) v += p.bias[(p.bias_per_weights ? wb * p.n : 0) + j];
          if (p.has_residual) v += p.beta * p.c[at];
          inputs.x = r.pre[at] = v;
        }
        auto value = tilefuse::dsl::evaluate(activation, inputs, parameters);
        if (!value) return value.take_error();
        r.out[at] = *value;
      }
  return r;
}

}  // namespace emu
