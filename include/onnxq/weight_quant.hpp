#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "onnxq/quant_math.hpp"
#include "onnxq/tensor.hpp"

namespace onnxq {

// How one float weight becomes integers.
struct WeightQuantSpec {
  DataType type = DataType::kInt8;
  bool symmetric = true;
  bool reduce_range = false;
  // -1: one scale for the tensor. Otherwise one scale per index along `axis`, or, with
  // `block_size` > 0, one per `block_size` consecutive elements along `axis` (opset 21
  // blocked layout: scale shape = input shape with that axis divided, rounded up).
  int axis = -1;
  int block_size = 0;
  // Smallest scale per scale slot (one value: for all), e.g. so that an int32 bias quantized at
  // input scale x weight scale fits; a slot below it gets its range widened to reach it. Empty:
  // no floor.
  std::vector<float> min_scale;

  bool operator==(const WeightQuantSpec&) const = default;
};

struct QuantizedWeight {
  Tensor values;      // `type`, same shape as the input (4-bit packed two per byte)
  Tensor scale;       // float32: scalar, [dim(axis)], or the blocked shape
  Tensor zero_point;  // `type`, the shape of `scale`
  double sqnr_db = 0;  // of the dequantized weight against the float one
};

// Quantizes a float32 weight; kInput on NaN or infinite values (naming nothing: the caller
// adds the tensor's name), kUnsupported on other element types. The result is the same for
// any number of threads (0: all cores).
QuantizedWeight quantize_weight(const Tensor& weight, const WeightQuantSpec& spec, int threads = 1);
// The same for float32 data of `shape` at any address (a weight read in place from a mapped
// model file, where protobuf put it at whatever offset), without copying it.
QuantizedWeight quantize_weight(std::span<const std::byte> float_data, const Shape& shape, const WeightQuantSpec& spec,
                                int threads = 1);

// The float values a quantized weight stands for.
Tensor dequantize_weight(const QuantizedWeight& q, const WeightQuantSpec& spec);

// Reads element i of an integer tensor of any quantized type (4-bit unpacked) as int32, and
// writes one; used by packers and kernels alike.
int32_t read_quantized(const Tensor& t, int64_t i);
void write_quantized(Tensor& t, int64_t i, int32_t value);

}  // namespace onnxq
