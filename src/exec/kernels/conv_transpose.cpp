// ConvTranspose as the adjoint of Conv: per group, col = W^T x X (GEMM), then col2im adds
// each column entry into the output position a Conv would have read it from.

#include <algorithm>
#include <string>
#include <vector>

#include "exec/dispatch.hpp"
#include "exec/gemm.hpp"
#include "exec/kernel.hpp"
#include "exec/kernels/families.hpp"
#include "exec/kernels/im2col.hpp"

namespace onnxq::exec {

namespace {

struct TransposeAttrs {
  WindowAttrs window;
  int64_t group = 1;
  std::vector<int64_t> output_padding, output_shape;
};

// The output dims and the Conv geometry whose adjoint this is: geometry.in is the output's
// spatial dims, geometry.out the input's.
WindowGeometry transpose_geometry(const TransposeAttrs& a, const std::vector<int64_t>& in,
                                  const std::vector<int64_t>& kernel) {
  const size_t n = in.size();
  auto bad = [](const std::string& what) { fail(ExitCode::kInput, "ConvTranspose: " + what); };
  auto per_axis = [&](const std::vector<int64_t>& v, int64_t fallback, const char* name) {
    if (v.empty()) return std::vector<int64_t>(n, fallback);
    if (v.size() != n) bad(std::string(name) + " needs one value per spatial axis");
    return v;
  };
  WindowGeometry g;
  g.out = in;
  g.kernel = kernel;
  g.strides = per_axis(a.window.strides, 1, "strides");
  g.dilations = per_axis(a.window.dilations, 1, "dilations");
  const std::vector<int64_t> out_pad = per_axis(a.output_padding, 0, "output_padding");
  std::vector<int64_t> out_shape = a.output_shape;
  if (out_shape.size() > n) out_shape.erase(out_shape.begin(), out_shape.end() - static_cast<int64_t>(n));
  if (!out_shape.empty() && out_shape.size() != n) bad("output_shape needs one value per spatial axis");
  g.in.assign(n, 0);
  g.pad_begin.assign(n, 0);
  g.pad_end.assign(n, 0);
  const std::string& mode = a.window.auto_pad;
  for (size_t i = 0; i < n; ++i) {
    const int64_t full = g.strides[i] * (in[i] - 1) + out_pad[i] + (kernel[i] - 1) * g.dilations[i] + 1;
    if (!out_shape.empty() || mode == "SAME_UPPER" || mode == "SAME_LOWER") {
      g.in[i] = !out_shape.empty() ? out_shape[i] : in[i] * g.strides[i];
      // An output_shape beyond the full output makes the padding negative; halving
      // rounds toward -inf, so the extra elements go to the end as with output_padding.
      const int64_t total = full - g.in[i];
      const int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
      g.pad_begin[i] = mode == "SAME_UPPER" ? half : total - half;
      g.pad_end[i] = total - g.pad_begin[i];
    } else {
      if (mode == "NOTSET" && !a.window.pads.empty()) {
        if (a.window.pads.size() != 2 * n) bad("pads needs two values per spatial axis");
        g.pad_begin[i] = a.window.pads[i];
        g.pad_end[i] = a.window.pads[i + n];
      }
      g.in[i] = full - g.pad_begin[i] - g.pad_end[i];
    }
    if (g.in[i] <= 0) bad("the output would be empty");
  }
  return g;
}

template <class T>
void conv_transpose(const Tensor& x, const Tensor& w, const Tensor* b, int64_t group, const WindowGeometry& g,
                    Tensor& y, int threads) {
  const int64_t N = x.shape()[0], C = x.shape()[1], Cg = C / group, Mg = w.shape()[1], M = Mg * group;
  const int64_t K = g.kernel_size(), in_size = g.out_size(), out_size = g.in_size();
  const T* px = x.data<T>();
  const T* pw = w.data<T>();
  T* py = y.data<T>();
  std::vector<T> col(static_cast<size_t>(Mg * K * in_size));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t grp = 0; grp < group; ++grp) {
      const T* xg = px + (n * C + grp * Cg) * in_size;
      const T* wg = pw + grp * Cg * Mg * K;
      if constexpr (std::is_same_v<T, float>)
        gemm_f32(true, false, Mg * K, in_size, Cg, 1.0f, wg, Mg * K, xg, in_size, 0.0f, col.data(), in_size, threads);
      else
        gemm_f64(true, false, Mg * K, in_size, Cg, 1.0, wg, Mg * K, xg, in_size, 0.0, col.data(), in_size, threads);
      T* yg = py + (n * M + grp * Mg) * out_size;
      if (b)
        for (int64_t m = 0; m < Mg; ++m)
          std::fill(yg + m * out_size, yg + (m + 1) * out_size, b->data<T>()[grp * Mg + m]);
      col2im_add(col.data(), Mg, g, yg, threads);
    }
}

std::unique_ptr<OpKernel> make_conv_transpose(const NodeInfo& info) {
  TransposeAttrs a;
  a.window = WindowAttrs::parse(info, false);
  a.group = info.attr_int("group", 1);
  if (a.group <= 0) info.invalid("group must be positive");
  a.output_padding = info.attr_ints("output_padding");
  a.output_shape = info.attr_ints("output_shape");
  return make_kernel([=](KernelIO& io) {
    const Tensor& x = io.input(0);
    const Tensor& w = io.input(1);
    const Tensor* b = io.has_input(2) ? &io.input(2) : nullptr;
    auto bad = [](const std::string& what) { fail(ExitCode::kInput, "ConvTranspose: " + what); };
    if (x.rank() < 3 || w.rank() != x.rank())
      bad("input " + shape_to_string(x.shape()) + " and weights " + shape_to_string(w.shape()) +
          " must be [N, C, D...] and [C, M / group, k...]");
    if (w.dtype() != x.dtype() || (b && b->dtype() != x.dtype())) bad("X, W and B must have the same element type");
    if (x.shape()[1] != w.shape()[0] || x.shape()[1] % a.group != 0)
      bad("input channels " + std::to_string(x.shape()[1]) + " do not match weights " + shape_to_string(w.shape()) +
          " and group " + std::to_string(a.group));
    const int64_t M = w.shape()[1] * a.group;
    if (b && (b->rank() != 1 || b->shape()[0] != M)) bad("bias does not match " + std::to_string(M) + " output channels");
    const std::vector<int64_t> in(x.shape().begin() + 2, x.shape().end());
    const std::vector<int64_t> kernel(w.shape().begin() + 2, w.shape().end());
    if (!a.window.kernel_shape.empty() && a.window.kernel_shape != kernel)
      bad("kernel_shape does not match the weights " + shape_to_string(w.shape()));
    const WindowGeometry g = transpose_geometry(a, in, kernel);
    Shape out_shape{x.shape()[0], M};
    out_shape.insert(out_shape.end(), g.in.begin(), g.in.end());
    Tensor y(x.dtype(), out_shape);
    if (y.numel() > 0 && x.numel() > 0)
      dispatch_float(x.dtype(), [&]<class T>(T) { conv_transpose<T>(x, w, b, a.group, g, y, io.threads()); },
                     "ConvTranspose");
    io.set_output(0, std::move(y));
  });
}

}  // namespace

void register_conv_transpose(KernelRegistry& registry) { registry.add("ConvTranspose", make_conv_transpose, 1); }

}  // namespace onnxq::exec
