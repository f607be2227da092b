// The tuner's search space: pruning before compiling, split-K modelling,
// the heuristic first, and a deterministic order.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "compiler/Target/TilePruning.h"
#include "runtime/tune/SearchSpace.h"

namespace tilefuse::tune {
namespace {

using compiler::Arch;
using compiler::make_target;

bool contains(const std::vector<Candidate>& list, const Candidate& c) {
  return std::find(list.begin(), list.end(), c) != list.end();
}

TEST(SearchSpace, HeuristicComesFirstAndOnlyOnce) {
  auto target = make_target(Arch::Sm80);
  const ProblemShape shape{4096, 4096, 4096};
  SearchSpace space = build_search_space(*target, shape, false);
  ASSERT_FALSE(space.candidates.empty());
  EXPECT_EQ(space.candidates.front().tile, target->default_tile(4096, 4096, 4096));
  EXPECT_EQ(std::count(space.candidates.begin(), space.candidates.end(), space.heuristic), 1);
}

TEST(SearchSpace, EveryEnumeratedTileIsKeptOrPrunedWithAReason) {
  auto target = make_target(Arch::Sm86);
  SearchSpace space = build_search_space(*target, {4096, 4096, 4096}, false);
  std::size_t unsplit_pruned = 0;
  for (const auto& p : space.pruned) {
    EXPECT_FALSE(p.reason.empty()) << to_string(p.candidate);
    if (p.candidate.split_k == 1) ++unsplit_pruned;
  }
  const auto all = target->tile_space();
  const bool heuristic_enumerated =
      std::find(all.begin(), all.end(), space.heuristic.tile) != all.end();
  EXPECT_EQ(space.candidates.size() + unsplit_pruned, all.size() + (heuristic_enumerated ? 0 : 1));
}

TEST(SearchSpace, SharedMemoryPrunesOnTheSmallerPart) {
  // sm_86 allows 99 KiB: 256x128x64 with 4 stages needs 384 KiB.
  auto target = make_target(Arch::Sm86);
  SearchSpace space = build_search_space(*target, {8192, 8192, 8192}, false);
  for (const Candidate& c : space.candidates) {
    if (c == space.heuristic) continue;
    EXPECT_LE(compiler::tile_shared_bytes(c.tile, false), 99 * 1024) << to_string(c);
  }
  // sm_90a's wgmma tiles are sized by their own rule (TMA ring + staging).
  const auto sm90_target = make_target(Arch::Sm90a);
  const auto sm90 = build_search_space(*sm90_target, {8192, 8192, 8192}, false);
  EXPECT_GT(sm90.candidates.size(), 8u);
  for (const Candidate& c : sm90.candidates)
    EXPECT_LE(compiler::tile_shared_bytes(sm90_target->mainloop(), c.tile, false), 227 * 1024) << to_string(c);
}

TEST(SearchSpace, GatedKernelsPruneLargeWarpTilesForRegisters) {
  for (Arch arch : {Arch::Sm80, Arch::Sm90a}) {
    SCOPED_TRACE(compiler::to_string(arch));
    auto target = make_target(arch);
    const compiler::Mainloop mainloop = target->mainloop();
    SearchSpace plain = build_search_space(*target, {4096, 4096, 4096}, false);
    SearchSpace gated = build_search_space(*target, {4096, 4096, 4096}, true);
    // 128 accumulators per thread: fine alone, twice that when gated.
    const compiler::TileConfig big = mainloop == compiler::Mainloop::WgmmaWarpSpecialized
                                         ? compiler::TileConfig{128, 128, 64, 128, 128, 3, 4, 8}
                                         : compiler::TileConfig{128, 128, 32, 64, 64, 4, 4, 8};
    EXPECT_TRUE(contains(plain.candidates, Candidate{big, 1}) || plain.heuristic.tile == big);
    for (const Candidate& c : gated.candidates) {
      if (c == gated.heuristic) continue;
      EXPECT_LE(compiler::tile_accumulators_per_thread(mainloop, c.tile, true), compiler::kMaxAccumulatorsPerThread)
          << to_string(c);
      EXPECT_LE(compiler::tile_shared_bytes(mainloop, c.tile, true), target->max_shared_memory_per_block());
    }
    const auto it = std::find_if(gated.pruned.begin(), gated.pruned.end(),
                                 [&](const PrunedCandidate& p) { return p.candidate.tile == big; });
    ASSERT_NE(it, gated.pruned.end());
    EXPECT_NE(it->reason.find("accumulators"), std::string::npos) << it->reason;
  }
}

TEST(SearchSpace, GatedSm80KeepsTheOldWarpTileRule) {
  auto target = make_target(Arch::Sm80);
  SearchSpace gated = build_search_space(*target, {4096, 4096, 4096}, true);
  const auto it = std::find_if(gated.pruned.begin(), gated.pruned.end(),
                               [](const PrunedCandidate& p) { return p.candidate.tile.warp_m == 64 && p.candidate.tile.warp_n == 64; });
  ASSERT_NE(it, gated.pruned.end());
  EXPECT_NE(it->reason.find("accumulators"), std::string::npos) << it->reason;
}

TEST(SearchSpace, ProblemSizePrunesBlocksLargerThanTheProblem) {
  auto target = make_target(Arch::Sm90a);
  SearchSpace n64 = build_search_space(*target, {4096, 64, 4096}, false);
  for (const Candidate& c : n64.candidates) EXPECT_EQ(c.tile.block_n, 64) << to_string(c);
  SearchSpace m16 = build_search_space(*target, {16, 4096, 4096}, false);
  for (const Candidate& c : m16.candidates) EXPECT_EQ(c.tile.block_m, 64) << to_string(c);
  SearchSpace m100 = build_search_space(*target, {100, 4096, 4096}, false);
  std::set<int> block_m;
  for (const Candidate& c : m100.candidates) block_m.insert(c.tile.block_m);
  EXPECT_EQ(block_m, (std::set<int>{64, 128}));
  const auto reason = std::find_if(n64.pruned.begin(), n64.pruned.end(), [](const PrunedCandidate& p) {
    return p.candidate.tile.block_n == 256 && p.reason.find("block_n") != std::string::npos;
  });
  EXPECT_NE(reason, n64.pruned.end());
}

TEST(SearchSpace, SplitKIsModelledOnlyForSmallOutputsAndMarkedUnsupported) {
  auto target = make_target(Arch::Sm80);
  SearchSpace small = build_search_space(*target, {64, 1024, 8192}, false);
  std::size_t split = 0;
  for (const auto& p : small.pruned)
    if (p.candidate.split_k > 1) {
      ++split;
      EXPECT_EQ(p.reason, kSplitKUnsupported);
    }
  EXPECT_GT(split, 0u);
  for (const Candidate& c : small.candidates) EXPECT_EQ(c.split_k, 1);
  SearchSpace large = build_search_space(*target, {4096, 4096, 8192}, false);
  for (const auto& p : large.pruned) EXPECT_EQ(p.candidate.split_k, 1);
}

TEST(SearchSpace, OrderIsByModelScoreAndDeterministic) {
  auto target = make_target(Arch::Sm90a);
  const ProblemShape shape{1000, 3000, 4096};
  SearchSpace a = build_search_space(*target, shape, false);
  SearchSpace b = build_search_space(*target, shape, false);
  EXPECT_EQ(a.candidates, b.candidates);
  for (std::size_t i = 2; i < a.candidates.size(); ++i)
    EXPECT_GE(model_score(a.candidates[i - 1], shape), model_score(a.candidates[i], shape));
  // M = 1100 pads to 1152 rows with 128-row blocks (95 % useful) but to 1280
  // with 256-row ones (86 %): the smaller block gains against M = 4096.
  const Candidate m128{{128, 128, 64, 64, 64, 3, 4, 8}, 1};
  const Candidate m256{{256, 128, 64, 64, 64, 3, 4, 8}, 1};
  EXPECT_GT(model_score(m128, {1100, 4096, 4096}) / model_score(m256, {1100, 4096, 4096}),
            model_score(m128, {4096, 4096, 4096}) / model_score(m256, {4096, 4096, 4096}));
}

TEST(SearchSpace, ParsesShapeLists) {
  auto shapes = parse_shape_list("128x14336x4096,4096x4096x4096");
  ASSERT_TRUE(shapes) << shapes.error().message;
  ASSERT_EQ(shapes->size(), 2u);
  EXPECT_EQ((*shapes)[0], (ProblemShape{128, 14336, 4096}));
  for (const char* bad : {"", "128x14336", "0x1x1", "1x1x1x1", "axbxc", "1x1x1,", "-1x2x3"}) {
    auto parsed = parse_shape_list(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code, ErrorCode::InvalidInput);
  }
}

}  // namespace
}  // namespace tilefuse::tune
