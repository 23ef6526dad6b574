#include <spdlog/spdlog.h>

#include <iostream>

#include "calib_flags.hpp"
#include "cli.hpp"
#include "onnxq/debug.hpp"

namespace onnxq::cli {

void add_debug_command(CLI::App& app, const GlobalOptions& global, Action& run) {
  struct Options {
    std::string float_model, quant_model;
    CalibFlags data;
    int top = -1;  // -1: 20 for the table, all for --json and --csv
    bool json = false, csv = false;
    std::optional<double> min_sqnr, min_weight_sqnr;
    std::string max_size, html;
    int suggest_exclude = 0;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("debug",
                                 "Compare a quantized model with its float original: weights, activations and outputs "
                                 "(SQNR), worst first; CI gates on accuracy and size");
  cmd->add_option("FLOAT", o->float_model, "The float .onnx model")->required();
  cmd->add_option("QUANT", o->quant_model, "The quantized .onnx model")->required();
  o->data.add_data(cmd, "--data", "Samples to run both models on (without it: weights and size only)");
  cmd->add_option("--top", o->top, "Show the N worst weights and activations (default 20 in the table, all in JSON/CSV; 0: all)")
      ->check(CLI::NonNegativeNumber);
  auto* json = cmd->add_flag("--json", o->json, "Print the report as JSON");
  cmd->add_flag("--csv", o->csv, "Print the report as CSV (one row per output, weight and activation)")->excludes(json);
  cmd->add_option("--html", o->html,
                  "Also write one self-contained HTML page: SQNR per layer as bar charts in graph order, the worst "
                  "in red, and the summary");
  cmd->add_option("--fail-below-sqnr", o->min_sqnr,
                  "Exit 6 when an output's SQNR (dB, over all samples) is below DB; needs --data");
  cmd->add_option("--fail-below-weight-sqnr", o->min_weight_sqnr, "Exit 6 when a weight's SQNR (dB) is below DB");
  cmd->add_option("--max-size", o->max_size,
                  "Exit 6 when the quantized model with its external data is larger than BYTES (1234, 120MB, 4MiB) "
                  "or than a RATIO of the float model (0.3x)");
  cmd->add_option("--suggest-exclude", o->suggest_exclude,
                  "Try the N nodes adding the most error one by one in float (quantizing the float model again with "
                  "the recipe the quantized model records), keep those that raise the output SQNR by 0.1 dB or more, "
                  "and print them as a --nodes-exclude argument; needs --data")
      ->check(CLI::PositiveNumber);
  cmd->callback([o, &global, &run] {
    if (o->suggest_exclude > 0 && o->data.calib.empty()) throw CLI::ValidationError("--suggest-exclude", "needs --data");
    if (o->min_sqnr && o->data.calib.empty()) throw CLI::ValidationError("--fail-below-sqnr", "needs --data");
    run = [o, &global] {
      DebugGates gates;
      gates.min_output_sqnr_db = o->min_sqnr;
      gates.min_weight_sqnr_db = o->min_weight_sqnr;
      if (!o->max_size.empty()) gates.max_size = parse_size_limit(o->max_size);  // a typo fails before any work

      const Model float_model = Model::load(o->float_model);
      const Model quant = Model::load(o->quant_model);
      DebugOptions options;
      options.data = o->data.data();
      options.run_models = !o->data.calib.empty();
      options.threads = global.threads;
      const DebugReport report = debug_models(float_model, quant, options, terminal_progress(global, "debugging"));
      std::optional<ExcludeSuggestion> suggestion;
      if (o->suggest_exclude > 0)
        suggestion = suggest_exclude(float_model, quant, report, static_cast<size_t>(o->suggest_exclude), options,
                                     terminal_progress(global, "re-quantizing"));

      const bool machine = o->json || o->csv;
      const size_t top = o->top >= 0 ? static_cast<size_t>(o->top) : machine ? 0 : 20;
      if (o->json) {
        auto j = debug_report_json(report, top);
        if (suggestion) j["suggest_exclude"] = exclude_suggestion_json(*suggestion);
        std::cout << j.dump(2) << "\n";
      } else if (o->csv) {
        std::cout << debug_report_csv(report, top);
        if (suggestion) std::cerr << exclude_suggestion_text(*suggestion);  // not CSV
      } else {
        std::cout << debug_report_table(report, top);
        if (suggestion) std::cout << exclude_suggestion_text(*suggestion);
      }
      std::cout.flush();
      if (!o->html.empty()) save_debug_html(o->html, report, o->top > 0 ? static_cast<size_t>(o->top) : 0);
      if (machine)
        for (const auto& w : report.warnings) spdlog::warn("{}", w);

      const auto failed = failed_gates(report, gates);
      if (failed.empty()) return;
      for (size_t i = 0; i + 1 < failed.size(); ++i) spdlog::error("{}", failed[i]);
      fail(ExitCode::kThreshold, failed.back());
    };
  });
}

}  // namespace onnxq::cli
