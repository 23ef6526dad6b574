#include "fp16/half_tensor.hpp"

#include <cmath>

#include "onnxq/float16.hpp"

namespace onnxq::fp16 {

Tensor to_half(const Tensor& value, const Fp16Options& options, int64_t& clamped, int64_t* large) {
  clamped = 0;
  int64_t down = 0;
  Tensor out(options.bfloat16 ? DataType::kBFloat16 : DataType::kFloat16, value.shape());
  const float* x = value.data<float>();
  auto* y = out.data<uint16_t>();
  const int64_t n = value.numel();
  if (options.bfloat16) {
    for (int64_t i = 0; i < n; ++i) y[i] = float_to_bfloat16(x[i]);
    if (large) *large = 0;
    return out;
  }
  const float lo = options.min_positive_val, hi = options.max_finite_val;
  for (int64_t i = 0; i < n; ++i) {
    float v = x[i];
    const float a = std::fabs(v);
    if (a > 0.0f && a < lo) {
      v = std::copysign(lo, v);
      ++clamped;
    } else if (a > hi && std::isfinite(a)) {
      v = std::copysign(hi, v);
      ++clamped;
      ++down;
    }
    y[i] = float_to_half(v);
  }
  if (large) *large = down;
  return out;
}

}  // namespace onnxq::fp16
