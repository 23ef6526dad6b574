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

// Every default of `onnxq quantize-dynamic` lives here.
struct DynamicQuantOptions {
  QuantFormat format = QuantFormat::kQOperator;
  DataType weight_type = DataType::kInt8;
  bool per_channel = false;
  bool reduce_range = false;
  // Which nodes are touched: op types (empty: every op with a rule), node names or glob
  // patterns to include (empty: all) and to exclude.
  std::vector<std::string> op_types;
  std::vector<std::string> nodes_include;
  std::vector<std::string> nodes_exclude;
};

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
