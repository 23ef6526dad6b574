// Permutations: Transpose, and DepthToSpace/SpaceToDepth, which are transposes of a 6-D view.

#include <numeric>

#include "exec/kernel.hpp"
#include "exec/kernels/families.hpp"
#include "exec/kernels/shape_util.hpp"

namespace onnxq::exec {

namespace {

std::unique_ptr<OpKernel> make_transpose(const NodeInfo& info) {
  const std::optional<std::vector<int64_t>> perm_attr =
      info.has_attr("perm") ? std::optional(info.attr_ints("perm")) : std::nullopt;
  return make_kernel([=](KernelIO& io) {
    const Tensor& x = io.input(0);
    const int64_t rank = static_cast<int64_t>(x.rank());
    std::vector<int64_t> perm(x.rank());
    if (perm_attr) {
      if (static_cast<int64_t>(perm_attr->size()) != rank)
        shape_fail("Transpose", "perm has " + std::to_string(perm_attr->size()) + " entries for rank " + std::to_string(rank));
      perm = normalize_axes("Transpose", *perm_attr, rank);
    } else {
      std::iota(perm.rbegin(), perm.rend(), int64_t{0});
    }
    io.set_output(0, permute(x, x.shape(), perm, io.threads()));
  });
}

struct Nchw {
  int64_t n, c, h, w;
};

Nchw nchw_of(const std::string& op, const Tensor& x) {
  if (x.rank() != 4) shape_fail(op, "input must be 4-D, not " + shape_to_string(x.shape()));
  return {x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]};
}

std::unique_ptr<OpKernel> make_depth_to_space(const NodeInfo& info) {
  const int64_t b = info.required_int("blocksize");
  if (b <= 0) info.invalid("blocksize must be positive");
  const std::string mode = info.opset() >= 11 ? info.attr_string("mode", "DCR") : "DCR";
  if (mode != "DCR" && mode != "CRD") info.invalid("unknown mode '" + mode + "'");
  const bool dcr = mode == "DCR";
  return make_kernel([=](KernelIO& io) {
    const Tensor& x = io.input(0);
    const Nchw d = nchw_of("DepthToSpace", x);
    if (d.c % (b * b) != 0)
      shape_fail("DepthToSpace", "channels " + std::to_string(d.c) + " are not a multiple of blocksize^2");
    const int64_t c = d.c / (b * b);
    Tensor y = dcr ? permute(x, {d.n, b, b, c, d.h, d.w}, {0, 3, 4, 1, 5, 2}, io.threads())
                   : permute(x, {d.n, c, b, b, d.h, d.w}, {0, 1, 4, 2, 5, 3}, io.threads());
    io.set_output(0, y.reshaped({d.n, c, d.h * b, d.w * b}));
  });
}

std::unique_ptr<OpKernel> make_space_to_depth(const NodeInfo& info) {
  const int64_t b = info.required_int("blocksize");
  if (b <= 0) info.invalid("blocksize must be positive");
  return make_kernel([=](KernelIO& io) {
    const Tensor& x = io.input(0);
    const Nchw d = nchw_of("SpaceToDepth", x);
    if (d.h % b != 0 || d.w % b != 0)
      shape_fail("SpaceToDepth", "spatial dims " + shape_to_string(x.shape()) + " are not multiples of the blocksize");
    Tensor y = permute(x, {d.n, d.c, d.h / b, b, d.w / b, b}, {0, 3, 5, 1, 2, 4}, io.threads());
    io.set_output(0, y.reshaped({d.n, d.c * b * b, d.h / b, d.w / b}));
  });
}

}  // namespace

void register_transpose_ops(KernelRegistry& registry) {
  registry.add("Transpose", make_transpose);
  registry.add("DepthToSpace", make_depth_to_space);
  registry.add("SpaceToDepth", make_space_to_depth);
}

}  // namespace onnxq::exec
