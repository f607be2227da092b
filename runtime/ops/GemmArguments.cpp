// See GemmArguments.h.
#include "runtime/ops/GemmArguments.h"

#include <cstdint>

#include <fmt/format.h>

namespace tilefuse::ops {
namespace {

/// 16 bytes = one cp.async chunk / vector store; 8 elements of 16 bits
/// (16 FP8 elements: rows and batches of FP8 tensors start on 16 bytes too).
constexpr std::uintptr_t kTensorAlign = 16;
constexpr std::uintptr_t kBiasAlign = 8;
constexpr long long kElementMultiple = 8;
constexpr long long kFp8ElementMultiple = 16;

/// The element multiple of the rows of a tensor of `bytes`-byte elements.
constexpr long long element_multiple(int bytes) { return bytes == 1 ? kFp8ElementMultiple : kElementMultiple; }

Error invalid(std::string message) { return make_error(ErrorCode::InvalidInput, std::move(message)); }

Expected<void> check_presence(const char* name, const void* pointer, bool expected,
                              const char* option) {
  if (expected && !pointer)
    return invalid(fmt::format("the op was created with {} but the launch passes no {} pointer: "
                               "set MatmulArgs::{}",
                               option, name, name));
  if (!expected && pointer)
    return invalid(fmt::format("the launch passes a {} pointer but the op was created without {}: "
                               "create the op with {} or pass nullptr",
                               name, option, option));
  return {};
}

Expected<void> check_alignment(const char* name, const void* pointer, std::uintptr_t alignment) {
  if (pointer && reinterpret_cast<std::uintptr_t>(pointer) % alignment != 0)
    return make_error(ErrorCode::Unsupported,
                      fmt::format("{} = {} is not {}-byte aligned; the fused GEMM reads and writes "
                                  "{}-byte vectors: pass a cudaMalloc'ed pointer (256-byte aligned) "
                                  "or an offset that is a multiple of {} bytes",
                                  name, pointer, alignment, alignment, alignment));
  return {};
}

/// Resolves a leading dimension (0 = `packed`) and checks it.
Expected<long long> leading_dimension(const char* name, long long given, long long packed,
                                      const char* what, long long multiple = kElementMultiple) {
  const long long ld = given == 0 ? packed : given;
  if (ld < packed)
    return invalid(fmt::format("{} = {} is smaller than {} ({}); pass 0 for the packed value",
                               name, ld, what, packed));
  if (ld % multiple != 0)
    return make_error(ErrorCode::Unsupported,
                      fmt::format("{} = {} is not a multiple of {} elements; every row must start on "
                                  "a 16-byte boundary: pad the rows to a multiple of {} elements",
                                  name, ld, multiple, multiple));
  return ld;
}

/// Resolves a batch stride (kPackedStride = `packed`) and checks it. An
/// output (`written`) cannot broadcast: with stride 0 every batch would
/// write the same memory, concurrently.
Expected<long long> batch_stride(const char* name, long long given, long long packed, int batch,
                                 bool written, long long multiple = kElementMultiple) {
  if (batch == 1) return packed;  // never read
  const long long stride = given == kPackedStride ? packed : given;
  if (stride < 0)
    return invalid(fmt::format("{} = {} is negative; pass kPackedStride (packed) or a stride >= 0 "
                               "(0 repeats the same matrix for every batch)",
                               name, stride));
  if (stride == 0 && written)
    return invalid(fmt::format("{} = 0 with batch = {}: every batch would write the same output "
                               "matrix; pass kPackedStride (packed) or a stride of at least rows x "
                               "leading dimension ({} elements when packed)",
                               name, batch, packed));
  if (stride % multiple != 0)
    return make_error(ErrorCode::Unsupported,
                      fmt::format("{} = {} is not a multiple of {} elements; every batch must start "
                                  "on a 16-byte boundary",
                                  name, stride, multiple));
  return stride;
}

}  // namespace

Expected<GemmParams> make_gemm_params(const GemmOperands& operands, const MatmulArgs& args) {
  const Shape& s = args.shape;
  if (s.m < 1 || s.n < 1 || s.k < 1)
    return invalid(fmt::format("shape M={} N={} K={}: every dimension must be >= 1", s.m, s.n, s.k));
  if (args.batch < 1) return invalid(fmt::format("batch = {} must be >= 1", args.batch));
  if (!args.a || !args.b || !args.d)
    return invalid(fmt::format("A, B and D must be device pointers (got a={}, b={}, d={})", args.a,
                               args.b, args.d));

  const bool separate_weights = operands.gated && operands.gate_interleave == 0;
  if (separate_weights && !args.b_up)
    return invalid("this gated op takes two weight matrices: pass W_gate as b and W_up as b_up "
                   "(or create the op with gate_interleave for one interleaved matrix)");
  if (!separate_weights && args.b_up)
    return invalid(operands.gated
                       ? "this gated op takes one interleaved weight matrix (gate_interleave > 0): "
                         "pass it as b and leave b_up null"
                       : "b_up is only for gated activations with two weight matrices: leave it null");
  if (auto ok = check_presence("bias", args.bias, operands.bias, "bias"); !ok) return ok.take_error();
  if (auto ok = check_presence("c", args.c, operands.residual, "residual"); !ok) return ok.take_error();
  if (auto ok = check_presence("aux", args.aux, operands.aux, "aux"); !ok) return ok.take_error();
  if (operands.gated && args.alpha != 1.0f)
    return invalid(fmt::format("alpha = {} but a gated op computes act(A·W_gate, A·W_up) without "
                               "scaling: fold alpha into the weights",
                               args.alpha));
  if (operands.gated && operands.gate_interleave > 0 && s.n % operands.gate_interleave != 0)
    return invalid(fmt::format("N = {} is not a multiple of the gate/up interleave block {}: the "
                               "interleaved matrix holds whole blocks of gate and up features",
                               s.n, operands.gate_interleave));

  const struct {
    const char* name;
    const void* pointer;
    std::uintptr_t alignment;
  } pointers[] = {{"a", args.a, kTensorAlign},   {"b", args.b, kTensorAlign},
                  {"b_up", args.b_up, kTensorAlign}, {"d", args.d, kTensorAlign},
                  {"c", args.c, kTensorAlign},   {"aux", args.aux, kTensorAlign},
                  {"bias", args.bias, kBiasAlign}};
  for (const auto& p : pointers)
    if (auto ok = check_alignment(p.name, p.pointer, p.alignment); !ok) return ok.take_error();

  // B holds N features (2N when gate and up are interleaved in it).
  const long long features = operands.gated && operands.gate_interleave > 0 ? 2 * s.n : s.n;
  const long long b_rows = operands.b_col_major ? features : s.k;
  const long long b_cols = operands.b_col_major ? s.k : features;

  GemmParams p;
  p.a = args.a;
  p.b = args.b;
  p.b_up = args.b_up;
  p.d = args.d;
  p.bias = args.bias;
  p.c = args.c;
  p.aux = args.aux;
  p.m = s.m;
  p.n = s.n;
  p.k = s.k;
  p.alpha = args.alpha;
  p.beta = args.beta;

  const long long in_multiple = element_multiple(operands.input_bytes);
  const long long out_multiple = element_multiple(operands.output_bytes);
  auto lda = leading_dimension("lda", args.lda, s.k, "K", in_multiple);
  if (!lda) return lda.take_error();
  auto ldb = leading_dimension("ldb", args.ldb, b_cols,
                               operands.b_col_major ? "K (B is N x K)" : "the width of B", in_multiple);
  if (!ldb) return ldb.take_error();
  // Gated pre-activations come in pairs: aux = [gate | up] (forward with aux,
  // backward input) and, backward, D = [dgate | dup]: 2N columns per row.
  const bool paired_aux = (operands.gated && operands.aux) || operands.gated_backward;
  const long long aux_width = paired_aux ? 2 * s.n : s.n;
  const long long d_width = operands.gated_backward ? 2 * s.n : s.n;
  const char* aux_what = paired_aux ? "2N = [gate | up]" : "N";
  auto ldd = leading_dimension("ldd", args.ldd, d_width,
                               operands.gated_backward ? "2N = [dgate | dup]" : "N", out_multiple);
  if (!ldd) return ldd.take_error();
  p.lda = *lda;
  p.ldb = *ldb;
  p.ldd = *ldd;
  p.ldc = p.ld_aux = s.n;  // not read without C / aux; still a valid value
  if (operands.residual) {
    auto ldc = leading_dimension("ldc", args.ldc, s.n, "N");
    if (!ldc) return ldc.take_error();
    p.ldc = *ldc;
  }
  if (operands.aux) {
    auto ld_aux = leading_dimension("ld_aux", args.ld_aux, aux_width, aux_what);
    if (!ld_aux) return ld_aux.take_error();
    p.ld_aux = *ld_aux;
  }

  const struct {
    const char* name;
    long long given, packed;
    long long* out;
    bool written;
    long long multiple;
  } strides[] = {{"stride_a", args.stride_a, s.m * p.lda, &p.batch_stride_a, false, in_multiple},
                 {"stride_b", args.stride_b, b_rows * p.ldb, &p.batch_stride_b, false, in_multiple},
                 {"stride_c", args.stride_c, s.m * p.ldc, &p.batch_stride_c, false, kElementMultiple},
                 {"stride_d", args.stride_d, s.m * p.ldd, &p.batch_stride_d, true, out_multiple},
                 {"stride_aux", args.stride_aux, s.m * p.ld_aux, &p.batch_stride_aux,
                  operands.aux && !operands.aux_is_input, kElementMultiple}};
  for (const auto& st : strides) {
    auto value = batch_stride(st.name, st.given, st.packed, args.batch, st.written, st.multiple);
    if (!value) return value.take_error();
    *st.out = *value;
  }
  return p;
}

}  // namespace tilefuse::ops

namespace tilefuse::ops {

Expected<OperandVectors> make_operand_vectors(const GemmOperands& operands, const MatmulArgs& args) {
  OperandVectors vectors;
  vectors.rows = static_cast<int>(operands.row_inputs.size());
  vectors.cols = static_cast<int>(operands.col_inputs.size());
  for (bool columns : {false, true}) {
    const std::vector<std::string>& names = columns ? operands.col_inputs : operands.row_inputs;
    const auto& pointers = columns ? args.col_inputs : args.row_inputs;
    const auto& strides = columns ? args.stride_col_inputs : args.stride_row_inputs;
    const char* field = columns ? "col_inputs" : "row_inputs";
    const long long length = columns ? args.shape.n : args.shape.m;
    for (std::size_t k = 0; k < pointers.size(); ++k) {
      if (k >= names.size()) {
        if (pointers[k])
          return invalid(fmt::format("MatmulArgs::{}[{}] is set but the op declares {} {} input(s) "
                                     "(MatmulOptions::{}): pass nullptr or declare it",
                                     field, k, names.size(), columns ? "column" : "row", field));
        continue;
      }
      if (!pointers[k])
        return invalid(fmt::format("the activation reads the {} input '{}' but MatmulArgs::{}[{}] is null: "
                                   "pass a device pointer to {} f32 values ({})",
                                   columns ? "column" : "row", names[k], field, k, columns ? "N" : "M",
                                   columns ? "one per output column" : "one per output row"));
      if (reinterpret_cast<std::uintptr_t>(pointers[k]) % alignof(float) != 0)
        return make_error(ErrorCode::Unsupported,
                          fmt::format("MatmulArgs::{}[{}] ('{}') = {} is not 4-byte aligned: the vector "
                                      "holds f32 values",
                                      field, k, names[k], static_cast<const void*>(pointers[k])));
      long long stride = length;
      if (args.batch > 1) {
        stride = strides[k] == kPackedStride ? length : strides[k];
        if (stride != 0 && stride < length)
          return invalid(fmt::format("MatmulArgs::stride_{}[{}] ('{}') = {} with batch = {}: pass "
                                     "kPackedStride ({} values per batch), 0 (one vector for every "
                                     "batch) or a stride >= {}",
                                     field, k, names[k], strides[k], args.batch, length, length));
      }
      (columns ? vectors.col : vectors.row)[k] = pointers[k];
      (columns ? vectors.col_batch_stride : vectors.row_batch_stride)[k] = stride;
    }
  }
  return vectors;
}

}  // namespace tilefuse::ops
