#pragma once

#include "onnxq/tensor.hpp"

namespace onnxq::exec {

// Every element converted to `to` as ONNX Cast does: floats to integers truncate toward
// zero and saturate (NaN becomes 0, where C++ leaves it undefined), anything to bool is
// "not zero", float16/bfloat16 round to nearest even. Any pair of bool, integer, float,
// double, float16 and bfloat16 types; kUnsupported for the rest. Returns `x` itself
// (sharing its buffer) when the type already matches.
Tensor cast_tensor(const Tensor& x, DataType to, int threads);

}  // namespace onnxq::exec
