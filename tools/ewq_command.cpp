#include <spdlog/spdlog.h>

#include <iostream>

#include "cli.hpp"
#include "onnxq/ewq.hpp"
#include "onnxq/quant_report.hpp"

namespace onnxq::cli {

void add_ewq_command(CLI::App& app, const GlobalOptions& global, Action& run) {
  struct Options {
    std::string input, output, report;
    std::string method = "ewq", granularity = "tensor", storage = "gather", select = "fixed";
    EwqOptions lib;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("ewq", "Replace weights by codebooks of N values (EWQ, FastEWQ, Lloyd-Max)");
  cmd->add_option("MODEL", o->input, "The float .onnx model")->required();
  cmd->add_option("-o,--output", o->output, "Where to write the model")->required();
  cmd->add_option("--method", o->method, "ewq (equal-count bins, default) or fastewq (equal-width bins)")
      ->check(CLI::IsMember({"ewq", "fastewq"}));
  cmd->add_option("--bins", o->lib.bins, "Codebook size, 2 to 256 (16 or fewer: 4-bit indices; default 256)")
      ->check(CLI::Range(2, 256));
  cmd->add_option("--refine", o->lib.refine, "Lloyd-Max iterations after the bins (default 0)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--granularity", o->granularity, "tensor (default) or channel (one codebook per output channel)")
      ->check(CLI::IsMember({"tensor", "channel"}));
  cmd->add_option("--storage", o->storage,
                  "gather (indices + codebook + Gather, default) or float (codebook values written as float)")
      ->check(CLI::IsMember({"gather", "float"}));
  cmd->add_option("--op-types", o->lib.op_types, "Only these op types (default: Conv, ConvTranspose, MatMul, Gemm, Gather)")
      ->delimiter(',');
  cmd->add_option("--min-elements", o->lib.min_elements, "Smaller weights stay float (default 1024)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--nodes-include", o->lib.nodes_include, "Only nodes with these names or glob patterns")
      ->delimiter(',');
  cmd->add_option("--nodes-exclude", o->lib.nodes_exclude, "Leave nodes with these names or glob patterns in float")
      ->delimiter(',');
  cmd->add_option("--select", o->select,
                  "fixed (every weight --bins, default) or entropy (low entropy --low-bins, above mean + k*std float)")
      ->check(CLI::IsMember({"fixed", "entropy"}));
  cmd->add_option("--low-bins", o->lib.low_bins, "--select entropy: bins for low-entropy weights (default 16)")
      ->check(CLI::Range(2, 256));
  cmd->add_option("--entropy-k", o->lib.entropy_k, "--select entropy: k of mean + k*std (default 1.0)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--report", o->report, "Write a JSON report: per weight its codebook, SQNR and bytes");
  cmd->callback([o, &global, &run] {
    run = [o, &global] {
      o->lib.threads = global.threads;
      o->lib.method = o->method == "fastewq" ? CodebookMethod::kFastEwq : CodebookMethod::kEwq;
      o->lib.granularity = o->granularity == "channel" ? CodebookGranularity::kChannel : CodebookGranularity::kTensor;
      o->lib.storage = o->storage == "float" ? CodebookStorage::kFloat : CodebookStorage::kGather;
      o->lib.select = o->select == "entropy" ? BinSelection::kEntropy : BinSelection::kFixed;
      const EwqReport report = quantize_ewq_file(o->input, o->output, o->lib);
      for (const auto& s : report.skipped) spdlog::debug("left in float: {} ({}): {}", s.node, s.op_type, s.reason);
      if (!o->report.empty()) write_json_file(o->report, ewq_report_to_json(report));
      if (!global.quiet) std::cout << ewq_report_summary(report) << std::flush;
    };
  });
}

}  // namespace onnxq::cli
