// Pad (constant/reflect/edge/wrap) and Tile: outputs whose every element is a copy of an
// input element (or the pad value) found through a per-axis coordinate table.

#include <algorithm>

#include "exec/dispatch.hpp"
#include "exec/kernel.hpp"
#include "exec/kernels/families.hpp"
#include "exec/kernels/shape_util.hpp"

namespace onnxq::exec {

namespace {

// For each axis, the input coordinate of every output coordinate, or -1 for the pad value.
using AxisMaps = std::vector<std::vector<int64_t>>;

template <class T>
void gather_by_maps(const T* x, const Shape& in_shape, T* y, const Shape& out_shape, const AxisMaps& maps, T pad) {
  const size_t rank = out_shape.size();
  const std::vector<int64_t> strides = strides_of(in_shape);
  const int64_t inner = out_shape[rank - 1];
  const int64_t rows = product(out_shape, 0, rank - 1);
  const std::vector<int64_t>& last = maps[rank - 1];
  std::vector<int64_t> idx(rank, 0);
  for (int64_t row = 0; row < rows; ++row) {
    T* out = y + row * inner;
    bool padded = false;
    int64_t base = 0;
    for (size_t k = 0; k + 1 < rank; ++k) {
      const int64_t i = maps[k][static_cast<size_t>(idx[k])];
      padded = padded || i < 0;
      base += i * strides[k];
    }
    if (padded) {
      std::fill_n(out, inner, pad);
    } else {
      for (int64_t j = 0; j < inner; ++j) out[j] = last[static_cast<size_t>(j)] < 0 ? pad : x[base + last[static_cast<size_t>(j)]];
    }
    for (size_t k = rank - 1; k-- > 0;) {
      if (++idx[k] < out_shape[k]) break;
      idx[k] = 0;
    }
  }
}

enum class PadMode { kConstant, kReflect, kEdge, kWrap };

// Negative pads crop first; the mode then pads what remains, as the ONNX reference does.
std::vector<int64_t> pad_map(int64_t dim, int64_t before, int64_t after, PadMode mode) {
  const int64_t crop_lo = std::max<int64_t>(0, -before);
  const int64_t kept = dim - crop_lo - std::max<int64_t>(0, -after);
  const int64_t lo = std::max<int64_t>(0, before);
  const int64_t out_dim = kept + lo + std::max<int64_t>(0, after);
  std::vector<int64_t> map(static_cast<size_t>(out_dim));
  for (int64_t o = 0; o < out_dim; ++o) {
    int64_t j = o - lo;
    if (j < 0 || j >= kept) {
      switch (mode) {
        case PadMode::kConstant: j = -1; break;
        case PadMode::kEdge: j = std::clamp<int64_t>(j, 0, kept - 1); break;
        case PadMode::kWrap: j = ((j % kept) + kept) % kept; break;
        case PadMode::kReflect: {
          if (kept == 1) {
            j = 0;
            break;
          }
          const int64_t period = 2 * (kept - 1);
          j = ((j % period) + period) % period;
          if (j >= kept) j = period - j;
          break;
        }
      }
    }
    map[static_cast<size_t>(o)] = j < 0 ? -1 : j + crop_lo;
  }
  return map;
}

Tensor pad(const Tensor& x, const std::vector<int64_t>& pads_in, const std::vector<int64_t>& axes_in,
           PadMode mode, const Tensor& value) {
  const int64_t rank = static_cast<int64_t>(x.rank());
  std::vector<int64_t> axes = axes_in;
  if (axes.empty())
    for (int64_t a = 0; a < rank; ++a) axes.push_back(a);
  axes = normalize_axes("Pad", axes, rank);
  if (pads_in.size() != 2 * axes.size())
    shape_fail("Pad", std::to_string(pads_in.size()) + " pads for " + std::to_string(axes.size()) + " axes");
  std::vector<int64_t> before(x.rank(), 0), after(x.rank(), 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    before[static_cast<size_t>(axes[i])] = pads_in[i];
    after[static_cast<size_t>(axes[i])] = pads_in[i + axes.size()];
  }
  Shape out_shape(x.rank());
  AxisMaps maps(x.rank());
  for (size_t k = 0; k < x.rank(); ++k) {
    const int64_t dim = x.shape()[k];
    if (dim + before[k] + after[k] < 0 || dim + std::min<int64_t>(before[k], 0) + std::min<int64_t>(after[k], 0) < 0)
      shape_fail("Pad", "pads " + std::to_string(before[k]) + ", " + std::to_string(after[k]) +
                            " remove more than the dim " + std::to_string(dim));
    const int64_t kept = dim + std::min<int64_t>(before[k], 0) + std::min<int64_t>(after[k], 0);
    if (kept == 0 && mode != PadMode::kConstant && (before[k] > 0 || after[k] > 0))
      shape_fail("Pad", "cannot pad an empty axis in this mode");
    maps[k] = pad_map(dim, before[k], after[k], mode);
    out_shape[k] = static_cast<int64_t>(maps[k].size());
  }
  Tensor y(x.dtype(), out_shape);
  if (y.numel() == 0) return y;
  if (x.rank() == 0) return x.clone();
  dispatch_storage(x.dtype(), [&]<class T>(T) {
    gather_by_maps(x.storage<T>(), x.shape(), y.storage<T>(), out_shape, maps, value.storage<T>()[0]);
  }, "Pad");
  return y;
}

PadMode parse_mode(const NodeInfo& info) {
  const std::string mode = info.attr_string("mode", "constant");
  if (mode == "constant") return PadMode::kConstant;
  if (mode == "reflect") return PadMode::kReflect;
  if (mode == "edge") return PadMode::kEdge;
  if (mode == "wrap") return PadMode::kWrap;
  info.invalid("unknown mode '" + mode + "'");
}

std::unique_ptr<OpKernel> make_pad(const NodeInfo& info) {
  const PadMode mode = parse_mode(info);
  if (info.opset() < 11) {
    const char* name = info.opset() < 2 ? "paddings" : "pads";
    if (!info.has_attr(name)) info.invalid(std::string("missing required attribute '") + name + "'");
    const std::vector<int64_t> pads = info.attr_ints(name);
    const float value = info.attr_float("value", 0.0f);
    return make_kernel([=](KernelIO& io) {
      const Tensor& x = io.input(0);
      io.set_output(0, pad(x, pads, {}, mode, scalar_of(x.dtype(), value)));
    });
  }
  return make_kernel([=](KernelIO& io) {
    const Tensor& x = io.input(0);
    const std::vector<int64_t> pads = read_ints("Pad", io.input(1), "pads");
    Tensor value = scalar_of(x.dtype(), 0.0);
    if (io.has_input(2) && io.input(2).numel() > 0) {
      value = io.input(2);
      if (value.dtype() != x.dtype()) shape_fail("Pad", "constant_value has a different element type than data");
      if (value.numel() != 1) shape_fail("Pad", "constant_value must have one element");
    }
    std::vector<int64_t> axes;
    if (io.has_input(3)) axes = read_ints("Pad", io.input(3), "axes");
    io.set_output(0, pad(x, pads, axes, mode, value));
  });
}

std::unique_ptr<OpKernel> make_tile(const NodeInfo&) {
  return make_kernel([](KernelIO& io) {
    const Tensor& x = io.input(0);
    const std::vector<int64_t> repeats = read_ints("Tile", io.input(1), "repeats");
    if (repeats.size() != x.rank())
      shape_fail("Tile", std::to_string(repeats.size()) + " repeats for rank " + std::to_string(x.rank()));
    Shape out_shape(x.rank());
    AxisMaps maps(x.rank());
    for (size_t k = 0; k < x.rank(); ++k) {
      if (repeats[k] < 0) shape_fail("Tile", "repeat " + std::to_string(repeats[k]) + " is negative");
      out_shape[k] = x.shape()[k] * repeats[k];
      maps[k].resize(static_cast<size_t>(out_shape[k]));
      for (int64_t o = 0; o < out_shape[k]; ++o) maps[k][static_cast<size_t>(o)] = o % x.shape()[k];
    }
    Tensor y(x.dtype(), out_shape);
    if (y.numel() > 0) {
      if (x.rank() == 0) {
        y = x.clone();
      } else {
        dispatch_storage(x.dtype(), [&]<class T>(T) {
          gather_by_maps(x.storage<T>(), x.shape(), y.storage<T>(), out_shape, maps, T{});
        }, "Tile");
      }
    }
    io.set_output(0, std::move(y));
  });
}

}  // namespace

void register_pad_ops(KernelRegistry& registry) {
  registry.add("Pad", make_pad);
  registry.add("Tile", make_tile, 6);
}

}  // namespace onnxq::exec
