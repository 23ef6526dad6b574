#pragma once

#include <map>
#include <optional>
#include <string>

#include "debug/dequantize.hpp"
#include "debug/quant_graph.hpp"

namespace onnxq::debug {

// Scale, zero point and layout QUANT gives a tensor.
struct ActivationParams {
  Tensor scale, zero_point;
  QuantLayout layout;
};

// What one QUANT tensor stands for.
struct ActivationMatch {
  std::string float_name;
  // The QUANT tensor holds integers (QOperator) to dequantize with `params` before comparing.
  bool integers = false;
  // Known for QDQ pairs and QOperator outputs: the QDQ error uses them.
  std::optional<ActivationParams> params;
  int rank = 0;  // how direct the match is: a QDQ pair's output 3, integers 2, same name 1
};

// QUANT tensor name -> the FLOAT tensor it stands for, at most one QUANT tensor per float one
// (the most direct): a DequantizeLinear's output to the tensor its QuantizeLinear quantized (or,
// in QOperator graphs, the name before "_DequantizeLinear_Output"); an integer tensor named
// "<T>_QuantizeLinear_Output" to T, dequantized with its producer's output scale; a float
// tensor of the same name in both models to itself. Only float32 node outputs of FLOAT count.
std::map<std::string, ActivationMatch> match_activations(const GraphIndex& float_graph, const GraphIndex& quant);

}  // namespace onnxq::debug
