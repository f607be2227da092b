// How the FP8 benchmark scales its inputs (the records' "scaling" field).
#pragma once

namespace tilefuse::bench {

enum class Fp8Scaling { PerTensor, RowWise, Block128 };

/// "tensor", "row", "block128".
constexpr const char* to_string(Fp8Scaling scaling) {
  switch (scaling) {
    case Fp8Scaling::PerTensor: return "tensor";
    case Fp8Scaling::RowWise: return "row";
    case Fp8Scaling::Block128: return "block128";
  }
  return "?";
}

}  // namespace tilefuse::bench
