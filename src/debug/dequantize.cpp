#include "debug/dequantize.hpp"

#include <algorithm>
#include <vector>

#include "onnxq/float16.hpp"
#include "onnxq/quant_math.hpp"
#include "onnxq/weight_quant.hpp"

namespace onnxq::debug {

Tensor float_scale(const Tensor& scale) {
  if (scale.dtype() == DataType::kFloat) return scale;
  Tensor out(DataType::kFloat, scale.shape());
  if (scale.dtype() == DataType::kFloat16) {
    for (int64_t i = 0; i < scale.numel(); ++i) out.data<float>()[i] = half_to_float(scale.data<uint16_t>()[i]);
    return out;
  }
  fail(ExitCode::kUnsupported, std::string("scale of type ") + std::string(dtype_name(scale.dtype())) +
                                   " (float32 and float16 are read)");
}

namespace {

// Maps element i of a tensor of `shape` to its scale: 0 for one scale, else by axis or block.
struct ScaleIndex {
  bool per_tensor = true;
  int64_t dim = 1, inner = 1, blocks = 0, block_size = 0;

  int64_t operator()(int64_t i) const {
    if (per_tensor) return 0;
    const int64_t along = (i / inner) % dim;
    if (block_size > 0) return (i / (inner * dim)) * blocks * inner + (along / block_size) * inner + i % inner;
    return along;
  }
};

ScaleIndex scale_index(const Shape& shape, const Tensor& scale, const Tensor& zero_point, QuantLayout layout,
                       const std::string& what);

}  // namespace

Tensor dequantize(const Tensor& values, const Tensor& scale_in, const Tensor& zero_point, QuantLayout layout,
                  const std::string& what) {
  const Tensor scale = float_scale(scale_in);
  const ScaleIndex index = scale_index(values.shape(), scale, zero_point, layout, what);
  const bool has_zp = zero_point.defined() && zero_point.numel() > 0;
  Tensor out = Tensor::uninitialized(DataType::kFloat, values.shape());
  float* dst = out.data<float>();
  const float* s = scale.data<float>();
  for (int64_t i = 0; i < values.numel(); ++i) {
    const int64_t k = index(i);
    const int32_t zp = has_zp ? read_quantized(zero_point, k) : 0;
    dst[i] = static_cast<float>(read_quantized(values, i) - zp) * s[k];
  }
  return out;
}

Tensor quantize_dequantize(const Tensor& x, const Tensor& scale_in, const Tensor& zero_point, QuantLayout layout,
                           const std::string& what) {
  const Tensor scale = float_scale(scale_in);
  const ScaleIndex index = scale_index(x.shape(), scale, zero_point, layout, what);
  const bool has_zp = zero_point.defined() && zero_point.numel() > 0;
  const QuantRange range = quant_range(has_zp ? zero_point.dtype() : DataType::kUInt8, false, false);
  std::vector<QuantParams> params(static_cast<size_t>(scale.numel()));
  for (int64_t k = 0; k < scale.numel(); ++k)
    params[static_cast<size_t>(k)] = {scale.data<float>()[k], has_zp ? read_quantized(zero_point, k) : 0};
  Tensor out = Tensor::uninitialized(DataType::kFloat, x.shape());
  const float* src = x.data<float>();
  float* dst = out.data<float>();
  const int64_t n = x.numel();
  if (index.per_tensor) {
    const QuantParams p = params[0];
    for (int64_t i = 0; i < n; ++i) dst[i] = dequantize_value(quantize_value(src[i], p, range), p);
    return out;
  }
  for (int64_t i = 0; i < n; ++i) {
    const QuantParams& p = params[static_cast<size_t>(index(i))];
    dst[i] = dequantize_value(quantize_value(src[i], p, range), p);
  }
  return out;
}

namespace {

ScaleIndex scale_index(const Shape& shape, const Tensor& scale, const Tensor& zero_point, QuantLayout layout,
                       const std::string& what) {
  const int64_t n = shape_numel(shape);
  const bool has_zp = zero_point.defined() && zero_point.numel() > 0;
  if (has_zp && zero_point.numel() != scale.numel())
    fail(ExitCode::kInput, what + ": zero point has " + std::to_string(zero_point.numel()) + " values, scale " +
                               std::to_string(scale.numel()));
  ScaleIndex index;
  index.per_tensor = scale.numel() == 1 && layout.block_size == 0;
  if (index.per_tensor) return index;
  int axis = layout.axis < 0 ? layout.axis + static_cast<int>(shape.size()) : layout.axis;
  if (axis < 0 || axis >= static_cast<int>(shape.size()))
    fail(ExitCode::kInput, what + ": quantization axis " + std::to_string(layout.axis) + " out of range for " +
                               shape_to_string(shape));
  index.dim = shape[static_cast<size_t>(axis)];
  for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) index.inner *= shape[d];
  index.block_size = layout.block_size;
  index.blocks = layout.block_size > 0 ? (index.dim + layout.block_size - 1) / layout.block_size : 0;
  const int64_t outer = index.dim * index.inner == 0 ? 0 : n / (index.dim * index.inner);
  const int64_t expected = layout.block_size > 0 ? outer * index.blocks * index.inner : index.dim;
  if (scale.numel() != expected)
    fail(ExitCode::kInput, what + ": " + std::to_string(scale.numel()) + " scales for " + shape_to_string(shape) +
                               " along axis " + std::to_string(axis) +
                               (layout.block_size > 0 ? " in blocks of " + std::to_string(layout.block_size) : "") +
                               " (expected " + std::to_string(expected) + ")");
  return index;
}

}  // namespace

QuantParamSummary summarize_params(const Tensor& scale_in, const Tensor& zero_point) {
  const Tensor scale = float_scale(scale_in);
  QuantParamSummary p;
  p.count = scale.numel();
  if (p.count == 0) return p;
  const float* s = scale.data<float>();
  p.scale_min = *std::min_element(s, s + p.count);
  p.scale_max = *std::max_element(s, s + p.count);
  if (zero_point.defined() && zero_point.numel() > 0) {
    p.zero_point_min = p.zero_point_max = read_quantized(zero_point, 0);
    for (int64_t i = 1; i < zero_point.numel(); ++i) {
      const int32_t z = read_quantized(zero_point, i);
      p.zero_point_min = std::min(p.zero_point_min, z);
      p.zero_point_max = std::max(p.zero_point_max, z);
    }
  }
  return p;
}

}  // namespace onnxq::debug
