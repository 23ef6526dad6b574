#pragma once

#include <map>
#include <string>
#include <vector>

#include "onnxq/model.hpp"
#include "onnxq/quantize_dynamic.hpp"
#include "support/ort_oracle.hpp"

namespace onnxq::test {

// Nodes per op type, subgraphs included.
std::map<std::string, int> op_counts(const Model& model);
// How many `op` nodes a count holds (0 when absent).
int count(const std::map<std::string, int>& ops, const std::string& op);

// The lowest SQNR (dB) over the outputs of two runs; their shapes must agree.
double worst_sqnr(const OrtResult& reference, const OrtResult& actual);
// Saves both models, runs them in ONNX Runtime on the same inputs, returns worst_sqnr.
double output_sqnr(Model& float_model, Model& quant_model, const std::map<std::string, Tensor>& inputs);

// Quantizing an already quantized model again touches nothing and changes no byte.
void expect_requantizing_changes_nothing(Model& quantized, const DynamicQuantOptions& options);

// One combination of the 8-bit flags every dynamic rule is tested under.
struct Combo {
  QuantFormat format;
  DataType type;
  bool per_channel;
  bool reduce_range;
};
// All 16: {qoperator, qdq} x {int8, uint8} x per-channel x reduce-range.
std::vector<Combo> every_8bit_combo();

// "qoperator/int8/per-channel/reduce-range", for traces and printed tables.
std::string combo_name(QuantFormat format, DataType type, bool per_channel, bool reduce_range);

}  // namespace onnxq::test
