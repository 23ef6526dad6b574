#pragma once

#include "debug/error_stats.hpp"
#include "onnxq/debug.hpp"
#include "onnxq/tensor.hpp"

namespace onnxq::debug {

// Whether an output reads as class scores (see OutputError::class_scores).
bool looks_like_class_scores(const Tensor& output);

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
