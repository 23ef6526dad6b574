// onnxq: the command-line front end. Parses, calls the library, prints; nothing else.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli.hpp"
#include "onnxq/error.hpp"
#include "onnxq/version.hpp"

namespace {

constexpr const char* kExitCodes = R"(Exit codes:
  0  success
  1  internal error (a bug in onnxq)
  2  usage error (bad command line)
  3  input error (missing, unreadable or invalid model or data)
  4  unsupported (an op, opset or type onnxq does not handle)
  5  output error (the output could not be written)
  6  threshold failed (a size or accuracy gate))";

void setup_logging(const onnxq::cli::GlobalOptions& global) {
  auto logger = spdlog::stderr_color_st("onnxq");
  logger->set_pattern("onnxq: %^%l%$: %v");
  logger->set_level(global.quiet ? spdlog::level::err
                                 : global.verbose ? spdlog::level::debug : spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace

namespace onnxq::cli {
void add_ewq_command(CLI::App& app, const GlobalOptions& global, Action& run);
}

int main(int argc, char** argv) {
  using onnxq::ExitCode;
  CLI::App app{"onnxq: quantize ONNX models from the command line.", "onnxq"};
  app.set_version_flag("--version", std::string("onnxq ") + onnxq::kVersion);
  app.footer(kExitCodes);
  app.require_subcommand(1);
  app.fallthrough();  // global flags may follow the subcommand

  onnxq::cli::GlobalOptions global;
  app.add_flag("-v,--verbose", global.verbose, "Log more detail on stderr");
  app.add_flag("-q,--quiet", global.quiet, "Print only errors on stderr (no progress)");
  app.add_option("--threads", global.threads, "Worker threads (default: all cores)")
      ->check(CLI::PositiveNumber);

  onnxq::cli::Action run;
  onnxq::cli::add_info_command(app, global, run);
  onnxq::cli::add_preprocess_command(app, global, run);
  onnxq::cli::add_quantize_dynamic_command(app, global, run);
  onnxq::cli::add_quantize_static_command(app, global, run);
  onnxq::cli::add_calibrate_command(app, global, run);
  onnxq::cli::add_merge_calibration_command(app, global, run);
  onnxq::cli::add_run_command(app, global, run);
  onnxq::cli::add_debug_command(app, global, run);
  onnxq::cli::add_fp16_command(app, global, run);
  onnxq::cli::add_ewq_command(app, global, run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return static_cast<int>(ExitCode::kUsage);
  }
  setup_logging(global);

  try {
    run();
    return 0;
  } catch (const onnxq::Error& e) {
    spdlog::error("{}", e.what());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    spdlog::error("internal error: {}", e.what());
    return static_cast<int>(ExitCode::kInternal);
  }
}
