#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>

#include "onnxq/model.hpp"
#include "support/cli_runner.hpp"
#include "support/graph_builder.hpp"
#include "support/temp_dir.hpp"

namespace onnxq {
namespace {

using test::run_cli;

class EwqCommand : public ::testing::Test {
 protected:
  void SetUp() override { write_model(model(), test::random_tensor({64, 32}, 1)); }
  static void write_model(const std::string& path, const Tensor& w) {
    test::GraphBuilder g(13);
    g.input("x", DataType::kFloat, {"N", 64}).output("y", DataType::kFloat, {"N", 32});
    g.initializer("w", w);
    g.node("MatMul", {"x", "w"}, {"y"}, "mm");
    g.model().save(path);
  }
  std::string model() const { return (dir / "m.onnx").string(); }
  std::string out() const { return (dir / "q.onnx").string(); }
  test::TempDir dir;
};

TEST_F(EwqCommand, WritesTheModelAndATablePerWeight) {
  const auto r = run_cli({"ewq", model(), "-o", out(), "--bins", "16", "--refine", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("ewq+refine"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 weights quantized"), std::string::npos) << r.out;
  const Model q = Model::load(out());
  EXPECT_EQ(q.find_initializer("w"), nullptr);
  EXPECT_NE(q.find_initializer("w_ewq_packed"), nullptr);
}

TEST_F(EwqCommand, WritesAJsonReportWithBothSqnrsAndBytes) {
  const auto report = (dir / "r.json").string();
  const auto r = run_cli({"ewq", model(), "-o", out(), "--method", "fastewq", "--bins", "16", "--granularity", "channel",
                          "--report", report, "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  const auto j = nlohmann::json::parse(test::read_file_bytes(report));
  ASSERT_EQ(j["tensors"].size(), 1u);
  const auto& t = j["tensors"][0];
  EXPECT_EQ(t["name"], "w");
  EXPECT_EQ(t["method"], "fastewq");
  EXPECT_EQ(t["axis"], 1);
  EXPECT_EQ(t["index_type"], "uint4x2");
  EXPECT_GT(t["sqnr_db"].get<double>(), 15.0);
  EXPECT_GT(t["uniform_int8_sqnr_db"].get<double>(), t["sqnr_db"].get<double>());
  EXPECT_TRUE(t["uniform_int4_sqnr_db"].is_number());
  EXPECT_EQ(t["bytes_before"], 64 * 32 * 4);
  EXPECT_EQ(t["bytes_after"], 64 * 32 / 2 + 32 * 16 * 4 + 32 * 4);
}

TEST_F(EwqCommand, FloatStorageReportsTheGzipSizes) {
  const auto report = (dir / "r.json").string();
  const auto r = run_cli({"ewq", model(), "-o", out(), "--storage", "float", "--bins", "16", "--report", report});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("gzip"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(test::read_file_bytes(report));
  EXPECT_LT(j["gzip_bytes"]["after"].get<uint64_t>(), j["gzip_bytes"]["before"].get<uint64_t>());
  EXPECT_EQ(j["tensors"][0]["index_type"], "float");
}

TEST_F(EwqCommand, GivesIdenticalBytesTwiceAndForAnyThreadCount) {
  const std::string a = (dir / "a.onnx").string(), b = (dir / "b.onnx").string();
  ASSERT_EQ(run_cli({"ewq", model(), "-o", a, "--refine", "5", "--threads", "1"}).exit_code, 0);
  ASSERT_EQ(run_cli({"ewq", model(), "-o", b, "--refine", "5", "--threads", "2"}).exit_code, 0);
  EXPECT_TRUE(test::files_equal(a, b));
  ASSERT_EQ(run_cli({"ewq", a, "-o", b, "--refine", "5"}).exit_code, 0);
  EXPECT_TRUE(test::files_equal(a, b)) << "running on its own output changes nothing";
}

TEST_F(EwqCommand, ListsEntropyChoicesWithSelectEntropy) {
  const auto report = (dir / "r.json").string();
  const auto r = run_cli({"ewq", model(), "-o", out(), "--select", "entropy", "--report", report});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("entropy: mean"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(test::read_file_bytes(report));
  ASSERT_EQ(j["entropy"]["layers"].size(), 1u);
  // One weight is its own mean: not below it, so it gets --bins.
  EXPECT_EQ(j["entropy"]["layers"][0]["choice"], "256 bins");
}

TEST_F(EwqCommand, RejectsBadFlagsWithExitCode2) {
  for (const std::vector<std::string>& flags : std::vector<std::vector<std::string>>{
           {"--bins", "1"}, {"--bins", "257"}, {"--method", "kmeans"}, {"--refine", "-1"},
           {"--granularity", "block"}, {"--storage", "int8"}, {"--op-types", "Relu"}, {"--select", "size"}}) {
    std::vector<std::string> args = {"ewq", model(), "-o", out()};
    args.insert(args.end(), flags.begin(), flags.end());
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << flags[0] << " " << flags[1] << ": " << r.err;
    EXPECT_FALSE(std::filesystem::exists(out()));
  }
}

TEST_F(EwqCommand, NamesTheWeightWithANaNAndWritesNothing) {
  Tensor w = test::random_tensor({64, 32}, 2);
  w.data<float>()[5] = std::nanf("");
  write_model(model(), w);
  const auto r = run_cli({"ewq", model(), "-o", out()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("weight 'w'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("NaN or infinite"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out()));
}

TEST_F(EwqCommand, AMissingModelIsAnInputError) {
  const auto r = run_cli({"ewq", (dir / "none.onnx").string(), "-o", out()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
}

}  // namespace
}  // namespace onnxq
