// com.microsoft's QLinear operator-format ops: QLinearAdd, QLinearMul, QLinearGlobalAveragePool
// and QLinearConcat, with ONNX Runtime's (MLAS's SSE2) float arithmetic.
#include <string>

#include "exec/kernel.hpp"
#include "exec/kernels/families.hpp"
#include "exec/kernels/quant_common.hpp"

namespace onnxq::exec {
namespace {

using namespace quant;

void check_8bit(const std::string& op, const Tensor& t, const char* what) {
  if (t.dtype() != DataType::kUInt8 && t.dtype() != DataType::kInt8)
    fail(ExitCode::kUnsupported, op + ": " + what + " must be uint8 or int8, got " + std::string(dtype_name(t.dtype())));
}

// Numpy broadcasting of two shapes: the output shape and each output element's source index.
struct Broadcast {
  Shape shape;
  std::vector<int64_t> a_index, b_index;
  // Which operand stays constant along the innermost run: ONNX Runtime feeds such runs to its
  // kernels as a scalar, which changes QLinearAdd's order of float additions.
  bool a_scalar_runs = false, b_scalar_runs = false;
};

Broadcast broadcast(const std::string& op, const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  auto dim = [&](const Shape& s, size_t i) { return i + s.size() >= rank ? s[i + s.size() - rank] : int64_t{1}; };
  Broadcast out;
  out.shape.resize(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = dim(a, i), db = dim(b, i);
    if (da != db && da != 1 && db != 1)
      fail(ExitCode::kInput, op + ": shapes " + shape_to_string(a) + " and " + shape_to_string(b) + " do not broadcast");
    out.shape[i] = da == 1 ? db : da;
  }
  const int64_t n = shape_numel(out.shape);
  out.a_index.resize(static_cast<size_t>(n));
  out.b_index.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    int64_t rem = i, ia = 0, ib = 0, sa = 1, sb = 1;
    for (size_t d = rank; d-- > 0;) {
      const int64_t idx = rem % out.shape[d];
      rem /= out.shape[d];
      if (dim(a, d) != 1) ia += idx * sa;
      if (dim(b, d) != 1) ib += idx * sb;
      sa *= dim(a, d);
      sb *= dim(b, d);
    }
    out.a_index[static_cast<size_t>(i)] = ia;
    out.b_index[static_cast<size_t>(i)] = ib;
  }
  const int64_t na = shape_numel(a), nb = shape_numel(b);
  if (na != nb || a != b) {
    // The innermost output dimension that is not 1 decides the run type.
    size_t d = rank;
    while (d > 0 && out.shape[d - 1] == 1) --d;
    if (nb == 1) out.b_scalar_runs = true;
    else if (na == 1) out.a_scalar_runs = true;
    else if (d > 0 && dim(b, d - 1) == 1) out.b_scalar_runs = true;
    else if (d > 0 && dim(a, d - 1) == 1) out.a_scalar_runs = true;
  }
  return out;
}

struct BinaryParams {
  float a_scale, b_scale, c_scale;
  int32_t a_zp, b_zp, c_zp;
};

// Inputs A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp (zero points optional).
template <class Fn>
void run_qlinear_binary(KernelIO& io, const std::string& op, Fn&& fn) {
  const Tensor& a = io.input(0);
  const Tensor& b = io.input(3);
  check_8bit(op, a, "A");
  if (b.dtype() != a.dtype()) fail(ExitCode::kInput, op + ": A and B types differ");
  BinaryParams p{};
  p.a_scale = scalar_float(io.input(1), "A_scale");
  p.a_zp = io.has_input(2) ? scalar_int(io.input(2), "A_zero_point") : 0;
  p.b_scale = scalar_float(io.input(4), "B_scale");
  p.b_zp = io.has_input(5) ? scalar_int(io.input(5), "B_zero_point") : 0;
  p.c_scale = scalar_float(io.input(6), "C_scale");
  p.c_zp = io.has_input(7) ? scalar_int(io.input(7), "C_zero_point") : 0;
  const Broadcast bc = broadcast(op, a.shape(), b.shape());
  const QuantRange range = type_range(a.dtype());
  const std::vector<int32_t> av = ints_of(a), bv = ints_of(b);
  std::vector<int32_t> c(bc.a_index.size());
  for (size_t i = 0; i < c.size(); ++i) {
    const int32_t r = fn(av[static_cast<size_t>(bc.a_index[i])], bv[static_cast<size_t>(bc.b_index[i])], p, bc);
    c[i] = std::min(std::max(r, range.qmin), range.qmax);
  }
  Tensor out(a.dtype(), bc.shape);
  store_ints(out, c.data(), 0, out.numel());
  io.set_output(0, std::move(out));
}

std::unique_ptr<OpKernel> make_qlinear_add(const NodeInfo&) {
  return make_kernel([](KernelIO& io) {
    run_qlinear_binary(io, "QLinearAdd", [](int32_t a, int32_t b, const BinaryParams& p, const Broadcast& bc) {
      const float ratio_a = p.a_scale / p.c_scale, ratio_b = p.b_scale / p.c_scale;
      const float za = ratio_a * static_cast<float>(p.a_zp), zb = ratio_b * static_cast<float>(p.b_zp);
      const float fa = static_cast<float>(a) * ratio_a, fb = static_cast<float>(b) * ratio_b;
      const float zc = static_cast<float>(p.c_zp);
      float v;
      if (bc.b_scalar_runs) v = ((zc - (za + zb)) + fb) + fa;
      else if (bc.a_scalar_runs) v = ((zc - (zb + za)) + fa) + fb;  // operands swapped: A is the scalar
      else v = ((zc - (za + zb)) + fa) + fb;
      // Out-of-range floats saturate like the int16/int8 packs that follow the conversion.
      v = std::max(-32768.0f, std::min(32767.0f, v));
      return static_cast<int32_t>(round_half_even(v));
    });
  });
}

std::unique_ptr<OpKernel> make_qlinear_mul(const NodeInfo&) {
  return make_kernel([](KernelIO& io) {
    run_qlinear_binary(io, "QLinearMul", [](int32_t a, int32_t b, const BinaryParams& p, const Broadcast&) {
      const float ratio = p.a_scale * p.b_scale / p.c_scale;
      float v = static_cast<float>((a - p.a_zp) * (b - p.b_zp)) * ratio + static_cast<float>(p.c_zp);
      v = std::max(-32768.0f, std::min(32767.0f, v));
      return static_cast<int32_t>(round_half_even(v));
    });
  });
}

std::unique_ptr<OpKernel> make_qlinear_global_average_pool(const NodeInfo& info) {
  const bool channels_last = info.attr_int("channels_last", 0) != 0;
  return make_kernel([=](KernelIO& io) {
    const std::string op = "QLinearGlobalAveragePool";
    const Tensor& x = io.input(0);
    check_8bit(op, x, "X");
    if (x.rank() < 3) fail(ExitCode::kInput, op + ": X must have rank >= 3, got " + shape_to_string(x.shape()));
    const float x_scale = scalar_float(io.input(1), "x_scale");
    const int32_t x_zp = io.has_input(2) ? scalar_int(io.input(2), "x_zero_point") : 0;
    const float y_scale = scalar_float(io.input(3), "y_scale");
    const int32_t y_zp = io.has_input(4) ? scalar_int(io.input(4), "y_zero_point") : 0;
    const Shape& s = x.shape();
    const int64_t batch = s[0], channels = channels_last ? s.back() : s[1];
    const int64_t image = x.numel() / std::max<int64_t>(1, batch * channels);
    const float scale = x_scale / (y_scale * static_cast<float>(image));
    if (image >= 0x1000000 || !(scale >= 0x1.0p-32f && scale < 256.0f))
      fail(ExitCode::kInput, op + ": scales or image size out of ONNX Runtime's computation range");
    const std::vector<int32_t> xv = ints_of(x);
    const QuantRange range = type_range(x.dtype());
    std::vector<int32_t> y(static_cast<size_t>(batch * channels));
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t c = 0; c < channels; ++c) {
        int32_t acc = -x_zp * static_cast<int32_t>(image);
        for (int64_t i = 0; i < image; ++i)
          acc += xv[static_cast<size_t>(channels_last ? (n * image + i) * channels + c : (n * channels + c) * image + i)];
        y[static_cast<size_t>(n * channels + c)] = requantize(acc, scale, y_zp, range);
      }
    Shape out_shape = s;
    for (size_t d = 1; d < s.size(); ++d)
      if (channels_last ? d + 1 < s.size() : d >= 2) out_shape[d] = 1;
    Tensor out(x.dtype(), out_shape);
    store_ints(out, y.data(), 0, out.numel());
    io.set_output(0, std::move(out));
  });
}

std::unique_ptr<OpKernel> make_qlinear_concat(const NodeInfo& info) {
  const int64_t axis_attr = info.required_int("axis");
  if (info.num_inputs() < 5 || (info.num_inputs() - 2) % 3 != 0)
    info.invalid("expects Y_scale, Y_zero_point and (X, X_scale, X_zero_point) triples");
  return make_kernel([=](KernelIO& io) {
    const std::string op = "QLinearConcat";
    const float y_scale = scalar_float(io.input(0), "Y_scale");
    const Tensor& y_zp_t = io.input(1);
    check_8bit(op, y_zp_t, "Y_zero_point");
    const int32_t y_zp = scalar_int(y_zp_t, "Y_zero_point");
    const QuantRange range = type_range(y_zp_t.dtype());
    const size_t count = (io.num_inputs() - 2) / 3;
    const Shape& first = io.input(2).shape();
    const auto rank = static_cast<int64_t>(first.size());
    const int64_t axis = axis_attr < 0 ? axis_attr + rank : axis_attr;
    if (axis < 0 || axis >= rank) fail(ExitCode::kInput, op + ": axis out of range");
    Shape out_shape = first;
    out_shape[static_cast<size_t>(axis)] = 0;
    for (size_t k = 0; k < count; ++k) {
      const Tensor& x = io.input(2 + 3 * k);
      if (x.dtype() != y_zp_t.dtype()) fail(ExitCode::kInput, op + ": input types differ from Y's");
      for (int64_t d = 0; d < rank; ++d)
        if (d != axis && (x.rank() != first.size() || x.shape()[static_cast<size_t>(d)] != first[static_cast<size_t>(d)]))
          fail(ExitCode::kInput, op + ": input shapes " + shape_to_string(x.shape()) + " and " + shape_to_string(first) + " differ off the axis");
      out_shape[static_cast<size_t>(axis)] += x.shape()[static_cast<size_t>(axis)];
    }
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= first[static_cast<size_t>(d)];
    for (int64_t d = axis + 1; d < rank; ++d) inner *= first[static_cast<size_t>(d)];
    const int64_t out_axis = out_shape[static_cast<size_t>(axis)];
    std::vector<int32_t> y(static_cast<size_t>(shape_numel(out_shape)));
    int64_t offset = 0;
    for (size_t k = 0; k < count; ++k) {
      const Tensor& x = io.input(2 + 3 * k);
      const float x_scale = scalar_float(io.input(3 + 3 * k), "X_scale");
      const int32_t x_zp = io.has_input(4 + 3 * k) ? scalar_int(io.input(4 + 3 * k), "X_zero_point") : 0;
      const bool same = x_scale == y_scale && x_zp == y_zp;
      const int64_t len = x.shape()[static_cast<size_t>(axis)];
      const std::vector<int32_t> xv = ints_of(x);
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < len * inner; ++i) {
          const int32_t q = xv[static_cast<size_t>(o * len * inner + i)];
          y[static_cast<size_t>((o * out_axis + offset) * inner + i)] =
              same ? q : quantize(static_cast<float>(q - x_zp) * x_scale, y_scale, y_zp, range);
        }
      offset += len;
    }
    Tensor out(y_zp_t.dtype(), out_shape);
    store_ints(out, y.data(), 0, out.numel());
    io.set_output(0, std::move(out));
  });
}

}  // namespace

void register_quant(KernelRegistry& registry) {
  const std::string ms = "com.microsoft";
  registry.add("QLinearAdd", make_qlinear_add, 1, 1, ms);
  registry.add("QLinearMul", make_qlinear_mul, 1, 1, ms);
  registry.add("QLinearGlobalAveragePool", make_qlinear_global_average_pool, 1, 1, ms);
  registry.add("QLinearConcat", make_qlinear_concat, 1, 1, ms);
  register_quant_lstm(registry);
  register_qattention(registry);
}

}  // namespace onnxq::exec
