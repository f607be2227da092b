// See EpilogueParameterValues.h.
#include "runtime/ops/EpilogueParameterValues.h"

#include <algorithm>

#include <fmt/format.h>

namespace tilefuse::ops {
namespace {

std::string quoted_list(std::span<const std::string> names) {
  if (names.empty()) return "no parameters";
  std::string list;
  for (const auto& name : names) list += fmt::format("{}'{}'", list.empty() ? "" : ", ", name);
  return list;
}

}  // namespace

Expected<void> parameter_values_by_name(std::span<const std::string> names, const Params& given,
                                        std::string_view activation, std::span<float> out) {
  for (size_t i = 0; i < names.size(); ++i) {
    auto it = given.find(names[i]);
    if (it == given.end())
      return make_error(ErrorCode::InvalidInput,
                        fmt::format("no value for runtime parameter '{}' of activation '{}': pass "
                                    "it by name, e.g. {{{{\"{}\", 0.1f}}}} (the activation takes {})",
                                    names[i], activation, names[i], quoted_list(names)));
    out[i] = it->second;
  }
  if (given.size() != names.size())
    for (const auto& [name, value] : given)
      if (std::find(names.begin(), names.end(), name) == names.end())
        return make_error(ErrorCode::InvalidInput,
                          fmt::format("activation '{}' has no runtime parameter '{}' (it takes {})",
                                      activation, name, quoted_list(names)));
  return {};
}

}  // namespace tilefuse::ops
