#include "onnxq/fp16.hpp"

#include <gtest/gtest.h>

#include "onnxq/checker.hpp"
#include "onnxq/float16.hpp"
#include "support/fp16_checks.hpp"
#include "support/graph_builder.hpp"
#include "support/ort_oracle.hpp"
#include "support/static_quant.hpp"
#include "support/temp_dir.hpp"

namespace onnxq {
namespace {

using test::GraphBuilder;
constexpr int kF32 = 1, kF16 = 10;

// x -> Conv(w, b) -> Relu -> Reshape -> Transpose -> MatMul(m) -> y
Model conv_chain() {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {1, 3, 6, 6}).output("y", DataType::kFloat, {1, 36, 20});
  g.initializer("w", test::random_tensor({4, 3, 3, 3}, 1));
  g.initializer("b", test::random_tensor({4}, 2));
  g.initializer("shape", Tensor::from_vector<int64_t>({3}, {1, 4, 36}));
  g.initializer("m", test::random_tensor({4, 20}, 3));
  auto& c = g.node("Conv", {"x", "w", "b"}, {"c"}, "conv");
  test::attr_ints(c, "pads", {1, 1, 1, 1});
  g.node("Relu", {"c"}, {"r"}, "relu");
  g.node("Reshape", {"r", "shape"}, {"s"}, "reshape");
  test::attr_ints(g.node("Transpose", {"s"}, {"t"}, "transpose"), "perm", {0, 2, 1});
  g.node("MatMul", {"t", "m"}, {"y"}, "matmul");
  return g.model();
}

std::map<std::string, Tensor> conv_input() { return {{"x", test::random_tensor({1, 3, 6, 6}, 9)}}; }

Model converted(const Model& m, const Fp16Options& options = {}) {
  Model out(onnx::ModelProto(m.proto()));
  convert_fp16(out, options);
  return out;
}

Fp16Options nothing_blocked() {
  Fp16Options o;
  o.op_block_list.emplace();
  return o;
}

TEST(Fp16, ByDefaultOpsWithoutACpuKernelStayFloat32WithTheirWeightsStoredIn16Bits) {
  Model f = conv_chain();
  Model h = converted(f);
  EXPECT_EQ(check_model(h).status, CheckResult::Status::kValid) << check_model(h).message;
  EXPECT_EQ(h.find_initializer("w")->data_type(), kF16);
  EXPECT_EQ(h.find_initializer("m")->data_type(), kF16);
  EXPECT_EQ(h.find_initializer("b")->data_type(), kF32);  // 4 values: a Cast would cost more
  EXPECT_EQ(test::declared_type(h, "x"), kF16);
  EXPECT_EQ(test::declared_type(h, "y"), kF16);
  // Casts: x up, w and m up, y down. Reshape and Transpose sit between float32 ops: untouched.
  EXPECT_EQ(test::count_ops(h, "Cast"), 4);
  if (!test::onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node not installed";
  EXPECT_GT(test::fp16_output_sqnr(f, h, conv_input()), 40.0);
}

TEST(Fp16, WithNothingBlockedTheWholeGraphComputesIn16Bits) {
  Model f = conv_chain();
  const Fp16Options options = nothing_blocked();
  Model h(onnx::ModelProto(f.proto()));
  const Fp16Report report = convert_fp16(h, options);
  EXPECT_EQ(report.nodes_converted, 5);
  EXPECT_EQ(report.nodes_kept, 0);
  EXPECT_EQ(test::count_ops(h, "Cast"), 0);
  EXPECT_EQ(h.find_initializer("b")->data_type(), kF16);
  EXPECT_EQ(check_model(h).status, CheckResult::Status::kValid) << check_model(h).message;
  if (!test::onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node not installed";
  EXPECT_GT(test::fp16_output_sqnr(f, h, conv_input()), 40.0);
}

TEST(Fp16, KeepIoTypesLeavesGraphInputsAndOutputsFloat32) {
  Model f = conv_chain();
  Fp16Options options = nothing_blocked();
  options.keep_io_types = true;
  Model h = converted(f, options);
  EXPECT_EQ(test::declared_type(h, "x"), kF32);
  EXPECT_EQ(test::declared_type(h, "y"), kF32);
  EXPECT_EQ(test::count_ops(h, "Cast"), 2);
  EXPECT_EQ(check_model(h).status, CheckResult::Status::kValid) << check_model(h).message;
  if (!test::onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node not installed";
  EXPECT_GT(test::fp16_output_sqnr(f, h, conv_input()), 40.0);
}

TEST(Fp16, ABlockedNodeComputesInFloat32BetweenCasts) {
  Model f = conv_chain();
  Fp16Options options = nothing_blocked();
  options.node_block_list = {"relu"};
  Model h = converted(f, options);
  for (const auto& n : h.graph().node()) {
    if (n.op_type() == "Relu") {
      EXPECT_NE(n.input(0), "c");  // reads c cast to float32
    }
    if (n.op_type() == "Reshape") {
      EXPECT_NE(n.input(0), "r");  // reads r cast to 16 bits
    }
  }
  EXPECT_EQ(test::count_ops(h, "Cast"), 2);
  EXPECT_EQ(check_model(h).status, CheckResult::Status::kValid) << check_model(h).message;
}

TEST(Fp16, ValuesBeyondTheRangeAreClampedWithAWarningNamingTheTensor) {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {4}).output("y", DataType::kFloat, {4});
  g.initializer("big", Tensor::from_vector<float>({4}, {1e5f, -3e4f, 1e-9f, 0.5f}));  // -3e4 fits
  g.node("Add", {"x", "big"}, {"y"}, "add");
  Model m = g.model();
  const Fp16Report report = convert_fp16(m, nothing_blocked());
  ASSERT_EQ(report.tensors.size(), 1u);
  EXPECT_EQ(report.tensors[0].clamped, 2);
  EXPECT_EQ(report.tensors[0].clamped_large, 1);
  ASSERT_EQ(report.warnings.size(), 1u);
  EXPECT_NE(report.warnings[0].find("'big'"), std::string::npos) << report.warnings[0];
  const Tensor v = test::initializer_value(m, "big");
  ASSERT_EQ(v.dtype(), DataType::kFloat16);
  EXPECT_EQ(half_to_float(v.data<uint16_t>()[0]), 65504.0f);
  EXPECT_EQ(half_to_float(v.data<uint16_t>()[1]), -30000.0f);
  EXPECT_GT(half_to_float(v.data<uint16_t>()[2]), 0.0f);  // the smallest subnormal, not 0
}

TEST(Fp16, ALargeWeightReadFromTheFileConvertsValueByValue) {
  // 1.3 MB of weights, beyond the size converted through a temporary file, with values to clamp.
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {2, 512}).output("y", DataType::kFloat, {2, 640});
  Tensor w = test::random_tensor({512, 640}, 4);
  float* wv = w.data<float>();
  wv[5] = 1e6f;
  wv[70001] = -2e-9f;
  wv[w.numel() - 1] = 7e4f;
  g.initializer("w", w);
  g.node("MatMul", {"x", "w"}, {"y"}, "mm");
  test::TempDir dir;
  g.model().save(dir / "f.onnx");
  for (int threads : {1, 3}) {
    Fp16Options o = nothing_blocked();
    o.threads = threads;
    const Fp16Report report = convert_fp16_file(dir / "f.onnx", dir / "h.onnx", o);
    ASSERT_EQ(report.tensors.size(), 1u);
    EXPECT_EQ(report.tensors[0].elements, w.numel());
    EXPECT_EQ(report.tensors[0].clamped, 3);
    EXPECT_EQ(report.tensors[0].clamped_large, 2);
    const Model h = Model::load(dir / "h.onnx");
    const Tensor v = test::initializer_value(h, "w");
    ASSERT_EQ(v.dtype(), DataType::kFloat16);
    for (int64_t i = 0; i < w.numel(); ++i) {
      float x = wv[i];
      if (std::fabs(x) > 65504.0f) x = std::copysign(65504.0f, x);
      if (x != 0 && std::fabs(x) < 5.9604645e-8f) x = std::copysign(5.9604645e-8f, x);
      ASSERT_EQ(v.data<uint16_t>()[i], float_to_half(x)) << "value " << i;
    }
  }
}

TEST(Fp16, RunningOnItsOwnOutputChangesNothing) {
  for (const Fp16Options& options : {Fp16Options{}, nothing_blocked()}) {
    Model h = converted(conv_chain(), options);
    std::string once, twice;
    h.proto().SerializeToString(&once);
    const Fp16Report again = convert_fp16(h, options);
    h.proto().SerializeToString(&twice);
    EXPECT_EQ(again.tensors.size(), 0u);
    EXPECT_EQ(again.casts_inserted, 0);
    EXPECT_EQ(once, twice);
  }
}

TEST(Fp16, ResizeScalesStayFloat32) {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {1, 1, 2, 2}).output("y", DataType::kFloat, {1, 1, 3, 3});
  g.initializer("scales", Tensor::from_vector<float>({4}, {1.0f, 1.0f, 1.5f, 1.5f}));
  g.initializer("roi", Tensor::from_vector<float>({0}, {}));
  g.node("Resize", {"x", "roi", "scales"}, {"y"}, "resize");
  Model f = g.model();
  Model h = converted(f, nothing_blocked());
  EXPECT_EQ(h.find_initializer("scales")->data_type(), kF32);
  EXPECT_EQ(test::declared_type(h, "y"), kF16);
  EXPECT_EQ(check_model(h).status, CheckResult::Status::kValid) << check_model(h).message;
  if (!test::onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node not installed";
  EXPECT_GT(test::fp16_output_sqnr(f, h, {{"x", test::random_tensor({1, 1, 2, 2}, 4)}}), 40.0);
}

// y = If(c) then x + a else x * a, with x and a from the outer graph.
Model if_model() {
  GraphBuilder then_b(13), else_b(13);
  then_b.output("t", DataType::kFloat);
  then_b.node("Add", {"x", "a"}, {"t"}, "then_add");
  else_b.output("e", DataType::kFloat);
  else_b.node("Mul", {"x", "a"}, {"e"}, "else_mul");
  GraphBuilder g(13);
  g.input("c", DataType::kBool, {}).input("x", DataType::kFloat, {3}).output("y", DataType::kFloat, {3});
  g.initializer("a", test::random_tensor({3}, 5));
  auto& n = g.node("If", {"c"}, {"y"}, "if");
  test::attr_graph(n, "then_branch", then_b.graph());
  test::attr_graph(n, "else_branch", else_b.graph());
  return g.model();
}

TEST(Fp16, SubgraphsComputeInThePrecisionOfTheirOwner) {
  Model f = if_model();
  Model h = converted(f, nothing_blocked());
  EXPECT_EQ(check_model(h).status, CheckResult::Status::kValid) << check_model(h).message;
  const auto& body = h.graph().node(0).attribute(0).g();
  EXPECT_EQ(body.output(0).type().tensor_type().elem_type(), kF16);
  if (!test::onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node not installed";
  Tensor c(DataType::kBool, {});
  for (bool branch : {true, false}) {
    c.data<bool>()[0] = branch;
    EXPECT_GT(test::fp16_output_sqnr(f, h, {{"c", c}, {"x", test::random_tensor({3}, 6)}}), 40.0) << branch;
  }
}

TEST(Fp16, Bfloat16StoresWeightsInBfloat16) {
  Model f = conv_chain();
  Fp16Options options;
  options.bfloat16 = true;
  options.keep_io_types = true;
  Model h = converted(f, options);
  EXPECT_EQ(h.find_initializer("w")->data_type(), 16);
  EXPECT_EQ(test::declared_type(h, "x"), kF32);
  if (!test::onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node not installed";
  // bfloat16 keeps 8 bits of mantissa: about 50 dB on weights, less through the layers.
  EXPECT_GT(test::fp16_output_sqnr(f, h, conv_input()), 30.0);
}

}  // namespace
}  // namespace onnxq
