#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "onnxq/model.hpp"
#include "onnxq/quant_report.hpp"

namespace onnxq {

enum class QuantFormat {
  kQOperator,  // integer ops: DynamicQuantizeLinear + MatMulInteger/ConvInteger + rescale
  kQDQ,        // weight-only: quantized initializer + DequantizeLinear
};

// How MatMul stores 4-bit weights (int4/uint4, always weight-only and block-wise along K).
enum class Int4Format {
  kMatMulNBits,  // com.microsoft MatMulNBits, ONNX Runtime's packed layout; any opset
  kQDQ,          // int4/uint4 initializer + blocked DequantizeLinear (opset 21, IR 10)
};

// Every default of `onnxq quantize-dynamic` lives here.
struct DynamicQuantOptions {
  QuantFormat format = QuantFormat::kQOperator;
  DataType weight_type = DataType::kInt8;
  bool per_channel = false;
  bool reduce_range = false;
  // 4-bit weights (weight_type int4: symmetric, uint4: asymmetric) quantize MatMul only, one scale per
  // `block_size` rows of each column, stored as `int4_format` says; Gather embedding tables become int8
  // with one scale per row (in `format`), other ops stay float. accuracy_level is MatMulNBits'
  // attribute (-1: left unset).
  int block_size = 32;
  Int4Format int4_format = Int4Format::kMatMulNBits;
  int accuracy_level = -1;
  // Which nodes are touched: op types (empty: every op with a rule), node names or glob
  // patterns to include (empty: all) and to exclude.
  std::vector<std::string> op_types;
  std::vector<std::string> nodes_include;
  std::vector<std::string> nodes_exclude;
  // Threads quantizing weights (0: all cores); the output is the same for any count.
  int threads = 0;
};

// Whether the options ask for 4-bit (block-wise MatMul) weights.
inline bool is_4bit(const DynamicQuantOptions& options) { return dtype_bits(options.weight_type) == 4; }

// Quantizes the model's weights in place. Nodes it can't quantize stay float (the report
// says why); bad input is kInput, an opset it can't raise is kUnsupported.
QuantizeReport quantize_dynamic(Model& model, const DynamicQuantOptions& options);

// Loads `input`, quantizes it, checks the result and saves it to `output` atomically; the
// report carries both file sizes (with external data).
QuantizeReport quantize_dynamic_file(const std::filesystem::path& input, const std::filesystem::path& output,
                                     const DynamicQuantOptions& options, const SaveOptions& save = {});

// The op types quantize_dynamic has rules for.
std::vector<std::string> dynamic_op_types();

}  // namespace onnxq
