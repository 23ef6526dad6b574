// The default block list rests on which ops ONNX Runtime's CPU provider runs in float16 itself:
// a float16 model of such an op keeps its graph, while for any other op ONNX Runtime inserts Cast
// nodes to compute in float32. These tests load one-op float16 models in ONNX Runtime, save the
// graph it runs and count the Casts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <functional>

#include "onnxq/float16.hpp"
#include "onnxq/fp16.hpp"
#include "support/fp16_checks.hpp"
#include "support/graph_builder.hpp"
#include "support/ort_oracle.hpp"
#include "support/temp_dir.hpp"

namespace onnxq {
namespace {

using test::GraphBuilder;

Tensor half_tensor(const Shape& shape, uint32_t seed) {
  const Tensor f = test::random_tensor(shape, seed);
  Tensor h(DataType::kFloat16, shape);
  for (int64_t i = 0; i < f.numel(); ++i) h.data<uint16_t>()[i] = float_to_half(f.data<float>()[i]);
  return h;
}

// A model x float16 [2, 3, 4] -> op -> y, with `extra` adding the op's other inputs.
struct OneOp {
  std::string op;
  std::vector<std::string> inputs;
  std::function<void(GraphBuilder&, onnx::NodeProto&)> extra = [](GraphBuilder&, onnx::NodeProto&) {};
};

// Casts in the graph ONNX Runtime runs for the model of `c`.
int casts_onnxruntime_adds(const OneOp& c) {
  GraphBuilder g(17);
  g.input("x", DataType::kFloat16, {2, 3, 4}).output("y", DataType::kFloat16);
  auto& n = g.node(c.op, c.inputs, {"y"}, "op");
  c.extra(g, n);
  test::TempDir dir;
  g.model().save(dir / "m.onnx");
  ::setenv("ONNXQ_ORT_OPT", "disabled", 1);
  test::run_in_onnxruntime(dir / "m.onnx", {{"x", half_tensor({2, 3, 4}, 1)}}, dir / "ran.onnx");
  ::unsetenv("ONNXQ_ORT_OPT");
  return test::count_ops(Model::load(dir / "ran.onnx"), "Cast");
}

std::vector<OneOp> native_cases() {
  const auto shape = [](std::vector<int64_t> s) {
    return [s](GraphBuilder& g, onnx::NodeProto&) { g.initializer("s", Tensor::from_vector<int64_t>({static_cast<int64_t>(s.size())}, s)); };
  };
  return {
      {"Reshape", {"x", "s"}, shape({6, 4})},
      {"Transpose", {"x"}},
      {"Identity", {"x"}},
      {"Flatten", {"x"}},
      {"Unsqueeze", {"x", "s"}, shape({0})},
      {"Concat", {"x", "x"}, [](GraphBuilder&, onnx::NodeProto& n) { test::attr_int(n, "axis", 1); }},
      {"Expand", {"x", "s"}, shape({2, 2, 3, 4})},
      {"Slice", {"x", "st", "en"},
       [](GraphBuilder& g, onnx::NodeProto&) {
         g.initializer("st", Tensor::from_vector<int64_t>({1}, {1}));
         g.initializer("en", Tensor::from_vector<int64_t>({1}, {3}));
       }},
      {"Gather", {"x", "i"}, [](GraphBuilder& g, onnx::NodeProto&) { g.initializer("i", Tensor::from_vector<int64_t>({1}, {1})); }},
      {"Max", {"x", "x"}},
      {"Min", {"x", "x"}},
      {"Clip", {"x"}},
      {"LayerNormalization", {"x", "gamma"},
       [](GraphBuilder& g, onnx::NodeProto&) { g.initializer("gamma", half_tensor({4}, 2)); }},
  };
}

TEST(Fp16CpuKernels, EveryListedOpThatWeProbeRunsInFloat16WithoutCasts) {
  if (!test::onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node not installed";
  for (const auto& c : native_cases()) {
    EXPECT_FALSE(default_fp16_blocked(c.op)) << c.op;
    EXPECT_EQ(casts_onnxruntime_adds(c), 0) << c.op << " did not run in float16";
  }
}

TEST(Fp16CpuKernels, ComputeOpsOffTheListAreWrappedInCastsByOnnxRuntime) {
  if (!test::onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node not installed";
  const std::vector<OneOp> cases = {
      {"Relu", {"x"}},
      {"Add", {"x", "x"}},
      {"Sigmoid", {"x"}},
      {"MatMul", {"x", "w"}, [](GraphBuilder& g, onnx::NodeProto&) { g.initializer("w", half_tensor({4, 5}, 3)); }},
      {"Softmax", {"x"}},
      {"ReduceMean", {"x"}},
  };
  for (const auto& c : cases) {
    EXPECT_TRUE(default_fp16_blocked(c.op)) << c.op;
    EXPECT_GT(casts_onnxruntime_adds(c), 0) << c.op << " ran in float16: it belongs on the native list";
  }
}

}  // namespace
}  // namespace onnxq
