// Runtime::tune of grouped (mixture-of-experts) ops through the real
// CUDA-event timer (GpuTimer) on the fake driver: the timer builds a grouped
// problem (per-expert weights, balanced offsets or full masked counts on the
// device), launches every candidate with the grouped geometry, and checks its
// output against the float64 host reference. The fake runs no kernels, so a
// launch hook computes the grouped GEMM on the host from the parameter bytes
// (TfGroupedParams is the last block: the offsets / counts it points to are
// the timer's). A timer that uploaded wrong offsets, or weights laid out
// differently from what the reference reads, fails every candidate.
#include <cstring>

#include "FakeDriverTest.h"
#include "runtime/tune/KernelSignature.h"
#include "runtime/tune/TuningDbFile.h"
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

/// D = relu(alpha · A·B[e]) for a grouped bf16 op with row-major B [E, K, N]
/// (templates/tilefuse/gemm_params.cuh: 7 pointers, 13 long longs, alpha at
/// 160; TfGroupedParams {rows, groups, bias stride} ends the block).
/// `layout` (user data) says how to read `rows`: E+1 offsets or E counts.
void run_grouped_relu(const TfFakeLaunch* launch, void* layout) {
  const unsigned char* p = launch->params + launch->param_offset[0];
  auto word = [&](std::size_t offset) {
    long long v;
    std::memcpy(&v, p + offset, 8);
    return v;
  };
  auto pointer = [&](std::size_t offset) { return reinterpret_cast<void*>(word(offset)); };
  float alpha;
  std::memcpy(&alpha, p + 160, 4);
  const auto* a = static_cast<const unsigned short*>(pointer(0));
  const auto* b = static_cast<const unsigned short*>(pointer(8));
  auto* d = static_cast<unsigned short*>(pointer(24));
  const long long m = word(56), n = word(64), k = word(72), lda = word(80), ldb = word(88), ldd = word(104),
                  stride_a = word(120), stride_b = word(128), stride_d = word(144);
  const std::size_t grouped = launch->param_size[0] - 24;
  const auto* rows = static_cast<const int*>(pointer(grouped));
  const long long groups = word(grouped + 8);
  const bool masked = *static_cast<const GroupLayout*>(layout) == GroupLayout::Masked;
  for (long long e = 0; e < groups; ++e) {
    // Contiguous: rows [offsets[e], offsets[e+1]) of A and D; masked: the
    // first counts[e] rows of expert e's [M_max, ...] slices.
    const long long first = masked ? 0 : rows[e], end = masked ? std::min<long long>(rows[e], m) : rows[e + 1];
    const unsigned short* a_e = a + (masked ? e * stride_a : 0);
    unsigned short* d_e = d + (masked ? e * stride_d : 0);
    const unsigned short* b_e = b + e * stride_b;
    for (long long i = first; i < end; ++i)
      for (long long j = 0; j < n; ++j) {
        float sum = 0;
        for (long long kk = 0; kk < k; ++kk) sum += bf16_to_float(a_e[i * lda + kk]) * bf16_to_float(b_e[kk * ldb + j]);
        d_e[i * ldd + j] = float_to_bf16(std::max(0.0f, alpha * sum));
      }
  }
}

class GroupedTune : public FakeDriverTest {
 protected:
  void TearDown() override {
    fake().tf_fake_set_launch_hook(nullptr, nullptr);
    fake().tf_fake_set_kernel_time_ms(0.01f);
  }

  /// Tunes a grouped relu of `experts` experts for `shape` on the sm_80
  /// device; every launch must have the grouped grid of a candidate tile.
  void tune_grouped(GroupLayout layout, const Shape& shape, int experts) {
    fake().tf_fake_set_launch_hook(run_grouped_relu, &layout);
    fake().tf_fake_set_kernel_time_ms(0.25f);
    use_device(kSm80Device);
    Runtime rt(RuntimeOptions{.cache_dir = std::string(kKernelCacheDir)});
    auto op = rt.matmul({.activation = "relu", .dtype = DType::BF16, .grouped = layout});
    ASSERT_TRUE(op) << op.error().message;
    const Shape shapes[] = {shape};
    TuneOptions options{.budget_s = 1e-6, .retime = true};
    options.experts = experts;
    auto summaries = rt.tune(*op, shapes, options);
    ASSERT_TRUE(summaries) << summaries.error().message;
    const TuneSummary& s = (*summaries)[0];
    EXPECT_GE(s.timed, 1u) << "nothing was timed through the driver's events";
    EXPECT_EQ(s.failed, 0u) << "a candidate failed: its output disagreed with the grouped host reference";
    ASSERT_TRUE(s.ms.has_value());
    EXPECT_NEAR(*s.ms, 0.25, 1e-6);
    auto all = launches();
    ASSERT_GE(all.size(), 2u);
    const long long rows_per_group = layout == GroupLayout::Masked ? shape.m : ceil_div(shape.m, experts);
    for (const TfFakeLaunch* l : all) {
      expect_launch_invariants(*l);
      bool grouped_grid = false;
      for (int block_m : {64, 128, 256})
        for (int block_n : {64, 128, 256}) {
          const long long tile_rows = layout == GroupLayout::Masked
                                          ? experts * ceil_div(shape.m, block_m)
                                          : (shape.m + experts * (block_m - 1)) / block_m;
          grouped_grid |= l->grid[0] == static_cast<unsigned>(tile_rows * ceil_div(shape.n, block_n));
        }
      EXPECT_TRUE(grouped_grid) << "grid " << l->grid[0] << " is no grouped grid of " << experts << " experts";
    }
    EXPECT_LE(s.tile.block_m, rows_per_group <= 64 ? 64 : 256);
  }
};

TEST_F(GroupedTune, ContiguousCandidatesAreLaunchedWithBalancedOffsetsAndChecked) {
  tune_grouped(GroupLayout::Contiguous, Shape{250, 64, 64}, 4);  // groups of 62 and 63 rows
}

TEST_F(GroupedTune, MaskedCandidatesAreLaunchedWithFullCountsAndChecked) {
  tune_grouped(GroupLayout::Masked, Shape{40, 64, 64}, 3);
}

// A launch of a grouped op asks the tuning records with its experts and
// layout: a shipped record for (4 experts, contiguous, T bucket 256) decides
// its tile (128-row blocks, which the heuristic never takes for 63 rows per
// expert), a record of the plain bucket of the same M, N, K does not.
TEST_F(GroupedTune, AGroupedLaunchTakesTheRecordOfItsExpertsAndLayout) {
  use_device(kSm80Device);
  const long long t = 250, n = 64, k = 64;
  const int experts = 4;
  compiler::KernelSpec spec;
  spec.expression = "relu";
  spec.grouped = GroupLayout::Contiguous;
  spec.arch = Arch::Sm80;
  auto record = [&](tune::ShapeBucket bucket, const TileConfig& tile) {
    tune::TuningRecord r;
    r.signature = tune::kernel_signature(spec);
    r.bucket = bucket;
    r.config.tile = tile;
    r.time_ms = 0.1;
    r.timer = "cuda-events";
    r.measured_at = "2026-12-06T00:00:00.000Z";
    return r;
  };
  const TileConfig tall{128, 64, 32, 64, 32, 3, 4, 8}, wide{64, 128, 32, 32, 64, 3, 4, 8};
  const std::vector<tune::TuningRecord> records = {
      record(tune::bucket_for({t, n, k, experts, GroupLayout::Contiguous}), tall),
      record(tune::bucket_for({t, n, k}), wide)};
  runtime::testing::TempDir dir;
  const tune::DeviceIdentity gpu{"NVIDIA A100-SXM4-80GB", 108, 8, 0, 13000, "0.1.0"};
  const auto db = tune::tuning_db_path(dir.path(), gpu);
  ASSERT_TRUE(tune::update_tuning_db(db, gpu, records));
  const auto shipped = dir.path() / "shipped.json";
  ASSERT_TRUE(tune::export_tuning_db(db, gpu, shipped));

  Runtime rt(RuntimeOptions{.cache_dir = std::string(kKernelCacheDir), .tuning_file = shipped.string()});
  auto op = rt.matmul({.activation = "relu", .dtype = DType::BF16, .grouped = GroupLayout::Contiguous});
  ASSERT_TRUE(op) << op.error().message;
  DeviceMemory a(t * k * 2), b(experts * k * n * 2), d(t * n * 2), offsets((experts + 1) * 4);
  MatmulArgs args{.a = a.get(), .b = b.get(), .d = d.get(), .shape = {t, n, k}};
  args.groups = experts;
  args.group_offsets = static_cast<const int*>(offsets.get());
  fake().tf_fake_clear_log();
  auto launched = (*op)(nullptr, args);
  ASSERT_TRUE(launched) << launched.error().message;
  auto all = launches();
  ASSERT_EQ(all.size(), 1u);
  // 128-row blocks: (T + E·127) / 128 tile rows of one 64-wide column.
  EXPECT_EQ(all[0]->grid[0], static_cast<unsigned>((t + experts * 127) / 128));
  EXPECT_EQ(all[0]->block[0], 4u * 32u);

  // Without the records the heuristic's 64-row blocks (63 rows per expert).
  auto untuned = heuristic_runtime().matmul({.activation = "relu", .dtype = DType::BF16,
                                             .grouped = GroupLayout::Contiguous});
  ASSERT_TRUE(untuned);
  fake().tf_fake_clear_log();
  ASSERT_TRUE((*untuned)(nullptr, args));
  ASSERT_EQ(launches().size(), 1u);
  EXPECT_EQ(launches()[0]->grid[0], static_cast<unsigned>((t + experts * 63) / 64));
}

}  // namespace
}  // namespace tilefuse::fakedriver
