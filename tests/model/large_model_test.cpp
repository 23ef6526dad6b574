// Models above protobuf's 2 GB limit: generated here, saved, loaded, inspected, resaved and
// quantized.
// Slow by nature (it writes about 5 GB), but it stays in the suite.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "onnxq/model.hpp"
#include "onnxq/model_info.hpp"
#include "onnxq/quantize_dynamic.hpp"
#include "support/cli_runner.hpp"
#include "support/graph_builder.hpp"
#include "support/temp_dir.hpp"

namespace onnxq {
namespace {

constexpr int64_t kRows = 12288, kCols = 16384;  // 768 MiB of float32 per weight
constexpr int kWeights = 3;                        // 2.25 GiB in all

// A chain of MatMuls whose weights are zero but for a marker value per weight.
Model build_large_model() {
  test::GraphBuilder g;
  g.input("x", DataType::kFloat, {1, kRows}).output("y", DataType::kFloat, {1, kCols});
  Model model = g.model();
  for (int i = 0; i < kWeights; ++i) {
    Tensor w(DataType::kFloat, {kRows, kCols});
    w.data<float>()[i * 1000 + 7] = static_cast<float>(i + 1);
    model.set_initializer("w" + std::to_string(i), w);
  }
  auto* graph = model.proto().mutable_graph();
  std::string prev = "x";
  for (int i = 0; i < kWeights; ++i) {
    auto* n = graph->add_node();
    n->set_op_type(i == 0 ? "MatMul" : "Add");
    n->add_input(i == 0 ? "x" : prev);
    n->add_input(i == 0 ? "w0" : "w" + std::to_string(i));
    prev = i + 1 == kWeights ? "y" : "t" + std::to_string(i);
    n->add_output(prev);
  }
  return model;
}

TEST(LargeModel, AModelAboveTwoGigabytesSavesLoadsReportsResavesAndQuantizes) {
  test::TempDir dir;
  {
    Model model = build_large_model();
    // Too big to inline: the default policy moves the weights out on its own.
    model.save(dir / "big.onnx");
  }
  ASSERT_TRUE(std::filesystem::exists(dir / "big.onnx.data"));
  const uint64_t data_bytes = std::filesystem::file_size(dir / "big.onnx.data");
  EXPECT_GE(data_bytes, uint64_t{kWeights} * kRows * kCols * 4);
  EXPECT_LT(std::filesystem::file_size(dir / "big.onnx"), 4096u);

  {
    Model loaded = Model::load(dir / "big.onnx");
    for (int i = 0; i < kWeights; ++i) {
      const Tensor w = loaded.tensor_data(*loaded.find_initializer("w" + std::to_string(i)));
      EXPECT_EQ(w.data<float>()[i * 1000 + 7], static_cast<float>(i + 1));
      EXPECT_EQ(w.data<float>()[i * 1000 + 8], 0.0f);
    }
    const ModelInfo info = inspect_model(loaded);
    EXPECT_EQ(info.parameters, int64_t{kWeights} * kRows * kCols);
    EXPECT_EQ(info.weights_by_type.at("float32").bytes, uint64_t{kWeights} * kRows * kCols * 4);
    EXPECT_EQ(info.total_bytes(), std::filesystem::file_size(dir / "big.onnx") + data_bytes);

    // Inline is impossible; asking for it is a clear output error and writes nothing.
    try {
      loaded.save(dir / "inline.onnx", {.external_data = ExternalData::kInline});
      ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kOutput);
      EXPECT_NE(std::string(e.what()).find("2 GB"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(std::filesystem::exists(dir / "inline.onnx"));

    loaded.save(dir / "copy.onnx");
  }
  EXPECT_EQ(std::filesystem::file_size(dir / "copy.onnx.data"), data_bytes);
  EXPECT_TRUE(test::files_equal(dir / "copy.onnx.data", dir / "big.onnx.data"));

  // quantize-dynamic end to end: external data in, external data out, weights read in place.
  const QuantizeReport report = quantize_dynamic_file(dir / "big.onnx", dir / "q.onnx", {});
  EXPECT_EQ(report.nodes_quantized, 1);
  EXPECT_TRUE(std::filesystem::exists(dir / "q.onnx.data"));
  {
    Model q = Model::load(dir / "q.onnx");
    EXPECT_EQ(q.find_initializer("w0"), nullptr);
    const Tensor w0 = q.tensor_data(*q.find_initializer("w0_quantized"));
    ASSERT_EQ(w0.dtype(), DataType::kInt8);
    EXPECT_EQ(w0.data<int8_t>()[7], 127);  // the marker 1.0 is the absmax
    EXPECT_EQ(w0.data<int8_t>()[8], 0);
    EXPECT_EQ(q.tensor_data(*q.find_initializer("w2")).data<float>()[2007], 3.0f);
  }
  std::filesystem::remove(dir / "q.onnx.data");

  const auto cli = test::run_cli({"info", (dir / "big.onnx").string(), "--json"});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  const auto j = nlohmann::json::parse(cli.out);
  EXPECT_EQ(j["parameters"].get<int64_t>(), int64_t{kWeights} * kRows * kCols);
  EXPECT_EQ(j["size"]["external_data"].get<uint64_t>(), data_bytes);
}

}  // namespace
}  // namespace onnxq
