#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "onnxq/model.hpp"
#include "support/cli_runner.hpp"
#include "support/fp16_checks.hpp"
#include "support/graph_builder.hpp"
#include "support/temp_dir.hpp"

namespace onnxq {
namespace {

namespace fs = std::filesystem;
using test::run_cli;

// x[1, 3, 8, 8] -> Conv -> Relu -> y
class Fp16Command : public ::testing::Test {
 protected:
  void SetUp() override {
    test::GraphBuilder g(13);
    g.input("x", DataType::kFloat, {1, 3, 8, 8}).output("y", DataType::kFloat, {1, 8, 8, 8});
    g.initializer("w", test::random_tensor({8, 3, 3, 3}, 1));
    g.initializer("b", test::random_tensor({8}, 2));
    test::attr_ints(g.node("Conv", {"x", "w", "b"}, {"h"}, "conv"), "pads", {1, 1, 1, 1});
    g.node("Relu", {"h"}, {"y"}, "relu");
    g.model().save(model());
  }
  std::string model() const { return (dir / "m.onnx").string(); }
  std::string out() const { return (dir / "h.onnx").string(); }
  test::TempDir dir;
};

TEST_F(Fp16Command, WritesTheModelAndASummary) {
  const auto r = run_cli({"fp16", model(), "-o", out()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("converted 1 tensors"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("file "), std::string::npos) << r.out;
  const Model h = Model::load(out());
  EXPECT_EQ(h.find_initializer("w")->data_type(), 10);
  EXPECT_EQ(test::declared_type(h, "x"), 10);
}

TEST_F(Fp16Command, FlagsReachTheConverter) {
  const auto report = (dir / "r.json").string();
  const auto r = run_cli({"fp16", model(), "-o", out(), "--keep-io-types", "--op-block-list", "none", "--report", report,
                          "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  const Model h = Model::load(out());
  EXPECT_EQ(test::declared_type(h, "x"), 1);
  EXPECT_EQ(test::count_ops(h, "Cast"), 2);  // in and out: Conv and Relu compute in float16
  const auto j = nlohmann::json::parse(test::read_file_bytes(report));
  EXPECT_EQ(j["nodes_converted"], 2);
  EXPECT_EQ(j["tensors_converted"], 2);
  ASSERT_EQ(run_cli({"fp16", model(), "-o", out(), "--bfloat16", "--node-block-list", "conv", "-q"}).exit_code, 0);
  EXPECT_EQ(Model::load(out()).find_initializer("w")->data_type(), 16);
}

TEST_F(Fp16Command, AMissingModelIsAnInputErrorAndWritesNothing) {
  const auto r = run_cli({"fp16", (dir / "nope.onnx").string(), "-o", out()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("nope.onnx"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out()));
}

TEST_F(Fp16Command, AnUnwritableOutputIsAnOutputError) {
  const auto r = run_cli({"fp16", model(), "-o", (dir / "missing-dir" / "h.onnx").string()});
  EXPECT_EQ(r.exit_code, 5) << r.err;
}

}  // namespace
}  // namespace onnxq
