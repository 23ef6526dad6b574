#pragma once

// Helpers shared by the reduction, arg/top-k, softmax and normalization kernels: axis
// checks, 16-bit float widening, and the reduction plan every Reduce* op runs through.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/parallel.hpp"
#include "onnxq/error.hpp"
#include "onnxq/tensor.hpp"

namespace onnxq::exec {

// `axis` in [-rank, rank) made non-negative; kInput naming `op` otherwise.
int64_t normalize_axis(int64_t axis, int64_t rank, const std::string& op);

// Non-negative, sorted axes; kInput on out-of-range or repeated axes.
std::vector<int64_t> normalize_axes(const std::vector<int64_t>& axes, int64_t rank, const std::string& op);

// The int64 values of an axes/k input (int32 accepted too).
std::vector<int64_t> int_values(const Tensor& t, const std::string& op, const char* what);

// float16/bfloat16 are computed in float: widen before, narrow the result after. Other
// types pass through unchanged.
bool is_half(DataType type);
Tensor widen_half(const Tensor& t);
Tensor narrow_half(const Tensor& f, DataType type);

// Element values as doubles (any float or integer type), for small parameter tensors such
// as BatchNormalization's scale or mean.
std::vector<double> to_doubles(const Tensor& t, const std::string& op, const char* what);

// Product of shape[begin, end).
int64_t dims_product(const Shape& shape, size_t begin, size_t end);

// A reduction of a tensor over a set of axes, reduced to at most two loops per output:
// adjacent axes of the same kind are merged, size-1 axes dropped. Each output element
// is accumulated over the reduced elements in one fixed (row-major) order, whichever
// loop shape and thread count runs it, so results are bit-identical.
struct ReducePlan {
  int64_t outputs = 0;  // output elements
  int64_t reduced = 0;  // input elements per output element
  // The innermost merged axis: reduced (each output sums contiguous runs of `inner`) or
  // kept (`inner` neighbouring outputs are accumulated side by side).
  bool inner_reduced = true;
  int64_t inner = 1;
  std::vector<int64_t> base;     // input offset of each output group
  std::vector<int64_t> offsets;  // input offsets of the reduced runs/elements, in order
};

// `axes` sorted and unique. An empty `axes` reduces nothing (each output is one input).
ReducePlan make_reduce_plan(const Shape& shape, const std::vector<int64_t>& axes);

// Shape of the result: reduced axes become 1 (keepdims) or disappear.
Shape reduced_shape(const Shape& shape, const std::vector<int64_t>& axes, bool keepdims);

// Runs a reduction: acc = step(acc, x, o) over each output's elements starting from
// `init`, then y[o] = finish(acc, o). Chunks of outputs are fixed by the plan only.
template <class T, class Acc, class Out, class Step, class Finish>
void run_reduce(const ReducePlan& p, const T* x, Out* y, Acc init, Step step, Finish finish, int threads) {
  if (p.outputs == 0) return;
  if (p.inner_reduced) {
    const int64_t work = std::max<int64_t>(1, p.reduced);
    const int64_t per_chunk = std::max<int64_t>(1, (int64_t{1} << 15) / work);
    const int64_t chunks = (p.outputs + per_chunk - 1) / per_chunk;
    parallel_for(chunks, threads, [&](int64_t c) {
      const int64_t end = std::min(p.outputs, (c + 1) * per_chunk);
      for (int64_t o = c * per_chunk; o < end; ++o) {
        Acc acc = init;
        for (int64_t off : p.offsets) {
          const T* row = x + p.base[static_cast<size_t>(o)] + off;
          for (int64_t j = 0; j < p.inner; ++j) acc = step(acc, row[j], o);
        }
        y[o] = finish(acc, o);
      }
    });
    return;
  }
  // Kept inner axis: accumulate a block of neighbouring outputs together so the inner
  // loop reads contiguous memory.
  constexpr int64_t kBlock = 256;
  const int64_t blocks = (p.inner + kBlock - 1) / kBlock;
  const int64_t groups = static_cast<int64_t>(p.base.size());
  parallel_for(groups * blocks, threads, [&](int64_t c) {
    const int64_t g = c / blocks, b0 = (c % blocks) * kBlock;
    const int64_t n = std::min(kBlock, p.inner - b0);
    const int64_t o0 = g * p.inner + b0;
    Acc acc[kBlock];
    std::fill(acc, acc + n, init);
    for (int64_t off : p.offsets) {
      const T* row = x + p.base[static_cast<size_t>(g)] + off + b0;
      for (int64_t j = 0; j < n; ++j) acc[j] = step(acc[j], row[j], o0 + j);
    }
    for (int64_t j = 0; j < n; ++j) y[o0 + j] = finish(acc[j], o0 + j);
  });
}

// Calls fn(i, o) for every input element i of every output o of the plan, with the
// same fixed chunking as run_reduce (normalizations write y[i] from per-output stats).
template <class Fn>
void for_each_reduced(const ReducePlan& p, int threads, Fn&& fn) {
  if (p.outputs == 0) return;
  if (p.inner_reduced) {
    const int64_t per_chunk = std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(1, p.reduced));
    parallel_for((p.outputs + per_chunk - 1) / per_chunk, threads, [&](int64_t c) {
      const int64_t end = std::min(p.outputs, (c + 1) * per_chunk);
      for (int64_t o = c * per_chunk; o < end; ++o)
        for (int64_t off : p.offsets) {
          const int64_t row = p.base[static_cast<size_t>(o)] + off;
          for (int64_t j = 0; j < p.inner; ++j) fn(row + j, o);
        }
    });
    return;
  }
  const int64_t groups = static_cast<int64_t>(p.base.size());
  parallel_for(groups, threads, [&](int64_t g) {
    for (int64_t off : p.offsets) {
      const int64_t row = p.base[static_cast<size_t>(g)] + off;
      for (int64_t j = 0; j < p.inner; ++j) fn(row + j, g * p.inner + j);
    }
  });
}

// Rows of `rows` independent units of work, in fixed chunks sized for about `row_work`
// elements each, so chunking never depends on the thread count.
template <class Fn>
void parallel_rows(int64_t rows, int64_t row_work, int threads, Fn&& fn) {
  const int64_t per_chunk = std::max<int64_t>(1, (int64_t{1} << 14) / std::max<int64_t>(1, row_work));
  const int64_t chunks = (rows + per_chunk - 1) / per_chunk;
  parallel_for(chunks, threads, [&](int64_t c) {
    const int64_t end = std::min(rows, (c + 1) * per_chunk);
    for (int64_t r = c * per_chunk; r < end; ++r) fn(r);
  });
}

}  // namespace onnxq::exec
