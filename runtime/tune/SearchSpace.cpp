// See SearchSpace.h.
#include "runtime/tune/SearchSpace.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "compiler/Target/TilePruning.h"
#include "runtime/ops/GroupedTile.h"

namespace tilefuse::tune {
namespace {

long long ceil_div(long long a, long long b) { return (a + b - 1) / b; }

Error bad_shape(const std::string& text) {
  return make_error(ErrorCode::InvalidInput,
                    fmt::format("shape '{}' is not MxNxK with three positive integers (e.g. "
                                "4096x14336x4096)",
                                text));
}

}  // namespace

long long ProblemShape::rows_per_group() const { return ops::heuristic_rows(layout, m, experts); }

long long ProblemShape::output_rows() const {
  return layout == GroupLayout::Masked ? m * experts : m;
}

std::string to_string(const ProblemShape& shape) {
  if (!shape.grouped()) return fmt::format("{}x{}x{}", shape.m, shape.n, shape.k);
  return fmt::format("{}x{}x{}/e{}/{}", shape.m, shape.n, shape.k, shape.experts, to_string(shape.layout));
}

Expected<std::vector<ProblemShape>> as_grouped(std::vector<ProblemShape> shapes, int experts,
                                                GroupLayout layout) {
  if (experts < 1)
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("a grouped problem needs at least 1 expert, not {}", experts));
  if (layout == GroupLayout::None)
    return make_error(ErrorCode::InvalidInput, "a grouped problem needs the contiguous or masked layout");
  for (ProblemShape& shape : shapes) {
    shape.experts = experts;
    shape.layout = layout;
  }
  return shapes;
}

Expected<ProblemShape> parse_shape(const std::string& text) {
  long long dims[3] = {0, 0, 0};
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (int i = 0; i < 3; ++i) {
    auto [next, ec] = std::from_chars(p, end, dims[i]);
    if (ec != std::errc() || dims[i] < 1) return bad_shape(text);
    p = next;
    if (i < 2) {
      if (p == end || (*p != 'x' && *p != 'X')) return bad_shape(text);
      ++p;
    }
  }
  if (p != end) return bad_shape(text);
  return ProblemShape{dims[0], dims[1], dims[2]};
}

Expected<std::vector<ProblemShape>> parse_shape_list(const std::string& text) {
  std::vector<ProblemShape> shapes;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    auto shape = parse_shape(text.substr(start, comma - start));
    if (!shape) return shape.take_error();
    shapes.push_back(*shape);
    start = comma + 1;
  }
  return shapes;
}

double model_score(const Candidate& candidate, const ProblemShape& shape) {
  const auto& t = candidate.tile;
  // A grouped problem pads every group's rows to the block, not their sum.
  const long long m = shape.rows_per_group();
  const double padded_m = static_cast<double>(ceil_div(m, t.block_m) * t.block_m);
  const double padded_n = static_cast<double>(ceil_div(shape.n, t.block_n) * t.block_n);
  const double useful = static_cast<double>(m) * shape.n / (padded_m * padded_n);
  // Operand bytes loaded per MMA flop fall as the block grows.
  const double intensity = static_cast<double>(t.block_m) * t.block_n / (t.block_m + t.block_n);
  return useful * intensity;
}

SearchSpace build_search_space(const compiler::TargetInfo& target, const ProblemShape& shape,
                               bool gated) {
  SearchSpace space;
  // The launch path's choice: the target's default, fitted for a gated op's
  // two accumulator sets (compiler/Target/TilePruning.h); for a grouped
  // problem the default for one group's rows (ops/GroupedTile.h).
  space.heuristic.tile = ops::heuristic_tile(target, shape.rows_per_group(), shape.n, shape.k, gated);
  // Tiles are pruned against one group's rows: 128 tokens over 8 experts is
  // a 16-row problem per expert, whatever the total.
  const compiler::TileProblem problem{shape.rows_per_group(), shape.n, shape.k, gated};
  // Split-K is modelled for plain problems only (a grouped launch's tiles
  // come from every group: it has blocks enough, or it is the decode case
  // that the small block_m serves).
  const bool split_k_pays = !shape.grouped() && shape.m * shape.n <= kSplitKMaxOutputElements;

  std::vector<Candidate> kept;
  for (const compiler::TileConfig& tile : target.tile_space()) {
    const Candidate candidate{tile, 1};
    if (candidate == space.heuristic) continue;
    if (auto why = compiler::tile_rejection(target, tile, problem)) {
      space.pruned.push_back({candidate, *why});
      continue;
    }
    kept.push_back(candidate);
    if (!split_k_pays) continue;
    for (int split : kSplitKFactors)
      if (shape.k >= static_cast<long long>(split) * tile.block_k * tile.stages)
        space.pruned.push_back({Candidate{tile, split}, kSplitKUnsupported});
  }
  std::stable_sort(kept.begin(), kept.end(), [&](const Candidate& a, const Candidate& b) {
    const double sa = model_score(a, shape), sb = model_score(b, shape);
    if (sa != sb) return sa > sb;
    return to_string(a) < to_string(b);
  });
  space.candidates.push_back(space.heuristic);
  space.candidates.insert(space.candidates.end(), kept.begin(), kept.end());
  return space;
}

}  // namespace tilefuse::tune
