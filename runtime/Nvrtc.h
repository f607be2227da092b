// Stage 1 → 2 of the JIT: Source (CUDA C++ in memory) → Compiled (PTX,
// cubin, resource usage), through NVRTC with the embedded templates as
// in-memory headers. Needs no GPU and no CUDA driver.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tilefuse/error.hpp"

namespace tilefuse::runtime {

/// The target architectures tilefuse generates code for.
inline constexpr std::string_view kSupportedArchs[] = {"sm_80", "sm_86", "sm_89", "sm_90", "sm_90a"};

/// InvalidInput unless `arch` is one of kSupportedArchs.
Expected<void> check_arch(std::string_view arch);

struct CompileOptions {
  std::string arch;                 ///< one of kSupportedArchs
  std::vector<std::string> extra;   ///< further NVRTC options, e.g. "--use_fast_math"
};

/// What NVRTC compiles. `code` may #include any embedded template by its name
/// ("tilefuse/elementwise.cuh"); no include paths are searched.
struct Source {
  std::string name;                        ///< file name shown in diagnostics, e.g. "silu.cu"
  std::string code;
  std::vector<std::string> kernel_names;   ///< name expressions, e.g. "tf_elementwise" or "gemm<128>"
  CompileOptions options;
};

/// Resources ptxas reports for one kernel (from --ptxas-options=-v).
struct KernelResources {
  std::string name;        ///< mangled entry name as ptxas prints it
  int registers = 0;
  int spill_bytes = 0;     ///< spill stores + spill loads
  int shared_bytes = 0;    ///< static shared memory
  int stack_bytes = 0;
  bool operator==(const KernelResources&) const = default;
};

struct Compiled {
  std::string ptx;
  std::string cubin;
  std::string log;                         ///< full NVRTC + ptxas log
  /// Maxima over all kernels of the program (`kernels` has each one).
  int registers = 0;
  int spill_bytes = 0;
  int shared_bytes = 0;
  int stack_bytes = 0;
  std::vector<KernelResources> kernels;
  /// ptxas' "Potential Performance Loss" remarks (parse_ptxas_performance_warnings).
  std::vector<std::string> performance_warnings;
  /// Instruction counts in the PTX (see count_ptx_instructions).
  std::map<std::string, int> ptx_instructions;
  double nvrtc_ms = 0;                     ///< wall time of nvrtcCompileProgram
  /// (name expression, lowered/mangled name) for each Source::kernel_names.
  std::vector<std::pair<std::string, std::string>> lowered_names;
  std::string arch;

  /// The lowered name of `name_expression`, or `name_expression` itself
  /// when it was not registered (extern "C" kernels).
  std::string lowered_name(std::string_view name_expression) const;
};

/// NVRTC's version as "major.minor" (part of every cache key).
std::string nvrtc_version();

/// The exact option list compile() hands NVRTC for `options`, then the
/// watchdog define when watchdog_from_environment(), then
/// nvrtc_options_from_environment(); the cache key hashes this list, so a
/// kernel compiled with other options is another entry.
std::vector<std::string> nvrtc_options(const CompileOptions& options);

/// $TILEFUSE_NVRTC_OPTIONS split at white space (e.g. "--Ofast-compile=min"):
/// options appended to every compile, for comparing code generation choices
/// (bench/) without rebuilding. Unset: none.
std::vector<std::string> nvrtc_options_from_environment();

/// The define that turns every mbarrier wait of the sm_90a GEMM into a
/// bounded wait that reports the waiter and traps (templates/tilefuse/
/// watchdog_sm90.cuh); the other templates ignore it.
inline constexpr std::string_view kWatchdogDefine = "-DTILEFUSE_WATCHDOG=1";

/// True when $TILEFUSE_WATCHDOG is set, non-empty and not "0": nvrtc_options()
/// then adds kWatchdogDefine (before $TILEFUSE_NVRTC_OPTIONS), so a watchdog
/// kernel has its own cache key. For first runs on a new GPU (a hang becomes a
/// message); it adds a clock read per retried wait, so leave it off for timing.
bool watchdog_from_environment();

/// Starts NVRTC's one-time process initialization (the first compile in a
/// process pays about 100 ms extra; measured on the 2-core dev machine, an
/// empty kernel's first compile drops from ~150 to ~80 ms when prewarmed
/// 200 ms earlier) on a background thread, so that it overlaps other start-up work
/// such as CUDA context creation or the MLIR pipeline. Returns at once; only
/// the first call starts anything; compile() never waits for it. The thread
/// is joined at process exit, yet a process that exits while the prewarm
/// still runs can crash (likely: NVRTC registers exit-time destructors of its
/// own while it runs, and those run before the join). Measured 2026-11-22: calling this from
/// every Runtime's constructor made examples/01 (which exits within ~0.1 s)
/// crash at exit in 28 of 40 runs, so nothing in tilefuse calls it; call it
/// only where a compile will follow (which then outlasts the prewarm).
void prewarm_nvrtc();

/// Compiles `source` for `source.options.arch`. On failure: CompileFailed
/// with the options in the message, the source saved to a temporary file
/// whose path is in the message, and the NVRTC log in `detail`.
Expected<Compiled> compile(const Source& source);

}  // namespace tilefuse::runtime
