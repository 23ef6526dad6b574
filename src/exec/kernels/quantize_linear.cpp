// QuantizeLinear, DequantizeLinear (ONNX and com.microsoft) and DynamicQuantizeLinear.
// Scales and zero points are per tensor, per axis (opset 13) or per block along an axis
// (opset 21); 4-bit results are packed two per byte, low nibble first.
#include <string>

#include "core/parallel.hpp"
#include "exec/kernel.hpp"
#include "exec/kernels/families.hpp"
#include "exec/kernels/quant_common.hpp"

namespace onnxq::exec {
namespace {

using namespace quant;

// Maps an element of x to its scale/zero-point element.
struct ParamLayout {
  int64_t axis_len = 1, inner = 1, blocks = 1, block = 0;  // block 0: per tensor or per axis
  bool per_tensor = true;

  int64_t index(int64_t i) const {
    if (per_tensor) return 0;
    const int64_t j = (i / inner) % axis_len;
    if (block == 0) return j;
    const int64_t outer = i / (inner * axis_len);
    return (outer * blocks + j / block) * inner + i % inner;
  }
};

ParamLayout param_layout(const std::string& op, const Shape& x, const Tensor& scale, const Tensor* zp, int64_t axis,
                         int64_t block_size, bool allow_axis) {
  if (zp && zp->shape() != scale.shape() && !(zp->numel() == 1 && scale.numel() == 1))
    fail(ExitCode::kInput, op + ": zero point shape " + shape_to_string(zp->shape()) + " differs from scale shape " +
                               shape_to_string(scale.shape()));
  ParamLayout l;
  if (block_size <= 0 && scale.numel() == 1 && scale.rank() <= 1) return l;
  if (!allow_axis) fail(ExitCode::kInput, op + ": scale must be a scalar at this opset");
  const auto rank = static_cast<int64_t>(x.size());
  if (axis < -rank || axis >= rank) fail(ExitCode::kInput, op + ": axis " + std::to_string(axis) + " out of range");
  if (axis < 0) axis += rank;
  l.per_tensor = false;
  l.axis_len = x[static_cast<size_t>(axis)];
  for (int64_t d = axis + 1; d < rank; ++d) l.inner *= x[static_cast<size_t>(d)];
  if (block_size <= 0) {
    if (scale.rank() != 1 || scale.shape()[0] != l.axis_len)
      fail(ExitCode::kInput, op + ": per-axis scale of shape " + shape_to_string(scale.shape()) + " does not match dimension " +
                                 std::to_string(l.axis_len) + " of axis " + std::to_string(axis));
    return l;
  }
  l.block = block_size;
  l.blocks = (l.axis_len + block_size - 1) / block_size;
  Shape expect = x;
  expect[static_cast<size_t>(axis)] = l.blocks;
  if (scale.shape() != expect)
    fail(ExitCode::kInput, op + ": blocked scale shape " + shape_to_string(scale.shape()) + " should be " + shape_to_string(expect));
  return l;
}

DataType checked_quant_type(const std::string& op, DataType t) {
  if (t == DataType::kFloat8E4M3FN || t == DataType::kFloat8E4M3FNUZ || t == DataType::kFloat8E5M2 ||
      t == DataType::kFloat8E5M2FNUZ)
    fail(ExitCode::kUnsupported, op + ": float8 quantization is not implemented");
  if (!is_quant_int_type(t) || t == DataType::kInt32)
    fail(ExitCode::kInput, op + ": unsupported quantized type " + std::string(dtype_name(t)));
  return t;
}

std::unique_ptr<OpKernel> make_quantize(const NodeInfo& info, int64_t opset) {
  const int64_t axis = info.attr_int("axis", 1);
  const int64_t block_size = opset >= 21 ? info.attr_int("block_size", 0) : 0;
  const int64_t output_dtype = opset >= 21 ? info.attr_int("output_dtype", 0) : 0;
  if (block_size < 0) info.invalid("block_size must not be negative");
  return make_kernel([=](KernelIO& io) {
    const Tensor& x = io.input(0);
    const Tensor& scale = io.input(1);
    const Tensor* zp = io.has_input(2) ? &io.input(2) : nullptr;
    DataType out_type = DataType::kUInt8;
    if (zp) out_type = zp->dtype();
    else if (output_dtype != 0) out_type = static_cast<DataType>(output_dtype);
    checked_quant_type("QuantizeLinear", out_type);
    if (output_dtype != 0 && zp && static_cast<DataType>(output_dtype) != zp->dtype())
      fail(ExitCode::kInput, "QuantizeLinear: output_dtype differs from the zero point's type");
    const ParamLayout layout = param_layout("QuantizeLinear", x.shape(), scale, zp, axis, block_size, opset >= 13);
    const std::vector<float> scales = floats_of(scale);
    const std::vector<int32_t> zps = zp ? ints_of(*zp) : std::vector<int32_t>(scales.size(), 0);
    const QuantRange range = type_range(out_type);
    Tensor y(out_type, x.shape());
    std::vector<int32_t> q(static_cast<size_t>(x.numel()));
    const int64_t n = x.numel();
    parallel_for((n + kChunk - 1) / kChunk, io.threads(), [&](int64_t c) {
      const int64_t begin = c * kChunk, end = std::min(n, begin + kChunk);
      for (int64_t i = begin; i < end; ++i) {
        const auto p = static_cast<size_t>(layout.index(i));
        q[static_cast<size_t>(i)] = quantize(float_at(x, i), scales[p], zps[p], range);
      }
      store_ints(y, q.data(), begin, end);
    });
    io.set_output(0, std::move(y));
  });
}

std::unique_ptr<OpKernel> make_dequantize(const NodeInfo& info, int64_t opset) {
  const int64_t axis = info.attr_int("axis", 1);
  const int64_t block_size = opset >= 21 ? info.attr_int("block_size", 0) : 0;
  if (block_size < 0) info.invalid("block_size must not be negative");
  return make_kernel([=](KernelIO& io) {
    const Tensor& x = io.input(0);
    const Tensor& scale = io.input(1);
    const Tensor* zp = io.has_input(2) ? &io.input(2) : nullptr;
    if (x.dtype() != DataType::kInt32) checked_quant_type("DequantizeLinear", x.dtype());
    if (zp && zp->dtype() != x.dtype()) fail(ExitCode::kInput, "DequantizeLinear: zero point type differs from x's");
    const ParamLayout layout = param_layout("DequantizeLinear", x.shape(), scale, zp, axis, block_size, opset >= 13);
    const std::vector<float> scales = floats_of(scale);
    const std::vector<int32_t> zps = zp ? ints_of(*zp) : std::vector<int32_t>(scales.size(), 0);
    Tensor y(scale.dtype(), x.shape());
    const int64_t n = x.numel();
    parallel_for((n + kChunk - 1) / kChunk, io.threads(), [&](int64_t c) {
      const int64_t begin = c * kChunk, end = std::min(n, begin + kChunk);
      for (int64_t i = begin; i < end; ++i) {
        const auto p = static_cast<size_t>(layout.index(i));
        // int32 x: the difference wraps as ONNX Runtime's int32 arithmetic does.
        const auto diff = static_cast<int32_t>(static_cast<uint32_t>(int_at(x, i)) - static_cast<uint32_t>(zps[p]));
        store_float(y, i, static_cast<float>(diff) * scales[p]);
      }
    });
    io.set_output(0, std::move(y));
  });
}

std::unique_ptr<OpKernel> make_dynamic_quantize(const NodeInfo&) {
  return make_kernel([](KernelIO& io) {
    const Tensor& x = io.input(0);
    if (x.dtype() != DataType::kFloat) fail(ExitCode::kUnsupported, "DynamicQuantizeLinear: x must be float32");
    const float* xs = x.data<float>();
    const int64_t n = x.numel();
    float lo = 0, hi = 0;
    min_max(xs, n, lo, hi);
    const QuantParams p = dynamic_uint8_params(lo, hi);
    Tensor y(DataType::kUInt8, x.shape());
    uint8_t* ys = y.data<uint8_t>();
    const QuantRange range{0, 255};
    parallel_for((n + kChunk - 1) / kChunk, io.threads(), [&](int64_t c) {
      const int64_t end = std::min(n, (c + 1) * kChunk);
      for (int64_t i = c * kChunk; i < end; ++i) ys[i] = static_cast<uint8_t>(quantize(xs[i], p.scale, p.zero_point, range));
    });
    io.set_output(0, std::move(y));
    io.set_output(1, Tensor::from_vector<float>({}, {p.scale}));
    io.set_output(2, Tensor::from_vector<uint8_t>({}, {static_cast<uint8_t>(p.zero_point)}));
  });
}

}  // namespace

void register_quantize_linear(KernelRegistry& registry) {
  registry.add("QuantizeLinear", [](const NodeInfo& info) { return make_quantize(info, info.opset()); }, 10);
  registry.add("DequantizeLinear", [](const NodeInfo& info) { return make_dequantize(info, info.opset()); }, 10);
  registry.add("DynamicQuantizeLinear", make_dynamic_quantize, 11);
  // com.microsoft's versions: per tensor or per axis (axis default 1), like ONNX opset 21.
  registry.add("QuantizeLinear", [](const NodeInfo& info) { return make_quantize(info, kMaxKnownOpset); }, 1, 1,
               "com.microsoft");
  registry.add("DequantizeLinear", [](const NodeInfo& info) { return make_dequantize(info, kMaxKnownOpset); }, 1, 1,
               "com.microsoft");
}

}  // namespace onnxq::exec
