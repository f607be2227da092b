// Expected<T> carries either a value or an Error.
#include <gtest/gtest.h>

#include "tilefuse/error.hpp"

namespace tilefuse {
namespace {

Expected<int> half(int v) {
  if (v % 2) return make_error(ErrorCode::InvalidInput, "odd");
  return v / 2;
}

TEST(Expected, HoldsValueOrError) {
  auto ok = half(4);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 2);
  auto bad = half(3);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::InvalidInput);
  EXPECT_EQ(bad.error().message, "odd");
  EXPECT_STREQ(to_string(ErrorCode::NoDevice), "no device");
}

}  // namespace
}  // namespace tilefuse
