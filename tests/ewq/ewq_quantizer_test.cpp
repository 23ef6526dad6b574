#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "onnxq/checker.hpp"
#include "onnxq/ewq.hpp"
#include "onnxq/executor.hpp"
#include "onnxq/quantize_dynamic.hpp"
#include "onnxq/tensor_proto.hpp"
#include "support/cnn_model.hpp"
#include "support/graph_builder.hpp"
#include "support/ort_oracle.hpp"
#include "support/quant_checks.hpp"
#include "support/temp_dir.hpp"

namespace onnxq {
namespace {

using test::GraphBuilder;

// x [1, K] times a constant W [K, N].
Model matmul_model(const Tensor& w, int64_t opset = 17) {
  GraphBuilder g(opset);
  if (opset >= 21) g.ir_version(10);
  g.input("x", DataType::kFloat, {1, w.shape()[0]}).output("y", DataType::kFloat, {1, w.shape()[1]});
  g.initializer("w", w);
  g.node("MatMul", {"x", "w"}, {"y"}, "mm");
  return g.model();
}

Tensor gaussian_tensor(Shape shape, uint32_t seed) {
  // Sum of four uniforms: bell-shaped, deterministic everywhere.
  Tensor t(DataType::kFloat, shape);
  Tensor u = test::random_tensor({t.numel() * 4}, seed);
  for (int64_t i = 0; i < t.numel(); ++i) {
    const float* p = u.data<float>() + 4 * i;
    t.data<float>()[i] = 0.05f * (p[0] + p[1] + p[2] + p[3]);
  }
  return t;
}

// What MatMul reads as its weight after quantize_ewq, exposed as a graph output.
std::string expose_weight(Model& m, const Shape& shape) {
  std::string name;
  for (const auto& n : m.graph().node())
    if (n.op_type() == "MatMul") name = n.input(1);
  auto* out = m.graph().add_output();
  out->set_name(name);
  *out->mutable_type() = test::tensor_type(DataType::kFloat, std::vector<test::Dim>(shape.begin(), shape.end()));
  return name;
}

std::vector<float> initializer_values(const Model& m, const std::string& name) {
  const Tensor t = m.tensor_data(*m.find_initializer(name));
  return {t.data<float>(), t.data<float>() + t.numel()};
}

std::vector<float> values_of(const Tensor& t) { return {t.data<float>(), t.data<float>() + t.numel()}; }

std::string serialized(const Model& m) {
  std::string s;
  m.proto().SerializeToString(&s);
  return s;
}

TEST(EwqQuantizer, GivesEachOutputColumnItsOwnCodebook) {
  // Column j holds 10 j + {0..7}: four equal-count codes per column are 10 j + {0.5, 2.5, 4.5, 6.5}.
  Tensor w(DataType::kFloat, {8, 3});
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 3; ++j) w.data<float>()[i * 3 + j] = static_cast<float>(10 * j + i);
  Model m = matmul_model(w);
  EwqOptions o;
  o.bins = 4;
  o.granularity = CodebookGranularity::kChannel;
  o.storage = CodebookStorage::kFloat;
  o.min_elements = 1;
  const EwqReport r = quantize_ewq(m, o);
  ASSERT_EQ(r.tensors.size(), 1u);
  EXPECT_EQ(r.tensors[0].axis, 1);
  EXPECT_EQ(r.tensors[0].codes, 4);
  const std::vector<float> got = initializer_values(m, "w");
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(got[i * 3 + j], 10.0f * j + static_cast<float>(i / 2 * 2) + 0.5f) << i << "," << j;
}

struct Layout {
  const char* name;
  int64_t opset;
  int bins;
  Shape shape;
  CodebookGranularity granularity;
  const char* index_type;
};

class EwqStorage : public ::testing::TestWithParam<Layout> {};

// The Gather graph rebuilds exactly the values --storage float writes, in onnxq's executor and in
// ONNX Runtime, and uses the index type it reports.
TEST_P(EwqStorage, RebuildsTheCodebookWeightBitExactly) {
  const Layout& l = GetParam();
  const Tensor w = gaussian_tensor(l.shape, 7);
  EwqOptions o;
  o.bins = l.bins;
  o.refine = 3;
  o.granularity = l.granularity;
  o.min_elements = 1;
  Model expected = matmul_model(w, l.opset);
  o.storage = CodebookStorage::kFloat;
  quantize_ewq(expected, o);
  const std::vector<float> w_hat = initializer_values(expected, "w");

  Model m = matmul_model(w, l.opset);
  o.storage = CodebookStorage::kGather;
  const EwqReport r = quantize_ewq(m, o);
  ASSERT_EQ(r.tensors.size(), 1u);
  EXPECT_EQ(r.tensors[0].index_type, l.index_type);
  EXPECT_EQ(m.find_initializer("w"), nullptr) << "the float weight is gone";
  EXPECT_EQ(m.opset_version(""), l.opset) << "the model keeps its opset";
  const std::string rebuilt = expose_weight(m, l.shape);
  EXPECT_LT(r.tensors[0].bytes_after, r.tensors[0].bytes_before);

  const Tensor x = test::random_tensor({1, l.shape[0]}, 3);
  if (l.opset < 21) {  // onnxq's executor has no 4-bit Cast
    EXPECT_EQ(check_model(m).status, CheckResult::Status::kValid) << check_model(m).message;
    const std::vector<Tensor> out = Executor(m).run({{"x", x}});
    EXPECT_EQ(values_of(out[1]), w_hat);
  }
  if (!test::onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node is not installed";
  test::TempDir dir;
  m.save(dir / "m.onnx");
  const test::OrtResult ort = test::run_in_onnxruntime(dir / "m.onnx", {{"x", x}});
  EXPECT_EQ(values_of(ort.outputs.at(rebuilt)), w_hat);
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, EwqStorage,
    ::testing::Values(Layout{"uint8", 17, 256, {64, 48}, CodebookGranularity::kTensor, "uint8"},
                      Layout{"uint8_per_channel", 17, 256, {640, 6}, CodebookGranularity::kChannel, "uint8"},
                      Layout{"packed_even", 17, 16, {64, 48}, CodebookGranularity::kTensor, "uint4x2"},
                      Layout{"packed_odd", 13, 16, {63, 17}, CodebookGranularity::kTensor, "uint4x2"},
                      Layout{"packed_per_channel", 11, 16, {63, 17}, CodebookGranularity::kChannel, "uint4x2"},
                      Layout{"uint8_below_opset_11", 10, 256, {64, 48}, CodebookGranularity::kTensor, "uint8"},
                      Layout{"uint4_opset_21", 21, 16, {64, 48}, CodebookGranularity::kTensor, "uint4"},
                      Layout{"uint4_opset_21_per_channel", 21, 16, {63, 17}, CodebookGranularity::kChannel, "uint4"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(EwqQuantizer, RaisesOpset9To11ForFourBitCodes) {
  const Tensor w = gaussian_tensor({64, 48}, 8);
  Model m = matmul_model(w, 9);
  EwqOptions o;
  o.bins = 16;
  const EwqReport r = quantize_ewq(m, o);
  ASSERT_EQ(r.tensors.size(), 1u);
  EXPECT_EQ(r.tensors[0].index_type, "uint4x2");
  EXPECT_EQ(m.opset_version(""), 11);
  Model expected = matmul_model(w, 9);
  o.storage = CodebookStorage::kFloat;
  quantize_ewq(expected, o);
  expose_weight(m, w.shape());
  const Tensor x = test::random_tensor({1, 64}, 3);
  EXPECT_EQ(values_of(Executor(m).run({{"x", x}})[1]), initializer_values(expected, "w"));
}

TEST(EwqQuantizer, StoresTheCodesAndCodebookItComputed) {
  // Independently: build_codebook + assign_codes on the same values give the stored initializers.
  const Tensor w = gaussian_tensor({64, 32}, 21);
  Model m = matmul_model(w);
  EwqOptions o;
  o.method = CodebookMethod::kFastEwq;
  quantize_ewq(m, o);
  const std::span<const float> values(w.data<float>(), static_cast<size_t>(w.numel()));
  const Codebook c = build_codebook(values, {CodebookMethod::kFastEwq, 256, 0});
  std::vector<uint8_t> codes(values.size());
  assign_codes(values, c, codes.data());
  const Tensor stored_codes = m.tensor_data(*m.find_initializer("w_ewq_codes"));
  const Tensor table = m.tensor_data(*m.find_initializer("w_ewq_codebook"));
  EXPECT_EQ(std::vector<uint8_t>(stored_codes.data<uint8_t>(), stored_codes.data<uint8_t>() + stored_codes.numel()), codes);
  EXPECT_EQ(values_of(table), c.values);
}

TEST(EwqQuantizer, GivesTheSameBytesForAnyThreadCountAndChangesNothingOnItsOwnOutput) {
  GraphBuilder g(17);
  g.input("x", DataType::kFloat, {1, 128}).output("y", DataType::kFloat, {1, 16});
  for (int i = 0; i < 6; ++i) g.initializer("w" + std::to_string(i), gaussian_tensor({128, 128}, 30 + i));
  g.initializer("wl", gaussian_tensor({128, 16}, 40));
  std::string v = "x";
  for (int i = 0; i < 6; ++i) {
    g.node("MatMul", {v, "w" + std::to_string(i)}, {"h" + std::to_string(i)}, "mm" + std::to_string(i));
    v = "h" + std::to_string(i);
  }
  g.node("MatMul", {v, "wl"}, {"y"}, "last");
  for (auto storage : {CodebookStorage::kGather, CodebookStorage::kFloat}) {
    std::string first;
    for (int threads : {1, 2, 3}) {
      Model m = g.model();
      EwqOptions o;
      o.bins = 16;  // 128 values per column: 256 codes per column would outweigh the floats
      o.refine = 4;
      o.granularity = CodebookGranularity::kChannel;
      o.storage = storage;
      o.threads = threads;
      EXPECT_EQ(quantize_ewq(m, o).tensors.size(), 7u);
      if (threads == 1) first = serialized(m);
      EXPECT_EQ(serialized(m), first) << "threads " << threads;
      const std::string once = serialized(m);
      const EwqReport again = quantize_ewq(m, o);
      EXPECT_TRUE(again.tensors.empty());
      EXPECT_EQ(serialized(m), once);
    }
  }
}

TEST(EwqQuantizer, CodesLargeWeightsThroughTheSpillFileAsBuildCodebookCodesThem) {
  // 640 x 512 floats (1.3 MB): streamed in chunks, coded through the code table and written to the
  // spill file. An outlier leaves equal-width bins empty, so fastewq's codes are remapped, and 16
  // codes are packed two per byte at opset 17.
  Tensor w = gaussian_tensor({640, 512}, 50);
  w.data<float>()[12345] = 2.0f;
  const std::span<const float> values(w.data<float>(), static_cast<size_t>(w.numel()));
  for (const auto method : {CodebookMethod::kEwq, CodebookMethod::kFastEwq})
    for (const int bins : {256, 16}) {
      const Codebook c = build_codebook(values, {method, bins, 0});
      std::vector<float> expected(values.size());
      for (size_t i = 0; i < values.size(); ++i) expected[i] = c.values[c.code(values[i])];
      EwqOptions o;
      o.method = method;
      o.bins = bins;
      o.storage = CodebookStorage::kFloat;
      Model floats = matmul_model(w);
      quantize_ewq(floats, o);
      EXPECT_EQ(initializer_values(floats, "w"), expected) << bins;
      std::string first;
      for (const int threads : {1, 2}) {
        o.storage = CodebookStorage::kGather;
        o.threads = threads;
        Model m = matmul_model(w);
        const EwqReport r = quantize_ewq(m, o);
        ASSERT_EQ(r.tensors.size(), 1u);
        EXPECT_EQ(r.tensors[0].index_type, bins == 16 ? "uint4x2" : "uint8");
        if (threads == 1) first = serialized(m);
        EXPECT_EQ(serialized(m), first);
        const std::string rebuilt = expose_weight(m, w.shape());
        EXPECT_EQ(values_of(Executor(m).run({{"x", test::random_tensor({1, 640}, 3)}})[1]), expected) << bins;
      }
    }
}

TEST(EwqQuantizer, SpillsSeveralLargeWeightsFromParallelThreadsWithoutMixingThem) {
  // Three 1.3 MB weights coded at once reserve their spill space concurrently; each weight's stored
  // codes must be its own, as assign_codes gives them.
  GraphBuilder g(17);
  g.input("x", DataType::kFloat, {1, 640}).output("y", DataType::kFloat, {1, 512});
  const std::vector<Shape> shapes = {{640, 512}, {512, 640}, {640, 512}};
  std::vector<Tensor> ws;
  std::string v = "x";
  for (int i = 0; i < 3; ++i) {
    ws.push_back(gaussian_tensor(shapes[i], 60 + i));
    g.initializer("w" + std::to_string(i), ws.back());
    const std::string out = i == 2 ? "y" : "h" + std::to_string(i);
    g.node("MatMul", {v, "w" + std::to_string(i)}, {out}, "mm" + std::to_string(i));
    v = out;
  }
  for (const int threads : {2, 3}) {
    Model m = g.model();
    EwqOptions o;
    o.method = CodebookMethod::kFastEwq;
    o.threads = threads;
    ASSERT_EQ(quantize_ewq(m, o).tensors.size(), 3u);
    for (int i = 0; i < 3; ++i) {
      const std::span<const float> values(ws[i].data<float>(), static_cast<size_t>(ws[i].numel()));
      std::vector<uint8_t> expected(values.size());
      assign_codes(values, build_codebook(values, {CodebookMethod::kFastEwq, 256, 0}), expected.data());
      const Tensor codes = m.tensor_data(*m.find_initializer("w" + std::to_string(i) + "_ewq_codes"));
      EXPECT_EQ(std::vector<uint8_t>(codes.data<uint8_t>(), codes.data<uint8_t>() + codes.numel()), expected)
          << "w" << i << ", threads " << threads;
    }
  }
}

TEST(EwqQuantizer, NamesTheWeightHoldingANaN) {
  Tensor w = gaussian_tensor({64, 32}, 5);
  w.data<float>()[77] = std::nanf("");
  Model m = matmul_model(w);
  try {
    quantize_ewq(m, {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInput);
    EXPECT_NE(std::string(e.what()).find("weight 'w'"), std::string::npos) << e.what();
  }
}

TEST(EwqQuantizer, LeavesSmallWeightsAndExcludedNodesFloat) {
  GraphBuilder g(17);
  g.input("x", DataType::kFloat, {1, 64}).output("y", DataType::kFloat, {1, 8});
  g.initializer("big", gaussian_tensor({64, 64}, 1));
  g.initializer("small", gaussian_tensor({64, 8}, 2));  // 512 elements
  g.initializer("kept", gaussian_tensor({64, 64}, 3));
  g.node("MatMul", {"x", "big"}, {"a"}, "mm_big");
  g.node("MatMul", {"a", "kept"}, {"b"}, "mm_kept");
  g.node("MatMul", {"b", "small"}, {"y"}, "mm_small");
  Model m = g.model();
  EwqOptions o;
  o.nodes_exclude = {"*kept"};
  const EwqReport r = quantize_ewq(m, o);
  ASSERT_EQ(r.tensors.size(), 1u);
  EXPECT_EQ(r.tensors[0].name, "big");
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_EQ(r.skipped[0].node, "small");
  EXPECT_NE(m.find_initializer("kept"), nullptr);
  EXPECT_NE(m.find_initializer("small"), nullptr);
}

TEST(EwqSelectEntropy, GivesLowEntropyWeightsFewCodesAndKeepsTheHighestFloat) {
  // Entropies (256-bin histograms): a uniform spread ~8 bits, two bell shapes in between, a weight
  // of two values 1 bit. Mean and std over the four decide.
  Tensor two(DataType::kFloat, {64, 64});
  for (int64_t i = 0; i < two.numel(); ++i) two.data<float>()[i] = (i % 2) ? 0.5f : -0.5f;
  const std::vector<std::pair<std::string, Tensor>> weights = {
      {"uniform", test::random_tensor({64, 64}, 1)},
      {"bell1", gaussian_tensor({64, 64}, 2)},
      {"bell2", gaussian_tensor({64, 64}, 3)},
      {"two", two}};
  GraphBuilder g(17);
  g.input("x", DataType::kFloat, {1, 64}).output("y", DataType::kFloat, {1, 64});
  std::string v = "x";
  for (const auto& [name, t] : weights) {
    g.initializer(name, t);
    const std::string out = name == "two" ? "y" : name + "_out";
    g.node("MatMul", {v, name}, {out}, name + "_mm");
    v = out;
  }
  Model m = g.model();
  std::vector<double> h;
  for (const auto& [name, t] : weights) h.push_back(weight_entropy_bits({t.data<float>(), static_cast<size_t>(t.numel())}));
  double mean = 0, var = 0;
  for (double e : h) mean += e / 4;
  for (double e : h) var += (e - mean) * (e - mean) / 4;
  const double k = 0.6, threshold = mean + k * std::sqrt(var);
  ASSERT_GT(h[0], threshold);
  ASSERT_LT(h[3], mean);
  ASSERT_GE(h[1], mean);
  ASSERT_LE(h[1], threshold);
  ASSERT_GE(h[2], mean);
  ASSERT_LE(h[2], threshold);

  EwqOptions o;
  o.select = BinSelection::kEntropy;
  o.entropy_k = k;
  const EwqReport r = quantize_ewq(m, o);
  ASSERT_EQ(r.entropy.size(), 4u);
  EXPECT_EQ(r.entropy[0].bins, 0);
  EXPECT_EQ(r.entropy[1].bins, 256);
  EXPECT_EQ(r.entropy[2].bins, 256);
  EXPECT_EQ(r.entropy[3].bins, 16);
  EXPECT_NEAR(r.entropy[3].entropy_bits, 1.0, 1e-12);
  EXPECT_NEAR(r.entropy_mean, mean, 1e-12);
  EXPECT_NE(m.find_initializer("uniform"), nullptr);
  ASSERT_EQ(r.tensors.size(), 3u);
  EXPECT_EQ(r.tensors[2].index_type, "uint4x2");
}

TEST(EwqOnCnn, PerChannelRefinedCodebooksBeatPerChannelInt8WeightOnlyOnTheOutput) {
  if (!test::onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node is not installed";
  const Model reference = test::build_cnn({.image = 64, .width = 32, .classes = 100});
  const Tensor image = test::random_tensor({1, 3, 64, 64}, 9, 0.0f, 1.0f);
  Model ewq = test::build_cnn({.image = 64, .width = 32, .classes = 100});
  EwqOptions o;
  o.granularity = CodebookGranularity::kChannel;
  o.refine = 10;
  const EwqReport r = quantize_ewq(ewq, o);
  EXPECT_GT(r.tensors.size(), 10u);
  Model dyn = test::build_cnn({.image = 64, .width = 32, .classes = 100});
  DynamicQuantOptions d;
  d.format = QuantFormat::kQDQ;
  d.per_channel = true;
  quantize_dynamic(dyn, d);
  Model float_model = test::build_cnn({.image = 64, .width = 32, .classes = 100});
  const double ewq_db = test::output_sqnr(float_model, ewq, {{"image", image}});
  const double int8_db = test::output_sqnr(float_model, dyn, {{"image", image}});
  std::printf("CNN output SQNR: ewq+refine per channel %.2f dB, int8 per channel weight-only %.2f dB\n", ewq_db, int8_db);
  EXPECT_GT(ewq_db, int8_db);
  EXPECT_EQ(check_model(ewq).status, CheckResult::Status::kValid);
}

}  // namespace
}  // namespace onnxq
