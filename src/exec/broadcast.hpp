#pragma once

// numpy multidirectional broadcasting for kernels that combine tensors of different shapes
// (binary ops, Where, Expand, quantized adds):
//
//   Shape shape = broadcast_shape({a.shape(), b.shape()}, "Add");
//   Tensor y(DataType::kFloat, shape);
//   broadcast_binary<float, float, float>(a, b, y, threads, [](float x, float z) { return x + z; });
//
// Element types are storage types: float16/bfloat16 as uint16_t, bool as uint8_t.
// Work is split into fixed chunks of output elements, so results never depend on the
// thread count.

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "core/parallel.hpp"
#include "onnxq/tensor.hpp"

namespace onnxq::exec {

// The shape all `shapes` broadcast to (right-aligned; a dim of 1 stretches). kInput naming
// `what` when two dims differ and neither is 1.
Shape broadcast_shape(std::span<const Shape> shapes, std::string_view what);
inline Shape broadcast_shape(std::initializer_list<Shape> shapes, std::string_view what) {
  return broadcast_shape(std::span<const Shape>(shapes.begin(), shapes.size()), what);
}

// Output elements per parallel task; smaller outputs run on the calling thread.
inline constexpr int64_t kElementwiseChunk = int64_t{1} << 16;

// Calls fn(begin, end) over [0, n) in chunks of kElementwiseChunk elements.
template <class Fn>
void for_each_chunk(int64_t n, int threads, Fn&& fn) {
  if (n <= 0) return;
  const int64_t chunks = (n + kElementwiseChunk - 1) / kElementwiseChunk;
  if (chunks == 1 || threads == 1) {
    fn(int64_t{0}, n);
    return;
  }
  parallel_for(chunks, threads, [&](int64_t c) {
    fn(c * kElementwiseChunk, std::min(n, (c + 1) * kElementwiseChunk));
  });
}

// How N contiguous inputs map onto an output shape they broadcast to. Adjacent output dims
// are merged where every input either spans both or repeats along both, so same-shape and
// scalar operands collapse to one dim and the innermost run is as long as possible.
class BroadcastPlan {
 public:
  // Every input shape must broadcast to `out` (see broadcast_shape).
  BroadcastPlan(std::span<const Shape* const> inputs, const Shape& out);

  int64_t numel() const { return numel_; }
  size_t num_inputs() const { return inputs_; }

  // Calls fn(out_offset, offsets, steps, count) for consecutive runs covering output
  // elements [begin, end): output element out_offset + i reads input k at
  // offsets[k] + i * steps[k], where steps[k] is 1 (the input advances) or 0 (it repeats).
  template <size_t N, class Fn>
  void for_each_run(int64_t begin, int64_t end, Fn&& fn) const;

 private:
  int64_t stride(size_t dim, size_t input) const { return strides_[dim * inputs_ + input]; }

  size_t inputs_ = 0;
  int64_t numel_ = 0;
  std::vector<int64_t> dims_;     // merged output dims, outermost first, never empty
  std::vector<int64_t> strides_;  // [dim][input] element strides, 0 where the input repeats
};

template <size_t N, class Fn>
void BroadcastPlan::for_each_run(int64_t begin, int64_t end, Fn&& fn) const {
  if (begin >= end) return;
  const size_t rank = dims_.size();
  const int64_t inner = dims_.back();
  std::array<int64_t, N> steps{};
  for (size_t k = 0; k < N; ++k) steps[k] = stride(rank - 1, k);

  // The outer multi-index of `begin`, and each input's offset at its run start.
  std::vector<int64_t> index(rank, 0);
  std::array<int64_t, N> base{};
  int64_t rest = begin / inner;
  for (size_t d = rank - 1; d-- > 0;) {
    index[d] = rest % dims_[d];
    rest /= dims_[d];
    for (size_t k = 0; k < N; ++k) base[k] += index[d] * stride(d, k);
  }
  int64_t pos = begin;
  int64_t in_run = begin % inner;
  while (pos < end) {
    const int64_t count = std::min(inner - in_run, end - pos);
    std::array<int64_t, N> offsets;
    for (size_t k = 0; k < N; ++k) offsets[k] = base[k] + in_run * steps[k];
    fn(pos, offsets, steps, count);
    pos += count;
    in_run = 0;
    // Odometer step over the outer dims.
    for (size_t d = rank - 1; d-- > 0;) {
      for (size_t k = 0; k < N; ++k) base[k] += stride(d, k);
      if (++index[d] < dims_[d]) break;
      for (size_t k = 0; k < N; ++k) base[k] -= dims_[d] * stride(d, k);
      index[d] = 0;
    }
  }
}

// y = fn(a, b) over the broadcast of a and b; `out` is allocated with the broadcast shape.
template <class Out, class A, class B, class Fn>
void broadcast_binary(const Tensor& a, const Tensor& b, Tensor& out, int threads, Fn fn) {
  const Shape* shapes[] = {&a.shape(), &b.shape()};
  const BroadcastPlan plan(shapes, out.shape());
  const A* pa = a.storage<A>();
  const B* pb = b.storage<B>();
  Out* py = out.storage<Out>();
  for_each_chunk(plan.numel(), threads, [&](int64_t begin, int64_t end) {
    plan.for_each_run<2>(begin, end, [&](int64_t o, const auto& off, const auto& step, int64_t n) {
      Out* y = py + o;
      const A* x0 = pa + off[0];
      const B* x1 = pb + off[1];
      if (step[0] && step[1]) {
        for (int64_t i = 0; i < n; ++i) y[i] = fn(x0[i], x1[i]);
      } else if (step[0]) {
        const B s = *x1;
        for (int64_t i = 0; i < n; ++i) y[i] = fn(x0[i], s);
      } else if (step[1]) {
        const A s = *x0;
        for (int64_t i = 0; i < n; ++i) y[i] = fn(s, x1[i]);
      } else {
        std::fill(y, y + n, static_cast<Out>(fn(*x0, *x1)));
      }
    });
  });
}

// y = fn(in0, in1, ...) over the broadcast of any number of inputs, each read as its own
// storage type In...; `out` is allocated with the broadcast shape.
template <class Out, class... In, class Fn>
void broadcast_apply(std::array<const Tensor*, sizeof...(In)> inputs, Tensor& out, int threads, Fn fn) {
  constexpr size_t N = sizeof...(In);
  std::array<const Shape*, N> shapes;
  for (size_t k = 0; k < N; ++k) shapes[k] = &inputs[k]->shape();
  const BroadcastPlan plan(shapes, out.shape());
  Out* py = out.storage<Out>();
  auto body = [&]<size_t... K>(std::index_sequence<K...>, int64_t begin, int64_t end) {
    const std::tuple<const In*...> data{inputs[K]->template storage<In>()...};
    plan.for_each_run<N>(begin, end, [&](int64_t o, const auto& off, const auto& step, int64_t n) {
      Out* y = py + o;
      const std::tuple<const In*...> p{(std::get<K>(data) + off[K])...};
      if ((step[K] && ...)) {
        for (int64_t i = 0; i < n; ++i) y[i] = fn(std::get<K>(p)[i]...);
      } else {
        for (int64_t i = 0; i < n; ++i) y[i] = fn(std::get<K>(p)[i * step[K]]...);
      }
    });
  };
  for_each_chunk(plan.numel(), threads, [&](int64_t begin, int64_t end) {
    body(std::index_sequence_for<In...>{}, begin, end);
  });
}

// Copies `in` broadcast to out's shape (Expand); T is the storage type.
template <class T>
void broadcast_copy(const Tensor& in, Tensor& out, int threads) {
  const Shape* shapes[] = {&in.shape()};
  const BroadcastPlan plan(shapes, out.shape());
  const T* px = in.storage<T>();
  T* py = out.storage<T>();
  for_each_chunk(plan.numel(), threads, [&](int64_t begin, int64_t end) {
    plan.for_each_run<1>(begin, end, [&](int64_t o, const auto& off, const auto& step, int64_t n) {
      if (step[0])
        std::copy(px + off[0], px + off[0] + n, py + o);
      else
        std::fill(py + o, py + o + n, px[off[0]]);
    });
  });
}

}  // namespace onnxq::exec
