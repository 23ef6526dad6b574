// Ops that create tensors from attributes or a few scalars: Constant, ConstantOfShape,
// Range, EyeLike, OneHot.

#include <algorithm>
#include <cmath>

#include "exec/dispatch.hpp"
#include "exec/kernel.hpp"
#include "exec/kernels/families.hpp"
#include "exec/kernels/shape_util.hpp"

namespace onnxq::exec {

namespace {

std::unique_ptr<OpKernel> make_constant(const NodeInfo& info) {
  Tensor value;
  int given = 0;
  if (info.has_attr("value")) {
    value = *info.attr_tensor("value");
    ++given;
  }
  if (info.has_attr("value_float")) {
    value = Tensor::from_vector<float>({}, {info.attr_float("value_float", 0.0f)});
    ++given;
  }
  if (info.has_attr("value_floats")) {
    const std::vector<float> v = info.attr_floats("value_floats");
    value = Tensor::from_vector<float>({static_cast<int64_t>(v.size())}, v);
    ++given;
  }
  if (info.has_attr("value_int")) {
    value = Tensor::from_vector<int64_t>({}, {info.attr_int("value_int", 0)});
    ++given;
  }
  if (info.has_attr("value_ints")) {
    const std::vector<int64_t> v = info.attr_ints("value_ints");
    value = Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v);
    ++given;
  }
  for (const char* name : {"sparse_value", "value_string", "value_strings"})
    if (info.has_attr(name)) info.unsupported(std::string("attribute '") + name + "' is not supported");
  if (given != 1) info.invalid("needs exactly one value attribute, has " + std::to_string(given));
  return make_kernel([value](KernelIO& io) { io.set_output(0, value); });
}

std::unique_ptr<OpKernel> make_constant_of_shape(const NodeInfo& info) {
  const Tensor value = info.has_attr("value") ? *info.attr_tensor("value") : scalar_of(DataType::kFloat, 0.0);
  if (value.numel() != 1) info.invalid("value must have one element");
  return make_kernel([value](KernelIO& io) {
    const std::vector<int64_t> shape = read_ints("ConstantOfShape", io.input(0), "shape");
    for (int64_t d : shape)
      if (d < 0) shape_fail("ConstantOfShape", "dim " + std::to_string(d) + " is negative");
    io.set_output(0, filled(shape, value, "ConstantOfShape"));
  });
}

std::unique_ptr<OpKernel> make_range(const NodeInfo&) {
  return make_kernel([](KernelIO& io) {
    const Tensor& start_t = io.input(0);
    const Tensor& limit_t = io.input(1);
    const Tensor& delta_t = io.input(2);
    if (start_t.dtype() != limit_t.dtype() || start_t.dtype() != delta_t.dtype())
      shape_fail("Range", "start, limit and delta must have the same element type");
    if (start_t.numel() != 1 || limit_t.numel() != 1 || delta_t.numel() != 1)
      shape_fail("Range", "start, limit and delta must be scalars");
    dispatch_numeric(start_t.dtype(), [&]<class T>(T) {
      const T start = start_t.data<T>()[0], limit = limit_t.data<T>()[0], delta = delta_t.data<T>()[0];
      if (delta == T(0)) shape_fail("Range", "delta is 0");
      const double span = std::ceil((static_cast<double>(limit) - static_cast<double>(start)) / static_cast<double>(delta));
      const int64_t n = span > 0 ? static_cast<int64_t>(span) : 0;
      Tensor y(start_t.dtype(), {n});
      T* out = y.data<T>();
      for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(start + static_cast<T>(i) * delta);
      io.set_output(0, std::move(y));
    }, "Range");
  });
}

std::unique_ptr<OpKernel> make_eye_like(const NodeInfo& info) {
  const int64_t k = info.attr_int("k", 0);
  std::optional<DataType> dtype;
  if (info.has_attr("dtype")) {
    dtype = dtype_from_onnx(static_cast<int32_t>(info.attr_int("dtype", 0)));
    if (!dtype) info.invalid("unknown dtype " + std::to_string(info.attr_int("dtype", 0)));
  }
  return make_kernel([=](KernelIO& io) {
    const Tensor& x = io.input(0);
    if (x.rank() != 2) shape_fail("EyeLike", "input must be 2-D, not " + shape_to_string(x.shape()));
    const DataType type = dtype.value_or(x.dtype());
    const Tensor one = scalar_of(type, 1.0);
    Tensor y(type, x.shape());
    const int64_t rows = x.shape()[0], cols = x.shape()[1];
    dispatch_storage(type, [&]<class T>(T) {
      T* out = y.storage<T>();
      for (int64_t i = std::max<int64_t>(0, -k); i < rows && i + k < cols; ++i) out[i * cols + i + k] = one.storage<T>()[0];
    }, "EyeLike");
    io.set_output(0, std::move(y));
  });
}

// Integer value of a numeric scalar or tensor element, truncating floats as a cast does.
std::vector<int64_t> as_int64(const Tensor& t) {
  std::vector<int64_t> out(static_cast<size_t>(t.numel()));
  dispatch_numeric(t.dtype(), [&]<class T>(T) {
    const T* v = t.data<T>();
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<int64_t>(v[i]);
  }, "OneHot");
  return out;
}

std::unique_ptr<OpKernel> make_one_hot(const NodeInfo& info) {
  const int64_t axis_attr = info.attr_int("axis", -1);
  return make_kernel([=](KernelIO& io) {
    const Tensor& indices_t = io.input(0);
    const Tensor& depth_t = io.input(1);
    const Tensor& values = io.input(2);
    if (depth_t.numel() != 1) shape_fail("OneHot", "depth must have one element");
    if (values.numel() != 2) shape_fail("OneHot", "values must have two elements [off, on]");
    const int64_t depth = as_int64(depth_t)[0];
    if (depth < 1) shape_fail("OneHot", "depth " + std::to_string(depth) + " must be positive");
    const std::vector<int64_t> indices = as_int64(indices_t);
    const int64_t out_rank = static_cast<int64_t>(indices_t.rank()) + 1;
    const size_t axis = static_cast<size_t>(normalize_axis("OneHot", axis_attr, out_rank));
    Shape out_shape = indices_t.shape();
    out_shape.insert(out_shape.begin() + static_cast<int64_t>(axis), depth);
    const int64_t outer = product(indices_t.shape(), 0, axis);
    const int64_t inner = product(indices_t.shape(), axis, indices_t.rank());
    Tensor y(values.dtype(), out_shape);
    dispatch_storage(values.dtype(), [&]<class T>(T) {
      const T off = values.storage<T>()[0], on = values.storage<T>()[1];
      T* out = y.storage<T>();
      std::fill_n(out, y.numel(), off);
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          int64_t v = indices[static_cast<size_t>(o * inner + i)];
          if (v < 0) v += depth;
          // Out-of-range indices give a row of `off`, as the spec says.
          if (v >= 0 && v < depth) out[(o * depth + v) * inner + i] = on;
        }
    }, "OneHot");
    io.set_output(0, std::move(y));
  });
}

}  // namespace

void register_generator_ops(KernelRegistry& registry) {
  registry.add("Constant", make_constant);
  registry.add("ConstantOfShape", make_constant_of_shape, 9);
  registry.add("Range", make_range, 11);
  registry.add("EyeLike", make_eye_like, 9);
  registry.add("OneHot", make_one_hot, 9);
}

}  // namespace onnxq::exec
