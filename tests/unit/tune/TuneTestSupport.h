// Shared pieces of the tuner tests: a candidate compiler that compiles
// nothing (and fails chosen configs), a temporary directory, a sample spec.
#pragma once

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/tune/CandidateCompiler.h"

namespace tilefuse::tune::testing {

/// Counts what it is asked to compile; configs named in `failures` fail.
class FakeCompiler final : public CandidateCompiler {
 public:
  explicit FakeCompiler(unsigned parallelism = 4) : parallelism_(parallelism) {}
  std::map<std::string, std::string> failures;
  /// Called with each batch before it "compiles" (tests synchronize on it).
  std::function<void(std::size_t batch_index)> on_batch;

  std::vector<Expected<void>> compile(const compiler::KernelSpec&,
                                      std::span<const Candidate> candidates) override {
    const std::size_t index = batches_.fetch_add(1);
    if (on_batch) on_batch(index);
    std::vector<Expected<void>> results;
    for (const Candidate& c : candidates) {
      {
        std::lock_guard lock(mutex_);
        compiled_.push_back(to_string(c));
      }
      auto it = failures.find(to_string(c));
      results.push_back(it == failures.end()
                            ? Expected<void>()
                            : Expected<void>(make_error(ErrorCode::CompileFailed, it->second)));
    }
    return results;
  }
  unsigned parallelism() const override { return parallelism_; }

  std::vector<std::string> compiled() const {
    std::lock_guard lock(mutex_);
    return compiled_;
  }
  std::size_t batches() const { return batches_; }

 private:
  unsigned parallelism_;
  mutable std::mutex mutex_;
  std::vector<std::string> compiled_;
  std::atomic<std::size_t> batches_{0};
};

/// A fresh directory under the temp dir, removed with its contents.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tilefuse-tune-test-XXXXXX").string();
    if (::mkdtemp(pattern.data())) path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline compiler::KernelSpec gelu_spec() {
  compiler::KernelSpec spec;
  spec.expression = "gelu(x)";
  spec.arch = compiler::Arch::Sm80;
  return spec;
}

}  // namespace tilefuse::tune::testing
