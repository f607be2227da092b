// Shared pieces of the tilefuse command-line tool: exit codes, error
// reporting, and the options every expression-taking subcommand accepts.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "compiler/Pipeline.h"
#include "dsl/Interpreter.h"
#include "tilefuse/error.hpp"

namespace tilefuse::cli {

/// Exit codes: 0 ok, 2 bad input or usage, 1 internal error. Never a signal.
enum ExitCode : int { kExitOk = 0, kExitInternal = 1, kExitBadInput = 2 };

/// Prints `error.message` (and its detail) to stderr; returns the exit code
/// its ErrorCode maps to. A positioned diagnostic ("error: LINE:COL: ...")
/// names the expression's file when it came from --expr-file
/// ("error: FILE:LINE:COL: ...", as compilers print).
int report_error(const Error& error);

/// The name report_error puts before LINE:COL; empty (the default) for --expr.
void set_expression_source_name(std::string name);

/// Each subcommand registers its options on `root` and a callback that runs
/// after a successful parse and stores its exit code in `exit_code`.

/// --expr/--expr-file/--mode/--arch/--dtype/--out-dtype/--param/--row/--col
/// (and the FP8 options --b-dtype/--scale/--amax), shared by emit, eval,
/// check, compile and tune.
struct ExpressionOptions {
  std::string expr;
  /// --expr-file: the expression is read from this file ("-": standard
  /// input) by load_expression(). A file has no length limit (an argument
  /// does: Linux caps each at 128 KiB) and may span lines (let bindings).
  std::string expr_file;
  std::string mode = "precise";
  std::string arch = "sm_80";
  std::string dtype = "bf16";
  std::string out_dtype;  ///< defaults to dtype
  std::string b_dtype;    ///< --b-dtype: FP8 B's type when not --dtype's (e5m2)
  std::string scale = "per-tensor";  ///< --scale: FP8 scaling (per-tensor | block128)
  bool amax = false;      ///< --amax: FP8 output's max |value|
  std::vector<std::string> params;  ///< NAME=VALUE
  /// Declared row / column inputs: NAME, or NAME=V[,V...] with the values
  /// (one per evaluated point, or one for all) that eval and check use.
  std::vector<std::string> rows, cols;

  /// `expression_required`: one of --expr and --expr-file must be given
  /// (checked by load_expression, so that the error can name both).
  void add_to(CLI::App& app, bool with_target_options, bool expression_required = true);
  /// The subcommand's first step: fills `expr` from --expr-file, whose name
  /// then prefixes positioned diagnostics (see report_error). InvalidInput
  /// when the file cannot be read or no expression was given though required.
  Expected<void> load_expression();
  Expected<compiler::KernelSpec> kernel_spec() const;
  Expected<dsl::ParameterValues> parameter_values() const;
  /// The values given with --row (or --col with `columns`), by name; a
  /// declaration without values maps to an empty list.
  Expected<std::map<std::string, std::vector<float>>> operand_values(bool columns) const;

 private:
  bool expression_required_ = true;
};

/// Parses "1,2.5,-inf,nan" into floats; the error names the option.
Expected<std::vector<float>> parse_value_list(const std::string& text, const std::string& option);

void add_emit_command(CLI::App& root, int& exit_code);
void add_eval_command(CLI::App& root, int& exit_code);
void add_check_command(CLI::App& root, int& exit_code);
void add_compile_command(CLI::App& root, int& exit_code);
void add_cache_command(CLI::App& root, int& exit_code);
void add_tune_command(CLI::App& root, int& exit_code);
void add_doctor_command(CLI::App& root, int& exit_code);

}  // namespace tilefuse::cli
