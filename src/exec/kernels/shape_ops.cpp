#include "exec/kernel.hpp"
#include "exec/kernels/families.hpp"

namespace onnxq::exec {

void register_shape_ops(KernelRegistry& /*registry*/) {}

}  // namespace onnxq::exec
