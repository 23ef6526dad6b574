// Ops driven by where elements sit or whether they are zero: Trilu and NonZero.

#include "exec/dispatch.hpp"
#include "exec/kernel.hpp"
#include "exec/kernels/families.hpp"
#include "exec/kernels/shape_util.hpp"

namespace onnxq::exec {

namespace {

std::unique_ptr<OpKernel> make_trilu(const NodeInfo& info) {
  const bool upper = info.attr_int("upper", 1) != 0;
  return make_kernel([=](KernelIO& io) {
    const Tensor& x = io.input(0);
    if (x.rank() < 2) shape_fail("Trilu", "input must have rank >= 2");
    const int64_t k = io.has_input(1) ? read_int_scalar("Trilu", io.input(1), "k") : 0;
    const int64_t rows = x.shape()[x.rank() - 2], cols = x.shape()[x.rank() - 1];
    const int64_t mats = product(x.shape(), 0, x.rank() - 2);
    Tensor y(x.dtype(), x.shape());
    dispatch_storage(x.dtype(), [&]<class T>(T) {
      const T* in = x.storage<T>();
      T* out = y.storage<T>();
      for (int64_t m = 0; m < mats; ++m)
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t j = 0; j < cols; ++j) {
            const int64_t at = (m * rows + i) * cols + j;
            // Compare without forming i + k, which may overflow for extreme k.
            const bool keep = upper ? j - i >= k : j - i <= k;
            if (keep) out[at] = in[at];
          }
    }, "Trilu");
    io.set_output(0, std::move(y));
  });
}

// Whether each element is nonzero; -0.0 counts as zero for every float type.
std::vector<bool> nonzero_mask(const Tensor& x) {
  std::vector<bool> mask(static_cast<size_t>(x.numel()));
  switch (x.dtype()) {
    case DataType::kBool: {
      const uint8_t* v = x.storage<uint8_t>();
      for (size_t i = 0; i < mask.size(); ++i) mask[i] = v[i] != 0;
      break;
    }
    case DataType::kFloat16:
    case DataType::kBFloat16: {
      const uint16_t* v = x.storage<uint16_t>();
      for (size_t i = 0; i < mask.size(); ++i) mask[i] = (v[i] & 0x7fff) != 0;
      break;
    }
    default:
      dispatch_numeric(x.dtype(), [&]<class T>(T) {
        const T* v = x.data<T>();
        for (size_t i = 0; i < mask.size(); ++i) mask[i] = v[i] != T(0);
      }, "NonZero");
  }
  return mask;
}

std::unique_ptr<OpKernel> make_nonzero(const NodeInfo&) {
  return make_kernel([](KernelIO& io) {
    const Tensor& x = io.input(0);
    const std::vector<bool> mask = nonzero_mask(x);
    int64_t count = 0;
    for (bool m : mask) count += m ? 1 : 0;
    // A scalar reports one coordinate row, as ONNX Runtime does.
    const Shape shape = x.rank() == 0 ? Shape{1} : x.shape();
    const int64_t rank = static_cast<int64_t>(shape.size());
    Tensor y(DataType::kInt64, {rank, count});
    int64_t* out = y.data<int64_t>();
    int64_t n = 0;
    for (int64_t e = 0; e < x.numel(); ++e) {
      if (!mask[static_cast<size_t>(e)]) continue;
      for (int64_t d = rank - 1, rem = e; d >= 0; --d) {
        out[d * count + n] = x.rank() == 0 ? 0 : rem % shape[static_cast<size_t>(d)];
        rem /= shape[static_cast<size_t>(d)];
      }
      ++n;
    }
    io.set_output(0, std::move(y));
  });
}

}  // namespace

void register_mask_ops(KernelRegistry& registry) {
  registry.add("Trilu", make_trilu, 14);
  registry.add("NonZero", make_nonzero, 9);
}

}  // namespace onnxq::exec
