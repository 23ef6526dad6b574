// ArgMax, ArgMin and TopK: index-returning reductions along one axis. Ties go to the
// lower index (ArgMax/ArgMin: the higher one with select_last_index); NaN counts as the
// largest value, as numpy's argmax and sort do.

#include <algorithm>
#include <cmath>
#include <numeric>
#include <type_traits>

#include "exec/dispatch.hpp"
#include "exec/kernel.hpp"
#include "exec/kernels/families.hpp"
#include "exec/kernels/reduce_common.hpp"

namespace onnxq::exec {
namespace {

template <class T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(v);
  return false;
}

// Strict "a ranks above b" for the largest-first order (NaN on top); equal values do not.
template <class T>
bool above(T a, T b) {
  if (is_nan(a) || is_nan(b)) return is_nan(a) && !is_nan(b);
  return a > b;
}

struct ArgAttrs {
  std::string op;
  bool max;
  int64_t axis;
  bool keepdims;
  bool select_last;
};

template <class T>
void arg_typed(const ArgAttrs& a, const T* x, int64_t* y, int64_t outer, int64_t n, int64_t inner, int threads) {
  // `v` replaces the current best `b` when it ranks strictly better, or equally with
  // select_last_index.
  auto better = [&](T v, T b) {
    if (is_nan(b)) return a.select_last && is_nan(v);
    if (is_nan(v)) return true;
    if (a.max ? v > b : v < b) return true;
    return a.select_last && v == b;
  };
  parallel_rows(outer * inner, n, threads, [&](int64_t r) {
    const int64_t o = r / inner, i = r % inner;
    const T* p = x + o * n * inner + i;
    int64_t best = 0;
    for (int64_t k = 1; k < n; ++k)
      if (better(p[k * inner], p[best * inner])) best = k;
    y[r] = best;
  });
}

void run_arg(const ArgAttrs& a, KernelIO& io) {
  const Tensor x = widen_half(io.input(0));
  const int64_t rank = static_cast<int64_t>(x.rank());
  const int64_t axis = normalize_axis(a.axis, rank, a.op);
  const size_t ax = static_cast<size_t>(axis);
  const int64_t n = rank == 0 ? 1 : x.shape()[ax];
  if (n == 0) fail(ExitCode::kInput, a.op + ": the reduced axis is empty");
  const int64_t outer = dims_product(x.shape(), 0, ax), inner = dims_product(x.shape(), ax + 1, x.rank());
  Tensor y(DataType::kInt64, rank == 0 ? Shape{} : reduced_shape(x.shape(), {axis}, a.keepdims));
  dispatch_numeric(
      x.dtype(), [&]<class T>(T) { arg_typed<T>(a, x.data<T>(), y.data<int64_t>(), outer, n, inner, io.threads()); },
      a.op.c_str());
  io.set_output(0, y);
}

KernelFactory arg_factory(bool max) {
  return [max](const NodeInfo& info) {
    ArgAttrs a{info.op_type(), max, info.attr_int("axis", 0), info.attr_int("keepdims", 1) != 0,
               info.attr_int("select_last_index", 0) != 0};
    return make_kernel([a](KernelIO& io) { run_arg(a, io); });
  };
}

struct TopKAttrs {
  bool k_from_input;
  int64_t k;
  int64_t axis;
  bool largest;
};

template <class T>
void topk_typed(const TopKAttrs& a, const T* x, T* values, int64_t* indices, int64_t outer, int64_t n,
                int64_t inner, int64_t k, int threads) {
  // Ties keep the lower index first, so the order is total and the result unique.
  parallel_rows(outer * inner, n, threads, [&](int64_t r) {
    const int64_t o = r / inner, i = r % inner;
    const T* p = x + o * n * inner + i;
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), int64_t{0});
    auto first = [&](int64_t l, int64_t m) {
      const T vl = p[l * inner], vm = p[m * inner];
      if (a.largest ? above(vl, vm) : above(vm, vl)) return true;
      if (a.largest ? above(vm, vl) : above(vl, vm)) return false;
      return l < m;
    };
    std::partial_sort(order.begin(), order.begin() + k, order.end(), first);
    const int64_t out = o * k * inner + i;
    for (int64_t j = 0; j < k; ++j) {
      values[out + j * inner] = p[order[static_cast<size_t>(j)] * inner];
      indices[out + j * inner] = order[static_cast<size_t>(j)];
    }
  });
}

void run_topk(const TopKAttrs& a, KernelIO& io) {
  const Tensor& input = io.input(0);
  const Tensor x = widen_half(input);
  const int64_t rank = static_cast<int64_t>(x.rank());
  if (rank == 0) fail(ExitCode::kInput, "TopK: the input must have at least one dimension");
  const size_t ax = static_cast<size_t>(normalize_axis(a.axis, rank, "TopK"));
  int64_t k = a.k;
  if (a.k_from_input) {
    const auto kv = int_values(io.input(1), "TopK", "K");
    if (kv.size() != 1) fail(ExitCode::kInput, "TopK: K must hold exactly one value");
    k = kv[0];
  }
  const int64_t n = x.shape()[ax];
  if (k < 0 || k > n)
    fail(ExitCode::kInput, "TopK: k = " + std::to_string(k) + " is outside [0, " + std::to_string(n) + "]");
  Shape out_shape = x.shape();
  out_shape[ax] = k;
  const int64_t outer = dims_product(x.shape(), 0, ax), inner = dims_product(x.shape(), ax + 1, x.rank());
  Tensor values(x.dtype(), out_shape), indices(DataType::kInt64, out_shape);
  dispatch_numeric(
      x.dtype(),
      [&]<class T>(T) {
        topk_typed<T>(a, x.data<T>(), values.data<T>(), indices.data<int64_t>(), outer, n, inner, k, io.threads());
      },
      "TopK");
  io.set_output(0, narrow_half(values, input.dtype()));
  io.set_output(1, indices);
}

KernelFactory topk_factory(bool k_from_input) {
  return [k_from_input](const NodeInfo& info) {
    // `sorted` = 0 leaves the order unspecified; sorted output is a valid answer.
    TopKAttrs a{k_from_input, k_from_input ? 0 : info.required_int("k"), info.attr_int("axis", -1),
                info.attr_int("largest", 1) != 0};
    return make_kernel([a](KernelIO& io) { run_topk(a, io); });
  };
}

}  // namespace

void register_arg_topk(KernelRegistry& registry) {
  registry.add("ArgMax", arg_factory(true));
  registry.add("ArgMin", arg_factory(false));
  registry.add("TopK", topk_factory(false), 1, 9);
  registry.add("TopK", topk_factory(true), 10);
}

}  // namespace onnxq::exec
