#pragma once

#include <cstdint>

namespace onnxq {

// IEEE half and bfloat16 conversions; float -> 16 bit rounds to nearest, ties to even,
// and keeps NaN a NaN.
float half_to_float(uint16_t bits);
uint16_t float_to_half(float value);
float bfloat16_to_float(uint16_t bits);
uint16_t float_to_bfloat16(float value);

}  // namespace onnxq
