#include "onnxq/run_model.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <set>

#include "onnxq/float16.hpp"
#include "onnxq/model.hpp"
#include "onnxq/npy.hpp"

namespace onnxq {

std::string safe_file_name(const std::string& tensor_name) {
  std::string out = tensor_name;
  for (char& c : out)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) c = '_';
  if (out.empty() || out == "." || out == "..") out = "_" + out;
  return out;
}

namespace {

// VmHWM rather than getrusage(): ru_maxrss keeps the high-water mark of whatever process
// exec'd us, VmHWM belongs to this address space alone.
uint64_t peak_memory_bytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;  // kB
  return 0;
}

double element(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DataType::kFloat: return t.data<float>()[i];
    case DataType::kDouble: return t.data<double>()[i];
    case DataType::kFloat16: return half_to_float(t.data<uint16_t>()[i]);
    case DataType::kBFloat16: return bfloat16_to_float(t.data<uint16_t>()[i]);
    case DataType::kInt8: return t.data<int8_t>()[i];
    case DataType::kUInt8: return t.data<uint8_t>()[i];
    case DataType::kInt16: return t.data<int16_t>()[i];
    case DataType::kUInt16: return t.data<uint16_t>()[i];
    case DataType::kInt32: return t.data<int32_t>()[i];
    case DataType::kUInt32: return t.data<uint32_t>()[i];
    case DataType::kInt64: return static_cast<double>(t.data<int64_t>()[i]);
    case DataType::kUInt64: return static_cast<double>(t.data<uint64_t>()[i]);
    case DataType::kBool: return t.data<bool>()[i] ? 1.0 : 0.0;
    default: return 0;
  }
}

}  // namespace

TensorSummary summarize_tensor(const std::string& name, const Tensor& value) {
  TensorSummary s{name, value.dtype(), value.shape()};
  double sum = 0;
  int64_t finite = 0;
  s.min = INFINITY;
  s.max = -INFINITY;
  for (int64_t i = 0; i < value.numel(); ++i) {
    const double v = element(value, i);
    if (!std::isfinite(v)) {
      ++s.non_finite;
      continue;
    }
    s.min = std::min(s.min, v);
    s.max = std::max(s.max, v);
    sum += v;
    ++finite;
  }
  if (finite == 0) s.min = s.max = 0;
  s.mean = finite ? sum / static_cast<double>(finite) : 0;
  return s;
}

NamedTensors load_run_inputs(const Executor& executor, const RunModelOptions& options) {
  NamedTensors inputs;
  std::set<std::string> given;
  std::string known;
  for (const auto& info : executor.inputs()) known += (known.empty() ? "" : ", ") + info.name;
  for (const auto& [name, file] : options.inputs) {
    const bool is_input = std::any_of(executor.inputs().begin(), executor.inputs().end(),
                                      [&](const ValueInfo& i) { return i.name == name; });
    if (!is_input) fail(ExitCode::kInput, "input '" + name + "' is not an input of the model (inputs: " + known + ")");
    if (!given.insert(name).second) fail(ExitCode::kUsage, "input '" + name + "' given twice");
    inputs.emplace_back(name, read_npy(file));
  }
  if (!options.input_dir.empty()) {
    if (!std::filesystem::is_directory(options.input_dir))
      fail(ExitCode::kInput, options.input_dir.string() + ": not a directory");
    for (const auto& info : executor.inputs()) {
      if (given.count(info.name)) continue;
      const auto file = options.input_dir / (safe_file_name(info.name) + ".npy");
      if (!std::filesystem::exists(file))
        fail(ExitCode::kInput, "input '" + info.name + "': " + file.string() + " does not exist");
      inputs.emplace_back(info.name, read_npy(file));
      given.insert(info.name);
    }
  }
  for (const auto& info : executor.inputs())
    if (!given.count(info.name))
      fail(ExitCode::kInput, "input '" + info.name + "' was not given (--input " + info.name + "=FILE.npy)");
  return inputs;
}

RunModelResult run_model(const Model& model, const RunModelOptions& options) {
  Executor executor(model, ExecutorOptions{.threads = options.threads});
  const NamedTensors inputs = load_run_inputs(executor, options);
  RunModelResult result;
  std::vector<Tensor> outputs;
  for (int r = 0; r < std::max(1, options.repeat); ++r) {
    const auto start = std::chrono::steady_clock::now();
    outputs = executor.run(inputs);
    result.latencies_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::vector<double> sorted = result.latencies_ms;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  result.median_ms = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  result.peak_memory_bytes = peak_memory_bytes();
  if (!options.output_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.output_dir, ec);
    if (ec) fail(ExitCode::kOutput, options.output_dir.string() + ": cannot create directory: " + ec.message());
  }
  std::set<std::string> files;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const std::string& name = executor.outputs()[i].name;
    TensorSummary s = summarize_tensor(name, outputs[i]);
    if (!options.output_dir.empty()) {
      std::string file = safe_file_name(name);
      // Two names that sanitize alike must not overwrite each other.
      for (int k = 1; files.count(file); ++k) file = safe_file_name(name) + "_" + std::to_string(k);
      files.insert(file);
      s.file = options.output_dir / (file + ".npy");
      write_npy(s.file, outputs[i]);
    }
    result.outputs.push_back(std::move(s));
  }
  return result;
}

}  // namespace onnxq
