// libFuzzer target: the tuning-database reader (runtime/tune/TuningDbFile),
// which reads files shipped from another machine (tilefuse tune --import,
// RuntimeOptions::tuning_file): untrusted input. Any crash, sanitizer report
// or uncaught exception is a bug; an Error is fine. A file that is accepted
// must name only tiles that pass the checks a user's forced tile passes
// (compiler::tile_config_violation, the one shared function), and must
// survive a round trip through its JSON form unchanged.
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "compiler/TileRules.h"
#include "runtime/tune/TuningDbFile.h"

namespace {

namespace fs = std::filesystem;
using tilefuse::tune::TuningDb;
using tilefuse::tune::TuningRecord;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "tuning_db_fuzzer: %s\n", what.c_str());
  std::abort();
}

/// One scratch file per process, removed at exit (the reader takes a path).
const fs::path& scratch_file() {
  static const fs::path path = [] {
    const fs::path dir = fs::temp_directory_path();
    return dir / ("tilefuse-tuning-db-fuzz-" + std::to_string(::getpid()) + ".json");
  }();
  static const struct Remover {
    ~Remover() {
      std::error_code ec;
      fs::remove(path, ec);
    }
  } remover;
  return path;
}

void check_record(const TuningRecord& r) {
  if (auto why = tilefuse::compiler::tile_config_violation(r.config.tile))
    fail("accepted a record whose tile breaks the tile rules: " + *why);
  if (r.config.split_k < 1) fail("accepted split_k < 1");
  if (r.time_ms && !(std::isfinite(*r.time_ms) && *r.time_ms > 0))
    fail("accepted a time that is not a positive finite number");
}

bool same_records(const TuningDb& a, const TuningDb& b) {
  if (a.records().size() != b.records().size()) return false;
  for (std::size_t i = 0; i < a.records().size(); ++i) {
    const TuningRecord& x = a.records()[i];
    const TuningRecord& y = b.records()[i];
    if (!x.same_key(y) || x.time_ms != y.time_ms || x.failure != y.failure || x.kernel != y.kernel ||
        x.timer != y.timer || x.repetitions != y.repetitions || x.measured_at != y.measured_at)
      return false;
  }
  return a.device() == b.device();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fs::path& file = scratch_file();
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  auto db = tilefuse::tune::read_tuning_db_file(file);
  if (!db) return 0;

  for (const TuningRecord& r : db->records()) {
    check_record(r);
    // The lookups a launch makes with the records.
    (void)db->ranked(r.signature, r.bucket);
    (void)db->best_for(r.signature, {r.bucket.m_max, r.bucket.n, r.bucket.k});
  }
  auto again = TuningDb::from_json(nlohmann::json::parse(db->to_json().dump()), "round trip");
  if (!again) fail("a database that was read does not read back: " + again.error().message);
  if (!same_records(*db, *again)) fail("the round trip changed the records");
  return 0;
}
