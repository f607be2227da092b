// See GemmCase.h.
#include "GemmCase.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <memory>
#include <random>

#include "ReferenceGemm.h"
#include "dsl/Fp8.h"
#include "emulator/DeviceMemory.h"
#include "emulator/HalfFloat.h"

namespace emu {
namespace {

constexpr std::size_t kMaxReportsPerCheck = 5;

long long round8(long long v) { return (v + 7) / 8 * 8; }
long long round16(long long v) { return (v + 15) / 16 * 16; }

using tilefuse::dsl::Fp8Format;

/// An e4m3 D is filled with this byte before the launch: the e4m3 NaN, which
/// the kernel never stores for finite inputs (satfinite clamps overflow).
constexpr std::uint8_t kPoisonFp8 = 0x7f;

/// 16-bit, fp32 or FP8 (bytes 1, `format`) element storage of one dtype.
struct ElementType {
  int bytes = 2;
  bool bf16 = true;
  Fp8Format format = Fp8Format::E4M3;

  double read(const void* base, long long index) const {
    if (bytes == 1) return tilefuse::dsl::fp8_to_double(static_cast<const std::uint8_t*>(base)[index], format);
    if (bytes == 4) return static_cast<const float*>(base)[index];
    const std::uint16_t bits = static_cast<const std::uint16_t*>(base)[index];
    return bf16 ? bf16_to_float(bits) : f16_to_float(bits);
  }
  /// Stores `value` rounded to this type; returns the stored value.
  double write(void* base, long long index, double value) const {
    if (bytes == 1) {
      static_cast<std::uint8_t*>(base)[index] = tilefuse::dsl::float_to_fp8(static_cast<float>(value), format);
      return read(base, index);
    }
    if (bytes == 4) return static_cast<float*>(base)[index] = static_cast<float>(value);
    const std::uint16_t bits = bf16 ? float_to_bf16(static_cast<float>(value)) : float_to_f16(static_cast<float>(value));
    static_cast<std::uint16_t*>(base)[index] = bits;
    return read(base, index);
  }
  bool is_poison(const void* base, long long index) const {
    if (bytes == 1) return static_cast<const std::uint8_t*>(base)[index] == kPoisonFp8;
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
double check_output(const char* name, const StoredMatrix& out, const std::vector<double>& reference,
                    const CaseShape& s, Failures& failures) {
  // 16-bit outputs round to 8 (bf16) or 11 (f16) bits; fp32 keeps ~24 bits
  // (the activation adds a few ulp). The absolute floor covers cancellation.
  double sum_sq_ref = 0.0;
  for (double v : reference) sum_sq_ref += v * v;
  const double rms = std::sqrt(sum_sq_ref / static_cast<double>(reference.size()));
  // e4m3 (the reference quantised by the same conversion): one e4m3 step,
  // 2^-3 relative, where the kernel's fp32 value and the float64 one fall on
  // either side of a rounding boundary.
  const double relative_bound =
      out.type.bytes == 4 ? 1e-5 : out.type.bytes == 1 ? 1.0 / 8 : (out.type.bf16 ? 1.0 / 256 : 1.0 / 2048);
  const double absolute_floor = 1e-3 * rms + 1e-30;
  // f16 spaces its subnormals 2^-24 apart: a tiny output is off by up to half
  // of that however exactly it was computed (bf16 and fp32 subnormals are far
  // below any value here). That part of the error is the type's, not the kernel's.
  // e4m3 subnormals are 2^-9 apart: the same holds there, a whole step.
  const double unrepresentable = out.type.bytes == 2 && !out.type.bf16 ? std::ldexp(1.0, -25)
                                 : out.type.bytes == 1                 ? std::ldexp(1.0, -9)
                                                                       : 0.0;

  std::size_t unwritten = 0, touched = 0, off = 0;
  double sum_sq_err = 0.0;
  std::vector<bool> logical(static_cast<std::size_t>(out.elements()), false);
  for (unsigned b = 0; b < s.batch; ++b)
    for (long long i = 0; i < s.m; ++i)
      for (long long j = 0; j < s.n; ++j) {
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
      failures.add(fmt::format("{}: element {} lies outside the M x N output (padding or another batch's gap) "
                               "but was written",
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

CaseOutcome run_gemm_case(const GemmVariant& v, const CaseShape& s, const RunOptions& options) {
  CaseOutcome outcome;
  Failures failures;
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

  // FP8: A e4m3, B e4m3 or e5m2, the bias bf16 (gemm_sm80_fp8.cuh).
  const ElementType in = v.fp8 ? ElementType{1, false, Fp8Format::E4M3} : ElementType{2, v.input_bf16};
  const ElementType b_type = v.fp8 && v.b_e5m2 ? ElementType{1, false, Fp8Format::E5M2} : in;
  const ElementType bias_type = v.fp8 ? ElementType{2, true} : in;
  const ElementType out = v.out_e4m3 ? ElementType{1, false, Fp8Format::E4M3} : ElementType{v.out_bytes, v.out_bf16};
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
  const unsigned batch = s.batch;
  auto stride = [&](long long rows, long long ld, long long gap) {
    return batch > 1 ? rows * ld + (s.packed ? 0 : gap) : 0;
  };
  // Leading dimension of rows of `cols` elements: padded by `pad` unless
  // packed. 1-byte (FP8) rows start on 16 bytes: multiples of 16 elements.
  auto leading = [&](long long cols, long long pad) { return s.packed ? cols : round8(cols) + pad; };
  auto leading_of = [&](const ElementType& t, long long cols, long long pad) {
    return t.bytes == 1 ? (s.packed ? cols : round16(cols) + 2 * pad) : leading(cols, pad);
  };

  // Leading dimensions and batch strides are all padded (and all different)
  // so that a mixed-up ld or stride shows up; padding holds NaN.
  StoredMatrix a(s.m, s.k, leading_of(in, s.k, 8), stride(s.m, leading_of(in, s.k, 8), 64), batch, in);
  const long long b_rows = v.b_col_major ? features : s.k, b_cols = v.b_col_major ? s.k : features;
  const long long ldb = leading_of(b_type, b_cols, 16);
  const long long b_stride = s.shared_weights ? 0 : stride(b_rows, ldb, 128);
  const unsigned b_batches = s.shared_weights ? 1 : batch;
  StoredMatrix b(b_rows, b_cols, ldb, b_stride, batch, b_type);
  std::unique_ptr<StoredMatrix> b_up;
  if (two_weights && !interleaved)
    b_up = std::make_unique<StoredMatrix>(b_rows, b_cols, ldb, b_stride, batch, b_type);
  std::unique_ptr<StoredMatrix> bias, c, aux;
  if (v.bias) bias = std::make_unique<StoredMatrix>(1, s.n, round8(s.n), 0, 1, bias_type);
  if (v.residual)
    c = std::make_unique<StoredMatrix>(s.m, s.n, leading(s.n, 16), stride(s.m, leading(s.n, 16), 128), batch, out);
  if (v.aux || v.backward)
    aux = std::make_unique<StoredMatrix>(s.m, aux_cols, leading(aux_cols, 24), stride(s.m, leading(aux_cols, 24), 192),
                                         batch, out);
  StoredMatrix d(s.m, d_cols, leading_of(out, d_cols, 8), stride(s.m, leading_of(out, d_cols, 8), 64), batch, out);
  if (v.out_e4m3) std::memset(d.data(), kPoisonFp8, d.buffer->bytes());

  std::mt19937_64 random(static_cast<std::uint64_t>(s.m * 1000003 + s.n * 1009 + s.k) ^ options.seed);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  // FP8 inputs span [-2, 2) (e4m3 rounds them to 3 mantissa bits; the
  // reference reads the same rounded values).
  const double input_range = v.fp8 ? 2.0 : 1.0;

  ReferenceProblem ref;
  ref.m = s.m, ref.n = s.n, ref.k = s.k, ref.batch = batch;
  ref.gated = two_weights, ref.has_bias = v.bias, ref.has_residual = v.residual;
  ref.alpha = two_weights ? 1.0 : (v.residual ? 0.75 : 1.25);
  ref.beta = v.residual ? -0.5 : 0.0;

  ref.a.resize(static_cast<std::size_t>(batch * s.m * s.k));
  for (unsigned bb = 0; bb < batch; ++bb)
    for (long long i = 0; i < s.m; ++i)
      for (long long kk = 0; kk < s.k; ++kk)
        ref.a[static_cast<std::size_t>((bb * s.m + i) * s.k + kk)] =
            in.write(a.data(), a.index(bb, i, kk), input_range * uniform(random));

  // Logical K x N weights of operand `which` (0: gate or the only B, 1: up).
  auto fill_weights = [&](StoredMatrix& m, int which, std::vector<double>& logical) {
    logical.resize(static_cast<std::size_t>(batch * s.k * s.n));
    for (unsigned bb = 0; bb < b_batches; ++bb)
      for (long long kk = 0; kk < s.k; ++kk)
        for (long long j = 0; j < s.n; ++j) {
          long long feature = j;
          if (interleaved) feature = (j / v.gate_interleave) * 2 * v.gate_interleave + which * v.gate_interleave + j % v.gate_interleave;
          const long long at = v.b_col_major ? m.index(bb, feature, kk) : m.index(bb, kk, feature);
          const double value = b_type.write(m.data(), at, input_range * uniform(random));
          for (unsigned target = bb; target < batch; target += b_batches)
            logical[static_cast<std::size_t>((target * s.k + kk) * s.n + j)] = value;
        }
  };
  fill_weights(b, 0, ref.weights);
  if (two_weights) fill_weights(b_up ? *b_up : b, 1, ref.up_weights);
  if (bias) {
    ref.bias.resize(static_cast<std::size_t>(s.n));
    for (long long j = 0; j < s.n; ++j)
      ref.bias[static_cast<std::size_t>(j)] = bias_type.write(bias->data(), j, uniform(random));
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
  std::vector<std::unique_ptr<StoredMatrix>> operand_vectors;
  const ElementType f32{4, false};
  auto fill_operands = [&](const std::vector<std::string>& names, long long length,
                           std::map<std::string, std::vector<double>>& logical) {
    for (const std::string& name : names) {
      const unsigned stored_batches = s.shared_weights ? 1 : batch;
      auto& vec = operand_vectors.emplace_back(
          std::make_unique<StoredMatrix>(1, length, round8(length), s.shared_weights ? 0 : round8(length) + 8,
                                         stored_batches, f32));
      std::vector<double>& values = logical[name];
      values.resize(static_cast<std::size_t>(batch * length));
      for (unsigned bb = 0; bb < stored_batches; ++bb)
        for (long long j = 0; j < length; ++j) {
          const double value = vec->type.write(vec->data(), vec->index(bb, 0, j), 0.5 + uniform(random));
          for (unsigned target = bb; target < batch; target += stored_batches)
            values[static_cast<std::size_t>(target * length + j)] = value;
        }
      vec->take_snapshot();
    }
  };
  fill_operands(v.row_inputs, s.m, ref.row_inputs);
  fill_operands(v.col_inputs, s.n, ref.col_inputs);
  // FP8 scales (f32, in [0.25, 2)): the reference multiplies them into its
  // copies of A and B, so that its float64 A·B is exactly
  // Σ scale_a · scale_b · (a · b) of the kernel's definition (docs/fp8.md).
  // Drawn last, and scale_d always, so that two FP8 variants differing only
  // in the output type see the same inputs (the amax twin test).
  std::vector<std::unique_ptr<StoredMatrix>> scale_vectors;
  auto scale_vector = [&](long long count) -> StoredMatrix& {
    auto& stored = scale_vectors.emplace_back(std::make_unique<StoredMatrix>(1, count, count, 0, 1, f32));
    for (long long j = 0; j < count; ++j)
      f32.write(stored->data(), j, std::ldexp(std::floor(64 + 448 * (0.5 + 0.5 * uniform(random))), -8));
    stored->take_snapshot();
    return *stored;
  };
  const float* scale_a = nullptr;
  const float* scale_b = nullptr;
  const float* scale_d = nullptr;
  const long long k_blocks = (s.k + 127) / 128, n_blocks = (s.n + 127) / 128;
  if (v.fp8 && v.block128) {
    // scale_a [batch][ceil(K/128)][M]; scale_b [batches of B][ceil(N/128)][ceil(K/128)].
    const StoredMatrix& sa = scale_vector(batch * k_blocks * s.m);
    const StoredMatrix& sb = scale_vector(b_batches * n_blocks * k_blocks);
    const auto* sa_values = static_cast<const float*>(sa.buffer->data());
    const auto* sb_values = static_cast<const float*>(sb.buffer->data());
    for (unsigned bb = 0; bb < batch; ++bb)
      for (long long i = 0; i < s.m; ++i)
        for (long long kk = 0; kk < s.k; ++kk)
          ref.a[static_cast<std::size_t>((bb * s.m + i) * s.k + kk)] *= sa_values[(bb * k_blocks + kk / 128) * s.m + i];
    for (unsigned bb = 0; bb < batch; ++bb)
      for (long long kk = 0; kk < s.k; ++kk)
        for (long long j = 0; j < s.n; ++j) {
          const double scale = sb_values[((bb % b_batches) * n_blocks + j / 128) * k_blocks + kk / 128];
          ref.weights[static_cast<std::size_t>((bb * s.k + kk) * s.n + j)] *= scale;
          if (two_weights) ref.up_weights[static_cast<std::size_t>((bb * s.k + kk) * s.n + j)] *= scale;
        }
    scale_a = sa_values, scale_b = sb_values;
  } else if (v.fp8) {
    // Per-tensor: the kernel multiplies by scale_a · scale_b rounded to f32.
    scale_a = static_cast<const float*>(scale_vector(1).buffer->data());
    scale_b = static_cast<const float*>(scale_vector(1).buffer->data());
    const double product = static_cast<double>(*scale_a * *scale_b);
    for (double& value : ref.a) value *= product;
  }
  const float scale_d_value = v.fp8 ? kFp8ScaleD : 1.0f;
  std::unique_ptr<StoredMatrix> scale_d_stored, amax_stored;
  if (v.out_e4m3) {
    scale_d_stored = std::make_unique<StoredMatrix>(1, 1, 1, 0, 1, f32);
    f32.write(scale_d_stored->data(), 0, scale_d_value);
    scale_d_stored->take_snapshot();
    scale_d = static_cast<const float*>(scale_d_stored->data());
  }
  if (v.amax) {
    amax_stored = std::make_unique<StoredMatrix>(1, 1, 1, 0, 1, f32);
    f32.write(amax_stored->data(), 0, 0.0);  // what the launch's cuMemsetD32Async does
  }
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
  args.batch = batch;
  args.scale_a = scale_a, args.scale_b = scale_b, args.scale_d = scale_d;
  args.amax = amax_stored ? static_cast<float*>(amax_stored->data()) : nullptr;

  for (std::string& violation : v.run(args, options)) failures.add("emulator: " + violation);
  if (amax_stored) outcome.amax = *static_cast<const float*>(amax_stored->data());
  outcome.d_values.reserve(static_cast<std::size_t>(batch * s.m * d_cols));
  for (unsigned bb = 0; bb < batch; ++bb)
    for (long long i = 0; i < s.m; ++i)
      for (long long j = 0; j < d_cols; ++j) outcome.d_values.push_back(out.read(d.data(), d.index(bb, i, j)));

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
      outcome.relative_error = check_output("D", d, side_by_side(dgate, dup, s.n), d_shape, failures);
    } else if (v.backward) {
      // dZ = (alpha·A·B) ⊙ f'(z): `pre` is alpha·A·B here (no bias, no residual).
      std::vector<double> dz(expected->pre.size());
      for (std::size_t i = 0; i < dz.size(); ++i) dz[i] = expected->pre[i] * derivative_at(*activation, parameters, z[i]);
      outcome.relative_error = check_output("D", d, dz, s, failures);
    } else if (v.out_e4m3) {
      // D = e4m3(value · scale_d), the value rounded to f32 first as the
      // kernel has it: the reference quantised by the same conversion.
      std::vector<double> quantised(expected->out.size());
      double max_abs = 0;
      for (std::size_t i = 0; i < quantised.size(); ++i) {
        const float value = static_cast<float>(expected->out[i]);
        max_abs = std::max(max_abs, std::fabs(expected->out[i]));
        quantised[i] = tilefuse::dsl::fp8_to_double(tilefuse::dsl::float_to_fp8(value * scale_d_value, Fp8Format::E4M3),
                                                    Fp8Format::E4M3);
      }
      outcome.relative_error = check_output("D", d, quantised, s, failures);
      // amax: max |value| over D before scale_d, in fp32 (the kernel's
      // accumulation differs from float64 in the last bits; the twin test in
      // fp8_gemm_emulation_test.cpp checks it bit for bit).
      if (v.amax && !(std::fabs(outcome.amax - max_abs) <= 1e-5 * max_abs + 1e-30))
        failures.add(fmt::format("amax = {} but max |value| of the float64 reference is {}", outcome.amax, max_abs));
    } else {
      outcome.relative_error = check_output("D", d, expected->out, s, failures);
      if (aux)
        outcome.aux_relative_error =
            v.gated ? check_output("aux", *aux, side_by_side(expected->pre, expected->up, s.n), aux_shape, failures)
                    : check_output("aux", *aux, expected->pre, s, failures);
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
  for (const auto& vec : operand_vectors) {
    if (!vec->unchanged()) failures.add("a row/column input vector was modified");
    if (auto guard = vec->buffer->check_guards("row/column input"); !guard.empty()) failures.add(guard);
  }
  for (StoredMatrix* scales : {scale_vectors.empty() ? nullptr : scale_vectors[0].get(),
                               scale_vectors.size() < 2 ? nullptr : scale_vectors[1].get(), scale_d_stored.get()}) {
    if (scales && !scales->unchanged()) failures.add("an FP8 scale was modified");
    if (scales)
      if (auto guard = scales->buffer->check_guards("FP8 scale"); !guard.empty()) failures.add(guard);
  }
  if (amax_stored)
    if (auto guard = amax_stored->buffer->check_guards("amax"); !guard.empty()) failures.add(guard);
  outcome.failures = std::move(failures.list);
  return outcome;
}

}  // namespace emu
