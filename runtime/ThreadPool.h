// A fixed set of worker threads running submitted jobs in FIFO order; used to
// compile many different kernels at once (NVRTC is thread-safe).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace tilefuse::runtime {

class ThreadPool {
 public:
  /// `threads` == 0 means one per hardware thread (at least one).
  explicit ThreadPool(unsigned threads = 0);
  ~ThreadPool();  ///< finishes the queued jobs, then joins
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  unsigned size() const { return static_cast<unsigned>(workers_.size()); }

  /// Runs `job` on a worker; the future carries its result.
  template <typename F>
  auto submit(F job) -> std::future<std::invoke_result_t<F>> {
    using R = std::invoke_result_t<F>;
    auto task = std::make_shared<std::packaged_task<R()>>(std::move(job));
    std::future<R> result = task->get_future();
    enqueue([task] { (*task)(); });
    return result;
  }

 private:
  void enqueue(std::function<void()> job);
  void work();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace tilefuse::runtime
