#include "support/kernel_runner.hpp"

#include "exec/kernel.hpp"

namespace onnxq::test {

onnx::NodeProto op(const std::string& op_type, const std::string& domain) {
  onnx::NodeProto node;
  node.set_op_type(op_type);
  node.set_domain(domain);
  node.set_name(op_type + "_under_test");
  return node;
}

std::vector<Tensor> run_op(onnx::NodeProto node, const std::vector<Tensor>& inputs,
                           size_t num_outputs, int64_t opset, int threads) {
  if (node.input_size() == 0)
    for (size_t i = 0; i < inputs.size(); ++i)
      node.add_input(inputs[i].defined() ? "in" + std::to_string(i) : "");
  if (node.output_size() == 0)
    for (size_t i = 0; i < num_outputs; ++i) node.add_output("out" + std::to_string(i));
  const exec::KernelDef* def = exec::KernelRegistry::global().find(node.domain(), node.op_type(), opset);
  if (!def) fail(ExitCode::kUnsupported, "no kernel for " + node.op_type() + " at opset " + std::to_string(opset));
  exec::NodeInfo info(node, opset, nullptr);
  auto kernel = def->factory(info);
  std::vector<Tensor> outputs(static_cast<size_t>(node.output_size()));
  exec::KernelIO io(inputs, outputs, threads, nullptr);
  kernel->run(io);
  return outputs;
}

}  // namespace onnxq::test
