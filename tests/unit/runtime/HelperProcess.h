// Runs this test binary again as a helper process: the child sees
// TILEFUSE_TEST_HELPER=<mode> and helper_main.cpp's static initializer runs
// that mode and exits before GoogleTest starts.
#pragma once

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

extern char** environ;

namespace tilefuse::runtime::testing {

/// Starts `/proc/self/exe` with the current environment plus `extra`
/// ("NAME=value" strings) and TILEFUSE_TEST_HELPER=mode; returns the pid or -1.
inline pid_t spawn_helper(const std::string& mode, std::vector<std::string> extra = {}) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  env.push_back("TILEFUSE_TEST_HELPER=" + mode);
  for (auto& e : extra) env.push_back(std::move(e));
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string self = "/proc/self/exe";
  char* argv[] = {self.data(), nullptr};
  pid_t pid = -1;
  if (::posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv, envp.data()) != 0) return -1;
  return pid;
}

/// The helper's exit status (0 = its checks passed), or -1 if it did not exit.
inline int wait_helper(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

}  // namespace tilefuse::runtime::testing
