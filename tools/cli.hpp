#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace onnxq::cli {

// Flags every subcommand accepts, before or after the subcommand name.
struct GlobalOptions {
  bool verbose = false;
  bool quiet = false;
  int threads = 0;  // 0: all cores
};

// A subcommand registers its flags and sets `run` to the action parse() selected.
using Action = std::function<void()>;

void add_info_command(CLI::App& app, const GlobalOptions& global, Action& run);
void add_quantize_dynamic_command(CLI::App& app, const GlobalOptions& global, Action& run);
void add_fp16_command(CLI::App& app, const GlobalOptions& global, Action& run);
void add_run_command(CLI::App& app, const GlobalOptions& global, Action& run);
void add_preprocess_command(CLI::App& app, const GlobalOptions& global, Action& run);
void add_quantize_static_command(CLI::App& app, const GlobalOptions& global, Action& run);
void add_calibrate_command(CLI::App& app, const GlobalOptions& global, Action& run);
void add_merge_calibration_command(CLI::App& app, const GlobalOptions& global, Action& run);
void add_debug_command(CLI::App& app, const GlobalOptions& global, Action& run);

}  // namespace onnxq::cli
