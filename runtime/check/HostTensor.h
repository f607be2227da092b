// A batch of row-major matrices in host memory, stored exactly as the device
// sees them (bf16/f16 bits or f32, leading dimension, batch stride), so one
// upload puts it on the GPU and the reference reads the very same values.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "runtime/check/HostHalf.h"

namespace tilefuse::gpu {

class HostTensor {
 public:
  HostTensor() = default;
  /// `ld` >= cols; padding elements (cols..ld) and batch gaps start as NaN so
  /// that a kernel reading them produces NaN and fails the check.
  HostTensor(compiler::DType type, long long rows, long long cols, long long ld, int batch = 1,
             long long batch_stride = 0);

  compiler::DType type() const { return type_; }
  long long rows() const { return rows_; }
  long long cols() const { return cols_; }
  long long ld() const { return ld_; }
  int batch() const { return batch_; }
  long long batch_stride() const { return batch_stride_; }
  const void* data() const { return bytes_.data(); }
  void* data() { return bytes_.data(); }
  std::size_t size_bytes() const { return bytes_.size(); }

  /// The stored value (after rounding to the element type).
  double at(int b, long long r, long long c) const;
  /// Stores `value` rounded to the element type.
  void set(int b, long long r, long long c, double value);
  /// Uniform values in [lo, hi) for every logical element (the padding stays NaN).
  void fill_uniform(double lo, double hi, std::mt19937_64& rng);
  /// Raw element bits (16-bit types) or float bits (f32) at a storage index.
  std::uint32_t raw(long long index) const;
  long long storage_elements() const;

 private:
  long long index(int b, long long r, long long c) const { return b * batch_stride_ + r * ld_ + c; }

  compiler::DType type_ = compiler::DType::BF16;
  long long rows_ = 0, cols_ = 0, ld_ = 0, batch_stride_ = 0;
  int batch_ = 1;
  std::vector<unsigned char> bytes_;
};

}  // namespace tilefuse::gpu
