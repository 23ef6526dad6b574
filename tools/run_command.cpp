#include <cstdio>
#include <iostream>

#include "cli.hpp"
#include "onnxq/model.hpp"
#include "onnxq/run_model.hpp"

namespace onnxq::cli {

void add_run_command(CLI::App& app, const GlobalOptions& global, Action& run) {
  struct Options {
    std::string model;
    std::vector<std::string> inputs;
    RunModelOptions run;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("run", "Run a model in onnxq's executor on .npy inputs and save its outputs");
  cmd->add_option("MODEL", opts->model, "The .onnx file")->required();
  cmd->add_option("--input", opts->inputs, "NAME=FILE.npy for a graph input (repeatable)");
  cmd->add_option("--input-dir", opts->run.input_dir, "A directory with one NAME.npy per graph input");
  cmd->add_option("--output-dir", opts->run.output_dir, "Write each output as OUTPUT_NAME.npy here");
  cmd->add_option("--repeat", opts->run.repeat, "Run K times and report the median latency")
      ->check(CLI::PositiveNumber);
  cmd->callback([opts, &global, &run] {
    run = [opts, &global] {
      for (const auto& spec : opts->inputs) {
        const auto eq = spec.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
          fail(ExitCode::kUsage, "--input " + spec + ": expected NAME=FILE.npy");
        opts->run.inputs.emplace_back(spec.substr(0, eq), spec.substr(eq + 1));
      }
      if (opts->run.inputs.empty() && opts->run.input_dir.empty())
        fail(ExitCode::kUsage, "run: give --input NAME=FILE.npy or --input-dir DIR");
      opts->run.threads = global.threads;
      const Model model = Model::load(opts->model);
      const RunModelResult result = run_model(model, opts->run);
      for (const auto& o : result.outputs) {
        std::printf("%s: %s %s min %.6g max %.6g mean %.6g", o.name.c_str(), std::string(dtype_name(o.dtype)).c_str(),
                    shape_to_string(o.shape).c_str(), o.min, o.max, o.mean);
        if (o.non_finite) std::printf(" (%lld non-finite)", static_cast<long long>(o.non_finite));
        if (!o.file.empty()) std::printf(" -> %s", o.file.string().c_str());
        std::printf("\n");
      }
      std::printf("latency: median %.3f ms over %zu run%s\n", result.median_ms, result.latencies_ms.size(),
                  result.latencies_ms.size() == 1 ? "" : "s");
      if (result.peak_memory_bytes)
        std::printf("peak memory: %.1f MB\n", static_cast<double>(result.peak_memory_bytes) / 1e6);
    };
  });
}

}  // namespace onnxq::cli
