#include <gtest/gtest.h>

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

// A 100 x 16 embedding table whose rows differ in magnitude by up to 10x, as trained
// embeddings do (frequent tokens small, rare ones large).
Tensor embedding_table() {
  Tensor t = test::random_tensor({100, 16}, 21);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] *= static_cast<float>(1 + (i / 16) % 10);
  return t;
}

// y = table[ids], ids [2, 6].
Model embedding_model(int64_t axis = 0, Tensor table = embedding_table()) {
  GraphBuilder g(13);
  g.input("ids", DataType::kInt64, {2, 6}).output("y", DataType::kFloat, {2, 6, axis == 0 ? 16 : 100});
  g.initializer("table", table);
  test::attr_int(g.node("Gather", {"table", "ids"}, {"y"}, "embed"), "axis", axis);
  return g.model();
}

// Token ids, with a negative one (counting from the end) among them.
const std::map<std::string, Tensor>& inputs() {
  static const std::map<std::string, Tensor> in = {
      {"ids", Tensor::from_vector<int64_t>({2, 6}, {0, 7, 42, 99, -1, 13, 5, 5, 61, 88, 30, 2})}};
  return in;
}

test::OrtResult run(Model& m) {
  test::TempDir dir;
  m.save(dir / "m.onnx");
  return test::run_in_onnxruntime(dir / "m.onnx", inputs());
}

double sqnr(const test::OrtResult& f, const test::OrtResult& q) {
  const Tensor& a = f.outputs.at("y");
  const Tensor& b = q.outputs.at("y");
  EXPECT_EQ(a.shape(), b.shape());
  return sqnr_db(a.data<float>(), b.data<float>(), a.numel());
}

TEST(GatherDynamic, EveryFlagCombinationRunsInOnnxRuntimeCloseToTheFloatModel) {
  Model f = embedding_model();
  const auto expected = run(f);
  for (const auto& [format, type, per_channel, reduce_range] : test::every_8bit_combo()) {
          const std::string name = combo_name(format, type, per_channel, reduce_range);
          SCOPED_TRACE(name);
          Model q = embedding_model();
          const auto report = quantize_dynamic(q, {.format = format,
                                                   .weight_type = type,
                                                   .per_channel = per_channel,
                                                   .reduce_range = reduce_range});
          EXPECT_EQ(report.nodes_quantized, 1);
          ASSERT_EQ(report.tensors.size(), 1u);
          EXPECT_EQ(report.tensors[0].axis, per_channel ? 0 : -1);
          EXPECT_EQ(q.find_initializer("table"), nullptr) << "the float table is gone";
          ASSERT_NE(q.find_initializer("table_quantized"), nullptr);
          EXPECT_EQ(q.find_initializer("table_quantized")->data_type(), static_cast<int32_t>(type));
          ASSERT_NE(q.find_initializer("table_scale"), nullptr);
          EXPECT_EQ(proto_shape(*q.find_initializer("table_scale")), per_channel ? Shape{100} : Shape{});

          const auto ops = op_counts(q);
          if (format == QuantFormat::kQDQ) {
            EXPECT_EQ(ops.at("DequantizeLinear"), 1);
            EXPECT_EQ(ops.at("Gather"), 1);
          } else if (!per_channel) {
            EXPECT_EQ(ops.at("Gather"), 1);
            EXPECT_EQ(ops.at("DequantizeLinear"), 1);
          } else {
            // Rows, their scales and (uint8's asymmetric) zero points are gathered; int8 is
            // symmetric, its zero points 0 and left out.
            const bool zp = type == DataType::kUInt8;
            EXPECT_EQ(ops.at("Gather"), zp ? 3 : 2);
            EXPECT_EQ(ops.count("Sub"), zp ? 1u : 0u);
            EXPECT_EQ(ops.at("Mul"), 1);
            EXPECT_EQ(ops.count("DequantizeLinear"), 0u);
          }
          EXPECT_NE(check_model(q).status, CheckResult::Status::kInvalid) << check_model(q).message;
          const double db = sqnr(expected, run(q));
          EXPECT_GT(db, reduce_range ? 33.0 : 38.0);
          std::cout << "  " << name << ": output SQNR " << db << " dB, weight SQNR "
                    << report.tensors[0].sqnr_db << " dB\n";
        }
}

TEST(GatherDynamic, PerRowScalesBeatOnePerTableOnRowsOfUnevenMagnitude) {
  Model f = embedding_model();
  const auto expected = run(f);
  for (QuantFormat format : {QuantFormat::kQOperator, QuantFormat::kQDQ}) {
    Model per_tensor = embedding_model(), per_row = embedding_model();
    quantize_dynamic(per_tensor, {.format = format});
    quantize_dynamic(per_row, {.format = format, .per_channel = true});
    EXPECT_GT(sqnr(expected, run(per_row)), sqnr(expected, run(per_tensor)) + 3.0);
  }
}

TEST(GatherDynamic, OnlyGathersOfRowsFromATwoDimensionalTableAreQuantized) {
  Model along_columns = embedding_model(/*axis=*/1);
  auto report = quantize_dynamic(along_columns, {});
  EXPECT_EQ(report.nodes_quantized, 0);
  ASSERT_EQ(report.skipped.size(), 1u);
  EXPECT_EQ(report.skipped[0].reason, "only Gather along axis 0 reads table rows");

  Model vector = embedding_model(0, test::random_tensor({100}, 22));
  report = quantize_dynamic(vector, {});
  EXPECT_EQ(report.nodes_quantized, 0);
  ASSERT_EQ(report.skipped.size(), 1u);
  EXPECT_EQ(report.skipped[0].reason, "data is not a 2-D embedding table");
  EXPECT_NE(vector.find_initializer("table"), nullptr);
}

TEST(GatherDynamic, QuantizingItsOwnOutputChangesNothing) {
  for (QuantFormat format : {QuantFormat::kQOperator, QuantFormat::kQDQ})
    for (DataType type : {DataType::kInt8, DataType::kUInt8})
      for (bool per_channel : {false, true}) {
        SCOPED_TRACE(combo_name(format, type, per_channel, false));
        const DynamicQuantOptions options{.format = format, .weight_type = type, .per_channel = per_channel};
        Model m = embedding_model();
        quantize_dynamic(m, options);
        test::expect_requantizing_changes_nothing(m, options);
      }
}

TEST(GatherDynamic, TheReportCountsTheBytesOfTheInitializersThatAreStored) {
  // Symmetric int8 tables have all-zero zero points, which the per-row form does without.
  for (QuantFormat format : {QuantFormat::kQOperator, QuantFormat::kQDQ})
    for (DataType type : {DataType::kInt8, DataType::kUInt8})
      for (bool per_channel : {false, true}) {
        SCOPED_TRACE(combo_name(format, type, per_channel, false));
        Model m = embedding_model();
        const auto report = quantize_dynamic(m, {.format = format, .weight_type = type, .per_channel = per_channel});
        ASSERT_EQ(report.tensors.size(), 1u);
        uint64_t stored = 0;
        for (const char* suffix : {"_quantized", "_scale", "_zero_point"})
          if (const auto* init = m.find_initializer(std::string("table") + suffix)) stored += m.tensor_data(*init).nbytes();
        EXPECT_EQ(report.tensors[0].bytes_after, stored);
      }
}

TEST(GatherDynamic, ATableSharedByTwoGathersIsStoredOnce) {
  GraphBuilder g(13);
  g.input("a", DataType::kInt64, {3}).input("b", DataType::kInt64, {3});
  g.output("ya", DataType::kFloat, {3, 16}).output("yb", DataType::kFloat, {3, 16});
  g.initializer("table", embedding_table());
  g.node("Gather", {"table", "a"}, {"ya"}, "ga");
  g.node("Gather", {"table", "b"}, {"yb"}, "gb");
  Model m = g.model();
  const auto report = quantize_dynamic(m, {.per_channel = true});
  EXPECT_EQ(report.nodes_quantized, 2);
  EXPECT_EQ(report.tensors.size(), 1u);
  EXPECT_EQ(m.find_initializer("table"), nullptr);
}

}  // namespace
}  // namespace onnxq
