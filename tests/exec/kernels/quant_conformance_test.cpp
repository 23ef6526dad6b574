// ONNX's own node test cases for the quantization and recurrent kernels, run one node at a
// time through the registry (the executor-wide conformance test covers whole models).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "onnxq/model.hpp"
#include "onnxq/tensor_proto.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq::test {
namespace {

namespace fs = std::filesystem;

const fs::path kNodeCases = "/usr/include/onnx/backend/test/data/node";

Tensor read_tensor(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  onnx::TensorProto proto;
  if (!proto.ParseFromString(buffer.str())) throw std::runtime_error("cannot parse " + file.string());
  return tensor_from_proto(proto);
}

double value_at(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DataType::kFloat: return t.data<float>()[i];
    case DataType::kUInt8: return t.data<uint8_t>()[i];
    case DataType::kInt8: return t.data<int8_t>()[i];
    case DataType::kInt32: return t.data<int32_t>()[i];
    default: throw std::runtime_error("unexpected output type");
  }
}

class QuantConformance : public ::testing::TestWithParam<std::string> {};

TEST_P(QuantConformance, MatchesTheExpectedOutputs) {
  const fs::path dir = kNodeCases / GetParam();
  if (!fs::exists(dir)) GTEST_SKIP() << "ONNX test data not installed";
  const Model model = Model::load(dir / "model.onnx");
  const onnx::GraphProto& graph = model.graph();
  ASSERT_EQ(graph.node_size(), 1);
  const onnx::NodeProto& node = graph.node(0);
  std::map<std::string, Tensor> values;
  for (int i = 0; i < graph.input_size(); ++i)
    values[graph.input(i).name()] = read_tensor(dir / "test_data_set_0" / ("input_" + std::to_string(i) + ".pb"));
  for (const auto& init : graph.initializer()) values[init.name()] = tensor_from_proto(init);
  std::vector<Tensor> inputs;
  for (const auto& name : node.input()) inputs.push_back(name.empty() ? Tensor() : values.at(name));
  onnx::NodeProto n = node;
  n.clear_input();
  n.clear_output();
  for (const auto& name : node.input()) n.add_input(name.empty() ? "" : "in_" + name);
  for (const auto& name : node.output()) n.add_output(name.empty() ? "" : "out_" + name);
  const std::vector<Tensor> outputs = run_op(n, inputs, static_cast<size_t>(node.output_size()), model.opset_version(node.domain()));
  for (int o = 0; o < graph.output_size(); ++o) {
    const Tensor expected = read_tensor(dir / "test_data_set_0" / ("output_" + std::to_string(o) + ".pb"));
    int index = -1;
    for (int j = 0; j < node.output_size(); ++j)
      if (node.output(j) == graph.output(o).name()) index = j;
    ASSERT_GE(index, 0);
    const Tensor& actual = outputs[static_cast<size_t>(index)];
    ASSERT_EQ(actual.dtype(), expected.dtype()) << graph.output(o).name();
    ASSERT_EQ(actual.shape(), expected.shape()) << graph.output(o).name();
    for (int64_t i = 0; i < expected.numel(); ++i) {
      const double a = value_at(actual, i), e = value_at(expected, i);
      ASSERT_LE(std::fabs(a - e), 1e-7 + 1e-3 * std::fabs(e)) << graph.output(o).name() << " element " << i;
    }
  }
}

std::vector<std::string> cases() {
  const std::vector<std::string> prefixes = {"test_quantizelinear", "test_dequantizelinear", "test_dynamicquantizelinear",
                                             "test_matmulinteger", "test_basic_convinteger", "test_convinteger",
                                             "test_qlinearmatmul", "test_qlinearconv", "test_lstm", "test_gru",
                                             "test_rnn", "test_simple_rnn"};
  std::vector<std::string> out;
  if (!fs::exists(kNodeCases)) return {"test_quantizelinear"};
  for (const auto& entry : fs::directory_iterator(kNodeCases)) {
    const std::string name = entry.path().filename().string();
    if (name.find("_expanded") != std::string::npos) continue;  // function bodies need other ops
    for (const auto& p : prefixes)
      if (name.rfind(p, 0) == 0) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

INSTANTIATE_TEST_SUITE_P(OnnxNodeCases, QuantConformance, ::testing::ValuesIn(cases()),
                         [](const auto& param) { return param.param; });

}  // namespace
}  // namespace onnxq::test
