#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "debug/dequantize.hpp"
#include "debug/quant_graph.hpp"

namespace onnxq::debug {

// One quantized weight as a QUANT node reads it, dequantized.
struct QuantizedWeightRef {
  std::string values;      // the integer constant
  int node = -1;           // the node standing for the float op (for matching by node name)
  int float_slot = 1;      // the weight's input slot in that float op
  Tensor dequantized;      // in the float op's layout where the reader knows it
  std::string type;        // of the integers
  QuantParamSummary params;
  uint64_t bytes_after = 0;  // integers, scales and zero points as stored
};

// Finds the quantized weights a node reads. A reader returns nothing for a node whose weight is
// not a constant (an activation being quantized).
using WeightReader = std::function<std::vector<QuantizedWeightRef>(const GraphIndex& quant, int node)>;

// Readers by "domain:op_type" ("" for ONNX). Each family registers its ops in its own file.
// A new weight encoding (ewq's codebooks, say) is one more reader returning the dequantized
// weight and its parameters; matching, SQNR and the report then take it as they are.
using WeightReaderRegistry = std::map<std::string, WeightReader>;
void register_qdq_weight_readers(WeightReaderRegistry& registry);
void register_integer_weight_readers(WeightReaderRegistry& registry);
void register_contrib_weight_readers(WeightReaderRegistry& registry);
const WeightReaderRegistry& weight_readers();

// The usual case: integers `values` with scale and optional zero point (empty name: none).
QuantizedWeightRef read_linear_weight(const GraphIndex& quant, const std::string& values, const std::string& scale,
                                      const std::string& zero_point, QuantLayout layout);

// onnxq's and ONNX Runtime's naming: "W_quantized" or "W_quantized_2" stands for float "W";
// empty when `name` does not follow it.
std::string float_name_of(const std::string& quantized_name);

}  // namespace onnxq::debug
