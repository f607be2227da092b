// Compiling the tuner's candidates: emit each candidate's fused GEMM source
// (the spec with the candidate's tile forced) and compile them all at once
// through KernelCache::compile_many, so that the kernels the timer launches
// afterwards are cache hits.
#pragma once

#include <span>
#include <vector>

#include "compiler/Pipeline.h"
#include "runtime/KernelCache.h"
#include "runtime/tune/Candidate.h"

namespace tilefuse::tune {

class CandidateCompiler {
 public:
  virtual ~CandidateCompiler() = default;
  /// One result per candidate, in order; an error is that candidate's
  /// failure (it scores +inf), never the whole batch's.
  virtual std::vector<Expected<void>> compile(const compiler::KernelSpec& spec,
                                              std::span<const Candidate> candidates) = 0;
  /// How many compiles run at once (the tuner sizes its batches from it).
  virtual unsigned parallelism() const = 0;
};

/// The real one: compiler pipeline + NVRTC through `cache`.
class CacheCandidateCompiler final : public CandidateCompiler {
 public:
  /// `threads`: the size of the cache's compile_many pool (KernelCacheOptions::
  /// compile_threads; 0 = one per hardware thread), used to size batches.
  explicit CacheCandidateCompiler(runtime::KernelCache& cache, unsigned threads = 0);
  std::vector<Expected<void>> compile(const compiler::KernelSpec& spec,
                                      std::span<const Candidate> candidates) override;
  unsigned parallelism() const override { return threads_; }

 private:
  runtime::KernelCache& cache_;
  unsigned threads_;
};

/// `spec` with the candidate's tile forced (what is compiled and launched).
compiler::KernelSpec spec_for(const compiler::KernelSpec& spec, const Candidate& candidate);

/// True when the activation takes (gate, up): a dual GEMM, which needs two B
/// tiles and two accumulators (the space is pruned accordingly).
Expected<bool> is_gated(const compiler::KernelSpec& spec);

}  // namespace tilefuse::tune
