// Models as onnxq's quantize-dynamic writes them, run by the executor and by ONNX Runtime:
// the forms the debug command compares (DynamicQuantizeLSTM, DequantizeLinear feeding an LSTM,
// MatMulNBits) must agree.
#include <gtest/gtest.h>

#include <cmath>

#include "onnxq/executor.hpp"
#include "onnxq/model.hpp"
#include "onnxq/quantize_dynamic.hpp"
#include "support/graph_builder.hpp"
#include "support/ort_oracle.hpp"
#include "support/temp_dir.hpp"

namespace onnxq::test {
namespace {

class QuantizedModels : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node is not installed";
  }

  // Quantizes `g`'s model, then compares every output of the executor with ONNX Runtime's.
  void expect_agreement(const GraphBuilder& g, const DynamicQuantOptions& options, const std::string& expect_op,
                        const Tensor& x) {
    Model model = g.model();
    quantize_dynamic(model, options);
    bool found = false;
    for (const auto& node : model.graph().node()) found = found || node.op_type() == expect_op;
    ASSERT_TRUE(found) << "quantize-dynamic wrote no " << expect_op;
    model.save(dir_ / "q.onnx");
    const OrtResult ort = run_in_onnxruntime(dir_ / "q.onnx", {{"x", x}});
    const Executor executor(model, ExecutorOptions{2});
    const std::vector<Tensor> ours = executor.run({{"x", x}});
    ASSERT_EQ(ours.size(), ort.names.size());
    for (size_t o = 0; o < ours.size(); ++o) {
      const Tensor& expected = ort.outputs.at(ort.names[o]);
      ASSERT_EQ(ours[o].shape(), expected.shape());
      for (int64_t i = 0; i < expected.numel(); ++i)
        ASSERT_NEAR(ours[o].data<float>()[i], expected.data<float>()[i], 1e-4) << ort.names[o] << " element " << i;
    }
  }

  TempDir dir_;
};

GraphBuilder lstm_model(const std::string& direction) {
  const int64_t dirs = direction == "bidirectional" ? 2 : 1;
  GraphBuilder g(14);
  g.input("x", DataType::kFloat, {5, 2, 6});
  g.output("y", DataType::kFloat).output("y_h", DataType::kFloat);
  g.initializer("w", random_tensor({dirs, 32, 6}, 1));
  g.initializer("r", random_tensor({dirs, 32, 8}, 2));
  g.initializer("b", random_tensor({dirs, 64}, 3));
  auto& node = g.node("LSTM", {"x", "w", "r", "b"}, {"y", "y_h"}, "lstm");
  attr_int(node, "hidden_size", 8);
  attr_string(node, "direction", direction);
  return g;
}

TEST_F(QuantizedModels, DynamicQuantizeLstmPerDirection) {
  expect_agreement(lstm_model("bidirectional"), DynamicQuantOptions{}, "DynamicQuantizeLSTM", random_tensor({5, 2, 6}, 4));
}

TEST_F(QuantizedModels, DynamicQuantizeLstmPerChannel) {
  DynamicQuantOptions options;
  options.per_channel = true;
  expect_agreement(lstm_model("forward"), options, "DynamicQuantizeLSTM", random_tensor({5, 2, 6}, 5));
}

TEST_F(QuantizedModels, WeightOnlyQdqLstm) {
  DynamicQuantOptions options;
  options.format = QuantFormat::kQDQ;
  options.per_channel = true;
  expect_agreement(lstm_model("reverse"), options, "DequantizeLinear", random_tensor({5, 2, 6}, 6));
}

TEST_F(QuantizedModels, FourBitMatMulNBits) {
  GraphBuilder g(17);
  g.input("x", DataType::kFloat, {3, 64});
  g.output("y", DataType::kFloat);
  g.initializer("w", random_tensor({64, 24}, 7));
  g.node("MatMul", {"x", "w"}, {"y"}, "matmul");
  DynamicQuantOptions options;
  options.weight_type = DataType::kUInt4;
  expect_agreement(g, options, "MatMulNBits", random_tensor({3, 64}, 8));
}

}  // namespace
}  // namespace onnxq::test
