// Preprocess passes inside If/Loop bodies, on small built graphs.

#include <gtest/gtest.h>

#include "onnxq/checker.hpp"
#include "onnxq/executor.hpp"
#include "onnxq/model.hpp"
#include "onnxq/preprocess.hpp"
#include "support/graph_builder.hpp"
#include "support/ort_oracle.hpp"
#include "support/preprocess_checks.hpp"
#include "support/temp_dir.hpp"

namespace onnxq {
namespace {

using test::GraphBuilder;

using test::pass_changes;

// The graph attribute `attr` of the first `op` node of the main graph.
const onnx::GraphProto& body(const Model& model, const std::string& op, const std::string& attr) {
  for (const auto& n : model.graph().node())
    if (n.op_type() == op)
      for (const auto& a : n.attribute())
        if (a.name() == attr) return a.g();
  ADD_FAILURE() << "no " << op << " with " << attr;
  static const onnx::GraphProto none;
  return none;
}

int ops_in(const onnx::GraphProto& g, const std::string& op) {
  int n = 0;
  for (const auto& node : g.node()) n += node.op_type() == op;
  return n;
}

bool has_initializer(const onnx::GraphProto& g, const std::string& name) {
  for (const auto& t : g.initializer())
    if (t.name() == name) return true;
  return false;
}

std::vector<float> values(const Tensor& t) { return {t.data<float>(), t.data<float>() + t.numel()}; }

Tensor flag(bool value) {
  Tensor t(DataType::kBool, {});
  t.data<bool>()[0] = value;
  return t;
}

// An If on `cond` with the two bodies, reading `x` [2] from outside, output `y`.
Model if_model(const GraphBuilder& then_g, const GraphBuilder& else_g, GraphBuilder g = GraphBuilder()) {
  g.input("x", DataType::kFloat, {2}).input("cond", DataType::kBool, {}).output("y", DataType::kFloat, {2});
  auto& node = g.node("If", {"cond"}, {"y"}, "if");
  test::attr_graph(node, "then_branch", then_g.graph());
  test::attr_graph(node, "else_branch", else_g.graph());
  return g.model();
}

std::vector<float> run_if(const Model& model, std::vector<float> x, bool cond) {
  return values(Executor(model).run({{"x", Tensor::from_vector<float>({2}, x)}, {"cond", flag(cond)}})[0]);
}

TEST(PreprocessSubgraphs, TurnsConstantNodesOfIfBranchesIntoInitializersOfTheirBranch) {
  GraphBuilder then_g, else_g;
  then_g.output("t", DataType::kFloat, {2});
  then_g.constant("c", Tensor::from_vector<float>({2}, {1, 2}));
  then_g.node("Add", {"x", "c"}, {"t"});
  else_g.output("e", DataType::kFloat, {2});
  else_g.constant("d", Tensor::from_vector<float>({2}, {3, 4}));
  else_g.node("Mul", {"x", "d"}, {"e"});
  Model model = if_model(then_g, else_g);
  const auto report = preprocess(model, {});
  EXPECT_EQ(pass_changes(report, "constant-to-initializer"), 2);
  const auto& then_b = body(model, "If", "then_branch");
  const auto& else_b = body(model, "If", "else_branch");
  EXPECT_EQ(ops_in(then_b, "Constant") + ops_in(else_b, "Constant"), 0);
  EXPECT_TRUE(has_initializer(then_b, "c"));
  EXPECT_TRUE(has_initializer(else_b, "d"));
  EXPECT_EQ(model.graph().initializer_size(), 0);
  EXPECT_EQ(check_model(model).status, CheckResult::Status::kValid) << check_model(model).message;
  EXPECT_EQ(run_if(model, {1, 1}, true), (std::vector<float>{2, 3}));
  EXPECT_EQ(run_if(model, {1, 1}, false), (std::vector<float>{3, 4}));
}

// Loop body: acc += a * b three times, `a` an outer initializer, `b` the body's Constant.
TEST(PreprocessSubgraphs, FoldsALoopBodyNodeThatReadsAnOuterConstantIntoABodyInitializer) {
  GraphBuilder b;
  b.input("i", DataType::kInt64, {}).input("cond_in", DataType::kBool, {}).input("acc_in", DataType::kFloat, {1});
  b.output("cond_out", DataType::kBool, {}).output("acc_out", DataType::kFloat, {1});
  b.node("Identity", {"cond_in"}, {"cond_out"});
  b.constant("b", Tensor::from_vector<float>({1}, {2}));
  b.node("Mul", {"a", "b"}, {"step"});
  b.node("Add", {"acc_in", "step"}, {"acc_out"});
  GraphBuilder g;
  g.input("x", DataType::kFloat, {1}).output("acc", DataType::kFloat, {1});
  g.initializer("M", Tensor::from_vector<int64_t>({}, {3}));
  g.initializer("a", Tensor::from_vector<float>({1}, {1.5f}));
  test::attr_graph(g.node("Loop", {"M", "", "x"}, {"acc"}, "loop"), "body", b.graph());
  Model model = g.model();
  const auto report = preprocess(model, {});
  EXPECT_EQ(pass_changes(report, "fold-constants"), 1);
  const auto& loop_body = body(model, "Loop", "body");
  EXPECT_EQ(ops_in(loop_body, "Mul"), 0);
  ASSERT_EQ(loop_body.initializer_size(), 1);  // `b` was read by the Mul only
  EXPECT_EQ(loop_body.initializer(0).name(), "step");
  EXPECT_EQ(model.tensor_data(loop_body.initializer(0)).data<float>()[0], 3.0f);
  // Nothing reads `a` any more: dead-node removal sees through the body.
  EXPECT_FALSE(has_initializer(model.graph(), "a"));
  EXPECT_TRUE(has_initializer(model.graph(), "M"));
  EXPECT_EQ(check_model(model).status, CheckResult::Status::kValid) << check_model(model).message;
  EXPECT_EQ(values(Executor(model).run({{"x", Tensor::from_vector<float>({1}, {1})}})[0]), (std::vector<float>{10}));
}

TEST(PreprocessSubgraphs, DeadNodeRemovalKeepsWhatABranchReadsFromOutsideAndDropsDeadBranchNodes) {
  GraphBuilder then_g, else_g, g;
  then_g.output("t", DataType::kFloat, {2});
  then_g.node("Sub", {"x", "n"}, {"t"});  // `n` is computed outside
  then_g.node("Sigmoid", {"x"}, {"unused_in_branch"});
  else_g.output("e", DataType::kFloat, {2});
  else_g.node("Mul", {"x", "w"}, {"e"});  // `w` is an outer initializer
  g.initializer("w", Tensor::from_vector<float>({2}, {3, 5}));
  g.initializer("unused", Tensor::from_vector<float>({2}, {9, 9}));
  g.node("Neg", {"x"}, {"n"});
  g.node("Relu", {"x"}, {"dead"});
  Model model = if_model(then_g, else_g, g);
  const auto report = preprocess(model, {});
  EXPECT_EQ(pass_changes(report, "remove-dead-nodes"), 3);  // Relu, `unused`, Sigmoid
  EXPECT_EQ(ops_in(model.graph(), "Neg"), 1);
  EXPECT_EQ(ops_in(model.graph(), "Relu"), 0);
  EXPECT_TRUE(has_initializer(model.graph(), "w"));
  EXPECT_FALSE(has_initializer(model.graph(), "unused"));
  EXPECT_EQ(ops_in(body(model, "If", "then_branch"), "Sigmoid"), 0);
  EXPECT_EQ(run_if(model, {1, -2}, true), (std::vector<float>{2, -4}));
  EXPECT_EQ(run_if(model, {1, -2}, false), (std::vector<float>{3, -10}));
}

// ONNX Runtime rejects a body output that is an outer value, so that Identity must stay; an
// inner Identity is removed.
TEST(PreprocessSubgraphs, LeavesAnIdentityOfAnOuterValueThatIsABranchOutput) {
  GraphBuilder then_g, else_g;
  then_g.output("t", DataType::kFloat, {2});
  then_g.node("Identity", {"x"}, {"t"});
  else_g.output("e", DataType::kFloat, {2});
  else_g.node("Identity", {"x"}, {"xi"});
  else_g.node("Neg", {"xi"}, {"e"});
  Model model = if_model(then_g, else_g);
  const auto report = preprocess(model, {});
  EXPECT_EQ(pass_changes(report, "remove-identity"), 1);
  EXPECT_EQ(ops_in(body(model, "If", "then_branch"), "Identity"), 1);
  const auto& else_b = body(model, "If", "else_branch");
  ASSERT_EQ(else_b.node_size(), 1);
  EXPECT_EQ(else_b.node(0).input(0), "x");
  EXPECT_EQ(run_if(model, {1, -2}, true), (std::vector<float>{1, -2}));
  EXPECT_EQ(run_if(model, {1, -2}, false), (std::vector<float>{-1, 2}));
  if (!test::onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node is not installed";
  test::TempDir tmp;
  model.save(tmp / "m.onnx");
  const auto ort = test::run_in_onnxruntime(
      tmp / "m.onnx", {{"x", Tensor::from_vector<float>({2}, {1, -2})}, {"cond", flag(false)}});
  EXPECT_EQ(values(ort.outputs.at("y")), (std::vector<float>{-1, 2}));
}

TEST(PreprocessSubgraphs, FoldsBatchNormInABranchAndReadsAnOuterCopyOfABranchConstant) {
  GraphBuilder then_g, else_g, g;
  then_g.output("t", DataType::kFloat, {1, 2, 3, 3});
  then_g.constant("k", test::random_tensor({2, 2, 1, 1}, 1));
  then_g.node("Conv", {"im", "k"}, {"conv"});
  uint32_t seed = 2;
  for (const char* p : {"s", "b", "m"}) then_g.constant(p, test::random_tensor({2}, seed++));
  then_g.constant("v", test::random_tensor({2}, 9, 0.5f, 2.0f));
  then_g.node("BatchNormalization", {"conv", "s", "b", "m", "v"}, {"t"});
  const Tensor w = test::random_tensor({1, 2, 1, 1}, 4);
  else_g.output("e", DataType::kFloat, {1, 2, 3, 3});
  else_g.constant("w_copy", w);
  else_g.node("Mul", {"im", "w_copy"}, {"e"});
  g.input("im", DataType::kFloat, {1, 2, 3, 3}).input("cond", DataType::kBool, {});
  g.output("y", DataType::kFloat, {1, 2, 3, 3}).output("z", DataType::kFloat, {1, 2, 3, 3});
  g.initializer("w", w);
  g.node("Add", {"im", "w"}, {"z"});
  auto& node = g.node("If", {"cond"}, {"y"}, "if");
  test::attr_graph(node, "then_branch", then_g.graph());
  test::attr_graph(node, "else_branch", else_g.graph());
  const Model original = g.model();
  Model model = g.model();
  const auto report = preprocess(model, {});
  EXPECT_EQ(pass_changes(report, "fold-batchnorm"), 1);
  EXPECT_EQ(pass_changes(report, "share-initializers"), 1);
  EXPECT_EQ(ops_in(body(model, "If", "then_branch"), "BatchNormalization"), 0);
  const auto& else_b = body(model, "If", "else_branch");
  EXPECT_EQ(else_b.node(0).input(1), "w");
  EXPECT_EQ(else_b.initializer_size(), 0);
  EXPECT_EQ(check_model(model).status, CheckResult::Status::kValid) << check_model(model).message;
  const Tensor im = test::random_tensor({1, 2, 3, 3}, 5);
  for (bool cond : {true, false}) {
    const auto want = Executor(original).run({{"im", im}, {"cond", flag(cond)}});
    const auto got = Executor(model).run({{"im", im}, {"cond", flag(cond)}});
    for (size_t o = 0; o < want.size(); ++o)
      for (int64_t i = 0; i < want[o].numel(); ++i)
        EXPECT_NEAR(got[o].data<float>()[i], want[o].data<float>()[i], 1e-5) << cond << " " << o << " " << i;
  }
}

TEST(PreprocessSubgraphs, StoresAWeightBothBranchesHoldOnceInTheGraphAroundThem) {
  const Tensor w = test::random_tensor({2}, 7);
  GraphBuilder then_g, else_g;
  then_g.output("t", DataType::kFloat, {2});
  then_g.constant("w_then", w);
  then_g.node("Mul", {"x", "w_then"}, {"t"});
  else_g.output("e", DataType::kFloat, {2});
  else_g.constant("w_else", w);
  else_g.node("Mul", {"x", "w_else"}, {"m"});
  else_g.node("Neg", {"m"}, {"e"});
  const Model original = if_model(then_g, else_g);
  Model model = if_model(then_g, else_g);
  const auto report = preprocess(model, {});
  EXPECT_EQ(pass_changes(report, "share-initializers"), 2);
  ASSERT_EQ(model.graph().initializer_size(), 1);
  const std::string shared = model.graph().initializer(0).name();
  const auto& then_b = body(model, "If", "then_branch");
  const auto& else_b = body(model, "If", "else_branch");
  EXPECT_EQ(then_b.initializer_size() + else_b.initializer_size(), 0);
  EXPECT_EQ(then_b.node(0).input(1), shared);
  EXPECT_EQ(else_b.node(0).input(1), shared);
  EXPECT_EQ(check_model(model).status, CheckResult::Status::kValid) << check_model(model).message;
  for (bool cond : {true, false}) EXPECT_EQ(run_if(model, {1, -2}, cond), run_if(original, {1, -2}, cond));
}

// Up to IR version 3 initializers must be graph inputs too, which a body can't have freely.
TEST(PreprocessSubgraphs, LeavesBodiesOfModelsBeforeIrVersion4Alone) {
  GraphBuilder then_g, else_g, g;
  g.ir_version(3);
  then_g.output("t", DataType::kFloat, {2});
  then_g.constant("c", Tensor::from_vector<float>({2}, {1, 2}));
  then_g.node("Add", {"x", "c"}, {"t"});
  else_g.output("e", DataType::kFloat, {2});
  else_g.node("Neg", {"x"}, {"e"});
  Model model = if_model(then_g, else_g, g);
  preprocess(model, {});
  EXPECT_EQ(ops_in(body(model, "If", "then_branch"), "Constant"), 1);
  EXPECT_EQ(body(model, "If", "then_branch").initializer_size(), 0);
}

}  // namespace
}  // namespace onnxq
