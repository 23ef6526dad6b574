#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "onnxq/dtype.hpp"

namespace onnxq {

// Integer range of a quantized type, as ONNX Runtime's tool picks it.
struct QuantRange {
  int32_t qmin = 0;
  int32_t qmax = 0;
};

// int8: [-128, 127], symmetric [-127, 127], reduced [-64, 64]; uint8: [0, 255], reduced
// [0, 127]; int16/uint16 and int4/uint4 likewise. kUnsupported for other types.
QuantRange quant_range(DataType type, bool symmetric, bool reduce_range);

// r = scale * (q - zero_point).
struct QuantParams {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

// Scale and zero point for values in [rmin, rmax]: the range is widened to contain 0,
// symmetric ranges become [-absmax, absmax] with the zero point at the middle of the integer
// range, and a scale below float32's smallest normal (all-zero tensors) becomes 1 with zero
// point 0. Computed in double, the scale rounded to float32 last.
QuantParams compute_quant_params(float rmin, float rmax, QuantRange range, bool symmetric);

// Rounds half to even, as the ONNX spec and ONNX Runtime do (2.5 -> 2, -2.5 -> -2), for values
// of magnitude up to 2^22: adding and removing 1.5 * 2^23 leaves the float rounded to an integer
// in the default rounding mode. nearbyint() gives the same result but, saving and restoring the
// floating-point environment, costs more than the rest of quantization together.
inline float round_half_even(float x) {
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23
  volatile float shifted = x + kMagic;   // volatile: keep the compiler from folding the pair away
  return shifted - kMagic;
}

// round(x / scale) + zero_point, saturated to the range. The division is in float32, as
// ONNX Runtime's QuantizeLinear and its quantization tool compute it.
inline int32_t quantize_value(float x, QuantParams p, QuantRange range) {
  // Clamp before rounding so the magic-number rounding stays in its exact range (and NaN
  // becomes qmin rather than undefined behaviour in the cast).
  float q = x / p.scale;
  q = q > 4194304.0f ? 4194304.0f : (q >= -4194304.0f ? q : -4194304.0f);
  q = round_half_even(q) + static_cast<float>(p.zero_point);
  q = std::min(std::max(q, static_cast<float>(range.qmin)), static_cast<float>(range.qmax));
  return static_cast<int32_t>(q);
}

inline float dequantize_value(int32_t q, QuantParams p) {
  return static_cast<float>(q - p.zero_point) * p.scale;
}

// Signal-to-quantization-noise ratio in dB: 10 log10(sum x^2 / sum (x - y)^2); +inf when
// the two agree exactly.
double sqnr_db(const float* reference, const float* approx, int64_t count);

}  // namespace onnxq
