// tilefuse — command-line tool: emit, eval, check, compile, cache, tune, doctor.
//
// Exit codes: 0 ok, 2 bad input or usage (error on stderr), 1 internal error.
#include <exception>

#include <fmt/format.h>

#include "CliSupport.h"

int main(int argc, char** argv) {
  using namespace tilefuse::cli;
  CLI::App app{"tilefuse: JIT-fused GEMM + activation kernels"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("tilefuse ") + TILEFUSE_VERSION);
  int exit_code = kExitOk;
  add_emit_command(app, exit_code);
  add_eval_command(app, exit_code);
  add_check_command(app, exit_code);
  add_compile_command(app, exit_code);
  add_cache_command(app, exit_code);
  add_tune_command(app, exit_code);
  add_doctor_command(app, exit_code);
  try {
    app.parse(argc, argv);  // runs the chosen subcommand's callback
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitBadInput;  // prints help or the usage error
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: internal error: {}\n", e.what());
    return kExitInternal;
  }
  return exit_code;
}
