#include <spdlog/spdlog.h>

#include <iostream>

#include "cli.hpp"
#include "onnxq/quantize_dynamic.hpp"

namespace onnxq::cli {

void add_quantize_dynamic_command(CLI::App& app, const GlobalOptions& global, Action& run) {
  struct Options {
    std::string input, output, report;
    std::string format = "qoperator";
    std::string weight_type = "int8";
    std::string int4_format = "matmulnbits";
    DynamicQuantOptions lib;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("quantize-dynamic",
                                 "Quantize weights ahead of time; activations are quantized at run time");
  cmd->add_option("MODEL", o->input, "The float .onnx model")->required();
  cmd->add_option("-o,--output", o->output, "Where to write the quantized model")->required();
  cmd->add_option("--format", o->format, "qoperator (integer ops, default) or qdq (weight-only DequantizeLinear)")
      ->check(CLI::IsMember({"qoperator", "qdq"}));
  cmd->add_option("--weight-type", o->weight_type,
                  "int8 (symmetric, default) or uint8 (asymmetric); int4 (symmetric) or uint4 (asymmetric): "
                  "block-wise weight-only MatMul")
      ->check(CLI::IsMember({"int8", "uint8", "int4", "uint4"}));
  cmd->add_option("--block-size", o->lib.block_size,
                  "4-bit weights: rows of a column sharing one scale (default 32)")
      ->check(CLI::IsMember({16, 32, 64, 128}));
  cmd->add_option("--int4-format", o->int4_format,
                  "4-bit weights: matmulnbits (com.microsoft MatMulNBits, default) or qdq (blocked "
                  "DequantizeLinear, raises the model to opset 21)")
      ->check(CLI::IsMember({"matmulnbits", "qdq"}));
  cmd->add_option("--accuracy-level", o->lib.accuracy_level,
                  "MatMulNBits accuracy_level: 0 unset, 1 fp32, 2 fp16, 3 bf16, 4 int8 (default: not set)")
      ->check(CLI::Range(0, 4));
  cmd->add_flag("--per-channel", o->lib.per_channel, "One scale per output channel instead of per tensor");
  cmd->add_flag("--reduce-range", o->lib.reduce_range,
                "7-bit weights (int8 [-64, 64], uint8 [0, 127]) for CPUs without VNNI");
  cmd->add_option("--op-types", o->lib.op_types, "Only these op types (default: all with a rule)")->delimiter(',');
  cmd->add_option("--nodes-include", o->lib.nodes_include, "Only nodes with these names or glob patterns")
      ->delimiter(',');
  cmd->add_option("--nodes-exclude", o->lib.nodes_exclude, "Leave nodes with these names or glob patterns in float")
      ->delimiter(',');
  cmd->add_option("--report", o->report, "Write a JSON report: per-weight scale, zero point, SQNR and size");
  cmd->callback([o, &global, &run] {
    run = [o, &global] {
      o->lib.threads = global.threads;
      o->lib.format = o->format == "qdq" ? QuantFormat::kQDQ : QuantFormat::kQOperator;
      o->lib.weight_type = *dtype_from_name(o->weight_type);
      o->lib.int4_format = o->int4_format == "qdq" ? Int4Format::kQDQ : Int4Format::kMatMulNBits;
      const QuantizeReport report = quantize_dynamic_file(o->input, o->output, o->lib);
      for (const auto& s : report.skipped) spdlog::debug("left in float: {} ({}): {}", s.node, s.op_type, s.reason);
      if (!o->report.empty()) write_json_file(o->report, report_to_json(report));
      if (!global.quiet) std::cout << report_summary(report) << std::flush;
    };
  });
}

}  // namespace onnxq::cli
