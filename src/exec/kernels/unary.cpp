// Unary math: one function per element, same type in and out (IsNaN/IsInf/Not give bool).

#include <cmath>
#include <type_traits>

#include "exec/kernels/elementwise_common.hpp"
#include "exec/kernels/families.hpp"

namespace onnxq::exec {

namespace {

// Negation without signed-overflow UB: the most negative integer stays itself, as in
// two's complement hardware.
template <class T>
T negate(T v) {
  if constexpr (std::is_integral_v<T>)
    return static_cast<T>(static_cast<std::make_unsigned_t<T>>(0) - static_cast<std::make_unsigned_t<T>>(v));
  else
    return -v;
}

template <class T>
T sign(T v) {
  if constexpr (std::is_unsigned_v<T>) return v > 0 ? 1 : 0;
  else return v > 0 ? T(1) : (v < 0 ? T(-1) : v);  // keeps 0, -0 and NaN
}

void add_float(KernelRegistry& r, const char* op, int64_t since, auto fn) {
  r.add(op, unary_factory<FloatTypes>(op, fn), since);
}

// Float (and float16) input, bool output.
template <class Pred>
Tensor float_predicate(const Tensor& x, int threads, Pred pred, const char* what) {
  const Tensor wide = is_float16_like(x.dtype()) ? cast_tensor(x, DataType::kFloat, threads) : x;
  Tensor y(DataType::kBool, x.shape());
  dispatch_float(wide.dtype(), [&]<class T>(T) {
    map_contiguous<uint8_t, T>(wide, y, threads, [&](T v) -> uint8_t { return pred(v) ? 1 : 0; });
  }, what);
  return y;
}

std::unique_ptr<OpKernel> is_inf_kernel(const NodeInfo& info) {
  const bool negative = info.attr_int("detect_negative", 1) != 0;
  const bool positive = info.attr_int("detect_positive", 1) != 0;
  return make_kernel([=](KernelIO& io) {
    io.set_output(0, float_predicate(io.input(0), io.threads(), [=](auto v) {
      return std::isinf(v) && (v > 0 ? positive : negative);
    }, "IsInf"));
  });
}

std::unique_ptr<OpKernel> is_nan_kernel(const NodeInfo&) {
  return make_kernel([](KernelIO& io) {
    io.set_output(0, float_predicate(io.input(0), io.threads(), [](auto v) { return std::isnan(v); }, "IsNaN"));
  });
}

std::unique_ptr<OpKernel> not_kernel(const NodeInfo&) {
  return make_kernel([](KernelIO& io) {
    const Tensor& x = io.input(0);
    if (x.dtype() != DataType::kBool) unsupported_dtype(x.dtype(), "Not");
    Tensor y(DataType::kBool, x.shape());
    map_contiguous<uint8_t, uint8_t>(x, y, io.threads(), [](uint8_t v) -> uint8_t { return v ? 0 : 1; });
    io.set_output(0, y);
  });
}

}  // namespace

void register_unary(KernelRegistry& r) {
  r.add("Abs", unary_factory<NumericTypes>("Abs", [](auto v) {
    using T = decltype(v);
    if constexpr (std::is_unsigned_v<T>) return v;
    else return v < 0 ? negate(v) : v;
  }));
  r.add("Neg", unary_factory<NumericTypes>("Neg", [](auto v) { return negate(v); }));
  r.add("Sign", unary_factory<NumericTypes>("Sign", [](auto v) { return sign(v); }), 9);
  r.add("BitwiseNot", unary_factory<IntegerTypes>("BitwiseNot", [](auto v) { return static_cast<decltype(v)>(~v); }), 18);

  add_float(r, "Exp", 1, [](auto v) { return std::exp(v); });
  add_float(r, "Log", 1, [](auto v) { return std::log(v); });
  add_float(r, "Sqrt", 1, [](auto v) { return std::sqrt(v); });
  add_float(r, "Reciprocal", 1, [](auto v) { return decltype(v)(1) / v; });
  add_float(r, "Floor", 1, [](auto v) { return std::floor(v); });
  add_float(r, "Ceil", 1, [](auto v) { return std::ceil(v); });
  // rint rounds in the default mode, to nearest with ties to even, as ONNX Round asks.
  add_float(r, "Round", 11, [](auto v) { return std::rint(v); });
  add_float(r, "Sin", 7, [](auto v) { return std::sin(v); });
  add_float(r, "Cos", 7, [](auto v) { return std::cos(v); });
  add_float(r, "Tan", 7, [](auto v) { return std::tan(v); });
  add_float(r, "Asin", 7, [](auto v) { return std::asin(v); });
  add_float(r, "Acos", 7, [](auto v) { return std::acos(v); });
  add_float(r, "Atan", 7, [](auto v) { return std::atan(v); });
  add_float(r, "Sinh", 9, [](auto v) { return std::sinh(v); });
  add_float(r, "Cosh", 9, [](auto v) { return std::cosh(v); });
  add_float(r, "Asinh", 9, [](auto v) { return std::asinh(v); });
  add_float(r, "Acosh", 9, [](auto v) { return std::acosh(v); });
  add_float(r, "Atanh", 9, [](auto v) { return std::atanh(v); });
  add_float(r, "Erf", 9, [](auto v) { return std::erf(v); });

  r.add("Not", not_kernel);
  r.add("IsNaN", is_nan_kernel, 9);
  r.add("IsInf", is_inf_kernel, 10);
}

}  // namespace onnxq::exec
