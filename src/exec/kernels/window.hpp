#pragma once

// The sliding-window geometry Conv and the pooling ops share: kernel, strides, dilations,
// pads and auto_pad, resolved against an input's spatial dims into output dims and the
// padding actually applied at each end.

#include <string>
#include <vector>

#include "exec/kernel.hpp"

namespace onnxq::exec {

struct WindowAttrs {
  std::string auto_pad = "NOTSET";
  std::vector<int64_t> kernel_shape;  // empty: taken from the weights (Conv)
  std::vector<int64_t> strides, dilations, pads;
  bool ceil_mode = false;

  // Reads the attributes; checks what can be checked without the input.
  static WindowAttrs parse(const NodeInfo& info, bool with_ceil_mode);
};

struct WindowGeometry {
  std::vector<int64_t> in, out, kernel, strides, dilations, pad_begin, pad_end;

  size_t rank() const { return in.size(); }
  int64_t in_size() const;
  int64_t out_size() const;
  int64_t kernel_size() const;
};

// Resolves `attrs` for spatial input dims `in` and kernel dims `kernel`; throws kInput
// (prefixed with `op`) on inconsistent attributes or an empty output.
WindowGeometry resolve_window(const WindowAttrs& attrs, const std::vector<int64_t>& in,
                              const std::vector<int64_t>& kernel, const std::string& op);

}  // namespace onnxq::exec
