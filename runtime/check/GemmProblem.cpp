// See GemmProblem.h.
#include "runtime/check/GemmProblem.h"

#include <cmath>

#include <fmt/format.h>

namespace tilefuse::gpu {

long long padded_ld(long long width, long long pad) { return (width + 7) / 8 * 8 + pad; }

GemmProblem GemmProblem::make(const GemmCase& spec, bool gated, std::mt19937_64& rng) {
  GemmProblem p;
  p.spec = spec;
  p.gated = gated;
  p.features = gated && spec.gate_interleave > 0 ? 2 * spec.n : spec.n;
  const int b_batch = spec.broadcast_b ? 1 : spec.batch;
  // An odd width gets 8 more elements of padding: rows that do not start right
  // after the previous one catch kernels that ignore the leading dimension.
  const long long pad = spec.k % 2 ? 8 : 0;
  p.a = HostTensor(spec.in, spec.m, spec.k, padded_ld(spec.k, pad), spec.batch);
  const long long b_rows = spec.b_col_major ? p.features : spec.k;
  const long long b_cols = spec.b_col_major ? spec.k : p.features;
  p.b = HostTensor(spec.in, b_rows, b_cols, padded_ld(b_cols, pad), b_batch);
  p.a.fill_uniform(-1.0, 1.0, rng);
  const double w = 2.0 / std::sqrt(static_cast<double>(spec.k));
  p.b.fill_uniform(-w, w, rng);
  if (gated && spec.gate_interleave == 0) {
    p.b_up = HostTensor(spec.in, b_rows, b_cols, padded_ld(b_cols, pad), b_batch);
    p.b_up.fill_uniform(-w, w, rng);
  }
  if (spec.bias) {
    p.bias = HostTensor(spec.in, 1, spec.n, padded_ld(spec.n));
    p.bias.fill_uniform(-1.0, 1.0, rng);
  }
  p.ldd = padded_ld(spec.n, spec.n % 2 ? 8 : 0);
  if (spec.residual) {
    p.c = HostTensor(spec.out, spec.m, spec.n, padded_ld(spec.n), spec.batch);
    p.c.fill_uniform(-1.0, 1.0, rng);
  }
  // aux is shaped like D; a gated op's is [gate | up], 2N wide.
  p.ld_aux = !spec.aux ? 0 : gated ? padded_ld(2 * spec.n, spec.n % 2 ? 8 : 0) : p.ldd;
  return p;
}

Expected<GemmProblem::Reference> GemmProblem::reference(const dsl::ResolvedProgram& program,
                                                        const dsl::ParameterValues& params, int batch,
                                                        long long row, long long col) const {
  const int bb = spec.broadcast_b ? 0 : batch;
  auto weight = [&](const HostTensor& w, long long k, long long feature) {
    return spec.b_col_major ? w.at(bb, feature, k) : w.at(bb, k, feature);
  };
  // Features of output column `col` in B (and W_up): see MatmulOptions::gate_interleave.
  long long gate_feature = col, up_feature = col;
  if (gated && spec.gate_interleave > 0) {
    const long long block = spec.gate_interleave;
    gate_feature = (col / block) * 2 * block + col % block;
    up_feature = gate_feature + block;
  }
  double acc = 0, up = 0;
  for (long long k = 0; k < spec.k; ++k) {
    const double a_ik = a.at(batch, row, k);
    acc += a_ik * weight(b, k, gate_feature);
    if (gated) up += a_ik * weight(spec.gate_interleave > 0 ? b : b_up, k, up_feature);
  }
  Reference r;
  dsl::InputValues inputs;
  if (gated) {
    inputs.gate = acc;
    inputs.up = up;
    r.pre = acc;
    r.up = up;
  } else {
    double pre = spec.alpha * acc;
    if (spec.bias) pre += bias.at(0, 0, col);
    if (spec.residual) pre += spec.beta * c.at(batch, row, col);
    inputs.x = pre;
    r.pre = pre;
  }
  auto value = dsl::evaluate(program, inputs, params);
  if (!value) return value.take_error();
  r.out = *value;
  return r;
}

Expected<DeviceProblem> DeviceProblem::upload(const GemmProblem& p) {
  DeviceProblem d;
  auto put = [](const HostTensor& host, DeviceBuffer& device) -> Expected<void> {
    if (host.size_bytes() == 0) return {};
    auto buffer = DeviceBuffer::allocate(host.size_bytes());
    if (!buffer) return buffer.take_error();
    device = std::move(*buffer);
    return device.upload(host.data(), host.size_bytes());
  };
  for (auto [host, device] : {std::pair{&p.a, &d.a}, std::pair{&p.b, &d.b}, std::pair{&p.b_up, &d.b_up},
                              std::pair{&p.bias, &d.bias}, std::pair{&p.c, &d.c}})
    if (auto ok = put(*host, *device); !ok) return ok.take_error();
  const HostTensor out = output_tensor(p);
  auto out_buffer = DeviceBuffer::allocate(out.size_bytes());
  if (!out_buffer) return out_buffer.take_error();
  d.d = std::move(*out_buffer);
  const HostTensor aux_out = aux_tensor(p);
  if (p.spec.aux) {
    auto aux_buffer = DeviceBuffer::allocate(aux_out.size_bytes());
    if (!aux_buffer) return aux_buffer.take_error();
    d.aux = std::move(*aux_buffer);
  }

  MatmulArgs& args = d.args;
  args.a = d.a.get();
  args.b = d.b.get();
  args.b_up = p.b_up.size_bytes() ? d.b_up.get() : nullptr;
  args.d = d.d.get();
  args.shape = {p.spec.m, p.spec.n, p.spec.k};
  args.lda = p.a.ld();
  args.ldb = p.b.ld();
  args.ldd = p.ldd;
  args.alpha = p.spec.alpha;
  args.beta = p.spec.beta;
  args.bias = p.spec.bias ? d.bias.get() : nullptr;
  args.c = p.spec.residual ? d.c.get() : nullptr;
  args.ldc = p.spec.residual ? p.c.ld() : 0;
  args.aux = p.spec.aux ? d.aux.get() : nullptr;
  args.ld_aux = p.ld_aux;
  args.batch = p.spec.batch;
  args.stride_a = p.a.batch_stride();
  args.stride_b = p.spec.broadcast_b ? 0 : p.b.batch_stride();
  args.stride_c = p.spec.residual ? p.c.batch_stride() : kPackedStride;
  args.stride_d = out.batch_stride();
  args.stride_aux = aux_out.batch_stride();
  return d;
}

Expected<void> DeviceProblem::poison_outputs() {
  if (auto ok = d.fill(0xFF); !ok) return ok;
  if (aux.bytes()) return aux.fill(0xFF);
  return {};
}

HostTensor output_tensor(const GemmProblem& p) {
  return HostTensor(p.spec.out, p.spec.m, p.spec.n, p.ldd, p.spec.batch);
}

HostTensor aux_tensor(const GemmProblem& p) {
  if (!p.spec.aux) return output_tensor(p);
  return HostTensor(p.spec.out, p.spec.m, p.gated ? 2 * p.spec.n : p.spec.n, p.ld_aux, p.spec.batch);
}

}  // namespace tilefuse::gpu
