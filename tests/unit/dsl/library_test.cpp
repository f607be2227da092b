// The built-in library: every row parses, resolves, has no cycles; lookups
// and "did you mean" suggestions.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "dsl/Library.h"
#include "dsl/Resolve.h"

namespace tilefuse::dsl {
namespace {

TEST(Library, VerifiesCleanly) {
  auto verified = verify_builtin_library();
  EXPECT_TRUE(verified) << verified.error().message;
}

TEST(Library, EveryRowParsesAndResolvesWhenCalled) {
  for (const auto& builtin : builtin_library()) {
    SCOPED_TRACE(builtin.name);
    ASSERT_NE(builtin.program.result, nullptr) << "body does not parse: " << builtin.body;
    EXPECT_FALSE(builtin.formula.empty());
    std::string call = builtin.name + "(" + (builtin.gated ? "gate, up" : "x");
    for (size_t i = builtin.gated ? 2 : 1; i < builtin.params.size(); ++i) call += ", 0.5";
    call += ")";
    auto resolved = resolve(call);
    ASSERT_TRUE(resolved) << resolved.error().message;
    EXPECT_EQ(resolved->analysis.inputs, builtin.gated ? InputKind::Gated : InputKind::Single);
    EXPECT_EQ(resolved->analysis.builtins_used.back(), builtin.name);
  }
}

TEST(Library, ContainsTheDocumentedActivations) {
  const std::vector<std::string> single = {
      "relu", "relu6", "leaky_relu", "prelu", "elu", "selu", "gelu", "gelu_tanh", "quick_gelu", "silu", "swish",
      "hardswish", "hardsigmoid", "mish", "softplus", "sigmoid", "step", "threshold", "relu2", "xmul"};
  for (const auto& name : single) {
    const Builtin* builtin = lookup_builtin(name);
    ASSERT_NE(builtin, nullptr) << name;
    EXPECT_FALSE(builtin->gated) << name;
    EXPECT_EQ(builtin->params[0].name, "x");
  }
  for (const auto& name : {"glu", "reglu", "geglu", "swiglu", "bilinear"}) {
    const Builtin* builtin = lookup_builtin(name);
    ASSERT_NE(builtin, nullptr) << name;
    EXPECT_TRUE(builtin->gated) << name;
  }
  EXPECT_EQ(builtin_library().size(), single.size() + 5);
  EXPECT_EQ(lookup_builtin("tanh"), nullptr) << "tanh is a primitive; the library must not duplicate it";
  EXPECT_EQ(lookup_builtin("nope"), nullptr);
}

TEST(Library, ParameterDefaults) {
  const Builtin* leaky = lookup_builtin("leaky_relu");
  ASSERT_NE(leaky, nullptr);
  ASSERT_EQ(leaky->params.size(), 2u);
  EXPECT_EQ(leaky->params[1].default_value, 0.01);
  const Builtin* prelu = lookup_builtin("prelu");
  ASSERT_NE(prelu, nullptr);
  EXPECT_FALSE(prelu->params[1].default_value.has_value());
}

TEST(Library, Primitives) {
  EXPECT_EQ(primitives().size(), 16u);
  auto where = lookup_primitive("where");
  ASSERT_TRUE(where);
  EXPECT_EQ(where->primitive, Primitive::Select);
  EXPECT_STREQ(where->name, "select");
  EXPECT_EQ(lookup_primitive("clamp")->arity, 3);
  EXPECT_EQ(lookup_primitive("erfc")->primitive, Primitive::Erfc);
  EXPECT_FALSE(lookup_primitive("sigmoid"));
  for (const auto& info : primitives()) EXPECT_EQ(lookup_primitive(info.name)->primitive, info.primitive);
}

TEST(Library, ClosestFunctionName) {
  EXPECT_EQ(closest_function_name("sigmoud"), "sigmoid");
  EXPECT_EQ(closest_function_name("sigmiod"), "sigmoid");  // a swap is one edit
  EXPECT_EQ(closest_function_name("gelu_tahn"), "gelu_tanh");
  EXPECT_EQ(closest_function_name("swiglue"), "swiglu");
  EXPECT_EQ(closest_function_name("RELU"), "relu");
  EXPECT_EQ(closest_function_name("leakyrelu"), "leaky_relu");
  EXPECT_EQ(closest_function_name("foo"), "");
  EXPECT_EQ(closest_function_name("xyzzy"), "");
  EXPECT_EQ(closest_function_name("completely_different"), "");
}

TEST(Library, ConcurrentFirstUseIsSafe) {
  // Meaningful under ThreadSanitizer; here it at least checks every thread
  // sees the same, complete table.
  std::vector<size_t> sizes(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < sizes.size(); ++i)
    threads.emplace_back([&, i] { sizes[i] = lookup_builtin("gelu") ? builtin_library().size() : 0; });
  for (auto& thread : threads) thread.join();
  EXPECT_TRUE(std::all_of(sizes.begin(), sizes.end(), [&](size_t s) { return s == builtin_library().size(); }));
}

}  // namespace
}  // namespace tilefuse::dsl
