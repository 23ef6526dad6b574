#include <spdlog/spdlog.h>

#include <iostream>

#include "cli.hpp"
#include "onnxq/fp16.hpp"
#include "onnxq/quant_report.hpp"

namespace onnxq::cli {

void add_fp16_command(CLI::App& app, const GlobalOptions& global, Action& run) {
  struct Options {
    std::string input, output, report;
    std::vector<std::string> op_block_list;
    Fp16Options lib;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("fp16", "Convert float32 weights and computation to float16 or bfloat16");
  cmd->add_option("MODEL", o->input, "The float .onnx model (or one quantized by onnxq)")->required();
  cmd->add_option("-o,--output", o->output, "Where to write the converted model")->required();
  cmd->add_flag("--bfloat16", o->lib.bfloat16, "Convert to bfloat16 instead of float16");
  cmd->add_flag("--keep-io-types", o->lib.keep_io_types, "Graph inputs and outputs stay float32 (Casts inside)");
  auto* block = cmd->add_option("--op-block-list", o->op_block_list,
                                "Ops left in float32 (default: the ops ONNX Runtime's CPU provider has no float16 "
                                "kernel for; 'none' blocks nothing, for GPU providers)")
                    ->delimiter(',');
  cmd->add_option("--node-block-list", o->lib.node_block_list, "Nodes (by name) left in float32")->delimiter(',');
  cmd->add_option("--min-positive-val", o->lib.min_positive_val,
                  "Non-zero magnitudes below this become it (default 5.96e-8, float16's smallest)");
  cmd->add_option("--max-finite-val", o->lib.max_finite_val, "Finite magnitudes above this become it (default 65504, float16's largest)");
  cmd->add_option("--report", o->report, "Write a JSON report: tensors converted, values clamped, bytes");
  cmd->callback([o, &global, &run, block] {
    run = [o, &global, block] {
      if (block->count() > 0) {
        o->lib.op_block_list.emplace();
        for (const auto& op : o->op_block_list)
          if (op != "none") o->lib.op_block_list->push_back(op);
      }
      o->lib.threads = global.threads;
      const Fp16Report report = convert_fp16_file(o->input, o->output, o->lib);
      for (const auto& w : report.warnings) spdlog::warn("{}", w);
      if (!o->report.empty()) write_json_file(o->report, fp16_report_to_json(report));
      if (!global.quiet) std::cout << fp16_report_summary(report) << std::flush;
    };
  });
}

}  // namespace onnxq::cli
