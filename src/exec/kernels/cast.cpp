#include "exec/kernels/cast.hpp"

#include <cmath>
#include <limits>
#include <type_traits>

#include "exec/broadcast.hpp"
#include "exec/dispatch.hpp"
#include "exec/kernel.hpp"
#include "exec/kernels/families.hpp"
#include "onnxq/float16.hpp"

namespace onnxq::exec {

namespace {

// Element types by meaning; float16, bfloat16 and bool need their own tags because their
// storage types (uint16_t, uint8_t) also stand for integers.
struct Half {};
struct BFloat {};
struct Bool {};

template <class To, class From>
To float_to_int(From v) {
  using L = std::numeric_limits<To>;
  if (std::isnan(v)) return 0;
  if (v <= static_cast<From>(L::min())) return L::min();
  if (v >= static_cast<From>(L::max())) return L::max();
  return static_cast<To>(v);
}

// load() gives a plain C++ value; store() converts any plain value to the storage.
template <class T>
struct Codec {
  using Storage = T;
  static T load(T v) { return v; }
  template <class V>
  static T store(V v) {
    if constexpr (std::is_floating_point_v<V> && std::is_integral_v<T>)
      return float_to_int<T>(v);
    else
      return static_cast<T>(v);
  }
};
template <>
struct Codec<Half> {
  using Storage = uint16_t;
  static float load(uint16_t v) { return half_to_float(v); }
  template <class V>
  static uint16_t store(V v) { return float_to_half(static_cast<float>(v)); }
};
template <>
struct Codec<BFloat> {
  using Storage = uint16_t;
  static float load(uint16_t v) { return bfloat16_to_float(v); }
  template <class V>
  static uint16_t store(V v) { return float_to_bfloat16(static_cast<float>(v)); }
};
template <>
struct Codec<Bool> {
  using Storage = uint8_t;
  static bool load(uint8_t v) { return v != 0; }
  template <class V>
  static uint8_t store(V v) { return v != V(0) ? 1 : 0; }
};

template <class Fn>
decltype(auto) dispatch_cast(DataType type, Fn&& fn) {
  switch (type) {
    case DataType::kFloat16: return fn(Half{});
    case DataType::kBFloat16: return fn(BFloat{});
    case DataType::kBool: return fn(Bool{});
    default: return dispatch_numeric(type, std::forward<Fn>(fn), "Cast");
  }
}

std::unique_ptr<OpKernel> cast_kernel(const NodeInfo& info) {
  const auto to = dtype_from_onnx(static_cast<int32_t>(info.required_int("to")));
  if (!to) info.invalid("unknown target type " + std::to_string(info.required_int("to")));
  if (*to == DataType::kString) info.unsupported("casts to strings are not supported");
  const DataType target = *to;
  return make_kernel([target](KernelIO& io) { io.set_output(0, cast_tensor(io.input(0), target, io.threads())); });
}

std::unique_ptr<OpKernel> cast_like_kernel(const NodeInfo&) {
  return make_kernel([](KernelIO& io) {
    io.set_output(0, cast_tensor(io.input(0), io.input(1).dtype(), io.threads()));
  });
}

}  // namespace

Tensor cast_tensor(const Tensor& x, DataType to, int threads) {
  if (x.dtype() == to) return x;
  Tensor y(to, x.shape());
  dispatch_cast(x.dtype(), [&]<class S>(S) {
    dispatch_cast(to, [&]<class D>(D) {
      using In = typename Codec<S>::Storage;
      using Out = typename Codec<D>::Storage;
      const In* px = x.storage<In>();
      Out* py = y.storage<Out>();
      for_each_chunk(x.numel(), threads, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) py[i] = Codec<D>::store(Codec<S>::load(px[i]));
      });
    });
  });
  return y;
}

void register_cast(KernelRegistry& registry) {
  registry.add("Cast", cast_kernel);
  registry.add("CastLike", cast_like_kernel, 15);
}

}  // namespace onnxq::exec
