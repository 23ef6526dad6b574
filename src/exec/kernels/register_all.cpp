#include "exec/kernel.hpp"
#include "exec/kernels/families.hpp"

namespace onnxq::exec {

void register_all(KernelRegistry& registry) {
  register_elementwise(registry);
  register_unary(registry);
  register_activations(registry);
  register_binary(registry);
  register_cast(registry);
  register_shape_ops(registry);
  register_transpose_ops(registry);
  register_concat_split_ops(registry);
  register_slice_ops(registry);
  register_gather_ops(registry);
  register_scatter_ops(registry);
  register_pad_ops(registry);
  register_generator_ops(registry);
  register_axis_ops(registry);
  register_mask_ops(registry);
  register_reduce(registry);
  register_arg_topk(registry);
  register_softmax(registry);
  register_normalization(registry);
  register_linalg(registry);
  register_conv(registry);
  register_conv_transpose(registry);
  register_pool(registry);
  register_resize(registry);
  register_rnn(registry);
  register_quant(registry);
  register_quantize_linear(registry);
  register_integer_matmul(registry);
  register_integer_conv(registry);
  register_control_flow(registry);
}

}  // namespace onnxq::exec
