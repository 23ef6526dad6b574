#pragma once

#include <cstdint>

#include "onnxq/fp16.hpp"
#include "onnxq/tensor.hpp"

namespace onnxq::fp16 {

// A float32 tensor as float16 (clamped into [min_positive_val, max_finite_val] in magnitude,
// see Fp16Options) or bfloat16 (rounded only). `clamped` counts the values moved, `large`
// (if given) those of them moved down from beyond max_finite_val.
Tensor to_half(const Tensor& value, const Fp16Options& options, int64_t& clamped, int64_t* large = nullptr);

}  // namespace onnxq::fp16
