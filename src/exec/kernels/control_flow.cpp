#include "exec/kernel.hpp"
#include "exec/kernels/families.hpp"

namespace onnxq::exec {

void register_control_flow(KernelRegistry& /*registry*/) {}

}  // namespace onnxq::exec
