#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "onnxq/model.hpp"
#include "support/cli_runner.hpp"
#include "support/graph_builder.hpp"
#include "support/temp_dir.hpp"

namespace onnxq {
namespace {

using test::run_cli;

class QuantizeDynamicCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    test::GraphBuilder g(13);
    g.input("x", DataType::kFloat, {"N", 64}).output("y", DataType::kFloat, {"N", 32});
    g.initializer("w", test::random_tensor({64, 32}, 1));
    g.node("MatMul", {"x", "w"}, {"y"}, "mm");
    g.model().save(model());
  }
  std::string model() const { return (dir / "m.onnx").string(); }
  std::string out() const { return (dir / "q.onnx").string(); }
  test::TempDir dir;
};

TEST_F(QuantizeDynamicCommand, WritesTheModelAndASummary) {
  const auto r = run_cli({"quantize-dynamic", model(), "-o", out()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("quantized 1 nodes, 1 weights"), std::string::npos) << r.out;
  const Model q = Model::load(out());
  EXPECT_NE(q.find_initializer("w_quantized"), nullptr);
}

TEST_F(QuantizeDynamicCommand, QuietPrintsNothing) {
  const auto r = run_cli({"quantize-dynamic", model(), "-o", out(), "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST_F(QuantizeDynamicCommand, WritesAJsonReportWithScaleZeroPointAndSqnr) {
  const auto report = (dir / "r.json").string();
  const auto r = run_cli({"quantize-dynamic", model(), "-o", out(), "--per-channel", "--weight-type", "uint8",
                          "--report", report});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(test::read_file_bytes(report));
  ASSERT_EQ(j["tensors"].size(), 1u);
  const auto& t = j["tensors"][0];
  EXPECT_EQ(t["name"], "w");
  EXPECT_EQ(t["type"], "uint8");
  EXPECT_EQ(t["axis"], 1);
  EXPECT_EQ(t["scale"].size(), 32u);
  EXPECT_EQ(t["zero_point"].size(), 32u);
  EXPECT_GT(t["sqnr_db"].get<double>(), 30.0);
  EXPECT_GT(j["file_bytes"]["before"].get<uint64_t>(), j["file_bytes"]["after"].get<uint64_t>());
}

TEST_F(QuantizeDynamicCommand, TakesListsOfOpTypesAndNodePatterns) {
  auto r = run_cli({"quantize-dynamic", model(), "-o", out(), "--op-types", "MatMul", "--nodes-exclude", "m*"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("quantized 0 nodes"), std::string::npos) << r.out;
  r = run_cli({"quantize-dynamic", model(), "-o", out(), "--op-types", "Softmax"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("Softmax"), std::string::npos) << r.err;
}

TEST_F(QuantizeDynamicCommand, AMissingModelIsAnInputErrorAndWritesNothing) {
  const auto r = run_cli({"quantize-dynamic", (dir / "none.onnx").string(), "-o", out()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("none.onnx: no such file"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out()));
}

TEST_F(QuantizeDynamicCommand, AnUnwritableOutputIsAnOutputErrorAndLeavesNoFile) {
  const auto r = run_cli({"quantize-dynamic", model(), "-o", (dir / "no" / "q.onnx").string()});
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"m.onnx"});
}

TEST_F(QuantizeDynamicCommand, GivesByteIdenticalOutputForAnyThreadCount) {
  const auto one = (dir / "one.onnx").string(), two = (dir / "two.onnx").string();
  ASSERT_EQ(run_cli({"quantize-dynamic", model(), "-o", one, "--per-channel", "--threads", "1"}).exit_code, 0);
  ASSERT_EQ(run_cli({"--threads", "2", "quantize-dynamic", model(), "-o", two, "--per-channel"}).exit_code, 0);
  EXPECT_EQ(test::read_file_bytes(one), test::read_file_bytes(two));
}

TEST_F(QuantizeDynamicCommand, RejectsAnUnknownWeightTypeAsUsage) {
  EXPECT_EQ(run_cli({"quantize-dynamic", model(), "-o", out(), "--weight-type", "int3"}).exit_code, 2);
  EXPECT_EQ(run_cli({"quantize-dynamic", model()}).exit_code, 2);
}

}  // namespace
}  // namespace onnxq
