// See DeviceBuffer.h.
#include "runtime/check/DeviceBuffer.h"

#include <utility>

#include <fmt/format.h>

namespace tilefuse::gpu {

Expected<DeviceBuffer> DeviceBuffer::allocate(std::size_t bytes) {
  auto api = runtime::driver();
  if (!api) return api.take_error();
  auto context = runtime::make_context_current(0);
  if (!context) return context.take_error();
  DeviceBuffer buffer;
  buffer.api_ = *api;
  buffer.bytes_ = bytes;
  if (CUresult r = (*api)->cuMemAlloc(&buffer.address_, bytes == 0 ? 1 : bytes); r != CUDA_SUCCESS)
    return runtime::driver_error(**api, r, fmt::format("cuMemAlloc({} bytes)", bytes));
  return buffer;
}

DeviceBuffer::~DeviceBuffer() {
  if (address_) api_->cuMemFree(address_);  // nothing to report to in a destructor
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : api_(other.api_), address_(std::exchange(other.address_, 0)), bytes_(std::exchange(other.bytes_, 0)) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    if (address_) api_->cuMemFree(address_);
    api_ = other.api_;
    address_ = std::exchange(other.address_, 0);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

Expected<void> DeviceBuffer::upload(const void* host, std::size_t bytes) {
  if (bytes > bytes_)
    return make_error(ErrorCode::InvalidInput, fmt::format("upload of {} bytes into a {}-byte buffer", bytes, bytes_));
  if (CUresult r = api_->cuMemcpyHtoD(address_, host, bytes); r != CUDA_SUCCESS)
    return runtime::driver_error(*api_, r, "cuMemcpyHtoD");
  return {};
}

Expected<void> DeviceBuffer::download(void* host, std::size_t bytes, std::size_t offset) const {
  if (offset > bytes_ || bytes > bytes_ - offset)
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("download of {} bytes at offset {} from a {}-byte buffer", bytes, offset, bytes_));
  if (CUresult r = api_->cuMemcpyDtoH(host, address_ + offset, bytes); r != CUDA_SUCCESS)
    return runtime::driver_error(*api_, r, "cuMemcpyDtoH");
  return {};
}

Expected<void> DeviceBuffer::fill(unsigned char value) {
  if (CUresult r = api_->cuMemsetD8(address_, value, bytes_); r != CUDA_SUCCESS)
    return runtime::driver_error(*api_, r, "cuMemsetD8");
  return {};
}

}  // namespace tilefuse::gpu
