#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "calib_flags.hpp"
#include "cli.hpp"
#include "onnxq/static_pipeline.hpp"

namespace onnxq::cli {
void add_quantize_static_command(CLI::App& app, const GlobalOptions& global, Action& run) {
  struct Options {
    std::string input, output, report, calib_table;
    std::vector<std::string> calib_table_in;
    std::string format = "qdq", activation_type = "uint8", weight_type = "int8";
    bool symmetric_weights = false;
    bool smooth_quant = false;
    float smooth_quant_alpha = 0.5f;
    bool bias_correction = false;
    CalibFlags calib;
    StaticQuantOptions lib;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("quantize-static",
                                 "Quantize weights and activations with ranges calibrated on representative data");
  cmd->add_option("MODEL", o->input, "The float .onnx model (preprocess it first)")->required();
  cmd->add_option("-o,--output", o->output, "Where to write the quantized model")->required();
  o->calib.add(cmd);
  cmd->add_option("--calib-table", o->calib_table, "Save the calibration ranges (and histograms) as JSON");
  cmd->add_option("--calib-table-in", o->calib_table_in,
                  "Use the ranges of these calibration tables (merged) instead of calibrating")
      ->delimiter(',');
  cmd->add_option("--format", o->format, "qdq (QuantizeLinear/DequantizeLinear pairs, default) or qoperator "
                                         "(QLinearConv, QLinearMatMul, ... as ONNX Runtime emits)")
      ->check(CLI::IsMember({"qdq", "qoperator"}));
  cmd->add_option("--activation-type", o->activation_type, "uint8 (default), int8, uint16 or int16")
      ->check(CLI::IsMember({"uint8", "int8", "uint16", "int16"}));
  cmd->add_option("--weight-type", o->weight_type, "int8 (symmetric, default) or uint8 (asymmetric)")
      ->check(CLI::IsMember({"int8", "uint8"}));
  cmd->add_flag("--per-channel", o->lib.per_channel, "One weight scale per output channel");
  cmd->add_flag("--reduce-range", o->lib.reduce_range, "7-bit weights, for CPUs without VNNI");
  cmd->add_flag("--symmetric-activations", o->lib.symmetric_activations, "Activation ranges symmetric around 0");
  cmd->add_flag("--symmetric-weights", o->symmetric_weights, "Symmetric weights even when unsigned");
  cmd->add_option("--op-types", o->lib.op_types, "Only these op types (default: all with a rule)")->delimiter(',');
  cmd->add_option("--nodes-include", o->lib.nodes_include, "Only nodes with these names or glob patterns")
      ->delimiter(',');
  cmd->add_option("--nodes-exclude", o->lib.nodes_exclude, "Leave nodes with these names or glob patterns in float")
      ->delimiter(',');
  cmd->add_flag("--smooth-quant", o->smooth_quant,
                "SmoothQuant for MatMuls with constant weights: move activation outliers into the weights");
  cmd->add_option("--smooth-quant-alpha", o->smooth_quant_alpha, "SmoothQuant migration strength (default 0.5)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_flag("--bias-correction", o->bias_correction,
                "Conv/Gemm: shift each bias by the mean output error its weight rounding causes on the data");
  cmd->add_option("--report", o->report, "Write a JSON report: ranges, scales, zero points, weight SQNR, sizes");
  cmd->callback([o, &global, &run, cmd] {
    if (o->calib.calib.empty() && o->calib_table_in.empty())
      throw CLI::RequiredError("--calib (or --calib-table-in)");
    run = [o, &global] {
      StaticFileOptions options;
      options.data = o->calib.data();
      options.calib = o->calib.options();
      options.quant = o->lib;
      options.quant.format = o->format == "qoperator" ? QuantFormat::kQOperator : QuantFormat::kQDQ;
      options.quant.activation_type = *dtype_from_name(o->activation_type);
      options.quant.weight_type = *dtype_from_name(o->weight_type);
      if (o->symmetric_weights) options.quant.symmetric_weights = true;
      for (const auto& t : o->calib_table_in) options.calib_tables_in.push_back(t);
      options.calib_table_out = o->calib_table;
      options.smooth_quant = o->smooth_quant;
      options.smooth_quant_alpha = o->smooth_quant_alpha;
      options.bias_correction = o->bias_correction;
      options.threads = global.threads;
      options.progress = terminal_progress(global);
      const StaticFileReport report = quantize_static_file(o->input, o->output, options);
      for (const auto& w : report.warnings) spdlog::warn("{}", w);
      if (!o->report.empty()) write_json_file(o->report, static_report_to_json(report));
      if (!global.quiet) std::cout << static_report_summary(report) << std::flush;
    };
  });
  (void)cmd;
}

}  // namespace onnxq::cli
