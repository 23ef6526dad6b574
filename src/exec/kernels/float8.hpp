#pragma once

// The four ONNX float8 types (opset 19): encoding from float rounds to nearest, ties to even;
// values beyond the largest finite one saturate to it, or without saturation become infinity
// (E5M2) or NaN (types without infinity). The FNUZ types have no negative zero and one NaN, 0x80.

#include <cmath>
#include <cstdint>
#include <optional>

#include "onnxq/dtype.hpp"

namespace onnxq::exec::quant {

struct Float8Format {
  int man_bits;
  int bias;
  bool fnuz;     // no negative zero, NaN is 0x80
  bool has_inf;  // E5M2: exponent all ones is infinity/NaN
  float max;
  uint8_t nan;
};

inline std::optional<Float8Format> float8_format(DataType t) {
  switch (t) {
    case DataType::kFloat8E4M3FN: return Float8Format{3, 7, false, false, 448.0f, 0x7F};
    case DataType::kFloat8E4M3FNUZ: return Float8Format{3, 8, true, false, 240.0f, 0x80};
    case DataType::kFloat8E5M2: return Float8Format{2, 15, false, true, 57344.0f, 0x7F};
    case DataType::kFloat8E5M2FNUZ: return Float8Format{2, 16, true, false, 57344.0f, 0x80};
    default: return std::nullopt;
  }
}

inline float float8_to_float(uint8_t code, const Float8Format& f) {
  const int exp_bits = 7 - f.man_bits;
  const int exp = (code >> f.man_bits) & ((1 << exp_bits) - 1);
  const int man = code & ((1 << f.man_bits) - 1);
  const float sign = (code & 0x80) ? -1.0f : 1.0f;
  if (f.fnuz && code == 0x80) return NAN;
  if (!f.fnuz && !f.has_inf && (code & 0x7F) == 0x7F) return NAN;
  if (f.has_inf && exp == (1 << exp_bits) - 1) return man == 0 ? sign * INFINITY : NAN;
  if (exp == 0) return sign * std::ldexp(static_cast<float>(man), 1 - f.bias - f.man_bits);
  return sign * std::ldexp(1.0f + static_cast<float>(man) / static_cast<float>(1 << f.man_bits), exp - f.bias);
}

inline uint8_t float_to_float8(float x, const Float8Format& f, bool saturate) {
  if (std::isnan(x)) return f.nan;
  const uint8_t sign = std::signbit(x) ? 0x80 : 0x00;
  const uint8_t max_code = f.fnuz ? 0x7F : (f.has_inf ? 0x7B : 0x7E);
  auto overflow = [&]() -> uint8_t {
    if (saturate) return static_cast<uint8_t>(sign | max_code);
    if (f.has_inf) return static_cast<uint8_t>(sign | 0x7C);
    return f.fnuz ? f.nan : static_cast<uint8_t>(sign | f.nan);
  };
  const float a = std::fabs(x);
  if (std::isinf(a)) return overflow();
  const int min_normal_exp = 1 - f.bias;
  int e = 0;
  std::frexp(a, &e);
  e -= 1;  // a = m * 2^e with m in [1, 2)
  const int quantum_exp = (e < min_normal_exp ? min_normal_exp : e) - f.man_bits;
  // a / quantum is exact (a power-of-two scaling), so this rounds once, ties to even.
  const float steps = std::nearbyint(std::ldexp(a, -quantum_exp));
  const float value = std::ldexp(steps, quantum_exp);
  if (value > f.max) return overflow();
  if (value == 0.0f) return f.fnuz ? 0x00 : sign;
  std::frexp(value, &e);
  e -= 1;
  if (e < min_normal_exp)
    return static_cast<uint8_t>(sign | static_cast<uint8_t>(std::ldexp(value, f.bias - 1 + f.man_bits)));
  const int mantissa = static_cast<int>(std::ldexp(value, f.man_bits - e)) - (1 << f.man_bits);
  return static_cast<uint8_t>(sign | ((e + f.bias) << f.man_bits) | mantissa);
}

}  // namespace onnxq::exec::quant
