#include <gtest/gtest.h>

#include "onnxq/model.hpp"
#include "onnxq/npy.hpp"
#include "support/cli_runner.hpp"
#include "support/graph_builder.hpp"
#include "support/temp_dir.hpp"

namespace onnxq {
namespace {

using test::run_cli;

// y = relu(x) + b, with an output name that is not a safe file name.
void write_model(const std::filesystem::path& path) {
  test::GraphBuilder g;
  g.input("x", DataType::kFloat, {"N", 3}).output("out/y", DataType::kFloat, {"N", 3});
  g.initializer("b", Tensor::from_vector<float>({3}, {1, 2, 3}));
  g.node("Relu", {"x"}, {"r"});
  g.node("Add", {"r", "b"}, {"out/y"});
  g.model().save(path);
}

TEST(RunCommand, WritesEachOutputAsNpyAndPrintsItsStatistics) {
  test::TempDir tmp;
  write_model(tmp / "m.onnx");
  write_npy(tmp / "x.npy", Tensor::from_vector<float>({2, 3}, {-1, 0, 1, 2, -3, 4}));
  const auto r = run_cli({"run", (tmp / "m.onnx").string(), "--input", "x=" + (tmp / "x.npy").string(), "--output-dir",
                          (tmp / "out").string(), "--repeat", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("out/y: float32 [2, 3] min 1 max 7 mean 3.16667"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("over 3 runs"), std::string::npos) << r.out;
  const Tensor y = read_npy(tmp / "out" / "out_y.npy");
  EXPECT_EQ(std::vector<float>(y.data<float>(), y.data<float>() + 6), (std::vector<float>{1, 2, 4, 3, 2, 7}));
}

TEST(RunCommand, ReadsInputsFromADirectoryByName) {
  test::TempDir tmp;
  write_model(tmp / "m.onnx");
  std::filesystem::create_directories(tmp / "in");
  write_npy(tmp / "in" / "x.npy", Tensor::from_vector<float>({1, 3}, {1, 1, 1}));
  const auto r = run_cli({"run", (tmp / "m.onnx").string(), "--input-dir", (tmp / "in").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("min 2 max 4"), std::string::npos) << r.out;
}

TEST(RunCommand, NamesTheInputAndWhatWasExpectedForAWrongShapeOrType) {
  test::TempDir tmp;
  write_model(tmp / "m.onnx");
  write_npy(tmp / "bad.npy", Tensor::from_vector<float>({2, 4}, std::vector<float>(8, 0)));
  write_npy(tmp / "int.npy", Tensor::from_vector<int32_t>({1, 3}, {1, 2, 3}));
  auto shape = run_cli({"run", (tmp / "m.onnx").string(), "--input", "x=" + (tmp / "bad.npy").string()});
  EXPECT_EQ(shape.exit_code, 3);
  EXPECT_NE(shape.err.find("input 'x': expected shape [N, 3], got [2, 4]"), std::string::npos) << shape.err;
  auto type = run_cli({"run", (tmp / "m.onnx").string(), "--input", "x=" + (tmp / "int.npy").string()});
  EXPECT_EQ(type.exit_code, 3);
  EXPECT_NE(type.err.find("expected float32, got int32"), std::string::npos) << type.err;
  auto name = run_cli({"run", (tmp / "m.onnx").string(), "--input", "q=" + (tmp / "bad.npy").string()});
  EXPECT_EQ(name.exit_code, 3);
  EXPECT_NE(name.err.find("'q' is not an input of the model (inputs: x)"), std::string::npos) << name.err;
  auto none = run_cli({"run", (tmp / "m.onnx").string()});
  EXPECT_EQ(none.exit_code, 2);
}

}  // namespace
}  // namespace onnxq
