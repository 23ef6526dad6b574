#pragma once

// Shape checks of Conv-like ops (Conv, and the integer ConvInteger/QLinearConv): input
// X [N, C, D...], weights W [M, C / group, k...], optional bias B [M].

#include <string>

#include "exec/kernels/window.hpp"

namespace onnxq::exec {

struct ConvShape {
  int64_t batch = 0, in_channels = 0, out_channels = 0, group = 1;
  WindowGeometry geometry;

  Shape output_shape() const;
};

// Throws kInput (prefixed with `op`) when the shapes disagree with each other or with the
// attributes.
ConvShape conv_shape(const Tensor& x, const Tensor& w, const Tensor* bias, const WindowAttrs& attrs,
                     int64_t group, const std::string& op);

}  // namespace onnxq::exec
