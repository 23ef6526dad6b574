#include "exec/kernels/reduce_common.hpp"

#include "exec/dispatch.hpp"
#include "onnxq/float16.hpp"

namespace onnxq::exec {

int64_t normalize_axis(int64_t axis, int64_t rank, const std::string& op) {
  if (rank == 0 && (axis == 0 || axis == -1)) return 0;
  if (axis < -rank || axis >= rank)
    fail(ExitCode::kInput, op + ": axis " + std::to_string(axis) + " is out of range for rank " +
                               std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

std::vector<int64_t> normalize_axes(const std::vector<int64_t>& axes, int64_t rank, const std::string& op) {
  std::vector<int64_t> out;
  for (int64_t a : axes) {
    if (a < -rank || a >= rank)
      fail(ExitCode::kInput, op + ": axis " + std::to_string(a) + " is out of range for rank " +
                                 std::to_string(rank));
    out.push_back(a < 0 ? a + rank : a);
  }
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end())
    fail(ExitCode::kInput, op + ": an axis is repeated");
  return out;
}

std::vector<int64_t> int_values(const Tensor& t, const std::string& op, const char* what) {
  std::vector<int64_t> v(static_cast<size_t>(t.numel()));
  if (t.dtype() == DataType::kInt64)
    std::copy_n(t.data<int64_t>(), v.size(), v.begin());
  else if (t.dtype() == DataType::kInt32)
    std::copy_n(t.data<int32_t>(), v.size(), v.begin());
  else
    fail(ExitCode::kInput, op + ": " + what + " must be int64, not " + std::string(dtype_name(t.dtype())));
  return v;
}

bool is_half(DataType type) { return type == DataType::kFloat16 || type == DataType::kBFloat16; }

Tensor widen_half(const Tensor& t) {
  if (!is_half(t.dtype())) return t;
  Tensor f(DataType::kFloat, t.shape());
  const uint16_t* src = t.data<uint16_t>();
  float* dst = f.data<float>();
  const bool half = t.dtype() == DataType::kFloat16;
  for (int64_t i = 0; i < t.numel(); ++i) dst[i] = half ? half_to_float(src[i]) : bfloat16_to_float(src[i]);
  return f;
}

Tensor narrow_half(const Tensor& f, DataType type) {
  if (!is_half(type) || f.dtype() != DataType::kFloat) return f;
  Tensor t(type, f.shape());
  const float* src = f.data<float>();
  uint16_t* dst = t.data<uint16_t>();
  const bool half = type == DataType::kFloat16;
  for (int64_t i = 0; i < f.numel(); ++i) dst[i] = half ? float_to_half(src[i]) : float_to_bfloat16(src[i]);
  return t;
}

std::vector<double> to_doubles(const Tensor& t, const std::string& op, const char* what) {
  const Tensor w = widen_half(t);
  std::vector<double> v(static_cast<size_t>(w.numel()));
  dispatch_numeric(
      w.dtype(),
      [&]<class T>(T) {
        const T* p = w.data<T>();
        for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(p[i]);
      },
      (op + " " + what).c_str());
  return v;
}

int64_t dims_product(const Shape& shape, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t i = begin; i < end && i < shape.size(); ++i) n *= shape[i];
  return n;
}

Shape reduced_shape(const Shape& shape, const std::vector<int64_t>& axes, bool keepdims) {
  Shape out;
  for (size_t d = 0; d < shape.size(); ++d) {
    const bool reduced = std::binary_search(axes.begin(), axes.end(), static_cast<int64_t>(d));
    if (!reduced)
      out.push_back(shape[d]);
    else if (keepdims)
      out.push_back(1);
  }
  return out;
}

namespace {

struct Dim {
  int64_t size;
  int64_t stride;
};

// Offsets of every index combination of `dims`, row-major.
std::vector<int64_t> all_offsets(const std::vector<Dim>& dims) {
  std::vector<int64_t> out{0};
  for (const Dim& d : dims) {
    std::vector<int64_t> next;
    next.reserve(out.size() * static_cast<size_t>(d.size));
    for (int64_t base : out)
      for (int64_t i = 0; i < d.size; ++i) next.push_back(base + i * d.stride);
    out = std::move(next);
  }
  return out;
}

}  // namespace

ReducePlan make_reduce_plan(const Shape& shape, const std::vector<int64_t>& axes) {
  ReducePlan p;
  p.outputs = 1;
  p.reduced = 1;
  // Merge neighbouring axes of the same kind; size-1 axes change nothing.
  struct Run {
    int64_t size;
    bool reduced;
  };
  std::vector<Run> runs;
  for (size_t d = 0; d < shape.size(); ++d) {
    const bool red = std::binary_search(axes.begin(), axes.end(), static_cast<int64_t>(d));
    (red ? p.reduced : p.outputs) *= shape[d];
    if (shape[d] == 1) continue;
    if (!runs.empty() && runs.back().reduced == red)
      runs.back().size *= shape[d];
    else
      runs.push_back({shape[d], red});
  }
  if (p.outputs == 0) return p;
  if (p.reduced == 0) {  // every output is the empty reduction
    p.inner_reduced = true;
    p.inner = 0;
    p.base.assign(static_cast<size_t>(p.outputs), 0);
    return p;
  }
  if (runs.empty()) runs.push_back({1, true});

  std::vector<Dim> kept, red;
  int64_t stride = 1;
  std::vector<Dim> dims(runs.size());
  for (size_t i = runs.size(); i-- > 0;) {
    dims[i] = {runs[i].size, stride};
    stride *= runs[i].size;
  }
  p.inner_reduced = runs.back().reduced;
  p.inner = runs.back().size;
  for (size_t i = 0; i + 1 < runs.size(); ++i) (runs[i].reduced ? red : kept).push_back(dims[i]);
  p.base = all_offsets(kept);
  p.offsets = all_offsets(red);
  return p;
}

}  // namespace onnxq::exec
