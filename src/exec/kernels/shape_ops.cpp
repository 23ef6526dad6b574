// Ops that change only a tensor's shape (the output shares the input's buffer) or report it:
// Shape, Size, Reshape, Flatten, Squeeze, Unsqueeze.

#include <algorithm>

#include "exec/kernel.hpp"
#include "exec/kernels/families.hpp"
#include "exec/kernels/shape_util.hpp"

namespace onnxq::exec {

namespace {

Tensor int64_vector(const std::vector<int64_t>& values) {
  return Tensor::from_vector<int64_t>({static_cast<int64_t>(values.size())}, values);
}

std::unique_ptr<OpKernel> make_shape(const NodeInfo& info) {
  const bool sliced = info.opset() >= 15;
  const int64_t start_attr = sliced ? info.attr_int("start", 0) : 0;
  const std::optional<int64_t> end_attr =
      sliced && info.has_attr("end") ? std::optional<int64_t>(info.attr_int("end", 0)) : std::nullopt;
  return make_kernel([=](KernelIO& io) {
    const Shape& shape = io.input(0).shape();
    const int64_t rank = static_cast<int64_t>(shape.size());
    auto clamp = [&](int64_t v) { return std::clamp(v < 0 ? v + rank : v, int64_t{0}, rank); };
    const int64_t start = clamp(start_attr);
    const int64_t end = std::max(start, end_attr ? clamp(*end_attr) : rank);
    io.set_output(0, int64_vector(Shape(shape.begin() + start, shape.begin() + end)));
  });
}

std::unique_ptr<OpKernel> make_size(const NodeInfo&) {
  return make_kernel([](KernelIO& io) {
    io.set_output(0, Tensor::from_vector<int64_t>({}, {io.input(0).numel()}));
  });
}

// The target shape with 0 (copy the input dim, unless allowzero) and -1 (inferred) resolved.
Shape reshape_target(const std::string& op, const Shape& in, std::vector<int64_t> dims, bool allowzero) {
  int64_t infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == 0 && !allowzero) {
      if (i >= in.size()) shape_fail(op, "dim " + std::to_string(i) + " is 0 but the input has rank " + std::to_string(in.size()));
      dims[i] = in[i];
    }
    if (dims[i] == -1) {
      if (infer >= 0) shape_fail(op, "more than one dim is -1");
      infer = static_cast<int64_t>(i);
      continue;
    }
    if (dims[i] < 0) shape_fail(op, "dim " + std::to_string(dims[i]) + " is invalid");
    known *= dims[i];
  }
  const int64_t numel = shape_numel(in);
  if (infer >= 0) {
    if (known == 0 || numel % known != 0)
      shape_fail(op, "cannot infer the -1 dim of " + shape_to_string(dims) + " for input " + shape_to_string(in));
    dims[static_cast<size_t>(infer)] = numel / known;
  } else if (known != numel) {
    shape_fail(op, "cannot reshape " + shape_to_string(in) + " to " + shape_to_string(dims));
  }
  return dims;
}

std::unique_ptr<OpKernel> make_reshape(const NodeInfo& info) {
  const bool allowzero = info.opset() >= 14 && info.attr_int("allowzero", 0) != 0;
  if (info.opset() < 5) {
    const std::vector<int64_t> dims = info.attr_ints("shape");
    return make_kernel([=](KernelIO& io) {
      const Tensor& x = io.input(0);
      io.set_output(0, x.reshaped(reshape_target("Reshape", x.shape(), dims, false)));
    });
  }
  return make_kernel([=](KernelIO& io) {
    const Tensor& x = io.input(0);
    std::vector<int64_t> dims = read_ints("Reshape", io.input(1), "shape");
    if (allowzero && std::count(dims.begin(), dims.end(), 0) > 0 &&
        std::count(dims.begin(), dims.end(), -1) > 0)
      shape_fail("Reshape", "allowzero forbids 0 and -1 in the same shape");
    io.set_output(0, x.reshaped(reshape_target("Reshape", x.shape(), std::move(dims), allowzero)));
  });
}

std::unique_ptr<OpKernel> make_flatten(const NodeInfo& info) {
  const int64_t axis_attr = info.attr_int("axis", 1);
  return make_kernel([=](KernelIO& io) {
    const Tensor& x = io.input(0);
    const int64_t rank = static_cast<int64_t>(x.rank());
    if (axis_attr < -rank || axis_attr > rank)
      shape_fail("Flatten", "axis " + std::to_string(axis_attr) + " is out of range for rank " + std::to_string(rank));
    const size_t axis = static_cast<size_t>(axis_attr < 0 ? axis_attr + rank : axis_attr);
    io.set_output(0, x.reshaped({product(x.shape(), 0, axis), product(x.shape(), axis, x.rank())}));
  });
}

std::unique_ptr<OpKernel> make_squeeze(const NodeInfo& info) {
  const bool from_input = info.opset() >= 13;
  const std::optional<std::vector<int64_t>> attr_axes =
      !from_input && info.has_attr("axes") ? std::optional(info.attr_ints("axes")) : std::nullopt;
  return make_kernel([=](KernelIO& io) {
    const Tensor& x = io.input(0);
    const int64_t rank = static_cast<int64_t>(x.rank());
    std::optional<std::vector<int64_t>> axes = from_input && io.has_input(1)
        ? std::optional(read_ints("Squeeze", io.input(1), "axes")) : attr_axes;
    std::vector<bool> drop(x.rank(), false);
    if (axes) {
      for (int64_t a : normalize_axes("Squeeze", *axes, rank)) {
        if (x.shape()[static_cast<size_t>(a)] != 1)
          shape_fail("Squeeze", "axis " + std::to_string(a) + " has size " +
                                    std::to_string(x.shape()[static_cast<size_t>(a)]) + ", not 1");
        drop[static_cast<size_t>(a)] = true;
      }
    } else {
      for (size_t i = 0; i < x.rank(); ++i) drop[i] = x.shape()[i] == 1;
    }
    Shape out;
    for (size_t i = 0; i < x.rank(); ++i)
      if (!drop[i]) out.push_back(x.shape()[i]);
    io.set_output(0, x.reshaped(out));
  });
}

std::unique_ptr<OpKernel> make_unsqueeze(const NodeInfo& info) {
  const bool from_input = info.opset() >= 13;
  const std::vector<int64_t> attr_axes = from_input ? std::vector<int64_t>{} : info.attr_ints("axes");
  if (!from_input && !info.has_attr("axes")) info.invalid("missing required attribute 'axes'");
  return make_kernel([=](KernelIO& io) {
    const Tensor& x = io.input(0);
    const std::vector<int64_t> axes = from_input ? read_ints("Unsqueeze", io.input(1), "axes") : attr_axes;
    const int64_t out_rank = static_cast<int64_t>(x.rank() + axes.size());
    std::vector<bool> inserted(static_cast<size_t>(out_rank), false);
    for (int64_t a : normalize_axes("Unsqueeze", axes, out_rank)) inserted[static_cast<size_t>(a)] = true;
    Shape out;
    size_t next = 0;
    for (int64_t i = 0; i < out_rank; ++i) out.push_back(inserted[static_cast<size_t>(i)] ? 1 : x.shape()[next++]);
    io.set_output(0, x.reshaped(out));
  });
}

}  // namespace

void register_shape_ops(KernelRegistry& registry) {
  registry.add("Shape", make_shape);
  registry.add("Size", make_size);
  registry.add("Reshape", make_reshape);
  registry.add("Flatten", make_flatten);
  registry.add("Squeeze", make_squeeze);
  registry.add("Unsqueeze", make_unsqueeze);
}

}  // namespace onnxq::exec
