#include <iostream>

#include "cli.hpp"
#include "onnxq/preprocess.hpp"
#include "onnxq/quant_report.hpp"

namespace onnxq::cli {

namespace {

// "x=1x3x224x224" -> ("x", {1, 3, 224, 224})
std::pair<std::string, Shape> parse_input_shape(const std::string& spec) {
  const auto eq = spec.rfind('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    fail(ExitCode::kUsage, "--input-shape " + spec + ": expected NAME=DxDx...");
  Shape shape;
  const std::string dims = spec.substr(eq + 1);
  size_t pos = 0;
  while (pos <= dims.size()) {
    const size_t x = dims.find('x', pos);
    const std::string d = dims.substr(pos, x == std::string::npos ? std::string::npos : x - pos);
    if (d.empty() || d.find_first_not_of("0123456789") != std::string::npos)
      fail(ExitCode::kUsage, "--input-shape " + spec + ": '" + d + "' is not a dimension");
    shape.push_back(std::stoll(d));
    if (x == std::string::npos) break;
    pos = x + 1;
  }
  return {spec.substr(0, eq), shape};
}

}  // namespace

void add_preprocess_command(CLI::App& app, const GlobalOptions& global, Action& run) {
  struct Options {
    std::string input, output, report;
    bool skip_shape_inference = false, skip_optimization = false, external = false;
    uint64_t external_threshold = 1024;
    std::vector<std::string> input_shapes;
    PreprocessOptions pre;
  };
  auto opts = std::make_shared<Options>();
  std::string passes;
  for (const auto& name : preprocess_pass_names()) passes += (passes.empty() ? "" : ", ") + name;
  auto* cmd = app.add_subcommand("preprocess", "Make a float model ready for quantization: shapes, folding, hygiene");
  cmd->add_option("MODEL", opts->input, "The float .onnx file")->required();
  cmd->add_option("-o,--output", opts->output, "Where to write the result")->required();
  cmd->add_flag("--skip-shape-inference", opts->skip_shape_inference, "Leave value_info as it is");
  cmd->add_flag("--skip-optimization", opts->skip_optimization, "Run no graph passes");
  cmd->add_option("--skip-pass", opts->pre.skip_passes, "Skip one pass by name (repeatable): " + passes);
  cmd->add_option("--input-shape", opts->input_shapes, "Fix an input's dimensions first: NAME=1x3x224x224 (repeatable)");
  cmd->add_option("--opset", opts->pre.opset, "Convert to this opset of the default domain");
  cmd->add_option("--fold-size-limit", opts->pre.fold_size_limit,
                  "Constant folding leaves nodes whose outputs would exceed this many bytes (and their inputs)");
  cmd->add_flag("--external-data", opts->external, "Save weights as external data (models over 2 GB always are)");
  cmd->add_option("--external-data-threshold", opts->external_threshold,
                  "With --external-data: tensors of at least this many bytes go to the data file");
  cmd->add_option("--report", opts->report, "Write a JSON report of what each pass changed");
  cmd->callback([opts, &global, &run] {
    run = [opts, &global] {
      opts->pre.shape_inference = !opts->skip_shape_inference;
      opts->pre.optimization = !opts->skip_optimization;
      opts->pre.threads = global.threads;
      for (const auto& spec : opts->input_shapes) opts->pre.input_shapes.insert(parse_input_shape(spec));
      SaveOptions save;
      if (opts->external) {
        save.external_data = ExternalData::kExternal;
        save.external_threshold = opts->external_threshold;
      }
      const PreprocessReport report = preprocess_file(opts->input, opts->output, opts->pre, save);
      if (!opts->report.empty()) write_json_file(opts->report, preprocess_report_to_json(report));
      if (!global.quiet) std::cerr << preprocess_summary(report);
    };
  });
}

}  // namespace onnxq::cli
