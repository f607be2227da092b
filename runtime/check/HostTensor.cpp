// See HostTensor.h.
#include "runtime/check/HostTensor.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tilefuse::gpu {

HostTensor::HostTensor(compiler::DType type, long long rows, long long cols, long long ld, int batch,
                       long long batch_stride)
    : type_(type), rows_(rows), cols_(cols), ld_(ld), batch_stride_(batch_stride), batch_(batch) {
  const long long one = rows * ld;
  if (batch_stride_ == 0 && batch > 1) batch_stride_ = one;
  const long long elements = batch_stride_ * (batch - 1) + one;
  bytes_.resize(static_cast<std::size_t>(elements) * element_bytes(type));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (long long i = 0; i < elements; ++i) {
    if (type == compiler::DType::F32) {
      std::memcpy(bytes_.data() + i * 4, &nan, 4);
    } else {
      const std::uint16_t bits = float_to_half_bits(nan, type);
      std::memcpy(bytes_.data() + i * 2, &bits, 2);
    }
  }
}

long long HostTensor::storage_elements() const {
  return static_cast<long long>(bytes_.size()) / element_bytes(type_);
}

std::uint32_t HostTensor::raw(long long i) const {
  if (type_ == compiler::DType::F32) {
    std::uint32_t bits;
    std::memcpy(&bits, bytes_.data() + i * 4, 4);
    return bits;
  }
  std::uint16_t bits;
  std::memcpy(&bits, bytes_.data() + i * 2, 2);
  return bits;
}

double HostTensor::at(int b, long long r, long long c) const {
  const long long i = index(b, r, c);
  if (type_ == compiler::DType::F32) {
    float v;
    std::memcpy(&v, bytes_.data() + i * 4, 4);
    return v;
  }
  return half_bits_to_float(static_cast<std::uint16_t>(raw(i)), type_);
}

void HostTensor::set(int b, long long r, long long c, double value) {
  const long long i = index(b, r, c);
  const float v = static_cast<float>(value);
  if (type_ == compiler::DType::F32) {
    std::memcpy(bytes_.data() + i * 4, &v, 4);
  } else {
    const std::uint16_t bits = float_to_half_bits(v, type_);
    std::memcpy(bytes_.data() + i * 2, &bits, 2);
  }
}

void HostTensor::fill_uniform(double lo, double hi, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> dist(lo, hi);
  for (int b = 0; b < batch_; ++b)
    for (long long r = 0; r < rows_; ++r)
      for (long long c = 0; c < cols_; ++c) {
        double v = dist(rng);
        while (v == 0.0) v = dist(rng);  // never a zero: it would hide a missing term
        set(b, r, c, v);
      }
}

}  // namespace tilefuse::gpu
