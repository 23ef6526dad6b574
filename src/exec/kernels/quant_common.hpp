#pragma once

// Shared pieces of the quantization kernels: reading scales and zero points of any stored
// type, integer tensors (4-bit ones packed two per byte, low nibble first) as int32 values,
// and the requantization every QLinear op ends with, computed as ONNX Runtime's MLAS does.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "onnxq/dtype.hpp"
#include "onnxq/error.hpp"
#include "onnxq/float16.hpp"
#include "onnxq/quant_math.hpp"
#include "onnxq/tensor.hpp"

namespace onnxq::exec::quant {

// Elements per parallel chunk of elementwise loops: fixed, so results never depend on threads.
inline constexpr int64_t kChunk = 16384;

inline bool is_quant_int_type(DataType t) {
  switch (t) {
    case DataType::kInt8: case DataType::kUInt8: case DataType::kInt16: case DataType::kUInt16:
    case DataType::kInt32: case DataType::kInt4: case DataType::kUInt4:
      return true;
    default:
      return false;
  }
}

// Full integer range of a quantized type (int32 as far as float can round-trip it).
inline QuantRange type_range(DataType t) {
  switch (t) {
    case DataType::kInt8: return {-128, 127};
    case DataType::kUInt8: return {0, 255};
    case DataType::kInt16: return {-32768, 32767};
    case DataType::kUInt16: return {0, 65535};
    case DataType::kInt4: return {-8, 7};
    case DataType::kUInt4: return {0, 15};
    case DataType::kInt32: return {INT32_MIN, INT32_MAX};
    default: fail(ExitCode::kUnsupported, "no quantized range for element type " + std::string(dtype_name(t)));
  }
}

// Element i of an integer tensor of a quantized type, as int32.
inline int32_t int_at(const Tensor& t, int64_t i) {
  const std::byte* raw = t.raw_data();
  switch (t.dtype()) {
    case DataType::kInt8: return reinterpret_cast<const int8_t*>(raw)[i];
    case DataType::kUInt8: return reinterpret_cast<const uint8_t*>(raw)[i];
    case DataType::kInt16: return reinterpret_cast<const int16_t*>(raw)[i];
    case DataType::kUInt16: return reinterpret_cast<const uint16_t*>(raw)[i];
    case DataType::kInt32: return reinterpret_cast<const int32_t*>(raw)[i];
    case DataType::kUInt4: {
      const auto byte = static_cast<uint8_t>(raw[i / 2]);
      return (i % 2 == 0) ? (byte & 0x0F) : (byte >> 4);
    }
    case DataType::kInt4: {
      const auto byte = static_cast<uint8_t>(raw[i / 2]);
      const int32_t nibble = (i % 2 == 0) ? (byte & 0x0F) : (byte >> 4);
      return nibble >= 8 ? nibble - 16 : nibble;
    }
    default:
      fail(ExitCode::kUnsupported, "element type " + std::string(dtype_name(t.dtype())) + " is not a quantized integer type");
  }
}

// Every element as int32.
inline std::vector<int32_t> ints_of(const Tensor& t) {
  std::vector<int32_t> out(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) out[static_cast<size_t>(i)] = int_at(t, i);
  return out;
}

// Writes values already within the type's range; 4-bit values are packed.
inline void store_ints(Tensor& t, const int32_t* values, int64_t begin, int64_t end) {
  std::byte* raw = t.raw_data();
  switch (t.dtype()) {
    case DataType::kInt8: for (int64_t i = begin; i < end; ++i) reinterpret_cast<int8_t*>(raw)[i] = static_cast<int8_t>(values[i]); break;
    case DataType::kUInt8: for (int64_t i = begin; i < end; ++i) reinterpret_cast<uint8_t*>(raw)[i] = static_cast<uint8_t>(values[i]); break;
    case DataType::kInt16: for (int64_t i = begin; i < end; ++i) reinterpret_cast<int16_t*>(raw)[i] = static_cast<int16_t>(values[i]); break;
    case DataType::kUInt16: for (int64_t i = begin; i < end; ++i) reinterpret_cast<uint16_t*>(raw)[i] = static_cast<uint16_t>(values[i]); break;
    case DataType::kInt32: for (int64_t i = begin; i < end; ++i) reinterpret_cast<int32_t*>(raw)[i] = values[i]; break;
    case DataType::kInt4:
    case DataType::kUInt4:
      // Callers pass even `begin`s so two chunks never share a byte.
      for (int64_t i = begin; i < end; ++i) {
        auto& byte = reinterpret_cast<uint8_t*>(raw)[i / 2];
        const auto nibble = static_cast<uint8_t>(values[i] & 0x0F);
        byte = (i % 2 == 0) ? static_cast<uint8_t>((byte & 0xF0) | nibble) : static_cast<uint8_t>((byte & 0x0F) | (nibble << 4));
      }
      break;
    default:
      fail(ExitCode::kUnsupported, "cannot write quantized values as " + std::string(dtype_name(t.dtype())));
  }
}

// Element i of a float32, float16 or bfloat16 tensor as float.
inline float float_at(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DataType::kFloat: return t.data<float>()[i];
    case DataType::kFloat16: return half_to_float(t.data<uint16_t>()[i]);
    case DataType::kBFloat16: return bfloat16_to_float(t.data<uint16_t>()[i]);
    case DataType::kDouble: return static_cast<float>(t.data<double>()[i]);
    default:
      fail(ExitCode::kUnsupported, "element type " + std::string(dtype_name(t.dtype())) + " is not a float type");
  }
}

inline std::vector<float> floats_of(const Tensor& t) {
  std::vector<float> out(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) out[static_cast<size_t>(i)] = float_at(t, i);
  return out;
}

// Writes a float into a float32, float16 or bfloat16 tensor.
inline void store_float(Tensor& t, int64_t i, float v) {
  switch (t.dtype()) {
    case DataType::kFloat: t.data<float>()[i] = v; break;
    case DataType::kFloat16: t.data<uint16_t>()[i] = float_to_half(v); break;
    case DataType::kBFloat16: t.data<uint16_t>()[i] = float_to_bfloat16(v); break;
    case DataType::kDouble: t.data<double>()[i] = v; break;
    default: fail(ExitCode::kUnsupported, "cannot write floats as " + std::string(dtype_name(t.dtype())));
  }
}

// The single value of a scalar or one-element tensor, or kInput naming `what`.
inline float scalar_float(const Tensor& t, const char* what) {
  if (t.numel() != 1) fail(ExitCode::kInput, std::string(what) + " must be a scalar, got shape " + shape_to_string(t.shape()));
  return float_at(t, 0);
}
inline int32_t scalar_int(const Tensor& t, const char* what) {
  if (t.numel() != 1) fail(ExitCode::kInput, std::string(what) + " must be a scalar, got shape " + shape_to_string(t.shape()));
  return int_at(t, 0);
}

// round(v * multiplier) + zero_point, saturated: MLAS's requantization of an int32
// accumulator (multiply in float, clamp around the zero point, round half to even).
inline int32_t requantize(int32_t acc, float multiplier, int32_t zero_point, QuantRange r) {
  float v = static_cast<float>(acc) * multiplier;
  v = std::max(v, static_cast<float>(r.qmin) - static_cast<float>(zero_point));
  v = std::min(v, static_cast<float>(r.qmax) - static_cast<float>(zero_point));
  return static_cast<int32_t>(round_half_even(v)) + zero_point;
}

// round(x / scale) + zero_point, saturated, as MLAS's QuantizeLinear computes it.
inline int32_t quantize(float x, float scale, int32_t zero_point, QuantRange r) {
  float v = x / scale;
  const float lo = static_cast<float>(r.qmin) - static_cast<float>(zero_point);
  v = v >= lo ? v : lo;  // NaN -> qmin, as MLAS's max does
  v = std::min(v, static_cast<float>(r.qmax) - static_cast<float>(zero_point));
  return static_cast<int32_t>(round_half_even(v)) + zero_point;
}

// DynamicQuantizeLinear's uint8 parameters for values in [min, max] (ONNX Runtime's formula,
// float throughout): the range is widened to contain 0, an empty range gets scale 1.
inline QuantParams dynamic_uint8_params(float min, float max) {
  min = std::min(min, 0.0f);
  max = std::max(max, 0.0f);
  const float scale = max == min ? 1.0f : (max - min) / 255.0f;
  const float initial_zp = 0.0f - min / scale;
  const float zp = round_half_even(std::max(0.0f, std::min(255.0f, initial_zp)));
  return {scale, static_cast<int32_t>(zp)};
}

// Minimum and maximum of `n` floats (0 and 0 for none).
inline void min_max(const float* x, int64_t n, float& min, float& max) {
  min = n > 0 ? x[0] : 0.0f;
  max = min;
  for (int64_t i = 1; i < n; ++i) {
    min = std::min(min, x[i]);
    max = std::max(max, x[i]);
  }
}

}  // namespace onnxq::exec::quant
