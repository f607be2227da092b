// See GemmCase.h.
#include "GemmCase.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <memory>
#include <random>

#include "ReferenceGemm.h"
#include "emulator/DeviceMemory.h"
#include "emulator/HalfFloat.h"

namespace emu {
namespace {

constexpr std::size_t kMaxReportsPerCheck = 5;

long long round8(long long v) { return (v + 7) / 8 * 8; }

/// 16-bit or fp32 element storage of one dtype.
struct ElementType {
  int bytes = 2;
  bool bf16 = true;

  double read(const void* base, long long index) const {
    if (bytes == 4) return static_cast<const float*>(base)[index];
    const std::uint16_t bits = static_cast<const std::uint16_t*>(base)[index];
    return bf16 ? bf16_to_float(bits) : f16_to_float(bits);
  }
  /// Stores `value` rounded to this type; returns the stored value.
  double write(void* base, long long index, double value) const {
    if (bytes == 4) return static_cast<float*>(base)[index] = static_cast<float>(value);
    const std::uint16_t bits = bf16 ? float_to_bf16(static_cast<float>(value)) : float_to_f16(static_cast<float>(value));
    static_cast<std::uint16_t*>(base)[index] = bits;
    return read(base, index);
  }
  bool is_poison(const void* base, long long index) const {
    if (bytes == 4) {
      std::uint32_t bits;
      std::memcpy(&bits, static_cast<const float*>(base) + index, 4);
      return bits == (static_cast<std::uint32_t>(kPoison16) << 16 | kPoison16);
    }
    return static_cast<const std::uint16_t*>(base)[index] == kPoison16;
  }
};

/// A batch of rows x cols matrices stored with leading dimension `ld` and
/// `batch_stride` elements between batches, in a guarded buffer.
struct StoredMatrix {
  long long rows = 0, cols = 0, ld = 0, batch_stride = 0;
  unsigned batch = 1;
  ElementType type;
  std::unique_ptr<GuardedBuffer> buffer;
  std::vector<std::uint8_t> snapshot;  // inputs: contents after filling

  StoredMatrix(long long rows_, long long cols_, long long ld_, long long stride, unsigned batch_, ElementType t)
      : rows(rows_), cols(cols_), ld(ld_), batch_stride(stride), batch(batch_), type(t) {
    const long long elements = static_cast<long long>(batch - 1) * batch_stride + rows * ld;
    buffer = std::make_unique<GuardedBuffer>(static_cast<std::size_t>(elements * type.bytes));
  }
  long long index(unsigned b, long long r, long long c) const { return b * batch_stride + r * ld + c; }
  long long elements() const { return static_cast<long long>(buffer->bytes()) / type.bytes; }
  void* data() { return buffer->data(); }
  void take_snapshot() {
    const auto* bytes = static_cast<const std::uint8_t*>(buffer->data());
    snapshot.assign(bytes, bytes + buffer->bytes());
  }
  bool unchanged() const { return std::memcmp(snapshot.data(), buffer->data(), snapshot.size()) == 0; }
};

struct Failures {
  std::vector<std::string> list;
  void add(std::string message) { list.push_back(std::move(message)); }
};

/// Checks one output matrix against its reference (logical batch x M x N).
/// `valid_rows` (batch x M; empty: all): rows that hold results. The others
/// must stay unwritten (a masked group's rows past its count).
double check_output(const char* name, const StoredMatrix& out, const std::vector<double>& reference,
                    const CaseShape& s, Failures& failures, const std::vector<bool>& valid_rows = {}) {
  // 16-bit outputs round to 8 (bf16) or 11 (f16) bits; fp32 keeps ~24 bits
  // (the activation adds a few ulp). The absolute floor covers cancellation.
  auto valid = [&](unsigned b, long long i) {
    return valid_rows.empty() || valid_rows[static_cast<std::size_t>(b * s.m + i)];
  };
  double sum_sq_ref = 0.0;
  std::size_t valid_count = 0;
  for (unsigned b = 0; b < s.batch; ++b)
    for (long long i = 0; i < s.m; ++i)
      if (valid(b, i))
        for (long long j = 0; j < s.n; ++j) {
          const double v = reference[static_cast<std::size_t>((b * s.m + i) * s.n + j)];
          sum_sq_ref += v * v;
          ++valid_count;
        }
  const double rms = std::sqrt(sum_sq_ref / static_cast<double>(std::max<std::size_t>(valid_count, 1)));
  const double relative_bound = out.type.bytes == 4 ? 1e-5 : (out.type.bf16 ? 1.0 / 256 : 1.0 / 2048);
  const double absolute_floor = 1e-3 * rms + 1e-30;
  // f16 spaces its subnormals 2^-24 apart: a tiny output is off by up to half
  // of that however exactly it was computed (bf16 and fp32 subnormals are far
  // below any value here). That part of the error is the type's, not the kernel's.
  const double unrepresentable = out.type.bytes == 2 && !out.type.bf16 ? std::ldexp(1.0, -25) : 0.0;

  std::size_t unwritten = 0, touched = 0, off = 0;
  double sum_sq_err = 0.0;
  std::vector<bool> logical(static_cast<std::size_t>(out.elements()), false);
  for (unsigned b = 0; b < s.batch; ++b)
    for (long long i = 0; i < s.m; ++i)
      for (long long j = 0; j < s.n && valid(b, i); ++j) {
        const long long at = out.index(b, i, j);
        logical[static_cast<std::size_t>(at)] = true;
        const double want = reference[static_cast<std::size_t>((b * s.m + i) * s.n + j)];
        if (out.type.is_poison(out.buffer->data(), at)) {
          if (unwritten++ < kMaxReportsPerCheck)
            failures.add(fmt::format("{}[{}][{}][{}] was never written", name, b, i, j));
          sum_sq_err += want * want;
          continue;
        }
        const double got = out.type.read(out.buffer->data(), at);
        const double err = got - want;
        const double kernel_err = std::max(0.0, std::fabs(err) - unrepresentable);
        sum_sq_err += std::isfinite(err) ? kernel_err * kernel_err : INFINITY;
        if (!(std::fabs(err) <= relative_bound * std::fabs(want) + absolute_floor + unrepresentable) &&
            off++ < kMaxReportsPerCheck)
          failures.add(fmt::format("{}[{}][{}][{}] = {} but the float64 reference is {}", name, b, i, j, got, want));
      }
  for (long long at = 0; at < out.elements(); ++at)
    if (!logical[static_cast<std::size_t>(at)] && !out.type.is_poison(out.buffer->data(), at) &&
        touched++ < kMaxReportsPerCheck)
      failures.add(fmt::format("{}: element {} lies outside the M x N output (padding, another batch's gap or "
                               "a masked group's rows past its count) but was written",
                               name, at));
  if (unwritten > kMaxReportsPerCheck) failures.add(fmt::format("{}: {} elements never written", name, unwritten));
  if (off > kMaxReportsPerCheck) failures.add(fmt::format("{}: {} elements off the reference", name, off));
  if (touched > kMaxReportsPerCheck) failures.add(fmt::format("{}: {} elements outside the output written", name, touched));
  if (auto guard = out.buffer->check_guards(name); !guard.empty()) failures.add(guard);
  const double relative = std::sqrt(sum_sq_err / std::max(sum_sq_ref, 1e-300));
  if (!(relative <= 1e-2)) failures.add(fmt::format("{}: relative Frobenius error {} > 1e-2", name, relative));
  return relative;
}

/// ∂f/∂(the input `wrt` points at) at `at`, in float64: central difference of
/// the interpreter (step 2^-20·max(1, |value|)).
double partial_at(const tilefuse::dsl::ResolvedProgram& activation, const tilefuse::dsl::ParameterValues& parameters,
                  const tilefuse::dsl::InputValues& at, double tilefuse::dsl::InputValues::*wrt) {
  const double h = std::ldexp(1.0, -20) * std::max(1.0, std::fabs(at.*wrt));
  tilefuse::dsl::InputValues lo = at, hi = at;
  lo.*wrt -= h;
  hi.*wrt += h;
  auto a = tilefuse::dsl::evaluate(activation, lo, parameters), b = tilefuse::dsl::evaluate(activation, hi, parameters);
  return a && b ? (*b - *a) / (2 * h) : NAN;
}

/// f'(z) of a single-input activation.
double derivative_at(const tilefuse::dsl::ResolvedProgram& activation, const tilefuse::dsl::ParameterValues& parameters,
                     double z) {
  tilefuse::dsl::InputValues at;
  at.x = z;
  return partial_at(activation, parameters, at, &tilefuse::dsl::InputValues::x);
}

/// Row-wise [left | right] of two batch x M x N matrices: batch x M x 2N.
std::vector<double> side_by_side(const std::vector<double>& left, const std::vector<double>& right, long long n) {
  std::vector<double> out;
  out.reserve(left.size() * 2);
  for (std::size_t row = 0; row * n < left.size(); ++row) {
    out.insert(out.end(), left.begin() + row * n, left.begin() + (row + 1) * n);
    out.insert(out.end(), right.begin() + row * n, right.begin() + (row + 1) * n);
  }
  return out;
}

}  // namespace

CaseOutcome run_gemm_case(const GemmVariant& v, const CaseShape& shape, const RunOptions& options) {
  CaseOutcome outcome;
  Failures failures;
  // Grouped: the kernel's batch index is the expert. Contiguous: one [T, ...]
  // A, C, D, aux (batch 1, T = the sum of the groups); masked: E slabs of
  // M_max rows, of which the first group_rows[e] hold results.
  const bool grouped = v.grouped != 0, contiguous = v.grouped == 1;
  const long long experts = static_cast<long long>(shape.group_rows.size());
  if (grouped != (experts > 0) || (grouped && shape.batch != 1)) {
    outcome.failures.push_back(grouped ? "a grouped variant needs group_rows and batch 1"
                                       : "group_rows are for grouped variants only");
    return outcome;
  }
  CaseShape s = shape;
  std::vector<bool> valid_rows;        // masked: batch x M_max
  std::vector<unsigned> row_weights;   // contiguous: the expert of each of the T rows
  std::vector<int> group_sizes;        // what the kernel reads: E+1 offsets or E counts
  if (contiguous) {
    s.m = 0;
    group_sizes.push_back(0);
    for (long long e = 0; e < experts; ++e) {
      s.m += shape.group_rows[static_cast<std::size_t>(e)];
      group_sizes.push_back(static_cast<int>(s.m));
      row_weights.insert(row_weights.end(), static_cast<std::size_t>(shape.group_rows[static_cast<std::size_t>(e)]),
                         static_cast<unsigned>(e));
    }
  } else if (grouped) {
    s.batch = static_cast<unsigned>(experts);
    for (long long e = 0; e < experts; ++e) {
      const long long count = shape.group_rows[static_cast<std::size_t>(e)];
      group_sizes.push_back(static_cast<int>(count));
      for (long long i = 0; i < s.m; ++i) valid_rows.push_back(i < count);
    }
  }
  auto activation = tilefuse::dsl::resolve(v.expression, {v.row_inputs, v.col_inputs});
  if (!activation) {
    outcome.failures.push_back("the activation does not resolve: " + activation.error().message);
    return outcome;
  }
  tilefuse::dsl::ParameterValues parameters;
  std::vector<float> parameter_floats;
  for (const std::string& name : activation->analysis.parameters) {
    const float value = name == "a" ? 0.1f : 0.3f;  // exact in float: the reference sees the same value
    parameters[name] = value;
    parameter_floats.push_back(value);
  }

  const ElementType in{2, v.input_bf16};
  const ElementType out{v.out_bytes, v.out_bf16};
  const bool interleaved = v.gated && v.gate_interleave > 0;
  // Gated forward: two weight operands. Gated backward: one (dH = alpha·A·B),
  // aux = [gate | up] as input and D = [dgate | dup], both 2N wide.
  const bool two_weights = v.gated && !v.backward;
  const bool gated_backward = v.gated && v.backward;
  const long long aux_cols = v.gated ? 2 * s.n : s.n, d_cols = gated_backward ? 2 * s.n : s.n;
  CaseShape aux_shape = s, d_shape = s;
  aux_shape.n = aux_cols;
  d_shape.n = d_cols;
  const long long features = interleaved ? 2 * s.n : s.n;
  const unsigned batch = s.batch;  // of A, C, D, aux and row inputs
  // Of B and column inputs (and the bias of a grouped op): per expert.
  const unsigned w_batch = grouped ? static_cast<unsigned>(experts) : batch;
  auto stride = [&](long long rows, long long ld, long long gap) {
    return batch > 1 ? rows * ld + (s.packed ? 0 : gap) : 0;
  };
  // Leading dimension of rows of `cols` elements: padded by `pad` unless packed.
  auto leading = [&](long long cols, long long pad) { return s.packed ? cols : round8(cols) + pad; };

  // Leading dimensions and batch strides are all padded (and all different)
  // so that a mixed-up ld or stride shows up; padding holds NaN.
  StoredMatrix a(s.m, s.k, leading(s.k, 8), stride(s.m, leading(s.k, 8), 64), batch, in);
  const long long b_rows = v.b_col_major ? features : s.k, b_cols = v.b_col_major ? s.k : features;
  const long long ldb = leading(b_cols, 16);
  const long long b_stride = s.shared_weights || w_batch == 1 ? 0 : b_rows * ldb + (s.packed ? 0 : 128);
  const unsigned b_batches = s.shared_weights ? 1 : w_batch;
  StoredMatrix b(b_rows, b_cols, ldb, b_stride, w_batch, in);
  std::unique_ptr<StoredMatrix> b_up;
  if (two_weights && !interleaved) b_up = std::make_unique<StoredMatrix>(b_rows, b_cols, ldb, b_stride, w_batch, in);
  std::unique_ptr<StoredMatrix> bias, c, aux;
  // Grouped: one bias per expert, padded apart (a multiple of 4 elements).
  if (v.bias)
    bias = grouped ? std::make_unique<StoredMatrix>(1, s.n, round8(s.n), round8(s.n) + 8, w_batch, in)
                   : std::make_unique<StoredMatrix>(1, s.n, round8(s.n), 0, 1, in);
  if (v.residual)
    c = std::make_unique<StoredMatrix>(s.m, s.n, leading(s.n, 16), stride(s.m, leading(s.n, 16), 128), batch, out);
  if (v.aux || v.backward)
    aux = std::make_unique<StoredMatrix>(s.m, aux_cols, leading(aux_cols, 24), stride(s.m, leading(aux_cols, 24), 192),
                                         batch, out);
  StoredMatrix d(s.m, d_cols, leading(d_cols, 8), stride(s.m, leading(d_cols, 8), 64), batch, out);

  std::mt19937_64 random(static_cast<std::uint64_t>(s.m * 1000003 + s.n * 1009 + s.k) ^ options.seed);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);

  ReferenceProblem ref;
  ref.m = s.m, ref.n = s.n, ref.k = s.k, ref.batch = batch;
  ref.gated = two_weights, ref.has_bias = v.bias, ref.has_residual = v.residual;
  ref.row_weights = row_weights;
  ref.bias_per_weights = grouped;
  ref.alpha = two_weights ? 1.0 : (v.residual ? 0.75 : 1.25);
  ref.beta = v.residual ? -0.5 : 0.0;

  ref.a.resize(static_cast<std::size_t>(batch * s.m * s.k));
  for (unsigned bb = 0; bb < batch; ++bb)
    for (long long i = 0; i < s.m; ++i)
      for (long long kk = 0; kk < s.k; ++kk)
        // A masked group's rows past its count hold finite values too: NaN
        // there would come out of a wrongly stored row as the poison itself
        // (the payload survives f16 -> f32 -> f16) and hide the store.
        ref.a[static_cast<std::size_t>((bb * s.m + i) * s.k + kk)] = in.write(a.data(), a.index(bb, i, kk), uniform(random));

  // Logical K x N weights of operand `which` (0: gate or the only B, 1: up).
  auto fill_weights = [&](StoredMatrix& m, int which, std::vector<double>& logical) {
    logical.resize(static_cast<std::size_t>(w_batch * s.k * s.n));
    for (unsigned bb = 0; bb < b_batches; ++bb)
      for (long long kk = 0; kk < s.k; ++kk)
        for (long long j = 0; j < s.n; ++j) {
          long long feature = j;
          if (interleaved) feature = (j / v.gate_interleave) * 2 * v.gate_interleave + which * v.gate_interleave + j % v.gate_interleave;
          const long long at = v.b_col_major ? m.index(bb, feature, kk) : m.index(bb, kk, feature);
          const double value = in.write(m.data(), at, uniform(random));
          for (unsigned target = bb; target < w_batch; target += b_batches)
            logical[static_cast<std::size_t>((target * s.k + kk) * s.n + j)] = value;
        }
  };
  fill_weights(b, 0, ref.weights);
  if (two_weights) fill_weights(b_up ? *b_up : b, 1, ref.up_weights);
  if (bias) {
    ref.bias.resize(static_cast<std::size_t>(bias->batch * s.n));
    for (unsigned bb = 0; bb < bias->batch; ++bb)
      for (long long j = 0; j < s.n; ++j)
        ref.bias[static_cast<std::size_t>(bb * s.n + j)] = in.write(bias->data(), bias->index(bb, 0, j), uniform(random));
  }
  if (c) {
    ref.c.resize(static_cast<std::size_t>(batch * s.m * s.n));
    for (unsigned bb = 0; bb < batch; ++bb)
      for (long long i = 0; i < s.m; ++i)
        for (long long j = 0; j < s.n; ++j)
          ref.c[static_cast<std::size_t>((bb * s.m + i) * s.n + j)] = out.write(c->data(), c->index(bb, i, j), uniform(random));
  }
  // Backward: aux holds the forward's pre-activation z (gated: [gate | up]),
  // an input in [-4, 4).
  std::vector<double> z;
  if (v.backward) {
    z.resize(static_cast<std::size_t>(batch * s.m * aux_cols));
    for (unsigned bb = 0; bb < batch; ++bb)
      for (long long i = 0; i < s.m; ++i)
        for (long long j = 0; j < aux_cols; ++j)
          z[static_cast<std::size_t>((bb * s.m + i) * aux_cols + j)] =
              out.write(aux->data(), aux->index(bb, i, j), 4 * uniform(random));
  }
  // Row and column inputs: f32, batch x M or batch x N, one vector for every
  // batch (stride 0) when the weights are shared, else one per batch.
  // Grouped: row inputs follow A's rows (contiguous: one [T] vector),
  // column inputs are per expert.
  std::vector<std::unique_ptr<StoredMatrix>> operand_vectors;
  const ElementType f32{4, false};
  auto fill_operands = [&](const std::vector<std::string>& names, long long length, unsigned vector_batches,
                           std::map<std::string, std::vector<double>>& logical) {
    for (const std::string& name : names) {
      const unsigned stored_batches = s.shared_weights ? 1 : vector_batches;
      auto& vec = operand_vectors.emplace_back(
          std::make_unique<StoredMatrix>(1, length, round8(length), stored_batches == 1 ? 0 : round8(length) + 8,
                                         stored_batches, f32));
      std::vector<double>& values = logical[name];
      values.resize(static_cast<std::size_t>(vector_batches * length));
      for (unsigned bb = 0; bb < stored_batches; ++bb)
        for (long long j = 0; j < length; ++j) {
          const double value = vec->type.write(vec->data(), vec->index(bb, 0, j), 0.5 + uniform(random));
          for (unsigned target = bb; target < vector_batches; target += stored_batches)
            values[static_cast<std::size_t>(target * length + j)] = value;
        }
      vec->take_snapshot();
    }
  };
  fill_operands(v.row_inputs, s.m, batch, ref.row_inputs);
  fill_operands(v.col_inputs, s.n, w_batch, ref.col_inputs);
  StoredMatrix* z_input = v.backward ? aux.get() : nullptr;
  for (StoredMatrix* input : {&a, &b, b_up.get(), bias.get(), c.get(), z_input})
    if (input) input->take_snapshot();

  GemmArguments args;
  args.a = static_cast<const std::uint16_t*>(a.data());
  args.b = static_cast<const std::uint16_t*>(b.data());
  args.b_up = b_up ? static_cast<const std::uint16_t*>(b_up->data()) : nullptr;
  args.d = d.data();
  args.bias = bias ? static_cast<const std::uint16_t*>(bias->data()) : nullptr;
  args.c = c ? c->data() : nullptr;
  args.aux = aux ? aux->data() : nullptr;
  args.m = s.m, args.n = s.n, args.k = s.k;
  args.lda = a.ld, args.ldb = b.ld, args.ldd = d.ld;
  args.ldc = c ? c->ld : s.n;
  args.ld_aux = aux ? aux->ld : s.n;
  args.batch_stride_a = a.batch_stride, args.batch_stride_b = b.batch_stride, args.batch_stride_d = d.batch_stride;
  args.batch_stride_c = c ? c->batch_stride : 0;
  args.batch_stride_aux = aux ? aux->batch_stride : 0;
  args.alpha = static_cast<float>(ref.alpha), args.beta = static_cast<float>(ref.beta);
  args.epilogue_parameters = parameter_floats;
  for (std::size_t k = 0; k < operand_vectors.size(); ++k) {
    const StoredMatrix& vec = *operand_vectors[k];
    const bool row = k < v.row_inputs.size();
    (row ? args.row_inputs : args.col_inputs).push_back(static_cast<const float*>(vec.buffer->data()));
    (row ? args.row_input_batch_strides : args.col_input_batch_strides).push_back(vec.batch_stride);
  }
  args.batch = grouped ? 1 : batch;
  std::unique_ptr<GuardedBuffer> sizes_buffer;
  if (grouped) {
    sizes_buffer = std::make_unique<GuardedBuffer>(group_sizes.size() * sizeof(int));
    std::memcpy(sizes_buffer->data(), group_sizes.data(), group_sizes.size() * sizeof(int));
    args.group_sizes = static_cast<const int*>(sizes_buffer->data());
    args.groups = experts;
    args.bias_group_stride = bias ? bias->batch_stride : 0;
  }

  for (std::string& violation : v.run(args, options)) failures.add("emulator: " + violation);

  auto expected = reference_gemm(ref, *activation, parameters);
  if (!expected) {
    failures.add("reference: " + expected.error().message);
  } else {
    if (gated_backward) {
      // dgate = dH ⊙ ∂f/∂gate(gate, up), dup = dH ⊙ ∂f/∂up(gate, up); `pre` is dH = alpha·A·B.
      std::vector<double> dgate(expected->pre.size()), dup(expected->pre.size());
      for (std::size_t i = 0; i < dgate.size(); ++i) {
        const std::size_t row = i / static_cast<std::size_t>(s.n), col = i % static_cast<std::size_t>(s.n);
        tilefuse::dsl::InputValues at;
        at.gate = z[row * 2 * s.n + col];
        at.up = z[row * 2 * s.n + s.n + col];
        dgate[i] = expected->pre[i] * partial_at(*activation, parameters, at, &tilefuse::dsl::InputValues::gate);
        dup[i] = expected->pre[i] * partial_at(*activation, parameters, at, &tilefuse::dsl::InputValues::up);
      }
      outcome.relative_error = check_output("D", d, side_by_side(dgate, dup, s.n), d_shape, failures, valid_rows);
    } else if (v.backward) {
      // dZ = (alpha·A·B) ⊙ f'(z): `pre` is alpha·A·B here (no bias, no residual).
      std::vector<double> dz(expected->pre.size());
      for (std::size_t i = 0; i < dz.size(); ++i) dz[i] = expected->pre[i] * derivative_at(*activation, parameters, z[i]);
      outcome.relative_error = check_output("D", d, dz, s, failures, valid_rows);
    } else {
      outcome.relative_error = check_output("D", d, expected->out, s, failures, valid_rows);
      if (aux)
        outcome.aux_relative_error =
            v.gated ? check_output("aux", *aux, side_by_side(expected->pre, expected->up, s.n), aux_shape, failures,
                                   valid_rows)
                    : check_output("aux", *aux, expected->pre, s, failures, valid_rows);
    }
  }
  const char* names[] = {"A", "B", "B_up", "bias", "C", "z"};
  int index = 0;
  for (StoredMatrix* input : {&a, &b, b_up.get(), bias.get(), c.get(), z_input}) {
    if (input && !input->unchanged()) failures.add(fmt::format("input {} was modified", names[index]));
    if (input)
      if (auto guard = input->buffer->check_guards(names[index]); !guard.empty()) failures.add(guard);
    ++index;
  }
  if (sizes_buffer) {
    if (std::memcmp(sizes_buffer->data(), group_sizes.data(), group_sizes.size() * sizeof(int)) != 0)
      failures.add("the group sizes were modified");
    if (auto guard = sizes_buffer->check_guards("group sizes"); !guard.empty()) failures.add(guard);
  }
  for (const auto& vec : operand_vectors) {
    if (!vec->unchanged()) failures.add("a row/column input vector was modified");
    if (auto guard = vec->buffer->check_guards("row/column input"); !guard.empty()) failures.add(guard);
  }
  outcome.failures = std::move(failures.list);
  return outcome;
}

}  // namespace emu
