#include "exec/kernels/window.hpp"

#include <algorithm>

namespace onnxq::exec {

namespace {
int64_t product(const std::vector<int64_t>& v) {
  int64_t p = 1;
  for (int64_t x : v) p *= x;
  return p;
}
}  // namespace

int64_t WindowGeometry::in_size() const { return product(in); }
int64_t WindowGeometry::out_size() const { return product(out); }
int64_t WindowGeometry::kernel_size() const { return product(kernel); }

WindowAttrs WindowAttrs::parse(const NodeInfo& info, bool with_ceil_mode) {
  WindowAttrs a;
  a.auto_pad = info.attr_string("auto_pad", "NOTSET");
  if (a.auto_pad.empty()) a.auto_pad = "NOTSET";
  if (a.auto_pad != "NOTSET" && a.auto_pad != "SAME_UPPER" && a.auto_pad != "SAME_LOWER" &&
      a.auto_pad != "VALID")
    info.invalid("unknown auto_pad '" + a.auto_pad + "'");
  a.kernel_shape = info.attr_ints("kernel_shape");
  a.strides = info.attr_ints("strides");
  a.dilations = info.attr_ints("dilations");
  a.pads = info.attr_ints("pads");
  a.ceil_mode = with_ceil_mode && info.attr_int("ceil_mode", 0) != 0;
  for (int64_t k : a.kernel_shape)
    if (k <= 0) info.invalid("kernel_shape values must be positive");
  for (int64_t s : a.strides)
    if (s <= 0) info.invalid("strides must be positive");
  for (int64_t d : a.dilations)
    if (d <= 0) info.invalid("dilations must be positive");
  for (int64_t p : a.pads)
    if (p < 0) info.invalid("pads must not be negative");
  return a;
}

WindowGeometry resolve_window(const WindowAttrs& attrs, const std::vector<int64_t>& in,
                              const std::vector<int64_t>& kernel, const std::string& op) {
  const size_t n = in.size();
  auto bad = [&](const std::string& what) { fail(ExitCode::kInput, op + ": " + what); };
  auto per_axis = [&](const std::vector<int64_t>& v, int64_t fallback, const char* name) {
    if (v.empty()) return std::vector<int64_t>(n, fallback);
    if (v.size() != n)
      bad(std::string(name) + " has " + std::to_string(v.size()) + " values for " + std::to_string(n) +
          " spatial axes");
    return v;
  };
  WindowGeometry g;
  g.in = in;
  g.kernel = kernel;
  if (kernel.size() != n) bad("kernel rank does not match the input's spatial rank");
  g.strides = per_axis(attrs.strides, 1, "strides");
  g.dilations = per_axis(attrs.dilations, 1, "dilations");
  g.pad_begin.assign(n, 0);
  g.pad_end.assign(n, 0);
  g.out.assign(n, 0);
  if (attrs.auto_pad == "NOTSET" && !attrs.pads.empty()) {
    if (attrs.pads.size() != 2 * n)
      bad("pads has " + std::to_string(attrs.pads.size()) + " values, expected " + std::to_string(2 * n));
    std::copy(attrs.pads.begin(), attrs.pads.begin() + static_cast<int64_t>(n), g.pad_begin.begin());
    std::copy(attrs.pads.begin() + static_cast<int64_t>(n), attrs.pads.end(), g.pad_end.begin());
  }
  for (size_t i = 0; i < n; ++i) {
    const int64_t extent = (kernel[i] - 1) * g.dilations[i] + 1;
    if (attrs.auto_pad == "SAME_UPPER" || attrs.auto_pad == "SAME_LOWER") {
      g.out[i] = (in[i] + g.strides[i] - 1) / g.strides[i];
      const int64_t total = std::max<int64_t>(0, (g.out[i] - 1) * g.strides[i] + extent - in[i]);
      const int64_t small = total / 2;
      g.pad_begin[i] = attrs.auto_pad == "SAME_UPPER" ? small : total - small;
      g.pad_end[i] = total - g.pad_begin[i];
      continue;
    }
    const int64_t span = in[i] + g.pad_begin[i] + g.pad_end[i] - extent;
    if (span < 0) bad("the kernel is larger than the padded input");
    g.out[i] = (attrs.ceil_mode ? (span + g.strides[i] - 1) / g.strides[i] : span / g.strides[i]) + 1;
    // A ceil-mode window must still start inside the input or its leading padding.
    if (attrs.ceil_mode && (g.out[i] - 1) * g.strides[i] >= in[i] + g.pad_begin[i]) --g.out[i];
  }
  return g;
}

}  // namespace onnxq::exec
