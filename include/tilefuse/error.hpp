// tilefuse — error values returned by every fallible library call.
//
// Library code never aborts and never throws across the API: a failure is an
// `Error` value (what failed, where, how to fix it) carried in `Expected<T>`.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace tilefuse {

/// Broad class of a failure; the CLI maps these to exit codes
/// (InvalidInput/Unsupported → 2, everything else → 1).
enum class ErrorCode {
  InvalidInput,   ///< malformed expression, bad option, missing parameter value
  Unsupported,    ///< valid request the library cannot serve (shape, arch, dtype)
  CompileFailed,  ///< NVRTC or MLIR pipeline failure
  NoDevice,       ///< no CUDA driver or GPU found
  DriverError,    ///< a CUDA driver call failed
  IoError,        ///< file system failure
  Internal,       ///< a bug in tilefuse
};

/// What failed. `message` is a complete, human-readable sentence (or a
/// positioned diagnostic with source line and caret); `detail` holds long
/// attachments such as a compiler log.
struct Error {
  ErrorCode code = ErrorCode::Internal;
  std::string message;
  std::string detail;
};

const char* to_string(ErrorCode code);

/// A value or an Error. Deliberately tiny (C++20 has no std::expected).
template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  Expected(Error error) : state_(std::in_place_index<1>, std::move(error)) {}

  bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(state_); }
  Error&& take_error() { return std::get<1>(std::move(state_)); }

 private:
  std::variant<T, Error> state_;
};

/// Expected<void>: success or an Error.
template <>
class [[nodiscard]] Expected<void> {
 public:
  Expected() = default;
  Expected(Error error) : error_(std::move(error)), ok_(false) {}
  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }
  Error&& take_error() { return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

inline Error make_error(ErrorCode code, std::string message, std::string detail = {}) {
  return Error{code, std::move(message), std::move(detail)};
}

}  // namespace tilefuse
