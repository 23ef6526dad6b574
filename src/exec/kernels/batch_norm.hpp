#pragma once

// Inference BatchNormalization as y = x * a[c] + b[c]: the coefficients its kernel uses,
// shared with the executor's fused convolution steps so both compute the same bits.

#include <vector>

#include "onnxq/tensor.hpp"

namespace onnxq::exec {

// a = scale / sqrt(var + epsilon), b = B - mean * a, computed in double and rounded to T.
// Throws kInput when a parameter does not have `channels` elements.
template <class T>
void batch_norm_coefficients(const Tensor& scale, const Tensor& B, const Tensor& mean, const Tensor& var,
                             int64_t channels, float epsilon, std::vector<T>& a, std::vector<T>& b);

}  // namespace onnxq::exec
