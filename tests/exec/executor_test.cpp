#include "onnxq/executor.hpp"

#include <gtest/gtest.h>

#include <map>

#include "onnxq/model.hpp"
#include "support/graph_builder.hpp"

namespace onnxq {
namespace {

using test::GraphBuilder;

std::vector<float> values(const Tensor& t) { return {t.data<float>(), t.data<float>() + t.numel()}; }

ExitCode code_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.code();
  }
  return ExitCode::kOk;
}

std::string message_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// y = relu(x + b), z = y * 2 as a small chain with an initializer.
Model chain_model() {
  GraphBuilder g;
  g.input("x", DataType::kFloat, {"N", 3}).output("z", DataType::kFloat, {"N", 3});
  g.initializer("b", Tensor::from_vector<float>({3}, {1, -1, 0.5f}));
  g.initializer("two", Tensor::from_vector<float>({}, {2}));
  g.node("Add", {"x", "b"}, {"s"}, "add");
  g.node("Relu", {"s"}, {"y"}, "relu");
  g.node("Mul", {"y", "two"}, {"z"}, "mul");
  return g.model();
}

TEST(Executor, RunsAChainOfNodesWithInitializers) {
  const Model model = chain_model();
  Executor ex(model);
  auto out = ex.run({{"x", Tensor::from_vector<float>({1, 3}, {0.5f, 0.5f, -1})}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]), (std::vector<float>{3, 0, 0}));
}

TEST(Executor, RunsNodesStoredOutOfTopologicalOrder) {
  GraphBuilder g;
  g.input("x", DataType::kFloat, {2}).output("z", DataType::kFloat, {2});
  g.node("Neg", {"y"}, {"z"}, "second");
  g.node("Abs", {"x"}, {"y"}, "first");
  const Model model = g.model();
  auto out = Executor(model).run({{"x", Tensor::from_vector<float>({2}, {-3, 4})}});
  EXPECT_EQ(values(out[0]), (std::vector<float>{-3, -4}));
}

TEST(Executor, CallsTheHookForInputsAndEveryProducedTensorWithoutChangingResults) {
  const Model model = chain_model();
  Executor ex(model);
  const Tensor x = Tensor::from_vector<float>({2, 3}, {1, 2, 3, -4, -5, -6});
  const auto plain = ex.run({{"x", x}});
  std::vector<std::string> seen;
  std::map<std::string, std::vector<float>> captured;
  const auto hooked = ex.run({{"x", x}}, [&](const std::string& name, const Tensor& t) {
    seen.push_back(name);
    captured[name] = values(t);
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"x", "s", "y", "z"}));
  EXPECT_EQ(captured["s"], (std::vector<float>{2, 1, 3.5f, -3, -6, -5.5f}));
  EXPECT_TRUE(plain[0].equals(hooked[0]));
}

TEST(Executor, NamesTheNodeOpDomainAndOpsetOfAnUnsupportedOp) {
  GraphBuilder g;
  g.opset("com.example", 3);
  g.input("x", DataType::kFloat, {2}).output("y", DataType::kFloat, {2});
  g.node("Frobnicate", {"x"}, {"y"}, "frob", "com.example");
  const Model model = g.model();
  auto run = [&] { Executor ex(model); };
  EXPECT_EQ(code_of(run), ExitCode::kUnsupported);
  const std::string msg = message_of(run);
  EXPECT_NE(msg.find("'frob'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("com.example.Frobnicate"), std::string::npos) << msg;
  EXPECT_NE(msg.find("opset 3"), std::string::npos) << msg;
}

TEST(Executor, RejectsAGraphWhoseNodeReadsAValueNothingProduces) {
  GraphBuilder g;
  g.input("x", DataType::kFloat, {2}).output("y", DataType::kFloat, {2});
  g.node("Add", {"x", "ghost"}, {"y"}, "add");
  const Model model = g.model();
  auto plan = [&] { Executor ex(model); };
  EXPECT_EQ(code_of(plan), ExitCode::kInput);
  EXPECT_NE(message_of(plan).find("'ghost'"), std::string::npos);
}

TEST(Executor, RejectsInputsOfTheWrongNameTypeOrShapeNamingTheInput) {
  const Model model = chain_model();
  Executor ex(model);
  auto wrong_name = [&] { ex.run({{"q", Tensor(DataType::kFloat, {1, 3})}}); };
  auto wrong_type = [&] { ex.run({{"x", Tensor(DataType::kInt32, {1, 3})}}); };
  auto wrong_shape = [&] { ex.run({{"x", Tensor(DataType::kFloat, {1, 4})}}); };
  auto missing = [&] { ex.run({}); };
  EXPECT_EQ(code_of(wrong_name), ExitCode::kInput);
  EXPECT_EQ(code_of(wrong_type), ExitCode::kInput);
  EXPECT_EQ(code_of(wrong_shape), ExitCode::kInput);
  EXPECT_EQ(code_of(missing), ExitCode::kInput);
  EXPECT_NE(message_of(wrong_shape).find("expected shape [N, 3], got [1, 4]"), std::string::npos)
      << message_of(wrong_shape);
  EXPECT_NE(message_of(wrong_type).find("expected float32, got int32"), std::string::npos);
  EXPECT_NE(message_of(missing).find("'x'"), std::string::npos);
}

TEST(Executor, ListsOnlyInputsThatHaveNoInitializer) {
  GraphBuilder g;
  g.input("x", DataType::kFloat, {2}).input("bias", DataType::kFloat, {2}).output("y", DataType::kFloat, {2});
  g.initializer("bias", Tensor::from_vector<float>({2}, {1, 1}));
  g.node("Add", {"x", "bias"}, {"y"});
  const Model model = g.model();
  Executor ex(model);
  ASSERT_EQ(ex.inputs().size(), 1u);
  EXPECT_EQ(ex.inputs()[0].name, "x");
  // An initializer-backed input may still be overridden.
  auto out = ex.run({{"x", Tensor::from_vector<float>({2}, {1, 2})}, {"bias", Tensor::from_vector<float>({2}, {10, 20})}});
  EXPECT_EQ(values(out[0]), (std::vector<float>{11, 22}));
}

// If whose branches read an outer-scope value.
TEST(Executor, RunsIfBranchesThatReadOuterScopeValues) {
  GraphBuilder then_g, else_g;
  then_g.output("r", DataType::kFloat, {2});
  then_g.node("Neg", {"x"}, {"r"});
  else_g.output("r", DataType::kFloat, {2});
  else_g.node("Abs", {"x"}, {"r"});
  GraphBuilder g;
  g.input("x", DataType::kFloat, {2}).input("c", DataType::kBool, {}).output("y", DataType::kFloat, {2});
  auto& node = g.node("If", {"c"}, {"y"}, "if");
  test::attr_graph(node, "then_branch", then_g.graph());
  test::attr_graph(node, "else_branch", else_g.graph());
  const Model model = g.model();
  Executor ex(model);
  Tensor yes(DataType::kBool, {}), no(DataType::kBool, {});
  yes.data<bool>()[0] = true;
  const Tensor x = Tensor::from_vector<float>({2}, {-1, 2});
  EXPECT_EQ(values(ex.run({{"x", x}, {"c", yes}})[0]), (std::vector<float>{1, -2}));
  EXPECT_EQ(values(ex.run({{"x", x}, {"c", no}})[0]), (std::vector<float>{1, 2}));
}

// Loop: acc += step for M iterations, also emitting acc at each iteration as a scan output.
TEST(Executor, RunsALoopWithCarriedAndScanOutputs) {
  GraphBuilder body;
  body.input("i", DataType::kInt64, {}).input("cond_in", DataType::kBool, {}).input("acc_in", DataType::kFloat, {1});
  body.output("cond_out", DataType::kBool, {}).output("acc_out", DataType::kFloat, {1}).output("scan", DataType::kFloat, {1});
  body.node("Identity", {"cond_in"}, {"cond_out"});
  body.node("Add", {"acc_in", "step"}, {"acc_out"});  // `step` comes from the outer graph
  body.node("Identity", {"acc_out"}, {"scan"});
  GraphBuilder g;
  g.input("step", DataType::kFloat, {1}).output("acc", DataType::kFloat, {1}).output("all", DataType::kFloat, {3, 1});
  g.initializer("M", Tensor::from_vector<int64_t>({}, {3}));
  g.initializer("zero", Tensor::from_vector<float>({1}, {0}));
  auto& node = g.node("Loop", {"M", "", "zero"}, {"acc", "all"}, "loop");
  test::attr_graph(node, "body", body.graph());
  const Model model = g.model();
  auto out = Executor(model).run({{"step", Tensor::from_vector<float>({1}, {1.5f})}});
  EXPECT_EQ(values(out[0]), (std::vector<float>{4.5f}));
  EXPECT_EQ(values(out[1]), (std::vector<float>{1.5f, 3, 4.5f}));
  EXPECT_EQ(shape_to_string(out[1].shape()), "[3, 1]");
}

// Scan as a cumulative sum over the rows of x, the second scan input read backwards.
TEST(Executor, RunsAScanOverRowsInBothDirections) {
  GraphBuilder body;
  body.input("s_in", DataType::kFloat, {2}).input("row", DataType::kFloat, {2}).input("back", DataType::kFloat, {2});
  body.output("s_out", DataType::kFloat, {2}).output("y", DataType::kFloat, {2}).output("b", DataType::kFloat, {2});
  body.node("Add", {"s_in", "row"}, {"s_out"});
  body.node("Identity", {"s_out"}, {"y"});
  body.node("Identity", {"back"}, {"b"});
  GraphBuilder g;
  g.input("x", DataType::kFloat, {3, 2}).output("final", DataType::kFloat, {2});
  g.output("ys", DataType::kFloat, {3, 2}).output("bs", DataType::kFloat, {3, 2});
  g.initializer("init", Tensor::from_vector<float>({2}, {0, 0}));
  auto& node = g.node("Scan", {"init", "x", "x"}, {"final", "ys", "bs"}, "scan");
  test::attr_int(node, "num_scan_inputs", 2);
  test::attr_ints(node, "scan_input_directions", {0, 1});
  test::attr_graph(node, "body", body.graph());
  const Model model = g.model();
  auto out = Executor(model).run({{"x", Tensor::from_vector<float>({3, 2}, {1, 2, 3, 4, 5, 6})}});
  EXPECT_EQ(values(out[0]), (std::vector<float>{9, 12}));
  EXPECT_EQ(values(out[1]), (std::vector<float>{1, 2, 4, 6, 9, 12}));
  EXPECT_EQ(values(out[2]), (std::vector<float>{5, 6, 3, 4, 1, 2}));
}

TEST(Executor, GivesBitIdenticalResultsForAnyThreadCount) {
  GraphBuilder g;
  g.input("x", DataType::kFloat, {64, 300}).output("y", DataType::kFloat, {64, 500});
  g.initializer("w", test::random_tensor({300, 500}, 7));
  g.node("MatMul", {"x", "w"}, {"m"});
  g.node("Relu", {"m"}, {"y"});
  const Model model = g.model();
  const Tensor x = test::random_tensor({64, 300}, 8);
  auto one = Executor(model, {.threads = 1}).run({{"x", x}});
  auto three = Executor(model, {.threads = 3}).run({{"x", x}});
  EXPECT_TRUE(one[0].equals(three[0]));
}

}  // namespace
}  // namespace onnxq
