// See CpAsyncQueue.h.
#include "emulator/CpAsyncQueue.h"

namespace emu {

void CpAsyncQueue::clear() {
  open_.clear();
  committed_.clear();
}

void CpAsyncQueue::commit() {
  committed_.push_back(std::move(open_));
  open_.clear();
}

std::vector<AsyncCopy> CpAsyncQueue::complete_all_but(int pending) {
  std::vector<AsyncCopy> done;
  while (static_cast<int>(committed_.size()) > pending) {
    for (const AsyncCopy& copy : committed_.front()) done.push_back(copy);
    committed_.pop_front();
  }
  return done;
}

std::size_t CpAsyncQueue::outstanding() const {
  std::size_t count = open_.size();
  for (const auto& group : committed_) count += group.size();
  return count;
}

}  // namespace emu
