// Runtime::tune through the real CUDA-event timer (GpuTimer) on the fake
// driver: candidates are launched on the current device with the geometry of
// their tile, timed by events around exactly one launch, and their output
// checked. The fake does not run kernels, so a launch hook computes the GEMM
// on the host from the parameter bytes (device memory is host memory).
#include <cmath>
#include <fstream>
#include <sstream>

#include "FakeDriverTest.h"
#include "runtime/tune/SearchSpace.h"
#include "unit/runtime/TestEnvironment.h"

namespace tilefuse::fakedriver {
namespace {

float bf16_to_float(unsigned short bits) {
  const unsigned u = static_cast<unsigned>(bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

unsigned short float_to_bf16(float f) {
  unsigned u;
  std::memcpy(&u, &f, 4);
  u += 0x7fff + ((u >> 16) & 1);
  return static_cast<unsigned short>(u >> 16);
}

/// D = relu(alpha · A·B) for a plain bf16 op with row-major B, read from the
/// launch's TfGemmParams (every batch).
void run_relu_gemm(const TfFakeLaunch* launch, void*) {
  const unsigned char* p = launch->params + launch->param_offset[0];
  auto pointer = [&](std::size_t offset) {
    void* v;
    std::memcpy(&v, p + offset, 8);
    return v;
  };
  auto integer = [&](std::size_t offset) {
    long long v;
    std::memcpy(&v, p + offset, 8);
    return v;
  };
  float alpha;
  std::memcpy(&alpha, p + 160, 4);
  const auto* a = static_cast<const unsigned short*>(pointer(0));
  const auto* b = static_cast<const unsigned short*>(pointer(8));
  auto* d = static_cast<unsigned short*>(pointer(24));
  const long long m = integer(56), n = integer(64), k = integer(72), lda = integer(80), ldb = integer(88),
                  ldd = integer(104);
  for (long long i = 0; i < m; ++i)
    for (long long j = 0; j < n; ++j) {
      float sum = 0;
      for (long long kk = 0; kk < k; ++kk) sum += bf16_to_float(a[i * lda + kk]) * bf16_to_float(b[kk * ldb + j]);
      d[i * ldd + j] = float_to_bf16(std::max(0.0f, alpha * sum));
    }
}

class Tune : public FakeDriverTest {
 protected:
  void SetUp() override {
    FakeDriverTest::SetUp();
    fake().tf_fake_set_launch_hook(run_relu_gemm, nullptr);
    fake().tf_fake_set_kernel_time_ms(0.25f);
  }
  void TearDown() override {
    fake().tf_fake_set_launch_hook(nullptr, nullptr);
    fake().tf_fake_set_kernel_time_ms(0.01f);
  }

  /// Tunes relu for `shape` on `device`; checks every launch against the
  /// geometry of one of the candidate tiles.
  void tune_on(int device, Arch arch, const std::string& device_name) {
    const CUcontext context = use_device(device);
    Runtime rt(RuntimeOptions{.cache_dir = std::string(kKernelCacheDir)});
    auto op = rt.matmul({.activation = "relu", .dtype = DType::BF16});
    ASSERT_TRUE(op) << op.error().message;
    const Shape shape{128, 128, 64};
    const Shape shapes[] = {shape};
    // A tiny budget: the first batch of candidates is compiled, one is timed.
    auto summaries = rt.tune(*op, shapes, {.budget_s = 1e-6, .retime = true});
    ASSERT_TRUE(summaries) << summaries.error().message;
    ASSERT_EQ(summaries->size(), 1u);
    const TuneSummary& s = (*summaries)[0];
    EXPECT_EQ(s.arch, arch);
    EXPECT_GE(s.timed, 1u) << "nothing was timed through the driver's events";
    EXPECT_EQ(s.failed, 0u);
    ASSERT_TRUE(s.ms.has_value());
    EXPECT_NEAR(*s.ms, 0.25, 1e-6) << "the events must bracket exactly one launch";

    const auto target = compiler::make_target(arch);
    const tune::SearchSpace space = tune::build_search_space(*target, {shape.m, shape.n, shape.k}, false);
    auto all = launches();
    ASSERT_GE(all.size(), 2u);
    for (const TfFakeLaunch* l : all) {
      expect_launch_invariants(*l);
      EXPECT_EQ(l->context, context) << "tuned on another device than the current one";
      bool matches_a_candidate = false;
      for (const tune::Candidate& c : space.candidates) {
        const TileConfig& t = c.tile;
        const bool wgmma = target->mainloop() == compiler::Mainloop::WgmmaWarpSpecialized;
        const long long tiles = ceil_div(shape.m, t.block_m) * ceil_div(shape.n, t.block_n);
        const unsigned grid = static_cast<unsigned>(wgmma ? std::min<long long>(tiles, kSm90SmCount) : tiles);
        const unsigned block = static_cast<unsigned>(compiler::tile_threads(target->mainloop(), t));
        const unsigned smem = static_cast<unsigned>(compiler::tile_shared_bytes(target->mainloop(), t, false));
        matches_a_candidate |= l->grid[0] == grid && l->block[0] == block && l->shared_bytes == smem;
      }
      EXPECT_TRUE(matches_a_candidate) << "grid " << l->grid[0] << " block " << l->block[0] << " smem "
                                       << l->shared_bytes << " is no candidate tile's geometry";
    }
    expect_tensor_maps_within_limits();

    // The records went to the current device's database, which is the one
    // export_tuning writes out.
    runtime::testing::TempDir dir;
    const std::string file = (dir.path() / "tuning.json").string();
    auto exported = rt.export_tuning(file);
    ASSERT_TRUE(exported) << exported.error().message;
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_NE(text.str().find(device_name), std::string::npos) << "exported another device's database:\n"
                                                                << text.str().substr(0, 300);
  }
};

TEST_F(Tune, Sm80CandidatesAreLaunchedTimedAndChecked) { tune_on(kSm80Device, Arch::Sm80, "A100"); }

TEST_F(Tune, Sm90CandidatesRunOnTheCurrentDevice) { tune_on(kSm90Device, Arch::Sm90a, "H100"); }

}  // namespace
}  // namespace tilefuse::fakedriver
