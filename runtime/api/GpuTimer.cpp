// See GpuTimer.h.
#include "runtime/api/GpuTimer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "dsl/Interpreter.h"
#include "dsl/Resolve.h"
#include "runtime/Driver.h"
#include "runtime/tune/HostReference.h"
#include "runtime/tune/KernelSignature.h"
#include "runtime/tune/OutputCheck.h"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse::tune {
namespace {

/// Device memory owned for the timer's lifetime.
class DeviceBuffer {
 public:
  static Expected<DeviceBuffer> allocate(const runtime::DriverApi& api, std::size_t bytes) {
    DeviceBuffer buffer(api);
    if (CUresult r = api.cuMemAlloc(&buffer.ptr_, std::max<std::size_t>(bytes, 16)); r != CUDA_SUCCESS)
      return runtime::driver_error(api, r, fmt::format("cuMemAlloc({} bytes)", bytes));
    buffer.bytes_ = bytes;
    return buffer;
  }
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : api_(other.api_), ptr_(std::exchange(other.ptr_, 0)), bytes_(other.bytes_) {}
  DeviceBuffer& operator=(DeviceBuffer&&) = delete;
  ~DeviceBuffer() {
    if (ptr_) api_->cuMemFree(ptr_);
  }
  void* get() const { return reinterpret_cast<void*>(ptr_); }
  CUdeviceptr ptr() const { return ptr_; }
  std::size_t bytes() const { return bytes_; }

 private:
  explicit DeviceBuffer(const runtime::DriverApi& api) : api_(&api) {}
  const runtime::DriverApi* api_;
  CUdeviceptr ptr_ = 0;
  std::size_t bytes_ = 0;
};

uint16_t to_half_bits(float value, compiler::DType type) {
  if (type == compiler::DType::BF16) {
    uint32_t bits;
    std::memcpy(&bits, &value, 4);
    bits += 0x7fff + ((bits >> 16) & 1);  // round to nearest even (inputs are finite)
    return static_cast<uint16_t>(bits >> 16);
  }
  // IEEE half for |value| <= 1 (the inputs): normal numbers and flushed tiny ones.
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  const uint32_t sign = (bits >> 16) & 0x8000;
  const int exponent = static_cast<int>((bits >> 23) & 0xff) - 127 + 15;
  if (exponent <= 0) return static_cast<uint16_t>(sign);
  const uint32_t mantissa = (bits >> 13) & 0x3ff;
  return static_cast<uint16_t>(sign | (static_cast<uint32_t>(exponent) << 10) | mantissa);
}

float from_bits(const std::byte* p, compiler::DType type) {
  if (type == compiler::DType::F32) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, p, 2);
  if (type == compiler::DType::BF16) {
    const uint32_t bits = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  const int exponent = (h >> 10) & 0x1f;
  const float mantissa = static_cast<float>(h & 0x3ff);
  float magnitude = exponent == 0    ? std::ldexp(mantissa, -24)
                    : exponent == 31 ? (mantissa == 0 ? INFINITY : NAN)
                                     : std::ldexp(1024.0f + mantissa, exponent - 25);
  return (h & 0x8000) ? -magnitude : magnitude;
}

std::size_t element_bytes(compiler::DType type) { return type == compiler::DType::F32 ? 4 : 2; }

double median(std::vector<float> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

/// Random inputs and output buffers for one (kernel signature, shape), with
/// the host copies of the inputs (the values the device sees, after rounding
/// to the input type) from which the float64 reference samples are computed.
struct Problem {
  std::string key;
  std::vector<DeviceBuffer> buffers;
  MatmulArgs args;
  std::vector<float> a, b, b_up, bias, c;  ///< host copies (empty when absent)
  /// Declared row inputs (output rows values each) and column inputs (N per
  /// group), f32, in declaration order.
  std::vector<std::vector<float>> row_inputs, col_inputs;
  /// Grouped: E+1 row offsets of the groups in A and D (masked: e x M_max).
  std::vector<int> group_offsets;
  long long output_rows = 0;  ///< rows of D (E x M_max when masked)
  std::size_t d_bytes = 0, aux_bytes = 0;
  std::vector<ReferenceSample> samples;  ///< float64 reference; computed on first use
  std::vector<float> baseline;           ///< output of the first accepted candidate
  std::string baseline_config;
};

/// Sampled output elements checked against float64 per candidate.
constexpr int kReferenceSamples = 64;


/// Balanced routing of a grouped problem: group e owns rows
/// [e·T/E, (e+1)·T/E) (Contiguous) or all M_max of its rows (Masked, so that
/// every element of D is written and checked). E+1 offsets into A's rows.
std::vector<int> balanced_group_offsets(const ProblemShape& shape) {
  std::vector<int> offsets(static_cast<std::size_t>(shape.experts) + 1);
  for (int e = 0; e <= shape.experts; ++e)
    offsets[static_cast<std::size_t>(e)] =
        shape.layout == GroupLayout::Masked ? static_cast<int>(e * shape.m)
                                            : static_cast<int>(e * shape.m / shape.experts);
  return offsets;
}

MatmulOptions options_for(const compiler::KernelSpec& spec, const ProblemShape& shape,
                          const Candidate& candidate) {
  MatmulOptions o;
  o.grouped = shape.layout;
  o.activation = spec.expression;
  o.dtype = spec.input_type;
  o.out_dtype = spec.output_type;
  o.bias = spec.bias;
  o.residual = spec.residual;
  o.aux = spec.aux;
  o.b_col_major = spec.b_col_major;
  o.gate_interleave = spec.gate_interleave;
  o.row_inputs = spec.row_inputs;
  o.col_inputs = spec.col_inputs;
  o.precision = spec.precision;
  o.tile = candidate.tile;
  o.arch = spec.arch;
  return o;
}

}  // namespace

struct GpuTimer::State {
  const runtime::DriverApi* api = nullptr;
  runtime::DeviceInfo info;
  std::optional<Runtime> runtime;  // the tuner's kernel cache: its compiles are hits
  CUstream stream = nullptr;
  CUevent start = nullptr, stop = nullptr;
  std::optional<DeviceBuffer> flush;  // 2 x L2: writing it evicts the inputs
  std::vector<std::unique_ptr<Problem>> problems;

  ~State() {
    if (!api) return;
    if (start) api->cuEventDestroy(start);
    if (stop) api->cuEventDestroy(stop);
    if (stream) api->cuStreamDestroy(stream);
  }

  /// `values` receives what the device holds, decoded to float.
  Expected<DeviceBuffer> random_buffer(std::size_t elements, compiler::DType type, std::mt19937& rng,
                                       std::vector<float>& values) {
    auto buffer = DeviceBuffer::allocate(*api, elements * element_bytes(type));
    if (!buffer) return buffer.take_error();
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    std::vector<std::byte> host(elements * element_bytes(type));
    values.resize(elements);
    for (std::size_t i = 0; i < elements; ++i) {
      float v = uniform(rng);
      if (type == compiler::DType::F32) {
        std::memcpy(&host[i * 4], &v, 4);
      } else {
        const uint16_t h = to_half_bits(v, type);
        std::memcpy(&host[i * 2], &h, 2);
      }
      values[i] = from_bits(&host[i * element_bytes(type)], type);
    }
    if (CUresult r = api->cuMemcpyHtoD(buffer->ptr(), host.data(), host.size()); r != CUDA_SUCCESS)
      return runtime::driver_error(*api, r, "cuMemcpyHtoD (timer inputs)");
    return buffer;
  }

  Expected<Problem*> problem_for(const compiler::KernelSpec& spec, const ProblemShape& shape,
                                 bool gated) {
    const std::string key = kernel_signature(spec) + "/" + to_string(shape);
    for (auto& p : problems)
      if (p->key == key) return p.get();
    auto problem = std::make_unique<Problem>();
    problem->key = key;
    std::mt19937 rng(12345);  // the same data for every candidate
    // Grouped: m is every group's rows (E x M_max when masked); B and bias
    // hold one matrix / vector per group.
    const auto m = static_cast<std::size_t>(shape.output_rows()), n = static_cast<std::size_t>(shape.n),
               k = static_cast<std::size_t>(shape.k);
    const std::size_t groups = shape.grouped() ? static_cast<std::size_t>(shape.experts) : 1;
    problem->output_rows = shape.output_rows();
    const bool interleaved = gated && spec.gate_interleave > 0;
    std::vector<float> unused;  // outputs: poisoned before every checked launch
    auto add = [&](std::size_t elements, compiler::DType type, std::vector<float>& values) -> Expected<void*> {
      auto buffer = random_buffer(elements, type, rng, values);
      if (!buffer) return buffer.take_error();
      problem->buffers.push_back(std::move(*buffer));
      return problem->buffers.back().get();
    };
    MatmulArgs& args = problem->args;
    args.shape = {shape.m, shape.n, shape.k};
    auto a = add(m * k, spec.input_type, problem->a);
    if (!a) return a.take_error();
    args.a = *a;
    auto b = add(groups * k * n * (interleaved ? 2 : 1), spec.input_type, problem->b);
    if (!b) return b.take_error();
    args.b = *b;
    if (gated && !interleaved) {
      auto up = add(groups * k * n, spec.input_type, problem->b_up);
      if (!up) return up.take_error();
      args.b_up = *up;
    }
    auto d = add(m * n, spec.output_type, unused);
    if (!d) return d.take_error();
    args.d = *d;
    problem->d_bytes = m * n * element_bytes(spec.output_type);
    if (spec.bias) {
      auto bias = add(groups * n, spec.input_type, problem->bias);
      if (!bias) return bias.take_error();
      args.bias = *bias;
    }
    if (spec.residual) {
      auto c = add(m * n, spec.output_type, problem->c);
      if (!c) return c.take_error();
      args.c = *c;
    }
    if (spec.aux) {
      // A gated op stores [gate | up]: M x 2N (ld_aux defaults to 2N).
      const std::size_t aux_elements = m * n * (gated ? 2 : 1);
      auto aux = add(aux_elements, spec.output_type, unused);
      if (!aux) return aux.take_error();
      args.aux = *aux;
      problem->aux_bytes = aux_elements * element_bytes(spec.output_type);
    }
    // Row and column inputs: f32 vectors (a routing weight, a scale) of
    // random values, like the operands.
    problem->row_inputs.resize(spec.row_inputs.size());
    for (std::size_t i = 0; i < spec.row_inputs.size(); ++i) {
      auto row = add(m, compiler::DType::F32, problem->row_inputs[i]);
      if (!row) return row.take_error();
      args.row_inputs[i] = static_cast<const float*>(*row);
    }
    problem->col_inputs.resize(spec.col_inputs.size());
    for (std::size_t i = 0; i < spec.col_inputs.size(); ++i) {
      auto col = add(groups * n, compiler::DType::F32, problem->col_inputs[i]);
      if (!col) return col.take_error();
      args.col_inputs[i] = static_cast<const float*>(*col);
    }
    if (shape.grouped()) {
      if (auto ok = add_groups(*problem, shape); !ok) return ok.take_error();
    }
    problems.push_back(std::move(problem));
    return problems.back().get();
  }

  /// The device int32 group array of a grouped problem (offsets, or the
  /// row counts of a masked one), with the host offsets the reference reads.
  Expected<void> add_groups(Problem& problem, const ProblemShape& shape) {
    problem.group_offsets = balanced_group_offsets(shape);
    std::vector<int> device_values = problem.group_offsets;
    if (shape.layout == GroupLayout::Masked)
      device_values.assign(static_cast<std::size_t>(shape.experts), static_cast<int>(shape.m));
    auto buffer = DeviceBuffer::allocate(*api, device_values.size() * sizeof(int));
    if (!buffer) return buffer.take_error();
    if (CUresult r = api->cuMemcpyHtoD(buffer->ptr(), device_values.data(), device_values.size() * sizeof(int));
        r != CUDA_SUCCESS)
      return runtime::driver_error(*api, r, "cuMemcpyHtoD (timer group offsets)");
    problem.args.groups = shape.experts;
    if (shape.layout == GroupLayout::Masked) problem.args.group_rows = static_cast<const int*>(buffer->get());
    else problem.args.group_offsets = static_cast<const int*>(buffer->get());
    problem.buffers.push_back(std::move(*buffer));
    return {};
  }

  /// 0xFF bytes (NaN in bf16, f16 and f32) in D and aux, so that elements a
  /// candidate does not write cannot pass for the previous candidate's.
  Expected<void> poison_outputs(const Problem& problem) {
    if (CUresult r = api->cuMemsetD8(reinterpret_cast<CUdeviceptr>(problem.args.d), 0xFF, problem.d_bytes);
        r != CUDA_SUCCESS)
      return runtime::driver_error(*api, r, "cuMemsetD8 (poison D before the checked launch)");
    if (problem.aux_bytes)
      if (CUresult r = api->cuMemsetD8(reinterpret_cast<CUdeviceptr>(problem.args.aux), 0xFF, problem.aux_bytes);
          r != CUDA_SUCCESS)
        return runtime::driver_error(*api, r, "cuMemsetD8 (poison aux before the checked launch)");
    return {};
  }

  /// The float64 samples of `problem`, computed on its first check.
  Expected<const std::vector<ReferenceSample>*> samples_for(Problem& problem, const compiler::KernelSpec& spec,
                                                            const MatmulOp& op, float parameter_value) {
    if (!problem.samples.empty()) return &problem.samples;
    const dsl::OperandDeclarations declared{spec.row_inputs, spec.col_inputs};
    auto program = spec.program ? dsl::resolve(*spec.program, declared) : dsl::resolve(spec.expression, declared);
    if (!program) return program.take_error();
    dsl::ParameterValues values;
    for (const std::string& name : op.parameters()) values[name] = parameter_value;
    HostGemm gemm;
    gemm.m = problem.output_rows;
    gemm.n = problem.args.shape.n;
    gemm.k = problem.args.shape.k;
    gemm.gated = op.gated();
    gemm.gate_interleave = spec.gate_interleave;
    gemm.b_col_major = spec.b_col_major;
    gemm.alpha = problem.args.alpha;
    gemm.beta = problem.args.beta;
    gemm.a = problem.a;
    gemm.b = problem.b;
    gemm.b_up = problem.b_up;
    gemm.bias = problem.bias;
    gemm.c = problem.c;
    gemm.group_offsets = problem.group_offsets;
    for (std::size_t i = 0; i < spec.row_inputs.size(); ++i)
      gemm.row_inputs.emplace_back(spec.row_inputs[i], problem.row_inputs[i]);
    for (std::size_t i = 0; i < spec.col_inputs.size(); ++i)
      gemm.col_inputs.emplace_back(spec.col_inputs[i], problem.col_inputs[i]);
    auto samples = reference_samples(gemm.m, gemm.n, kReferenceSamples, [&](long long row, long long col) {
      return host_reference_element(gemm, *program, values, row, col);
    });
    if (!samples) return samples.take_error();
    problem.samples = std::move(*samples);
    return &problem.samples;
  }

  Expected<std::vector<float>> read_output(const Problem& problem, compiler::DType type) {
    const std::size_t elements = static_cast<std::size_t>(problem.output_rows * problem.args.shape.n);
    std::vector<std::byte> host(elements * element_bytes(type));
    if (CUresult r = api->cuMemcpyDtoH(host.data(), reinterpret_cast<CUdeviceptr>(problem.args.d),
                                       host.size());
        r != CUDA_SUCCESS)
      return runtime::driver_error(*api, r, "cuMemcpyDtoH (timer output)");
    std::vector<float> out(elements);
    for (std::size_t i = 0; i < elements; ++i) out[i] = from_bits(&host[i * element_bytes(type)], type);
    return out;
  }
};

GpuTimer::GpuTimer(GpuTimerOptions options) : options_(options) {}
GpuTimer::~GpuTimer() = default;

Expected<void> GpuTimer::ready() {
  if (state_) return {};
  auto api = runtime::driver();
  if (!api) return api.take_error();
  auto info = runtime::query_device(options_.device_ordinal);
  if (!info) return info.take_error();
  auto context = runtime::make_context_current(options_.device_ordinal);
  if (!context) return context.take_error();
  auto state = std::make_unique<State>();
  state->api = *api;
  state->info = *info;
  state->runtime = options_.runtime ? *options_.runtime : Runtime();
  const runtime::DriverApi& d = **api;
  if (CUresult r = d.cuStreamCreate(&state->stream, CU_STREAM_NON_BLOCKING); r != CUDA_SUCCESS)
    return runtime::driver_error(d, r, "cuStreamCreate");
  if (CUresult r = d.cuEventCreate(&state->start, CU_EVENT_DEFAULT); r != CUDA_SUCCESS)
    return runtime::driver_error(d, r, "cuEventCreate");
  if (CUresult r = d.cuEventCreate(&state->stop, CU_EVENT_DEFAULT); r != CUDA_SUCCESS)
    return runtime::driver_error(d, r, "cuEventCreate");
  auto flush = DeviceBuffer::allocate(d, 2 * static_cast<std::size_t>(std::max(info->l2_bytes, 1 << 20)));
  if (!flush) return flush.take_error();
  state->flush.emplace(std::move(*flush));
  state_ = std::move(state);
  return {};
}

Expected<DeviceIdentity> GpuTimer::device() {
  if (auto ok = ready(); !ok) return ok.take_error();
  return device_identity(state_->info);
}

Expected<Timing> GpuTimer::time(const TimingJob& job) {
  if (auto ok = ready(); !ok) return ok.take_error();
  State& s = *state_;
  const runtime::DriverApi& api = *s.api;
  if (auto context = runtime::make_context_current(options_.device_ordinal); !context)
    return context.take_error();
  auto op = s.runtime->matmul(options_for(*job.spec, job.shape, job.candidate));
  if (!op) return op.take_error();
  auto problem = s.problem_for(*job.spec, job.shape, op->gated());
  if (!problem) return problem.take_error();
  const std::vector<float> values(op->parameters().size(), options_.parameter_value);
  auto launch = [&]() { return (*op)(s.stream, (*problem)->args, std::span<const float>(values)); };

  // The warm-up is the checked launch: the outputs are poisoned first (the
  // memset is ordered before it on the context).
  if (auto ok = s.poison_outputs(**problem); !ok) return ok.take_error();
  if (CUresult r = api.cuCtxSynchronize(); r != CUDA_SUCCESS)
    return runtime::driver_error(api, r, "cuCtxSynchronize (poisoned outputs)");
  for (int i = 0; i < options_.warmup; ++i)
    if (auto ok = launch(); !ok) return ok.take_error();
  if (CUresult r = api.cuStreamSynchronize(s.stream); r != CUDA_SUCCESS)
    return runtime::driver_error(api, r, "kernel execution (warm-up)");

  // Checked once, before timing: a wrong kernel is never timed. Every
  // candidate against the float64 samples, later ones also against the
  // first accepted candidate's whole output.
  auto out = s.read_output(**problem, job.spec->output_type);
  if (!out) return out.take_error();
  auto samples = s.samples_for(**problem, *job.spec, *op, options_.parameter_value);
  if (!samples) return samples.take_error();
  if (auto wrong = check_candidate_output(*out, job.shape.n, **samples, (*problem)->baseline,
                                          options_.max_relative_error))
    return make_error(ErrorCode::Internal,
                      (*problem)->baseline.empty()
                          ? *wrong
                          : fmt::format("{} (first candidate: {})", *wrong, (*problem)->baseline_config));
  if ((*problem)->baseline.empty()) {
    (*problem)->baseline = std::move(*out);
    (*problem)->baseline_config = to_string(job.candidate);
  }

  std::vector<float> times;
  double total_ms = 0;
  while (static_cast<int>(times.size()) < options_.max_repetitions) {
    if (CUresult r = api.cuMemsetD8(s.flush->ptr(), static_cast<unsigned char>(times.size()),
                                    s.flush->bytes());
        r != CUDA_SUCCESS)
      return runtime::driver_error(api, r, "cuMemsetD8 (L2 flush)");
    // The flush must be complete (and out of the measured interval) before the start event.
    if (CUresult r = api.cuCtxSynchronize(); r != CUDA_SUCCESS)
      return runtime::driver_error(api, r, "cuCtxSynchronize (L2 flush)");
    if (CUresult r = api.cuEventRecord(s.start, s.stream); r != CUDA_SUCCESS)
      return runtime::driver_error(api, r, "cuEventRecord");
    if (auto ok = launch(); !ok) return ok.take_error();
    if (CUresult r = api.cuEventRecord(s.stop, s.stream); r != CUDA_SUCCESS)
      return runtime::driver_error(api, r, "cuEventRecord");
    if (CUresult r = api.cuEventSynchronize(s.stop); r != CUDA_SUCCESS)
      return runtime::driver_error(api, r, "kernel execution");
    float ms = 0;
    if (CUresult r = api.cuEventElapsedTime(&ms, s.start, s.stop); r != CUDA_SUCCESS)
      return runtime::driver_error(api, r, "cuEventElapsedTime");
    times.push_back(ms);
    total_ms += ms;
    const int n = static_cast<int>(times.size());
    if (n < options_.min_repetitions) continue;
    if (total_ms > options_.max_ms) break;
    const double all = median(times);
    const double recent = median(std::vector<float>(times.begin() + n / 2, times.end()));
    if (std::abs(recent - all) <= options_.stable_relative * all) break;
  }
  return Timing{median(times), static_cast<int>(times.size())};
}

}  // namespace tilefuse::tune
