#pragma once

#include "debug/error_stats.hpp"
#include "debug/quant_graph.hpp"
#include "onnxq/debug.hpp"
#include "onnxq/tensor.hpp"

namespace onnxq::debug {

// Whether an output reads as class scores (see OutputError::class_scores): by its shape, and by
// what makes it in the float graph: Softmax/LogSoftmax, or a Gemm/MatMul (logits), possibly
// plus a constant bias, through reshapes that keep the last axis. A hidden state from a
// LayerNormalization has the shape of scores but is not one.
bool looks_like_class_scores(const Tensor& output);
bool made_like_class_scores(const GraphIndex& float_graph, const std::string& output);

// Accumulates one graph output over samples.
struct OutputAccumulator {
  std::string name;
  ErrorStats stats;
  bool class_scores = true;  // until a sample says otherwise
  int64_t rows = 0, top1_agree = 0;

  // kInput naming the output when the two disagree in type or shape.
  void add(const Tensor& reference, const Tensor& quantized);
  OutputError result() const;
};

}  // namespace onnxq::debug
