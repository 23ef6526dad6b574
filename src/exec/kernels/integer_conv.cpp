// ConvInteger and QLinearConv: N-d grouped convolutions of zero-point-corrected integers,
// lowered to integer GEMMs through the shared im2col (padding reads 0, which is the zero point
// once x has been corrected by it).
#include <string>

#include "exec/kernel.hpp"
#include "exec/kernels/conv_shape.hpp"
#include "exec/kernels/families.hpp"
#include "exec/kernels/im2col.hpp"
#include "exec/kernels/int_gemm.hpp"
#include "exec/kernels/quant_common.hpp"

namespace onnxq::exec {
namespace {

using namespace quant;

// Per-tensor or per-output-channel values of a zero point or scale input.
template <class T>
std::vector<T> per_channel(const std::string& op, const char* what, std::vector<T> v, int64_t channels) {
  if (v.size() == 1) return std::vector<T>(static_cast<size_t>(channels), v[0]);
  if (static_cast<int64_t>(v.size()) != channels)
    fail(ExitCode::kInput, op + ": " + what + " must have 1 or " + std::to_string(channels) + " elements");
  return v;
}

// acc[n][m][position] of the zero-point-corrected convolution.
std::vector<int32_t> integer_conv(const ConvShape& s, const Tensor& x, int32_t x_zp, const Tensor& w,
                                  const std::vector<int32_t>& w_zp, int threads) {
  const WindowGeometry& g = s.geometry;
  const int64_t cg = s.in_channels / s.group, mg = s.out_channels / s.group, row = cg * g.kernel_size();
  const int64_t in_size = g.in_size(), out_size = g.out_size();
  std::vector<int32_t> xs = ints_of(x);
  for (int32_t& v : xs) v -= x_zp;
  std::vector<int32_t> ws = ints_of(w);
  for (int64_t m = 0; m < s.out_channels; ++m)
    for (int64_t i = 0; i < row; ++i) ws[static_cast<size_t>(m * row + i)] -= w_zp[static_cast<size_t>(m)];
  std::vector<int32_t> acc(static_cast<size_t>(s.batch * s.out_channels * out_size));
  std::vector<int32_t> col(static_cast<size_t>(row * out_size));
  for (int64_t n = 0; n < s.batch; ++n)
    for (int64_t gi = 0; gi < s.group; ++gi) {
      im2col<int32_t>(xs.data() + (n * s.in_channels + gi * cg) * in_size, cg, g, 0, col.data(), threads);
      int_gemm_nn(mg, out_size, row, ws.data() + gi * mg * row, col.data(),
                  acc.data() + (n * s.out_channels + gi * mg) * out_size, threads);
    }
  return acc;
}

void check_8bit(const std::string& op, const Tensor& t, const char* what) {
  if (t.dtype() != DataType::kUInt8 && t.dtype() != DataType::kInt8)
    fail(ExitCode::kUnsupported, op + ": " + what + " must be uint8 or int8, got " + std::string(dtype_name(t.dtype())));
}

std::unique_ptr<OpKernel> make_conv_integer(const NodeInfo& info) {
  const WindowAttrs attrs = WindowAttrs::parse(info, false);
  const int64_t group = info.attr_int("group", 1);
  return make_kernel([=](KernelIO& io) {
    const std::string op = "ConvInteger";
    const Tensor& x = io.input(0);
    const Tensor& w = io.input(1);
    check_8bit(op, x, "X");
    check_8bit(op, w, "W");
    const ConvShape g = conv_shape(x, w, nullptr, attrs, group, op);
    const int32_t x_zp = io.has_input(2) ? scalar_int(io.input(2), "ConvInteger: x_zero_point") : 0;
    const auto w_zp = per_channel(op, "w_zero_point", io.has_input(3) ? ints_of(io.input(3)) : std::vector<int32_t>{0}, g.out_channels);
    io.set_output(0, Tensor::from_vector<int32_t>(g.output_shape(), integer_conv(g, x, x_zp, w, w_zp, io.threads())));
  });
}

std::unique_ptr<OpKernel> make_qlinear_conv(const NodeInfo& info) {
  const WindowAttrs attrs = WindowAttrs::parse(info, false);
  const int64_t group = info.attr_int("group", 1);
  return make_kernel([=](KernelIO& io) {
    const std::string op = "QLinearConv";
    const Tensor& x = io.input(0);
    const Tensor& w = io.input(3);
    check_8bit(op, x, "X");
    check_8bit(op, w, "W");
    const ConvShape g = conv_shape(x, w, nullptr, attrs, group, op);
    const float x_scale = scalar_float(io.input(1), "QLinearConv: x_scale");
    const int32_t x_zp = scalar_int(io.input(2), "QLinearConv: x_zero_point");
    const auto w_scale = per_channel(op, "w_scale", floats_of(io.input(4)), g.out_channels);
    const auto w_zp = per_channel(op, "w_zero_point", ints_of(io.input(5)), g.out_channels);
    const float y_scale = scalar_float(io.input(6), "QLinearConv: y_scale");
    const Tensor& y_zp_t = io.input(7);
    check_8bit(op, y_zp_t, "y_zero_point");
    const int32_t y_zp = scalar_int(y_zp_t, "QLinearConv: y_zero_point");
    std::vector<int32_t> bias(static_cast<size_t>(g.out_channels), 0);
    if (io.has_input(8)) {
      const Tensor& b = io.input(8);
      if (b.dtype() != DataType::kInt32 || b.numel() != g.out_channels)
        fail(ExitCode::kInput, op + ": B must be int32 with one value per output channel");
      bias.assign(b.data<int32_t>(), b.data<int32_t>() + b.numel());
    }
    std::vector<int32_t> acc = integer_conv(g, x, x_zp, w, w_zp, io.threads());
    const QuantRange range = type_range(y_zp_t.dtype());
    const int64_t positions = g.geometry.out_size();
    for (size_t i = 0; i < acc.size(); ++i) {
      const auto m = static_cast<size_t>((static_cast<int64_t>(i) / positions) % g.out_channels);
      const float multiplier = x_scale * w_scale[m] / y_scale;
      acc[i] = requantize(static_cast<int32_t>(static_cast<uint32_t>(acc[i]) + static_cast<uint32_t>(bias[m])), multiplier, y_zp, range);
    }
    Tensor y(y_zp_t.dtype(), g.output_shape());
    store_ints(y, acc.data(), 0, y.numel());
    io.set_output(0, std::move(y));
  });
}

}  // namespace

void register_integer_conv(KernelRegistry& registry) {
  registry.add("ConvInteger", make_conv_integer, 10);
  registry.add("QLinearConv", make_qlinear_conv, 10);
}

}  // namespace onnxq::exec
