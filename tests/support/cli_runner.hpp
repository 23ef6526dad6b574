#pragma once

#include <string>
#include <vector>

namespace onnxq::test {

struct CliResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs the built onnxq binary with `args` (no shell involved) and captures its streams.
CliResult run_cli(const std::vector<std::string>& args);

}  // namespace onnxq::test
