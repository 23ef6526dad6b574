#pragma once

#include <map>
#include <string>

#include "onnxq/model.hpp"
#include "onnxq/tensor.hpp"

namespace onnxq::test {

// Runs the float model and its 16-bit conversion in ONNX Runtime on the same (float32) inputs,
// the converted one with each input cast to the type its graph declares, and returns the worst
// output SQNR in dB (16-bit outputs read back as float).
double fp16_output_sqnr(Model& float_model, Model& converted, const std::map<std::string, Tensor>& inputs);

// The smallest file any 16-bit conversion of `model` (saved as `file_bytes`) can write, as a
// ratio: every float32 tensor halved, the graph's structure (names, nodes, shapes) as it is.
double fp16_size_floor(const Model& model, uint64_t file_bytes);

// How many nodes of each op type the graph (subgraphs excluded) has.
int count_ops(const Model& model, const std::string& op_type);

// The element type a graph input or output is declared with.
int declared_type(const Model& model, const std::string& name);

}  // namespace onnxq::test
