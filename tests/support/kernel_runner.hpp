#pragma once

#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

#include "onnxq/tensor.hpp"

namespace onnxq::test {

// Runs one op straight through the kernel registry, as the executor would, so kernel tests
// need no graph. Absent optional inputs are undefined Tensors. `node` carries the
// attributes (build it with the attr_* helpers of graph_builder.hpp); its op_type and
// domain pick the kernel, its inputs/outputs are filled in when empty.
std::vector<Tensor> run_op(onnx::NodeProto node, const std::vector<Tensor>& inputs,
                           size_t num_outputs = 1, int64_t opset = 17, int threads = 1);

// A node of `op_type` (and `domain`) with no attributes yet.
onnx::NodeProto op(const std::string& op_type, const std::string& domain = "");

}  // namespace onnxq::test
