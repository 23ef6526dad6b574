// ConvInteger and QLinearConv: N-d grouped convolutions of zero-point-corrected integers,
// lowered to integer GEMMs through an im2col of the input. The im2col is private to this
// file (the nn family's shared one was not available when these were written).
#include <string>

#include "exec/kernel.hpp"
#include "exec/kernels/families.hpp"
#include "exec/kernels/int_gemm.hpp"
#include "exec/kernels/quant_common.hpp"

namespace onnxq::exec {
namespace {

using namespace quant;

struct ConvAttrs {
  std::string auto_pad;
  std::vector<int64_t> dilations, kernel_shape, pads, strides;
  int64_t group = 1;
};

ConvAttrs conv_attrs(const NodeInfo& info) {
  ConvAttrs a;
  a.auto_pad = info.attr_string("auto_pad", "NOTSET");
  a.dilations = info.attr_ints("dilations");
  a.kernel_shape = info.attr_ints("kernel_shape");
  a.pads = info.attr_ints("pads");
  a.strides = info.attr_ints("strides");
  a.group = info.attr_int("group", 1);
  if (a.group < 1) info.invalid("group must be positive");
  if (a.auto_pad != "NOTSET" && a.auto_pad != "VALID" && a.auto_pad != "SAME_UPPER" && a.auto_pad != "SAME_LOWER")
    info.invalid("unknown auto_pad '" + a.auto_pad + "'");
  return a;
}

struct ConvGeometry {
  int64_t batch = 0, channels = 0, out_channels = 0, group = 1;
  Shape in, kernel, out;
  std::vector<int64_t> stride, dilation, pad_begin;
  int64_t in_size = 1, kernel_size = 1, out_size = 1;
};

ConvGeometry conv_geometry(const std::string& op, const ConvAttrs& a, const Shape& x, const Shape& w) {
  auto bad = [&](const std::string& why) { fail(ExitCode::kInput, op + ": " + why); };
  if (x.size() < 3 || w.size() != x.size()) bad("X " + shape_to_string(x) + " and W " + shape_to_string(w) + " must have equal rank >= 3");
  const size_t nd = x.size() - 2;
  ConvGeometry g;
  g.batch = x[0];
  g.channels = x[1];
  g.out_channels = w[0];
  g.group = a.group;
  if (g.channels != w[1] * g.group || g.out_channels % g.group != 0)
    bad("channels of X " + shape_to_string(x) + " and W " + shape_to_string(w) + " do not match group " + std::to_string(g.group));
  auto attr = [&](const std::vector<int64_t>& v, size_t n, int64_t fallback, const char* name) {
    if (v.empty()) return std::vector<int64_t>(n, fallback);
    if (v.size() != n) bad(std::string(name) + " has " + std::to_string(v.size()) + " values, expected " + std::to_string(n));
    return v;
  };
  g.stride = attr(a.strides, nd, 1, "strides");
  g.dilation = attr(a.dilations, nd, 1, "dilations");
  const std::vector<int64_t> pads = attr(a.pads, 2 * nd, 0, "pads");
  g.in.assign(x.begin() + 2, x.end());
  g.kernel.assign(w.begin() + 2, w.end());
  if (!a.kernel_shape.empty() && a.kernel_shape != g.kernel) bad("kernel_shape differs from W's spatial shape");
  g.pad_begin.resize(nd);
  g.out.resize(nd);
  for (size_t d = 0; d < nd; ++d) {
    if (g.stride[d] < 1 || g.dilation[d] < 1) bad("strides and dilations must be positive");
    const int64_t extent = (g.kernel[d] - 1) * g.dilation[d] + 1;
    int64_t pb = pads[d], pe = pads[d + nd];
    if (a.auto_pad == "VALID") {
      pb = pe = 0;
    } else if (a.auto_pad != "NOTSET") {
      const int64_t out = (g.in[d] + g.stride[d] - 1) / g.stride[d];
      const int64_t total = std::max<int64_t>(0, (out - 1) * g.stride[d] + extent - g.in[d]);
      pb = a.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      pe = total - pb;
    }
    g.pad_begin[d] = pb;
    const int64_t span = g.in[d] + pb + pe - extent;
    if (span < 0) bad("kernel is larger than the padded input");
    g.out[d] = span / g.stride[d] + 1;
    g.in_size *= g.in[d];
    g.kernel_size *= g.kernel[d];
    g.out_size *= g.out[d];
  }
  return g;
}

// Rows: output positions; columns: (channel of the group, kernel offset). Padding reads 0,
// which is the zero point once x has been corrected by it.
void im2col_rows(const ConvGeometry& g, const int32_t* x, int64_t channels, std::vector<int32_t>& col) {
  const size_t nd = g.in.size();
  const int64_t row = channels * g.kernel_size;
  col.assign(static_cast<size_t>(g.out_size * row), 0);
  std::vector<int64_t> o(nd), k(nd);
  for (int64_t p = 0; p < g.out_size; ++p) {
    for (int64_t rem = p, d = static_cast<int64_t>(nd) - 1; d >= 0; --d) {
      o[static_cast<size_t>(d)] = rem % g.out[static_cast<size_t>(d)];
      rem /= g.out[static_cast<size_t>(d)];
    }
    for (int64_t kk = 0; kk < g.kernel_size; ++kk) {
      int64_t offset = 0;
      bool inside = true;
      for (int64_t rem = kk, d = static_cast<int64_t>(nd) - 1; d >= 0; --d) {
        const auto du = static_cast<size_t>(d);
        k[du] = rem % g.kernel[du];
        rem /= g.kernel[du];
      }
      for (size_t d = 0; d < nd; ++d) {
        const int64_t pos = o[d] * g.stride[d] - g.pad_begin[d] + k[d] * g.dilation[d];
        if (pos < 0 || pos >= g.in[d]) {
          inside = false;
          break;
        }
        offset = offset * g.in[d] + pos;
      }
      if (!inside) continue;
      for (int64_t c = 0; c < channels; ++c)
        col[static_cast<size_t>(p * row + c * g.kernel_size + kk)] = x[c * g.in_size + offset];
    }
  }
}

// Per-tensor or per-output-channel values of a zero point or scale input.
template <class T>
std::vector<T> per_channel(const std::string& op, const char* what, std::vector<T> v, int64_t channels) {
  if (v.size() == 1) return std::vector<T>(static_cast<size_t>(channels), v[0]);
  if (static_cast<int64_t>(v.size()) != channels)
    fail(ExitCode::kInput, op + ": " + what + " must have 1 or " + std::to_string(channels) + " elements");
  return v;
}

// acc[n][m][position] of the zero-point-corrected convolution.
std::vector<int32_t> integer_conv(const ConvGeometry& g, const Tensor& x, int32_t x_zp, const Tensor& w,
                                  const std::vector<int32_t>& w_zp, int threads) {
  const int64_t cg = g.channels / g.group, mg = g.out_channels / g.group, row = cg * g.kernel_size;
  std::vector<int32_t> xs = ints_of(x);
  for (int32_t& v : xs) v -= x_zp;
  std::vector<int32_t> ws = ints_of(w);
  for (int64_t m = 0; m < g.out_channels; ++m)
    for (int64_t i = 0; i < row; ++i) ws[static_cast<size_t>(m * row + i)] -= w_zp[static_cast<size_t>(m)];
  std::vector<int32_t> acc(static_cast<size_t>(g.batch * g.out_channels * g.out_size));
  std::vector<int32_t> col;
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t gi = 0; gi < g.group; ++gi) {
      im2col_rows(g, xs.data() + (n * g.channels + gi * cg) * g.in_size, cg, col);
      int_gemm(mg, g.out_size, row, ws.data() + gi * mg * row, col.data(),
               acc.data() + (n * g.out_channels + gi * mg) * g.out_size, threads);
    }
  return acc;
}

Shape output_shape(const ConvGeometry& g) {
  Shape s{g.batch, g.out_channels};
  s.insert(s.end(), g.out.begin(), g.out.end());
  return s;
}

void check_8bit(const std::string& op, const Tensor& t, const char* what) {
  if (t.dtype() != DataType::kUInt8 && t.dtype() != DataType::kInt8)
    fail(ExitCode::kUnsupported, op + ": " + what + " must be uint8 or int8, got " + std::string(dtype_name(t.dtype())));
}

std::unique_ptr<OpKernel> make_conv_integer(const NodeInfo& info) {
  const ConvAttrs attrs = conv_attrs(info);
  return make_kernel([=](KernelIO& io) {
    const std::string op = "ConvInteger";
    const Tensor& x = io.input(0);
    const Tensor& w = io.input(1);
    check_8bit(op, x, "X");
    check_8bit(op, w, "W");
    const ConvGeometry g = conv_geometry(op, attrs, x.shape(), w.shape());
    const int32_t x_zp = io.has_input(2) ? scalar_int(io.input(2), "ConvInteger: x_zero_point") : 0;
    const auto w_zp = per_channel(op, "w_zero_point", io.has_input(3) ? ints_of(io.input(3)) : std::vector<int32_t>{0}, g.out_channels);
    io.set_output(0, Tensor::from_vector<int32_t>(output_shape(g), integer_conv(g, x, x_zp, w, w_zp, io.threads())));
  });
}

std::unique_ptr<OpKernel> make_qlinear_conv(const NodeInfo& info) {
  const ConvAttrs attrs = conv_attrs(info);
  return make_kernel([=](KernelIO& io) {
    const std::string op = "QLinearConv";
    const Tensor& x = io.input(0);
    const Tensor& w = io.input(3);
    check_8bit(op, x, "X");
    check_8bit(op, w, "W");
    const ConvGeometry g = conv_geometry(op, attrs, x.shape(), w.shape());
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
    for (size_t i = 0; i < acc.size(); ++i) {
      const auto m = static_cast<size_t>((static_cast<int64_t>(i) / g.out_size) % g.out_channels);
      const float multiplier = x_scale * w_scale[m] / y_scale;
      acc[i] = requantize(static_cast<int32_t>(static_cast<uint32_t>(acc[i]) + static_cast<uint32_t>(bias[m])), multiplier, y_zp, range);
    }
    Tensor y(y_zp_t.dtype(), output_shape(g));
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
