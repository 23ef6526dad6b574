// ScatterElements (and its predecessor Scatter) and ScatterND, with the reduction attribute.
// Updates are applied serially in index order, so duplicate indices resolve the same way on
// every run (the last update wins without a reduction).

#include <algorithm>

#include "exec/dispatch.hpp"
#include "exec/kernel.hpp"
#include "exec/kernels/families.hpp"
#include "exec/kernels/shape_util.hpp"
#include "onnxq/float16.hpp"

namespace onnxq::exec {

namespace {

enum class Reduction { kNone, kAdd, kMul, kMax, kMin };

Reduction parse_reduction(const NodeInfo& info) {
  const std::string r = info.opset() >= 16 ? info.attr_string("reduction", "none") : "none";
  if (r == "none") return Reduction::kNone;
  if (r == "add") return Reduction::kAdd;
  if (r == "mul") return Reduction::kMul;
  if (info.opset() >= 18 && r == "max") return Reduction::kMax;
  if (info.opset() >= 18 && r == "min") return Reduction::kMin;
  info.invalid("unknown reduction '" + r + "'");
}

template <class T>
T combine(T a, T b, Reduction r) {
  switch (r) {
    case Reduction::kAdd: return static_cast<T>(a + b);
    case Reduction::kMul: return static_cast<T>(a * b);
    case Reduction::kMax: return std::max(a, b);
    case Reduction::kMin: return std::min(a, b);
    default: return b;
  }
}

// Calls apply(dst, src, dst_offset, src_offset) through a typed view of `out` and `updates`:
// a plain copy without a reduction, arithmetic on the element type with one.
template <class Visit>
void with_reduction(const std::string& op, Tensor& out, const Tensor& updates, Reduction r, Visit visit) {
  if (updates.dtype() != out.dtype()) shape_fail(op, "data and updates have different element types");
  if (r == Reduction::kNone) {
    dispatch_storage(out.dtype(), [&]<class T>(T) {
      T* dst = out.storage<T>();
      const T* src = updates.storage<T>();
      visit([&](int64_t d, int64_t s) { dst[d] = src[s]; });
    }, op.c_str());
    return;
  }
  if (out.dtype() == DataType::kFloat16 || out.dtype() == DataType::kBFloat16) {
    const bool half = out.dtype() == DataType::kFloat16;
    uint16_t* dst = out.storage<uint16_t>();
    const uint16_t* src = updates.storage<uint16_t>();
    auto load = [&](uint16_t v) { return half ? half_to_float(v) : bfloat16_to_float(v); };
    auto store = [&](float v) { return half ? float_to_half(v) : float_to_bfloat16(v); };
    visit([&](int64_t d, int64_t s) { dst[d] = store(combine(load(dst[d]), load(src[s]), r)); });
    return;
  }
  dispatch_numeric(out.dtype(), [&]<class T>(T) {
    T* dst = out.data<T>();
    const T* src = updates.data<T>();
    visit([&](int64_t d, int64_t s) { dst[d] = combine(dst[d], src[s], r); });
  }, op.c_str());
}

std::unique_ptr<OpKernel> make_scatter_elements(const NodeInfo& info) {
  const int64_t axis_attr = info.attr_int("axis", 0);
  const Reduction reduction = parse_reduction(info);
  const std::string op = info.op_type();
  return make_kernel([=](KernelIO& io) {
    const Tensor& data = io.input(0);
    const Tensor& indices_t = io.input(1);
    const Tensor& updates = io.input(2);
    const int64_t rank = static_cast<int64_t>(data.rank());
    if (rank == 0 || indices_t.rank() != data.rank() || updates.shape() != indices_t.shape())
      shape_fail(op, "data " + shape_to_string(data.shape()) + ", indices " + shape_to_string(indices_t.shape()) +
                         " and updates " + shape_to_string(updates.shape()) + " do not fit");
    const size_t axis = static_cast<size_t>(normalize_axis(op, axis_attr, rank));
    for (size_t d = 0; d < data.rank(); ++d)
      if (d != axis && indices_t.shape()[d] > data.shape()[d])
        shape_fail(op, "indices " + shape_to_string(indices_t.shape()) + " exceed data " + shape_to_string(data.shape()));
    const std::vector<int64_t> indices = read_indices(op, indices_t);
    const std::vector<int64_t> ds = strides_of(data.shape());
    // Resolve every target first so a bad index fails before anything is written.
    std::vector<int64_t> targets(indices.size());
    std::vector<int64_t> idx(data.rank(), 0);
    for (size_t e = 0; e < indices.size(); ++e) {
      int64_t offset = 0;
      for (size_t d = 0; d < idx.size(); ++d)
        offset += (d == axis ? wrap_index(op, indices[e], data.shape()[d]) : idx[d]) * ds[d];
      targets[e] = offset;
      for (size_t d = idx.size(); d-- > 0;) {
        if (++idx[d] < indices_t.shape()[d]) break;
        idx[d] = 0;
      }
    }
    Tensor out = data.clone();
    with_reduction(op, out, updates, reduction, [&](auto apply) {
      for (size_t e = 0; e < targets.size(); ++e) apply(targets[e], static_cast<int64_t>(e));
    });
    io.set_output(0, std::move(out));
  });
}

std::unique_ptr<OpKernel> make_scatter_nd(const NodeInfo& info) {
  const Reduction reduction = parse_reduction(info);
  return make_kernel([=](KernelIO& io) {
    const Tensor& data = io.input(0);
    const Tensor& indices_t = io.input(1);
    const Tensor& updates = io.input(2);
    const int64_t r = static_cast<int64_t>(data.rank());
    const int64_t q = static_cast<int64_t>(indices_t.rank());
    const int64_t k = q >= 1 ? indices_t.shape().back() : 0;
    if (r < 1 || q < 1 || k > r)
      shape_fail("ScatterND", "indices " + shape_to_string(indices_t.shape()) + " do not fit data " + shape_to_string(data.shape()));
    Shape expected(indices_t.shape().begin(), indices_t.shape().end() - 1);
    expected.insert(expected.end(), data.shape().begin() + k, data.shape().end());
    if (updates.shape() != expected)
      shape_fail("ScatterND", "updates have shape " + shape_to_string(updates.shape()) + ", expected " + shape_to_string(expected));
    const std::vector<int64_t> indices = read_indices("ScatterND", indices_t);
    const std::vector<int64_t> ds = strides_of(data.shape());
    const int64_t block = product(data.shape(), static_cast<size_t>(k), data.rank());
    const int64_t tuples = product(indices_t.shape(), 0, indices_t.rank() - 1);
    std::vector<int64_t> targets(static_cast<size_t>(tuples));
    for (int64_t t = 0; t < tuples; ++t) {
      int64_t offset = 0;
      for (int64_t j = 0; j < k; ++j) {
        const size_t d = static_cast<size_t>(j);
        offset += wrap_index("ScatterND", indices[static_cast<size_t>(t * k + j)], data.shape()[d]) * ds[d];
      }
      targets[static_cast<size_t>(t)] = offset;
    }
    Tensor out = data.clone();
    with_reduction("ScatterND", out, updates, reduction, [&](auto apply) {
      for (int64_t t = 0; t < tuples; ++t)
        for (int64_t j = 0; j < block; ++j) apply(targets[static_cast<size_t>(t)] + j, t * block + j);
    });
    io.set_output(0, std::move(out));
  });
}

}  // namespace

void register_scatter_ops(KernelRegistry& registry) {
  registry.add("Scatter", make_scatter_elements, 9, 10);
  registry.add("ScatterElements", make_scatter_elements, 11);
  registry.add("ScatterND", make_scatter_nd, 11);
}

}  // namespace onnxq::exec
