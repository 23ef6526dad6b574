#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "onnxq/model.hpp"
#include "support/cli_runner.hpp"
#include "support/cnn_model.hpp"
#include "support/quant_checks.hpp"
#include "support/temp_dir.hpp"

namespace onnxq {
namespace {

using test::run_cli;

TEST(PreprocessCommand, FoldsAConvNetAndReportsEveryPass) {
  test::TempDir tmp;
  test::build_cnn({.image = 32, .width = 8, .classes = 10}).save(tmp / "cnn.onnx");
  const auto r = run_cli({"preprocess", (tmp / "cnn.onnx").string(), "-o", (tmp / "out.onnx").string(), "--report",
                          (tmp / "report.json").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("fold-batchnorm: 20 changes"), std::string::npos) << r.err;
  const auto report = nlohmann::json::parse(test::read_file_bytes(tmp / "report.json"));
  EXPECT_EQ(report["passes"][2]["name"], "fold-batchnorm");
  EXPECT_LT(report["nodes"]["after"].get<int>(), report["nodes"]["before"].get<int>());
  EXPECT_EQ(test::count(test::op_counts(Model::load(tmp / "out.onnx")), "BatchNormalization"), 0);
}

TEST(PreprocessCommand, RejectsAnUnknownInputShapeNameWithoutWritingAnything) {
  test::TempDir tmp;
  test::build_cnn({.image = 32, .width = 8, .classes = 10}).save(tmp / "cnn.onnx");
  const auto r = run_cli({"preprocess", (tmp / "cnn.onnx").string(), "-o", (tmp / "out.onnx").string(),
                          "--input-shape", "pixels=1x3x32x32"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("no input 'pixels'"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(tmp / "out.onnx"));
}

TEST(PreprocessCommand, RejectsAMalformedInputShape) {
  test::TempDir tmp;
  const auto r = run_cli({"preprocess", "m.onnx", "-o", (tmp / "out.onnx").string(), "--input-shape", "x=1xNx3"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'N' is not a dimension"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace onnxq
