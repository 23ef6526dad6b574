// Gather, GatherElements, GatherND and Compress: copies selected by index or mask.

#include <algorithm>
#include <cstring>

#include "core/parallel.hpp"
#include "exec/dispatch.hpp"
#include "exec/kernel.hpp"
#include "exec/kernels/families.hpp"
#include "exec/kernels/shape_util.hpp"

namespace onnxq::exec {

namespace {

// Bytes of copying per parallel chunk; rows of an embedding table are grouped up to this.
constexpr int64_t kChunkBytes = 1 << 16;

std::unique_ptr<OpKernel> make_gather(const NodeInfo& info) {
  const int64_t axis_attr = info.attr_int("axis", 0);
  return make_kernel([=](KernelIO& io) {
    const Tensor& data = io.input(0);
    const Tensor& indices_t = io.input(1);
    const int64_t rank = static_cast<int64_t>(data.rank());
    if (rank == 0) shape_fail("Gather", "data must have rank >= 1");
    const size_t axis = static_cast<size_t>(normalize_axis("Gather", axis_attr, rank));
    const int64_t dim = data.shape()[axis];
    std::vector<int64_t> indices = read_indices("Gather", indices_t);
    for (int64_t& i : indices) i = wrap_index("Gather", i, dim);

    Shape out_shape(data.shape().begin(), data.shape().begin() + static_cast<int64_t>(axis));
    out_shape.insert(out_shape.end(), indices_t.shape().begin(), indices_t.shape().end());
    out_shape.insert(out_shape.end(), data.shape().begin() + static_cast<int64_t>(axis) + 1, data.shape().end());
    Tensor y(data.dtype(), out_shape);
    if (y.numel() == 0) {
      io.set_output(0, std::move(y));
      return;
    }
    const int64_t outer = product(data.shape(), 0, axis);
    const size_t block = static_cast<size_t>(product(data.shape(), axis + 1, data.rank())) * element_bytes("Gather", data.dtype());
    const int64_t n = static_cast<int64_t>(indices.size());
    const int64_t rows = outer * n;  // one row = one copied block
    const int64_t per_chunk = std::max<int64_t>(1, kChunkBytes / static_cast<int64_t>(std::max<size_t>(1, block)));
    const std::byte* src = data.raw_data();
    std::byte* dst = y.raw_data();
    parallel_for((rows + per_chunk - 1) / per_chunk, io.threads(), [&](int64_t chunk) {
      const int64_t end = std::min(rows, (chunk + 1) * per_chunk);
      for (int64_t r = chunk * per_chunk; r < end; ++r) {
        const int64_t o = r / n;
        const int64_t k = indices[static_cast<size_t>(r % n)];
        std::memcpy(dst + static_cast<size_t>(r) * block, src + static_cast<size_t>(o * dim + k) * block, block);
      }
    });
    io.set_output(0, std::move(y));
  });
}

std::unique_ptr<OpKernel> make_gather_elements(const NodeInfo& info) {
  const int64_t axis_attr = info.attr_int("axis", 0);
  return make_kernel([=](KernelIO& io) {
    const Tensor& data = io.input(0);
    const Tensor& indices_t = io.input(1);
    const int64_t rank = static_cast<int64_t>(data.rank());
    if (rank == 0 || indices_t.rank() != data.rank())
      shape_fail("GatherElements", "data " + shape_to_string(data.shape()) + " and indices " +
                                       shape_to_string(indices_t.shape()) + " must have the same rank >= 1");
    const size_t axis = static_cast<size_t>(normalize_axis("GatherElements", axis_attr, rank));
    for (size_t d = 0; d < data.rank(); ++d)
      if (d != axis && indices_t.shape()[d] > data.shape()[d])
        shape_fail("GatherElements", "indices " + shape_to_string(indices_t.shape()) + " exceed data " +
                                         shape_to_string(data.shape()) + " off the axis");
    const std::vector<int64_t> indices = read_indices("GatherElements", indices_t);
    Tensor y(data.dtype(), indices_t.shape());
    const std::vector<int64_t> ds = strides_of(data.shape());
    const Shape& is = indices_t.shape();
    dispatch_storage(data.dtype(), [&]<class T>(T) {
      const T* src = data.storage<T>();
      T* dst = y.storage<T>();
      std::vector<int64_t> idx(data.rank(), 0);
      for (int64_t e = 0; e < y.numel(); ++e) {
        int64_t offset = 0;
        for (size_t d = 0; d < idx.size(); ++d)
          offset += (d == axis ? wrap_index("GatherElements", indices[static_cast<size_t>(e)], data.shape()[d]) : idx[d]) * ds[d];
        dst[e] = src[offset];
        for (size_t d = idx.size(); d-- > 0;) {
          if (++idx[d] < is[d]) break;
          idx[d] = 0;
        }
      }
    }, "GatherElements");
    io.set_output(0, std::move(y));
  });
}

std::unique_ptr<OpKernel> make_gather_nd(const NodeInfo& info) {
  const int64_t batch_dims = info.opset() >= 12 ? info.attr_int("batch_dims", 0) : 0;
  return make_kernel([=](KernelIO& io) {
    const Tensor& data = io.input(0);
    const Tensor& indices_t = io.input(1);
    const int64_t r = static_cast<int64_t>(data.rank());
    const int64_t q = static_cast<int64_t>(indices_t.rank());
    const size_t b = static_cast<size_t>(batch_dims);
    if (batch_dims < 0 || r < 1 || q < 1 || batch_dims >= std::min(r, q))
      shape_fail("GatherND", "batch_dims " + std::to_string(batch_dims) + " does not fit data " +
                                 shape_to_string(data.shape()) + " and indices " + shape_to_string(indices_t.shape()));
    for (size_t d = 0; d < b; ++d)
      if (data.shape()[d] != indices_t.shape()[d]) shape_fail("GatherND", "batch dims of data and indices differ");
    const int64_t k = indices_t.shape().back();
    if (k < 1 || k > r - batch_dims)
      shape_fail("GatherND", "index tuples of length " + std::to_string(k) + " do not fit data " + shape_to_string(data.shape()));
    const std::vector<int64_t> indices = read_indices("GatherND", indices_t);

    Shape out_shape(indices_t.shape().begin(), indices_t.shape().end() - 1);
    out_shape.insert(out_shape.end(), data.shape().begin() + batch_dims + k, data.shape().end());
    Tensor y(data.dtype(), out_shape);
    const size_t elem = element_bytes("GatherND", data.dtype());
    const size_t block = static_cast<size_t>(product(data.shape(), b + static_cast<size_t>(k), data.rank())) * elem;
    const int64_t batches = product(data.shape(), 0, b);
    const int64_t tuples_per_batch = product(indices_t.shape(), b, indices_t.rank() - 1);
    const int64_t batch_elems = product(data.shape(), b, data.rank());
    const std::vector<int64_t> ds = strides_of(data.shape());
    size_t out = 0;
    for (int64_t bi = 0; bi < batches; ++bi) {
      for (int64_t t = 0; t < tuples_per_batch; ++t) {
        const int64_t* tuple = indices.data() + (bi * tuples_per_batch + t) * k;
        int64_t offset = bi * batch_elems;
        for (int64_t j = 0; j < k; ++j) {
          const size_t d = b + static_cast<size_t>(j);
          offset += wrap_index("GatherND", tuple[j], data.shape()[d]) * ds[d];
        }
        if (block > 0) std::memcpy(y.raw_data() + out, data.raw_data() + static_cast<size_t>(offset) * elem, block);
        out += block;
      }
    }
    io.set_output(0, std::move(y));
  });
}

std::unique_ptr<OpKernel> make_compress(const NodeInfo& info) {
  const std::optional<int64_t> axis_attr =
      info.has_attr("axis") ? std::optional(info.attr_int("axis", 0)) : std::nullopt;
  return make_kernel([=](KernelIO& io) {
    const Tensor& in = io.input(0);
    const Tensor& cond = io.input(1);
    if (cond.dtype() != DataType::kBool || cond.rank() != 1) shape_fail("Compress", "condition must be a 1-D bool tensor");
    const Tensor x = axis_attr ? in : in.reshaped({in.numel()});
    const size_t axis = axis_attr ? static_cast<size_t>(normalize_axis("Compress", *axis_attr, static_cast<int64_t>(x.rank()))) : 0;
    const int64_t dim = x.shape()[axis];
    const bool* c = cond.data<bool>();
    std::vector<int64_t> keep;
    for (int64_t i = 0; i < cond.numel(); ++i) {
      if (!c[i]) continue;
      if (i >= dim) shape_fail("Compress", "condition selects index " + std::to_string(i) + " beyond the dim " + std::to_string(dim));
      keep.push_back(i);
    }
    Shape out_shape = x.shape();
    out_shape[axis] = static_cast<int64_t>(keep.size());
    Tensor y(x.dtype(), out_shape);
    const size_t block = static_cast<size_t>(product(x.shape(), axis + 1, x.rank())) * element_bytes("Compress", x.dtype());
    const int64_t outer = product(x.shape(), 0, axis);
    size_t out = 0;
    for (int64_t o = 0; o < outer && block > 0; ++o)
      for (int64_t i : keep) {
        std::memcpy(y.raw_data() + out, x.raw_data() + static_cast<size_t>(o * dim + i) * block, block);
        out += block;
      }
    io.set_output(0, std::move(y));
  });
}

}  // namespace

void register_gather_ops(KernelRegistry& registry) {
  registry.add("Gather", make_gather);
  registry.add("GatherElements", make_gather_elements, 11);
  registry.add("GatherND", make_gather_nd, 11);
  registry.add("Compress", make_compress, 9);
}

}  // namespace onnxq::exec
