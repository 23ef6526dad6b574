#include "support/graph_builder.hpp"

#include <gtest/gtest.h>
#include <onnx/checker.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace onnxq::test {
namespace {

GraphBuilder matmul_add_relu() {
  GraphBuilder g;
  g.input("x", DataType::kFloat, {"N", 4}).output("y", DataType::kFloat, {"N", 3});
  g.initializer("w", random_tensor({4, 3}, 1)).initializer("b", random_tensor({3}, 2));
  g.node("MatMul", {"x", "w"}, {"xw"}, "matmul");
  g.node("Add", {"xw", "b"}, {"xwb"}, "add");
  g.node("Relu", {"xwb"}, {"y"}, "relu");
  return g;
}

TEST(GraphBuilder, BuildsAMatMulAddReluModelThatPassesTheOnnxChecker) {
  const onnx::ModelProto proto = matmul_add_relu().build();
  EXPECT_NO_THROW(onnx::checker::check_model(proto));

  EXPECT_EQ(proto.ir_version(), 8);
  ASSERT_EQ(proto.opset_import_size(), 1);
  EXPECT_EQ(proto.opset_import(0).domain(), "");
  EXPECT_EQ(proto.opset_import(0).version(), 17);
  ASSERT_EQ(proto.graph().node_size(), 3);
  EXPECT_EQ(proto.graph().node(1).op_type(), "Add");
  EXPECT_EQ(proto.graph().node(1).name(), "add");
  ASSERT_EQ(proto.graph().initializer_size(), 2);
  EXPECT_EQ(proto.graph().initializer(0).name(), "w");
  EXPECT_EQ(proto.graph().initializer(0).raw_data().size(), 4u * 3 * sizeof(float));
}

TEST(GraphBuilder, BuildsAModelWithAnIfSubgraphThatPassesTheOnnxChecker) {
  GraphBuilder then_branch;
  then_branch.name("then").output("then_y", DataType::kFloat, {2});
  then_branch.node("Add", {"x", "x"}, {"then_y"});
  GraphBuilder else_branch;
  else_branch.name("else").output("else_y", DataType::kFloat, {2});
  else_branch.constant("c", iota_tensor({2}, 1.0f));
  else_branch.node("Mul", {"x", "c"}, {"else_y"});

  GraphBuilder g;
  g.input("cond", DataType::kBool, {}).input("x", DataType::kFloat, {2});
  g.output("y", DataType::kFloat, {2});
  auto& node = g.node("If", {"cond"}, {"y"}, "if");
  attr_graph(node, "then_branch", then_branch.graph());
  attr_graph(node, "else_branch", else_branch.graph());

  const onnx::ModelProto proto = g.build();
  EXPECT_NO_THROW(onnx::checker::check_model(proto));
  ASSERT_EQ(proto.graph().node(0).attribute_size(), 2);
  EXPECT_EQ(proto.graph().node(0).attribute(1).g().node(1).op_type(), "Mul");
}

TEST(GraphBuilder, ImportsExtraDomainsAndSetsTheIrVersion) {
  GraphBuilder g(13);
  g.opset("com.microsoft", 1).ir_version(7);
  g.input("x", DataType::kFloat, {1, 8}).output("y", DataType::kFloat, {1, 8});
  attr_float(g.node("Gelu", {"x"}, {"y"}, "gelu", "com.microsoft"), "unused", 0.5f);
  const onnx::ModelProto proto = g.build();
  EXPECT_NO_THROW(onnx::checker::check_model(proto));

  EXPECT_EQ(proto.ir_version(), 7);
  ASSERT_EQ(proto.opset_import_size(), 2);
  EXPECT_EQ(proto.opset_import(0).domain(), "");
  EXPECT_EQ(proto.opset_import(0).version(), 13);
  EXPECT_EQ(proto.opset_import(1).domain(), "com.microsoft");
  EXPECT_EQ(proto.opset_import(1).version(), 1);
  EXPECT_EQ(proto.graph().node(0).domain(), "com.microsoft");
}

TEST(GraphBuilder, WritesFixedSymbolicAndUnknownDimsAndTypeOnlyOutputs) {
  GraphBuilder g;
  g.input("x", DataType::kInt64, {"batch", 3, Dim{}}).input("s", DataType::kFloat, {});
  g.output("y", DataType::kFloat);
  const onnx::GraphProto& graph = g.graph();

  const auto& x = graph.input(0).type().tensor_type();
  EXPECT_EQ(x.elem_type(), onnx::TensorProto::INT64);
  ASSERT_EQ(x.shape().dim_size(), 3);
  EXPECT_EQ(x.shape().dim(0).dim_param(), "batch");
  EXPECT_EQ(x.shape().dim(1).dim_value(), 3);
  EXPECT_FALSE(x.shape().dim(2).has_dim_value());
  EXPECT_FALSE(x.shape().dim(2).has_dim_param());

  // {} is a scalar: a shape of rank 0, unlike an output given no shape at all.
  EXPECT_TRUE(graph.input(1).type().tensor_type().has_shape());
  EXPECT_EQ(graph.input(1).type().tensor_type().shape().dim_size(), 0);
  EXPECT_EQ(graph.output(0).type().tensor_type().elem_type(), onnx::TensorProto::FLOAT);
  EXPECT_FALSE(graph.output(0).type().tensor_type().has_shape());
}

TEST(GraphBuilder, SetsEveryKindOfAttribute) {
  GraphBuilder body;
  body.output("z", DataType::kFloat, {1});
  GraphBuilder g;
  auto& node = g.node("Custom", {"a"}, {"b"}, "custom", "test.domain");
  attr_int(node, "i", -3);
  attr_float(node, "f", 0.25f);
  attr_string(node, "s", "text");
  attr_ints(node, "is", {1, 2, 3});
  attr_floats(node, "fs", {0.5f, -1.5f});
  attr_tensor(node, "t", iota_tensor<int64_t>({2, 2}, 10, 5));
  attr_graph(node, "g", body.graph());

  ASSERT_EQ(node.attribute_size(), 7);
  EXPECT_EQ(node.attribute(0).type(), onnx::AttributeProto::INT);
  EXPECT_EQ(node.attribute(0).i(), -3);
  EXPECT_EQ(node.attribute(1).type(), onnx::AttributeProto::FLOAT);
  EXPECT_EQ(node.attribute(1).f(), 0.25f);
  EXPECT_EQ(node.attribute(2).type(), onnx::AttributeProto::STRING);
  EXPECT_EQ(node.attribute(2).s(), "text");
  EXPECT_EQ(node.attribute(3).type(), onnx::AttributeProto::INTS);
  EXPECT_EQ(std::vector<int64_t>(node.attribute(3).ints().begin(), node.attribute(3).ints().end()),
            (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(node.attribute(4).type(), onnx::AttributeProto::FLOATS);
  EXPECT_EQ(node.attribute(4).floats(1), -1.5f);
  EXPECT_EQ(node.attribute(5).type(), onnx::AttributeProto::TENSOR);
  EXPECT_EQ(node.attribute(5).t().data_type(), onnx::TensorProto::INT64);
  EXPECT_EQ(node.attribute(5).t().dims_size(), 2);
  int64_t last = 0;
  std::memcpy(&last, node.attribute(5).t().raw_data().data() + 3 * sizeof(int64_t), sizeof last);
  EXPECT_EQ(last, 25);
  EXPECT_EQ(node.attribute(6).type(), onnx::AttributeProto::GRAPH);
  EXPECT_EQ(node.attribute(6).g().output(0).name(), "z");
}

TEST(GraphBuilder, MakesAModelThatKnowsItsOpsets) {
  GraphBuilder g = matmul_add_relu();
  g.opset("com.microsoft", 1);
  const Model model = g.model();
  EXPECT_EQ(model.opset_version(), 17);
  EXPECT_EQ(model.opset_version("com.microsoft"), 1);
  EXPECT_EQ(model.graph().node_size(), 3);
}

TEST(GraphBuilder, RandomTensorsArePinnedBySeed) {
  // std::mt19937(42) yields 1608637542, 3421126067, ...; the top 24 bits scale into [0, 1).
  const Tensor t = random_tensor({4}, 42, 0.0f, 1.0f);
  ASSERT_EQ(t.dtype(), DataType::kFloat);
  const float* v = t.data<float>();
  EXPECT_EQ(v[0], 6283740.0f / 16777216.0f);
  EXPECT_EQ(v[1], 13363773.0f / 16777216.0f);
  EXPECT_EQ(v[2], 15950339.0f / 16777216.0f);
  EXPECT_EQ(v[3], 3077525.0f / 16777216.0f);

  EXPECT_TRUE(random_tensor({3, 5}, 7).equals(random_tensor({3, 5}, 7)));
  EXPECT_FALSE(random_tensor({3, 5}, 7).equals(random_tensor({3, 5}, 8)));
}

TEST(GraphBuilder, RandomTensorsStayInTheirRange) {
  const Tensor t = random_tensor({1000}, 3, -2.0f, 0.5f);
  const float* v = t.data<float>();
  float lo = v[0], hi = v[0];
  for (int64_t i = 0; i < t.numel(); ++i) {
    lo = std::min(lo, v[i]);
    hi = std::max(hi, v[i]);
  }
  EXPECT_GE(lo, -2.0f);
  EXPECT_LT(hi, 0.5f);
  // 1000 draws cover most of the interval.
  EXPECT_LT(lo, -1.9f);
  EXPECT_GT(hi, 0.4f);
}

TEST(GraphBuilder, IotaTensorsCountUpInCOrder) {
  const Tensor f = iota_tensor({2, 3});
  EXPECT_EQ(f.dtype(), DataType::kFloat);
  EXPECT_EQ(f.shape(), (Shape{2, 3}));
  EXPECT_EQ(f.data<float>()[5], 5.0f);

  const Tensor i = iota_tensor<int32_t>({4}, -2, 3);
  EXPECT_EQ(i.dtype(), DataType::kInt32);
  EXPECT_EQ(std::vector<int32_t>(i.data<int32_t>(), i.data<int32_t>() + 4),
            (std::vector<int32_t>{-2, 1, 4, 7}));
}

}  // namespace
}  // namespace onnxq::test
