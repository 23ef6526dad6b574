#pragma once

#include <string>

#include "onnxq/debug.hpp"
#include "onnxq/tensor.hpp"

namespace onnxq::debug {

// How a quantized tensor's scales map onto its elements: one for all (scale of one element),
// one per index along `axis`, or with `block_size` one per block of that many along `axis`.
struct QuantLayout {
  int axis = -1;
  int block_size = 0;
};

// r = scale · (q − zero_point) for integers of any quantized type (4-bit unpacked); a missing
// zero point is 0. kInput naming `what` when the scale does not fit the values.
Tensor dequantize(const Tensor& values, const Tensor& scale, const Tensor& zero_point, QuantLayout layout,
                  const std::string& what);

// Count and range of scales and zero points.
QuantParamSummary summarize_params(const Tensor& scale, const Tensor& zero_point);

// Scale as float32 (float16 scales are converted).
Tensor float_scale(const Tensor& scale);

// quantize then dequantize float32 `x` with the given parameters, as QuantizeLinear and
// DequantizeLinear would (round half to even, saturate to the zero point's type; uint8 when
// there is no zero point).
Tensor quantize_dequantize(const Tensor& x, const Tensor& scale, const Tensor& zero_point, QuantLayout layout,
                           const std::string& what);

}  // namespace onnxq::debug
