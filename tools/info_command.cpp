#include <iostream>

#include "cli.hpp"
#include "onnxq/byte_size.hpp"
#include "onnxq/model_info.hpp"

namespace onnxq::cli {

void add_info_command(CLI::App& app, const GlobalOptions& /*global*/, Action& run) {
  struct Options {
    std::string model;
    bool json = false;
    std::string max_size;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("info", "Describe a model: opsets, inputs, outputs, ops, weights, size");
  cmd->add_option("MODEL", opts->model, "The .onnx file")->required();
  cmd->add_flag("--json", opts->json, "Print JSON instead of a table");
  cmd->add_option("--max-size", opts->max_size,
                  "Fail (exit 6) when the model with its external data is larger than this: "
                  "BYTES, or a number with kB/MB/GB (x1000) or KiB/MiB/GiB (x1024)");
  cmd->callback([opts, &run] {
    run = [opts] {
      // Parse the limit before loading so a typo fails fast.
      const uint64_t max_bytes = opts->max_size.empty() ? 0 : parse_byte_size(opts->max_size);
      const ModelInfo info = inspect_model(Model::load(opts->model));
      if (opts->json) std::cout << info_to_json(info).dump(2) << "\n";
      else std::cout << info_to_text(info);
      std::cout.flush();
      if (!opts->max_size.empty()) enforce_max_size(info, max_bytes);
    };
  });
}

}  // namespace onnxq::cli
