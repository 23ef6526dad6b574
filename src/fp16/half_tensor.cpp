#include "fp16/half_tensor.hpp"

#include <cmath>
#include <limits>

#include "onnxq/float16.hpp"

namespace onnxq::fp16 {

Tensor to_half(const Tensor& value, const Fp16Options& options, HalfStats* stats) {
  HalfStats s;
  Tensor out(options.bfloat16 ? DataType::kBFloat16 : DataType::kFloat16, value.shape());
  const float* x = value.data<float>();
  auto* y = out.data<uint16_t>();
  const int64_t n = value.numel();
  const float lo = options.min_positive_val, hi = options.max_finite_val;
  double signal = 0.0, noise = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    float v = x[i];
    const float a = std::fabs(v);
    if (!options.bfloat16) {
      if (a > 0.0f && a < lo) {
        v = std::copysign(lo, v);
        ++s.clamped;
      } else if (a > hi && std::isfinite(a)) {
        v = std::copysign(hi, v);
        ++s.clamped;
        ++s.large;
      }
    }
    y[i] = options.bfloat16 ? float_to_bfloat16(v) : float_to_half(v);
    if (std::isfinite(x[i])) {
      const double back = options.bfloat16 ? bfloat16_to_float(y[i]) : half_to_float(y[i]);
      signal += static_cast<double>(x[i]) * x[i];
      noise += (back - x[i]) * (back - x[i]);
    }
  }
  s.sqnr_db = noise == 0.0 ? std::numeric_limits<double>::infinity()
                           : signal == 0.0 ? -std::numeric_limits<double>::infinity()
                                           : 10.0 * std::log10(signal / noise);
  if (stats) *stats = s;
  return out;
}

}  // namespace onnxq::fp16
