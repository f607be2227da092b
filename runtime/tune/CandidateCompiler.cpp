// See CandidateCompiler.h.
#include "runtime/tune/CandidateCompiler.h"

#include "runtime/ops/FusedKernel.h"

#include <algorithm>
#include <optional>
#include <thread>

#include "runtime/ops/KernelSource.h"

namespace tilefuse::tune {

CacheCandidateCompiler::CacheCandidateCompiler(runtime::KernelCache& cache, unsigned threads)
    : cache_(cache),
      threads_(threads ? threads : std::max(1u, std::thread::hardware_concurrency())) {}

compiler::KernelSpec spec_for(const compiler::KernelSpec& spec, const Candidate& candidate) {
  compiler::KernelSpec forced = spec;
  forced.tile = candidate.tile;
  return forced;
}

Expected<bool> is_gated(const compiler::KernelSpec& spec) {
  auto epilogue = compiler::compile(spec);
  if (!epilogue) return epilogue.take_error();
  return epilogue->inputs == dsl::InputKind::Gated;
}

std::vector<Expected<void>> CacheCandidateCompiler::compile(const compiler::KernelSpec& spec,
                                                            std::span<const Candidate> candidates) {
  std::vector<Expected<void>> results(candidates.size(), Expected<void>());
  // Emission (MLIR pipeline, a few ms each) here; NVRTC (most of the time) on the pool.
  std::vector<runtime::CacheRequest> requests;
  std::vector<std::size_t> request_owner;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const compiler::KernelSpec forced = spec_for(spec, candidates[i]);
    auto epilogue = compiler::compile(forced);
    if (!epilogue) {
      results[i] = epilogue.take_error();
      continue;
    }
    // The Source every launch path compiles, so that launches hit the cache.
    requests.push_back({ops::fused_kernel_source(forced, *epilogue, ops::KernelKind::Gemm),
                        compiler::to_string(forced.precision)});
    request_owner.push_back(i);
  }
  auto compiled = cache_.compile_many(requests);
  for (std::size_t r = 0; r < compiled.size(); ++r)
    if (!compiled[r]) results[request_owner[r]] = compiled[r].take_error();
  return results;
}

}  // namespace tilefuse::tune
