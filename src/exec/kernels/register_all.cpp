#include "exec/kernel.hpp"
#include "exec/kernels/families.hpp"

namespace onnxq::exec {

void register_all(KernelRegistry& registry) {
  register_elementwise(registry);
  register_shape_ops(registry);
  register_reduce(registry);
  register_normalization(registry);
  register_linalg(registry);
  register_einsum(registry);
  register_conv(registry);
  register_conv_transpose(registry);
  register_pool(registry);
  register_resize(registry);
  register_rnn(registry);
  register_quant(registry);
  register_control_flow(registry);
}

}  // namespace onnxq::exec
