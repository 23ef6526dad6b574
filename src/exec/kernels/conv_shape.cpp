#include "exec/kernels/conv_shape.hpp"

namespace onnxq::exec {

Shape ConvShape::output_shape() const {
  Shape s{batch, out_channels};
  s.insert(s.end(), geometry.out.begin(), geometry.out.end());
  return s;
}

ConvShape conv_shape(const Tensor& x, const Tensor& w, const Tensor* bias, const WindowAttrs& attrs,
                     int64_t group, const std::string& op) {
  auto bad = [&](const std::string& what) { fail(ExitCode::kInput, op + ": " + what); };
  if (x.rank() < 3) bad("input must be [N, C, D1, ...], got " + shape_to_string(x.shape()));
  if (w.rank() != x.rank())
    bad("weights " + shape_to_string(w.shape()) + " do not match input " + shape_to_string(x.shape()));
  ConvShape s;
  s.batch = x.shape()[0];
  s.in_channels = x.shape()[1];
  s.out_channels = w.shape()[0];
  s.group = group;
  if (s.in_channels != w.shape()[1] * group)
    bad("input has " + std::to_string(s.in_channels) + " channels, weights expect " +
        std::to_string(w.shape()[1]) + " x group " + std::to_string(group));
  if (s.out_channels % group != 0) bad("output channels are not a multiple of group");
  const std::vector<int64_t> in(x.shape().begin() + 2, x.shape().end());
  const std::vector<int64_t> kernel(w.shape().begin() + 2, w.shape().end());
  if (!attrs.kernel_shape.empty() && attrs.kernel_shape != kernel)
    bad("kernel_shape does not match the weights " + shape_to_string(w.shape()));
  if (bias && (bias->rank() != 1 || bias->shape()[0] != s.out_channels))
    bad("bias " + shape_to_string(bias->shape()) + " does not match " + std::to_string(s.out_channels) +
        " output channels");
  s.geometry = resolve_window(attrs, in, kernel, op);
  return s;
}

}  // namespace onnxq::exec
