// See GemmVariant.h.
#include "GemmVariant.h"

namespace emu {
namespace {

std::vector<GemmVariant>& registry() {
  static std::vector<GemmVariant> variants;
  return variants;
}

}  // namespace

bool register_variant(GemmVariant variant) {
  registry().push_back(std::move(variant));
  return true;
}

const std::vector<GemmVariant>& registered_variants() { return registry(); }

}  // namespace emu
