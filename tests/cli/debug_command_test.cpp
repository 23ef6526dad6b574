#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

#include "onnxq/model.hpp"
#include "onnxq/npy.hpp"
#include "support/cli_runner.hpp"
#include "support/graph_builder.hpp"
#include "support/temp_dir.hpp"

namespace onnxq {
namespace {

namespace fs = std::filesystem;
using test::run_cli;

int lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

// x[1, 3, 8, 8] -> Conv -> Relu -> GlobalAveragePool -> y, quantized with quantize-static.
class DebugCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    test::GraphBuilder g(13);
    g.input("x", DataType::kFloat, {1, 3, 8, 8}).output("y", DataType::kFloat, {1, 4, 1, 1});
    g.initializer("w", test::random_tensor({4, 3, 3, 3}, 1));
    g.initializer("b", test::random_tensor({4}, 2, -0.2f, 0.2f));
    test::attr_ints(g.node("Conv", {"x", "w", "b"}, {"h"}, "conv"), "pads", {1, 1, 1, 1});
    g.node("Relu", {"h"}, {"r"}, "relu");
    g.node("GlobalAveragePool", {"r"}, {"y"}, "gap");
    g.model().save(dir / "f.onnx");
    fs::create_directories(dir / "data");
    for (int i = 0; i < 4; ++i)
      write_npy(dir / "data" / ("s" + std::to_string(i) + ".npy"), test::random_tensor({1, 3, 8, 8}, 10 + i));
    const auto r = run_cli({"quantize-static", f(), "-o", q(), "--calib", data(), "-q"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::vector<std::string> debug(std::vector<std::string> extra) const {
    std::vector<std::string> args = {"debug", f(), q(), "--data", data()};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  std::string f() const { return (dir / "f.onnx").string(); }
  std::string q() const { return (dir / "q.onnx").string(); }
  std::string data() const { return (dir / "data").string(); }
  test::TempDir dir;
};

TEST_F(DebugCommand, PrintsOutputsWeightsAndActivationsAsATable) {
  const auto r = run_cli(debug({}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("samples:   4"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("outputs (SQNR over all samples)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("weights: 2 quantized"), std::string::npos) << r.out;  // w and the int32 bias b
  EXPECT_NE(r.out.find("w (conv)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("activations:"), std::string::npos) << r.out;
}

TEST_F(DebugCommand, JsonAndCsvParse) {
  const auto j = run_cli(debug({"--json"}));
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const auto json = nlohmann::json::parse(j.out);
  EXPECT_EQ(json["samples"], 4);
  EXPECT_EQ(json["outputs"][0]["name"], "y");
  EXPECT_TRUE(json["outputs"][0]["sqnr_db"].is_number());
  EXPECT_EQ(json["weights"].size(), 2u);

  const auto c = run_cli(debug({"--csv"}));
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.out.rfind("kind,name,", 0), 0u);
  EXPECT_EQ(lines(c.out), 1 + 1 + 2 + static_cast<int>(json["activations"].size()));
  EXPECT_EQ(run_cli(debug({"--csv", "--json"})).exit_code, 2);
}

TEST_F(DebugCommand, HtmlWritesOneSelfContainedPageBesideTheTable) {
  const auto page = (dir / "report.html").string();
  const auto r = run_cli(debug({"--html", page}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(r.out.empty());
  const std::string html = test::read_file_bytes(page);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
}

TEST_F(DebugCommand, AnUnwritableHtmlPathIsAnOutputError) {
  const auto r = run_cli(debug({"--html", (dir / "no-such-dir" / "r.html").string()}));
  EXPECT_EQ(r.exit_code, 5) << r.err;
}

TEST_F(DebugCommand, WithoutDataOnlyWeightsAndSizeAreReported) {
  const auto r = run_cli({"debug", f(), q(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json["samples"], 0);
  EXPECT_TRUE(json["outputs"].empty());
  EXPECT_EQ(json["weights"].size(), 2u);
}

TEST_F(DebugCommand, EachGatePassesAtAReachableThresholdAndFailsWithExit6AndOneLine) {
  struct Gate {
    std::vector<std::string> pass, fail;
    std::string name, margin;
  };
  const std::vector<Gate> gates = {
      {{"--fail-below-sqnr", "5"}, {"--fail-below-sqnr", "300"}, "--fail-below-sqnr 300.00 dB: output 'y' is ", "dB below"},
      {{"--fail-below-weight-sqnr", "5"}, {"--fail-below-weight-sqnr", "300"}, "--fail-below-weight-sqnr 300.00 dB: weight ", "dB below"},
      // The toy model's QDQ nodes make it larger than its float original.
      {{"--max-size", "10x"}, {"--max-size", "0.01x"}, "--max-size 0.01x of the float model", "bytes over"},
      {{"--max-size", "1MB"}, {"--max-size", "100"}, "--max-size 100 bytes (100 B): the quantized model is ", "bytes over"},
  };
  for (const auto& g : gates) {
    SCOPED_TRACE(g.name);
    const auto pass = run_cli(debug(g.pass));
    EXPECT_EQ(pass.exit_code, 0) << pass.err;
    const auto fail = run_cli(debug(g.fail));
    EXPECT_EQ(fail.exit_code, 6) << fail.err;
    EXPECT_NE(fail.out.find("outputs"), std::string::npos);  // the report comes first
    EXPECT_EQ(lines(fail.err), 1) << fail.err;
    EXPECT_NE(fail.err.find(g.name), std::string::npos) << fail.err;
    EXPECT_NE(fail.err.find(g.margin), std::string::npos) << fail.err;
  }
}

TEST_F(DebugCommand, SeveralFailingGatesEachPrintTheirLine) {
  const auto r = run_cli(debug({"--fail-below-sqnr", "300", "--max-size", "100", "-q"}));
  EXPECT_EQ(r.exit_code, 6);
  EXPECT_EQ(lines(r.err), 2) << r.err;
}

TEST_F(DebugCommand, AnOutputGateWithoutDataIsAUsageError) {
  EXPECT_EQ(run_cli({"debug", f(), q(), "--fail-below-sqnr", "10"}).exit_code, 2);
  EXPECT_EQ(run_cli({"debug", f(), q(), "--max-size", "lots"}).exit_code, 2);
}

TEST_F(DebugCommand, BadInputIsOneLineAndExit3) {
  test::GraphBuilder g(13);
  g.input("other", DataType::kFloat, {1, 3, 8, 8}).output("y", DataType::kFloat, {1, 3, 1, 1});
  g.node("GlobalAveragePool", {"other"}, {"y"}, "gap");
  g.model().save(dir / "other.onnx");
  fs::create_directories(dir / "wrong");
  write_npy(dir / "wrong" / "s.npy", test::random_tensor({1, 3, 4, 4}, 1));

  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"debug", (dir / "missing.onnx").string(), q()}, "missing.onnx"},
      {{"debug", f(), (dir / "other.onnx").string(), "--data", data()}, "different inputs"},
      {{"debug", f(), q(), "--data", (dir / "wrong").string()}, "s.npy"},
  };
  for (const auto& [args, named] : cases) {
    SCOPED_TRACE(named);
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(named), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace onnxq
