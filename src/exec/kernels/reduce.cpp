// ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2, ReduceLogSum,
// ReduceLogSumExp, ReduceSumSquare. Floats accumulate in double and integers in 64 bits
// (wrapping like the element type), always in the plan's fixed order.

#include <cmath>
#include <limits>
#include <type_traits>

#include "exec/dispatch.hpp"
#include "exec/kernel.hpp"
#include "exec/kernels/families.hpp"
#include "exec/kernels/reduce_common.hpp"

namespace onnxq::exec {
namespace {

enum class Reduction { kSum, kMean, kMax, kMin, kProd, kL1, kL2, kLogSum, kLogSumExp, kSumSquare };

struct ReduceAttrs {
  Reduction kind;
  std::string op;
  bool keepdims;
  bool noop_with_empty_axes;
  bool axes_from_input;
  std::vector<int64_t> axes;
};

// double -> integer element without undefined behaviour on NaN or overflow.
template <class T>
T to_element(double v) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    if (std::isnan(v)) return T{0};
    if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  }
}

template <class T>
T lowest_value() {
  if constexpr (std::is_floating_point_v<T>) return -std::numeric_limits<T>::infinity();
  return std::numeric_limits<T>::lowest();
}

template <class T>
T highest_value() {
  if constexpr (std::is_floating_point_v<T>) return std::numeric_limits<T>::infinity();
  return std::numeric_limits<T>::max();
}

// NaN wins, as in numpy's maximum/minimum.
template <class T>
T max_step(T a, T v) {
  if constexpr (std::is_floating_point_v<T>)
    if (std::isnan(a) || std::isnan(v)) return std::isnan(a) ? a : v;
  return v > a ? v : a;
}
template <class T>
T min_step(T a, T v) {
  if constexpr (std::is_floating_point_v<T>)
    if (std::isnan(a) || std::isnan(v)) return std::isnan(a) ? a : v;
  return v < a ? v : a;
}

template <class T>
void reduce_typed(Reduction kind, const ReducePlan& p, const T* x, T* y, int threads) {
  constexpr bool kFloat = std::is_floating_point_v<T>;
  // Integers sum in uint64: modular arithmetic wraps exactly like T once narrowed.
  using Sum = std::conditional_t<kFloat, double, uint64_t>;
  auto widen = [](T v) -> Sum {
    if constexpr (kFloat || std::is_unsigned_v<T>)
      return static_cast<Sum>(v);
    else
      return static_cast<Sum>(static_cast<int64_t>(v));
  };
  auto magnitude = [&](T v) -> Sum {
    if constexpr (kFloat)
      return std::abs(static_cast<double>(v));
    else if constexpr (std::is_unsigned_v<T>)
      return static_cast<Sum>(v);
    else
      return static_cast<Sum>(v < 0 ? -static_cast<int64_t>(v) : static_cast<int64_t>(v));
  };
  auto narrow = [](Sum a, int64_t) { return static_cast<T>(a); };
  const double count = static_cast<double>(p.reduced);

  switch (kind) {
    case Reduction::kSum:
      return run_reduce(p, x, y, Sum{0}, [&](Sum a, T v, int64_t) { return a + widen(v); }, narrow, threads);
    case Reduction::kSumSquare:
      return run_reduce(p, x, y, Sum{0}, [&](Sum a, T v, int64_t) { return a + widen(v) * widen(v); }, narrow,
                        threads);
    case Reduction::kL1:
      return run_reduce(p, x, y, Sum{0}, [&](Sum a, T v, int64_t) { return a + magnitude(v); }, narrow, threads);
    case Reduction::kProd:
      return run_reduce(p, x, y, Sum{1}, [&](Sum a, T v, int64_t) { return a * widen(v); }, narrow, threads);
    case Reduction::kMax:
      return run_reduce(p, x, y, lowest_value<T>(), [](T a, T v, int64_t) { return max_step(a, v); },
                        [](T a, int64_t) { return a; }, threads);
    case Reduction::kMin:
      return run_reduce(p, x, y, highest_value<T>(), [](T a, T v, int64_t) { return min_step(a, v); },
                        [](T a, int64_t) { return a; }, threads);
    case Reduction::kMean:
      return run_reduce(p, x, y, 0.0, [](double a, T v, int64_t) { return a + static_cast<double>(v); },
                        [&](double a, int64_t) { return to_element<T>(a / count); }, threads);
    case Reduction::kL2:
      return run_reduce(
          p, x, y, 0.0, [](double a, T v, int64_t) { return a + static_cast<double>(v) * static_cast<double>(v); },
          [](double a, int64_t) { return to_element<T>(std::sqrt(a)); }, threads);
    case Reduction::kLogSum:
      return run_reduce(p, x, y, 0.0, [](double a, T v, int64_t) { return a + static_cast<double>(v); },
                        [](double a, int64_t) { return to_element<T>(std::log(a)); }, threads);
    case Reduction::kLogSumExp: {
      // Shift by each output's maximum so exp() cannot overflow.
      std::vector<double> shift(static_cast<size_t>(p.outputs));
      run_reduce(
          p, x, shift.data(), -std::numeric_limits<double>::infinity(),
          [](double a, T v, int64_t) { return max_step(a, static_cast<double>(v)); },
          [](double a, int64_t) { return std::isfinite(a) ? a : 0.0; }, threads);
      return run_reduce(
          p, x, y, 0.0,
          [&](double a, T v, int64_t o) { return a + std::exp(static_cast<double>(v) - shift[static_cast<size_t>(o)]); },
          [&](double a, int64_t o) { return to_element<T>(std::log(a) + shift[static_cast<size_t>(o)]); }, threads);
    }
  }
}

void run_reduction(const ReduceAttrs& a, KernelIO& io) {
  const Tensor& x = io.input(0);
  const int64_t rank = static_cast<int64_t>(x.rank());
  std::vector<int64_t> axes = a.axes;
  if (a.axes_from_input && io.has_input(1)) axes = int_values(io.input(1), a.op, "axes");
  if (axes.empty()) {
    if (a.noop_with_empty_axes) {
      io.set_output(0, x);
      return;
    }
    for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
  }
  axes = normalize_axes(axes, rank, a.op);
  const Shape out_shape = reduced_shape(x.shape(), axes, a.keepdims);
  const ReducePlan plan = make_reduce_plan(x.shape(), axes);

  if (x.dtype() == DataType::kBool) {
    // Max is "any", Min is "all".
    if (a.kind != Reduction::kMax && a.kind != Reduction::kMin)
      fail(ExitCode::kUnsupported, a.op + " does not support element type bool");
    Tensor y(DataType::kBool, out_shape);
    const bool any = a.kind == Reduction::kMax;
    run_reduce(plan, x.storage<uint8_t>(), y.storage<uint8_t>(), uint8_t(any ? 0 : 1),
               [any](uint8_t acc, uint8_t v, int64_t) { return uint8_t(any ? (acc | (v != 0)) : (acc & (v != 0))); },
               [](uint8_t acc, int64_t) { return acc; }, io.threads());
    io.set_output(0, y);
    return;
  }

  const Tensor w = widen_half(x);
  Tensor y(w.dtype(), out_shape);
  dispatch_numeric(
      w.dtype(), [&]<class T>(T) { reduce_typed<T>(a.kind, plan, w.data<T>(), y.data<T>(), io.threads()); },
      a.op.c_str());
  io.set_output(0, narrow_half(y, x.dtype()));
}

KernelFactory reduce_factory(Reduction kind, bool axes_from_input) {
  return [kind, axes_from_input](const NodeInfo& info) {
    ReduceAttrs a{kind,
                  info.op_type(),
                  info.attr_int("keepdims", 1) != 0,
                  info.attr_int("noop_with_empty_axes", 0) != 0,
                  axes_from_input,
                  axes_from_input ? std::vector<int64_t>{} : info.attr_ints("axes")};
    return make_kernel([a](KernelIO& io) { run_reduction(a, io); });
  };
}

}  // namespace

void register_reduce(KernelRegistry& registry) {
  // ReduceSum took axes as an input from opset 13, the others from opset 18.
  const struct {
    const char* op;
    Reduction kind;
    int64_t axes_input_opset;
  } ops[] = {
      {"ReduceSum", Reduction::kSum, 13},         {"ReduceMean", Reduction::kMean, 18},
      {"ReduceMax", Reduction::kMax, 18},         {"ReduceMin", Reduction::kMin, 18},
      {"ReduceProd", Reduction::kProd, 18},       {"ReduceL1", Reduction::kL1, 18},
      {"ReduceL2", Reduction::kL2, 18},           {"ReduceLogSum", Reduction::kLogSum, 18},
      {"ReduceLogSumExp", Reduction::kLogSumExp, 18}, {"ReduceSumSquare", Reduction::kSumSquare, 18},
  };
  for (const auto& o : ops) {
    registry.add(o.op, reduce_factory(o.kind, false), 1, o.axes_input_opset - 1);
    registry.add(o.op, reduce_factory(o.kind, true), o.axes_input_opset);
  }
}

}  // namespace onnxq::exec
