#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "onnxq/executor.hpp"

namespace onnxq {

// What `onnxq run` does, as a library call: read inputs from .npy files, run the model in
// the executor (optionally several times, for timing), write each output as .npy.
struct RunModelOptions {
  std::vector<std::pair<std::string, std::filesystem::path>> inputs;  // NAME -> FILE.npy
  std::filesystem::path input_dir;   // one <safe NAME>.npy per graph input
  std::filesystem::path output_dir;  // empty: outputs are not written
  int repeat = 1;
  int threads = 0;
};

struct TensorSummary {
  std::string name;
  DataType dtype = DataType::kUndefined;
  Shape shape;
  double min = 0, max = 0, mean = 0;  // over finite values; 0 for an empty tensor
  int64_t non_finite = 0;             // NaN and Inf elements
  std::filesystem::path file;         // where it was written, if it was
};

struct RunModelResult {
  std::vector<TensorSummary> outputs;
  std::vector<double> latencies_ms;  // one per repeat
  double median_ms = 0;
  // The process's peak resident memory after the runs (Linux VmHWM; 0 where unknown).
  uint64_t peak_memory_bytes = 0;
};

// Reads the inputs the options name, checked against the model's inputs (kInput naming the
// input and what was expected).
NamedTensors load_run_inputs(const Executor& executor, const RunModelOptions& options);

RunModelResult run_model(const Model& model, const RunModelOptions& options);

// A tensor name made safe as a file name: path separators and other characters outside
// [A-Za-z0-9._-] become '_'.
std::string safe_file_name(const std::string& tensor_name);

TensorSummary summarize_tensor(const std::string& name, const Tensor& value);

}  // namespace onnxq
