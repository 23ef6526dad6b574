// Ops that walk along one axis: CumSum and ReverseSequence.

#include <algorithm>

#include "exec/dispatch.hpp"
#include "exec/kernel.hpp"
#include "exec/kernels/families.hpp"
#include "exec/kernels/shape_util.hpp"

namespace onnxq::exec {

namespace {

std::unique_ptr<OpKernel> make_cumsum(const NodeInfo& info) {
  const bool exclusive = info.attr_int("exclusive", 0) != 0;
  const bool reverse = info.attr_int("reverse", 0) != 0;
  return make_kernel([=](KernelIO& io) {
    const Tensor& x = io.input(0);
    const int64_t rank = static_cast<int64_t>(x.rank());
    if (rank == 0) shape_fail("CumSum", "input must have rank >= 1");
    const size_t axis = static_cast<size_t>(normalize_axis("CumSum", read_int_scalar("CumSum", io.input(1), "axis"), rank));
    const int64_t outer = product(x.shape(), 0, axis);
    const int64_t dim = x.shape()[axis];
    const int64_t inner = product(x.shape(), axis + 1, x.rank());
    Tensor y(x.dtype(), x.shape());
    dispatch_numeric(x.dtype(), [&]<class T>(T) {
      const T* in = x.data<T>();
      T* out = y.data<T>();
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          T sum{};
          for (int64_t s = 0; s < dim; ++s) {
            const int64_t j = reverse ? dim - 1 - s : s;
            const int64_t at = (o * dim + j) * inner + i;
            if (exclusive) {
              out[at] = sum;
              sum = static_cast<T>(sum + in[at]);
            } else {
              sum = static_cast<T>(sum + in[at]);
              out[at] = sum;
            }
          }
        }
    }, "CumSum");
    io.set_output(0, std::move(y));
  });
}

std::unique_ptr<OpKernel> make_reverse_sequence(const NodeInfo& info) {
  const int64_t batch_axis = info.attr_int("batch_axis", 1);
  const int64_t time_axis = info.attr_int("time_axis", 0);
  if (!((batch_axis == 0 && time_axis == 1) || (batch_axis == 1 && time_axis == 0)))
    info.invalid("batch_axis and time_axis must be 0 and 1 in some order");
  return make_kernel([=](KernelIO& io) {
    const Tensor& x = io.input(0);
    if (x.rank() < 2) shape_fail("ReverseSequence", "input must have rank >= 2");
    const int64_t batch = x.shape()[static_cast<size_t>(batch_axis)];
    const int64_t time = x.shape()[static_cast<size_t>(time_axis)];
    const std::vector<int64_t> lens = read_ints("ReverseSequence", io.input(1), "sequence_lens");
    if (static_cast<int64_t>(lens.size()) != batch)
      shape_fail("ReverseSequence", std::to_string(lens.size()) + " sequence lengths for a batch of " + std::to_string(batch));
    for (int64_t len : lens)
      if (len < 0 || len > time)
        shape_fail("ReverseSequence", "sequence length " + std::to_string(len) + " is outside [0, " + std::to_string(time) + "]");
    const int64_t inner = product(x.shape(), 2, x.rank());
    const std::vector<int64_t> strides = strides_of(x.shape());
    const int64_t bs = strides[static_cast<size_t>(batch_axis)], ts = strides[static_cast<size_t>(time_axis)];
    Tensor y(x.dtype(), x.shape());
    dispatch_storage(x.dtype(), [&]<class T>(T) {
      const T* in = x.storage<T>();
      T* out = y.storage<T>();
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t t = 0; t < time; ++t) {
          const int64_t src_t = t < lens[static_cast<size_t>(b)] ? lens[static_cast<size_t>(b)] - 1 - t : t;
          std::copy_n(in + b * bs + src_t * ts, inner, out + b * bs + t * ts);
        }
    }, "ReverseSequence");
    io.set_output(0, std::move(y));
  });
}

}  // namespace

void register_axis_ops(KernelRegistry& registry) {
  registry.add("CumSum", make_cumsum, 11);
  registry.add("ReverseSequence", make_reverse_sequence, 10);
}

}  // namespace onnxq::exec
