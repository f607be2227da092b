// C++ identifiers for user-chosen names (runtime parameters) in generated
// CUDA code: a DSL name may be a C++ keyword (`class`), a reserved spelling
// (`_x`, `a__b`) or collide with tilefuse's own `tf_`/`TF_` names.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tilefuse::compiler {

/// True if `name` can be used verbatim as a member of the generated params
/// struct: a valid identifier, no C++ keyword or alternative token, no
/// reserved spelling (leading `_`, any `__`), no `tf_`/`TF_` prefix.
bool isSafeCudaIdentifier(std::string_view name);

/// One distinct, safe C++ identifier per name, in order. Safe names are kept
/// verbatim; the others become `p_<name>` (invalid characters replaced by
/// `_`), with a numeric suffix if that is already taken.
std::vector<std::string> makeCudaFieldNames(const std::vector<std::string>& names);

}  // namespace tilefuse::compiler
