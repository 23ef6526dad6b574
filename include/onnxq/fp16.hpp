#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "onnxq/model.hpp"

namespace onnxq {

// `onnxq fp16`: float32 to float16 (or bfloat16) conversion, as ONNX Runtime's float16 tool
// does it, and the float parts of an onnxq-quantized model for INT8 + FP16 mixed precision.
//
// Every float32 initializer, Constant value, graph input/output and intermediate value becomes
// 16-bit, except where a node must stay float32: its op is blocked (`op_block_list`, by default
// the ops ONNX Runtime's CPU provider has no float16 kernel for: see default_fp16_block_list()),
// its name is in `node_block_list`, its schema does not take 16-bit floats on that input, or it
// is a quantization op (its scales stay untouched). A Cast joins every border between the two
// precisions; the weights of a float32 node are stored 16-bit with a Cast in front, which ONNX
// Runtime folds when it loads the model, so the file halves either way. Shape-carrying inputs
// (Resize's scales, Range's bounds) keep their types. Subgraphs (If, Loop, Scan) follow the
// same rules, their inputs and outputs taking the precision of the node that owns them.

struct Fp16Options {
  bool bfloat16 = false;
  // Graph inputs and outputs stay float32, with Casts inside.
  bool keep_io_types = false;
  // Ops (and node names) left in float32. Unset: default_fp16_block_list().
  std::optional<std::vector<std::string>> op_block_list;
  std::vector<std::string> node_block_list;
  // Values outside float16's range are clamped into it: 0 < |x| < min_positive_val becomes
  // ±min_positive_val (the smallest float16 subnormal, so no weight silently becomes 0), and
  // finite |x| > max_finite_val becomes ±max_finite_val (float16's largest value). NaN, ±inf and
  // 0 stay. ONNX Runtime's tool defaults to 1e-7 and 1e4, which leaves headroom for arithmetic
  // but breaks models with larger constants (a BatchNormalization's running variance of 2e4 in
  // PaddleOCR det); pass those to get its behaviour. Not applied to bfloat16, which has float32's
  // range.
  float min_positive_val = 5.9604645e-8f;
  float max_finite_val = 65504.0f;
  int threads = 0;  // 0: all cores; the output is the same for any count
};

struct Fp16TensorInfo {
  std::string name;
  int64_t elements = 0;
  int64_t clamped = 0;        // values moved into range
  int64_t clamped_large = 0;  // of which were beyond max_finite_val (the tiny ones only gain precision)
  uint64_t bytes_before = 0, bytes_after = 0;
};

struct Fp16Report {
  std::vector<Fp16TensorInfo> tensors;  // initializers and Constant values converted
  int64_t values_clamped = 0;
  int64_t nodes_converted = 0;   // nodes computing in 16 bits
  int64_t nodes_kept = 0;        // nodes left in float32 that read or write float values
  int64_t casts_inserted = 0;
  uint64_t weight_bytes_before = 0, weight_bytes_after = 0;  // of the converted tensors
  uint64_t file_bytes_before = 0, file_bytes_after = 0;       // set by the file-level call
  double seconds = 0;
  std::vector<std::string> warnings;  // one per tensor with values beyond max_finite_val
};

// The ops ONNX Runtime 1.30's CPU provider runs in float16 natively on x86-64 (it wraps every
// other op in Casts itself): the complement is the default block list.
const std::vector<std::string>& fp16_cpu_native_ops();
bool default_fp16_blocked(const std::string& op_type);

// Converts the model in place. A model with nothing left to convert is unchanged.
Fp16Report convert_fp16(Model& model, const Fp16Options& options = {});

// Loads, converts, checks and saves atomically; nothing is written on failure.
Fp16Report convert_fp16_file(const std::filesystem::path& input, const std::filesystem::path& output,
                             const Fp16Options& options = {}, const SaveOptions& save = {});

nlohmann::json fp16_report_to_json(const Fp16Report& report);
std::string fp16_report_summary(const Fp16Report& report);

}  // namespace onnxq
