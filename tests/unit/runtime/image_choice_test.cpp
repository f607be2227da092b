// Issue 13: which image of a kernel compiled for one architecture a device
// can load (runtime/ImageChoice.h), over the whole table of tilefuse's
// targets and devices, and what NVRTC's PTX targets (the JIT fallback).
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "runtime/ImageChoice.h"
#include "runtime/Nvrtc.h"

namespace tilefuse::runtime {
namespace {

using enum LoadableImage;

TEST(ImageChoice, TableOfDevicesAndImages) {
  const ComputeCapability devices[] = {{8, 0}, {8, 6}, {8, 9}, {9, 0}};
  const char* images[] = {"sm_80", "sm_86", "sm_89", "sm_90", "sm_90a"};
  // Rows: devices 8.0, 8.6, 8.9, 9.0; columns: images in the order above.
  const LoadableImage expected[4][5] = {
      /* 8.0 */ {Cubin, None, None, None, None},
      /* 8.6 */ {Cubin, Cubin, None, None, None},
      /* 8.9 */ {Cubin, Cubin, Cubin, None, None},
      /* 9.0 */ {Ptx, Ptx, Ptx, Cubin, Cubin},
  };
  for (int d = 0; d < 4; ++d)
    for (int i = 0; i < 5; ++i) {
      auto target = parse_target_arch(images[i]);
      ASSERT_TRUE(target) << target.error().message;
      EXPECT_EQ(loadable_image(*target, devices[d]), expected[d][i])
          << images[i] << " on " << devices[d].major << "." << devices[d].minor;
    }
}

TEST(ImageChoice, NewerMajorsJitThePtxOfNonSpecificTargetsOnly) {
  auto sm90 = parse_target_arch("sm_90");
  auto sm90a = parse_target_arch("sm_90a");
  ASSERT_TRUE(sm90 && sm90a);
  EXPECT_EQ(loadable_image(*sm90, {10, 0}), Ptx);
  EXPECT_EQ(loadable_image(*sm90a, {10, 0}), None) << "sm_90a code runs on 9.0 only";
  EXPECT_TRUE(sm90a->arch_specific);
  EXPECT_EQ(sm90a->cc, (ComputeCapability{9, 0}));
}

TEST(ImageChoice, MalformedArchitecturesAreInvalidInput) {
  for (const char* bad : {"", "sm_8", "sm_80b", "compute_80", "sm_x0"}) {
    auto parsed = parse_target_arch(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code, ErrorCode::InvalidInput);
  }
}

TEST(ImageChoice, ExplanationSaysWhatRunsInstead) {
  const std::string text = unloadable_explanation("sm_89", {8, 6}, 1);
  EXPECT_NE(text.find("device 1 (compute capability 8.6)"), std::string::npos) << text;
  EXPECT_NE(text.find("8.9 or later"), std::string::npos) << text;
  EXPECT_NE(text.find("Leave the architecture unset"), std::string::npos) << text;
  const std::string hopper = unloadable_explanation("sm_90a", {8, 0}, 0);
  EXPECT_NE(hopper.find("exactly compute capability 9.0"), std::string::npos) << hopper;
}

// The JIT fallback needs PTX a newer device accepts: NVRTC's PTX for a real
// architecture targets that architecture (forward compatible), and the
// sm_90a PTX is the arch-specific one (which loadable_image never JITs elsewhere).
TEST(ImageChoice, NvrtcPtxTargetsTheCompiledArchitecture) {
  for (const char* arch : {"sm_80", "sm_90", "sm_90a"}) {
    Source source;
    source.name = "ptx_target.cu";
    source.code = "extern \"C\" __global__ void tf_probe(float* p) { *p = 1.0f; }\n";
    source.options.arch = arch;
    auto compiled = compile(source);
    ASSERT_TRUE(compiled) << compiled.error().message;
    EXPECT_NE(compiled->ptx.find(std::string(".target ") + arch + "\n"), std::string::npos)
        << arch << ": " << compiled->ptx.substr(0, 400);
    EXPECT_FALSE(compiled->cubin.empty());
  }
}

}  // namespace
}  // namespace tilefuse::runtime
