#include "onnxq/checker.hpp"

#include <gtest/gtest.h>

#include "support/graph_builder.hpp"
#include "support/temp_dir.hpp"

namespace onnxq {
namespace {

test::GraphBuilder relu_model(int64_t opset = 17) {
  test::GraphBuilder g(opset);
  g.input("x", DataType::kFloat, {2}).output("y", DataType::kFloat, {2});
  g.node("Relu", {"x"}, {"y"}, "relu");
  return g;
}

TEST(Checker, AcceptsAValidModel) {
  const CheckResult r = check_model(relu_model().model());
  EXPECT_EQ(r.status, CheckResult::Status::kValid) << r.message;
}

TEST(Checker, RejectsANodeReadingAnUndefinedValue) {
  auto g = relu_model();
  g.node("Add", {"y", "nowhere"}, {"z"}, "add");
  g.output("z", DataType::kFloat, {2});
  const CheckResult r = check_model(g.model());
  EXPECT_EQ(r.status, CheckResult::Status::kInvalid);
  EXPECT_NE(r.message.find("nowhere"), std::string::npos) << r.message;
}

TEST(Checker, LeavesOpsetsNewerThanLibonnxUncheckedInsteadOfFailing) {
  const CheckResult r = check_model(relu_model(21).model());
  EXPECT_NE(r.status, CheckResult::Status::kInvalid) << r.message;
}

TEST(Checker, LeavesFourBitTensorsUncheckedInsteadOfFailing) {
  auto g = relu_model();
  g.initializer("packed", Tensor(DataType::kInt4, {8}));
  g.output("packed", DataType::kInt4, {8});
  const CheckResult r = check_model(g.model());
  EXPECT_EQ(r.status, CheckResult::Status::kUnchecked) << r.message;
  EXPECT_NE(r.message.find("4-bit"), std::string::npos) << r.message;
}

TEST(Checker, ResolvesExternalDataNextToTheModel) {
  test::TempDir dir;
  test::GraphBuilder g;
  g.input("x", DataType::kFloat, {1, 512}).output("y", DataType::kFloat, {1, 512});
  g.initializer("w", test::random_tensor({512, 512}, 4));
  g.node("MatMul", {"x", "w"}, {"y"});
  g.model().save(dir / "m.onnx", {.external_data = ExternalData::kExternal});
  const CheckResult r = check_model(Model::load(dir / "m.onnx"));
  EXPECT_EQ(r.status, CheckResult::Status::kValid) << r.message;
}

TEST(ShapeInference, FillsInIntermediateShapes) {
  auto g = relu_model();
  g.node("Neg", {"y"}, {"z"}, "neg");
  g.output("z", DataType::kFloat);
  Model m = g.model();
  infer_shapes(m);
  bool found = false;
  for (const auto& vi : m.graph().output())
    if (vi.name() == "z") found = vi.type().tensor_type().shape().dim(0).dim_value() == 2;
  EXPECT_TRUE(found);
}

TEST(ShapeInference, StrictModeReportsInconsistentShapesAsInputErrors) {
  test::GraphBuilder g;
  g.input("a", DataType::kFloat, {2, 3}).input("b", DataType::kFloat, {4, 5});
  g.output("c", DataType::kFloat);
  g.node("MatMul", {"a", "b"}, {"c"}, "mm");
  Model m = g.model();
  try {
    infer_shapes(m, /*strict=*/true);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInput);
  }
}

TEST(Checker, KnowsOpsetsUpToSeventeen) { EXPECT_EQ(max_known_opset(), 17); }

}  // namespace
}  // namespace onnxq
