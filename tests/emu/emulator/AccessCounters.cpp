// See AccessCounters.h.
#include "emulator/AccessCounters.h"

#include <algorithm>
#include <set>
#include <string_view>

#include <nlohmann/json.hpp>

namespace emu {

int phase_wavefronts(std::span<const ByteRange> phase) {
  std::set<std::uint64_t> words_of_bank[kBanks];
  for (const ByteRange& access : phase) {
    if (access.bytes == 0) continue;
    const std::uint64_t first = access.address / kBankBytes, last = (access.address + access.bytes - 1) / kBankBytes;
    for (std::uint64_t word = first; word <= last; ++word) words_of_bank[word % kBanks].insert(word);
  }
  std::size_t passes = 0;
  for (const auto& words : words_of_bank) passes = std::max(passes, words.size());
  return static_cast<int>(passes);
}

SharedRequestCost shared_request_cost(std::span<const ByteRange> lanes, int lanes_per_phase) {
  SharedRequestCost cost;
  for (std::size_t first = 0; first < lanes.size(); first += static_cast<std::size_t>(lanes_per_phase)) {
    const std::size_t count = std::min<std::size_t>(static_cast<std::size_t>(lanes_per_phase), lanes.size() - first);
    const int passes = phase_wavefronts(lanes.subspan(first, count));
    cost.wavefronts += passes;
    cost.ideal_wavefronts += passes > 0 ? 1 : 0;
  }
  return cost;
}

int lanes_per_phase_for_width(unsigned bytes_per_lane) {
  if (bytes_per_lane >= 16) return 8;
  if (bytes_per_lane >= 8) return 16;
  return 32;
}

GlobalRequestCost global_request_cost(std::span<const ByteRange> lanes) {
  std::vector<ByteRange> ranges;
  for (const ByteRange& r : lanes)
    if (r.bytes > 0) ranges.push_back(r);
  std::sort(ranges.begin(), ranges.end(), [](const ByteRange& a, const ByteRange& b) { return a.address < b.address; });
  GlobalRequestCost cost;
  std::uint64_t covered_to = 0;      // bytes below this address are counted
  std::uint64_t last_sector = ~0ull;  // the highest sector counted
  for (const ByteRange& r : ranges) {
    const std::uint64_t end = r.address + r.bytes;
    const std::uint64_t from = std::max(r.address, covered_to);
    if (end > from) cost.bytes += end - from;
    covered_to = std::max(covered_to, end);
    // Sorted by start: a range's sectors are new except possibly those it
    // shares with the highest sector counted so far.
    std::uint64_t first = r.address / kSectorBytes;
    const std::uint64_t last = (end - 1) / kSectorBytes;
    if (last_sector != ~0ull && first <= last_sector) first = last_sector + 1;
    if (last >= first) {
      cost.sectors += static_cast<int>(last - first + 1);
      last_sector = last;
    }
  }
  return cost;
}

double AccessTotals::sector_efficiency() const {
  return sectors == 0 ? 1.0 : static_cast<double>(bytes) / static_cast<double>(sectors * kSectorBytes);
}

void AccessCounters::add_shared(const std::string& instruction, const std::string& site, const SharedRequestCost& cost,
                                bool partial) {
  AccessTotals& t = totals_[{MemorySpace::Shared, instruction, site}];
  ++t.requests;
  t.partial_requests += partial ? 1 : 0;
  t.wavefronts += static_cast<std::uint64_t>(cost.wavefronts);
  t.ideal_wavefronts += static_cast<std::uint64_t>(cost.ideal_wavefronts);
  t.max_request_wavefronts = std::max<std::uint64_t>(t.max_request_wavefronts, cost.wavefronts);
}

void AccessCounters::add_global(const std::string& instruction, const std::string& site, const GlobalRequestCost& cost,
                                bool partial) {
  AccessTotals& t = totals_[{MemorySpace::Global, instruction, site}];
  ++t.requests;
  t.partial_requests += partial ? 1 : 0;
  t.sectors += static_cast<std::uint64_t>(cost.sectors);
  t.bytes += cost.bytes;
}

AccessTotals AccessCounters::instruction_totals(MemorySpace space, const std::string& instruction) const {
  AccessTotals sum;
  for (const auto& [key, t] : totals_) {
    if (key.space != space || key.instruction != instruction) continue;
    sum.requests += t.requests;
    sum.partial_requests += t.partial_requests;
    sum.wavefronts += t.wavefronts;
    sum.ideal_wavefronts += t.ideal_wavefronts;
    sum.max_request_wavefronts = std::max(sum.max_request_wavefronts, t.max_request_wavefronts);
    sum.sectors += t.sectors;
    sum.bytes += t.bytes;
  }
  return sum;
}

nlohmann::json AccessCounters::to_json() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& [key, t] : totals_) {
    nlohmann::json row = {{"instruction", key.instruction},
                          {"site", key.site},
                          {"space", key.space == MemorySpace::Shared ? "shared" : "global"},
                          {"requests", t.requests},
                          {"partial_requests", t.partial_requests}};
    const double requests = t.requests == 0 ? 1.0 : static_cast<double>(t.requests);
    if (key.space == MemorySpace::Shared) {
      row["wavefronts"] = t.wavefronts;
      row["ideal_wavefronts"] = t.ideal_wavefronts;
      row["conflicts"] = t.conflicts();
      row["wavefronts_per_request"] = static_cast<double>(t.wavefronts) / requests;
      row["max_request_wavefronts"] = t.max_request_wavefronts;
    } else {
      row["sectors"] = t.sectors;
      row["bytes"] = t.bytes;
      row["sectors_per_request"] = static_cast<double>(t.sectors) / requests;
      row["efficiency"] = t.sector_efficiency();
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

void WarpRequestGrouper::reset(int threads) {
  lanes_.assign(static_cast<std::size_t>(threads), LaneState{});
  requests_.clear();
}

void WarpRequestGrouper::on_sync(int thread) {
  LaneState& lane = lanes_[static_cast<std::size_t>(thread)];
  ++lane.epoch;
  lane.executions.clear();
}

void WarpRequestGrouper::record(int thread, MemorySpace space, const char* instruction,
                                const std::source_location& where, ByteRange range) {
  LaneState& lane = lanes_[static_cast<std::size_t>(thread)];
  const Site site{where.file_name(), where.line(), where.column()};
  const long occurrence = lane.executions[{site, space}]++;
  Request& request = requests_[{thread / 32, lane.epoch, site, space, occurrence}];
  request.instruction = instruction;
  request.lanes[thread % 32] = range;
  ++request.lanes_seen;
}

void WarpRequestGrouper::flush(AccessCounters& counters) {
  for (const auto& [key, request] : requests_) {
    const std::string site = site_label(key.site.file, key.site.line);
    const bool partial = request.lanes_seen < 32;
    if (key.space == MemorySpace::Shared) {
      unsigned width = 0;
      for (const ByteRange& lane : request.lanes) width = std::max(width, lane.bytes);
      counters.add_shared(request.instruction, site,
                          shared_request_cost(request.lanes, lanes_per_phase_for_width(width)), partial);
    } else {
      counters.add_global(request.instruction, site, global_request_cost(request.lanes), partial);
    }
  }
  requests_.clear();
}

std::string site_label(const char* file, unsigned line) {
  std::string_view path(file);
  if (const auto slash = path.rfind('/'); slash != std::string_view::npos) path.remove_prefix(slash + 1);
  return std::string(path) + ":" + std::to_string(line);
}

}  // namespace emu
