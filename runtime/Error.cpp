// Names of error codes.
#include "tilefuse/error.hpp"

namespace tilefuse {

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::InvalidInput: return "invalid input";
    case ErrorCode::Unsupported: return "unsupported";
    case ErrorCode::CompileFailed: return "compile failed";
    case ErrorCode::NoDevice: return "no device";
    case ErrorCode::DriverError: return "driver error";
    case ErrorCode::IoError: return "I/O error";
    case ErrorCode::Internal: return "internal error";
  }
  return "unknown error";
}

}  // namespace tilefuse
