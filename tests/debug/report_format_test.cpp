#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "onnxq/debug.hpp"

namespace onnxq {
namespace {

WeightError weight(const std::string& name, double sqnr, int64_t order) {
  WeightError w;
  w.name = name;
  w.node = name + "_node";
  w.op_type = "Conv";
  w.type = "int8";
  w.sqnr_db = sqnr;
  w.order = order;
  w.params = {3, 0.01f, 0.04f, 0, 0};
  w.bytes_before = 400;
  w.bytes_after = 112;
  return w;
}

DebugReport sample_report() {
  DebugReport r;
  r.float_model = "f.onnx";
  r.quant_model = "q.onnx";
  r.float_bytes = 1000;
  r.quant_bytes = 300;
  r.samples = 2;
  r.weights = {weight("a", 30, 0), weight("b", 12.5, 1), weight("c, with comma", INFINITY, 2), weight("d", 12.5, 3)};
  ActivationError act;
  act.name = "t";
  act.quantized = "t_DequantizeLinear_Output";
  act.node = "conv";
  act.op_type = "Conv";
  act.sqnr_db = 20;
  act.qdq_sqnr_db = 35;
  act.params = QuantParamSummary{1, 0.5f, 0.5f, 128, 128};
  r.activations = {act};
  OutputError o;
  o.name = "probs";
  o.sqnr_db = 15;
  o.cosine = 0.99;
  o.class_scores = true;
  o.rows = 10;
  o.top1_agree = 9;
  r.outputs = {o};
  return r;
}

TEST(DebugReportFormat, WorstComesFirstAndTiesKeepGraphOrder) {
  const auto worst = worst_weights(sample_report(), 3);
  ASSERT_EQ(worst.size(), 3u);
  EXPECT_EQ(worst[0].name, "b");
  EXPECT_EQ(worst[1].name, "d");
  EXPECT_EQ(worst[2].name, "a");
  EXPECT_EQ(worst_weights(sample_report(), 0).size(), 4u);
}

TEST(DebugReportFormat, JsonCarriesTheWorstEntriesAndNullForAnInfiniteSqnr) {
  const auto j = nlohmann::json::parse(debug_report_json(sample_report(), 0).dump());
  EXPECT_EQ(j["weights_total"], 4);
  EXPECT_EQ(j["weights"][0]["name"], "b");
  EXPECT_TRUE(j["weights"][3]["sqnr_db"].is_null());
  EXPECT_DOUBLE_EQ(j["size_ratio"].get<double>(), 0.3);
  EXPECT_EQ(j["outputs"][0]["top1_agree"], 9);
  EXPECT_DOUBLE_EQ(j["activations"][0]["qdq_sqnr_db"].get<double>(), 35);
  EXPECT_EQ(j["activations"][0]["params"]["zero_point_min"], 128);
  EXPECT_EQ(debug_report_json(sample_report(), 1)["weights"].size(), 1u);
}

// Splits one CSV line, honouring quotes.
std::vector<std::string> csv_cells(const std::string& line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') cells.back() += '"', ++i;
    else if (c == '"') quoted = !quoted;
    else if (c == ',' && !quoted) cells.emplace_back();
    else cells.back() += c;
  }
  return cells;
}

TEST(DebugReportFormat, CsvHasOneRowPerEntryWithAsManyCellsAsTheHeader) {
  std::istringstream in(debug_report_csv(sample_report(), 0));
  std::string line;
  std::getline(in, line);
  const auto header = csv_cells(line);
  EXPECT_EQ(header[0], "kind");
  std::map<std::string, int> kinds;
  while (std::getline(in, line)) {
    const auto cells = csv_cells(line);
    EXPECT_EQ(cells.size(), header.size()) << line;
    ++kinds[cells[0]];
    if (cells[1] == "c, with comma") {
      EXPECT_EQ(cells[4], "inf");
    }
  }
  EXPECT_EQ(kinds["output"], 1);
  EXPECT_EQ(kinds["weight"], 4);
  EXPECT_EQ(kinds["activation"], 1);
}

TEST(DebugReportFormat, TheTableShowsOutputsWeightsAndActivationsInAlignedColumns) {
  const std::string t = debug_report_table(sample_report(), 2);
  EXPECT_NE(t.find("9/10 (90.0%)"), std::string::npos) << t;
  EXPECT_NE(t.find("weights: 4 quantized, worst 2 first"), std::string::npos) << t;
  EXPECT_NE(t.find("3 x s 0.01..0.04, zp 0"), std::string::npos) << t;
  EXPECT_EQ(t.find("c, with comma"), std::string::npos) << t;  // not among the worst 2
  EXPECT_NE(t.find("t (conv, Conv)"), std::string::npos) << t;
  EXPECT_NE(t.find("0.300x"), std::string::npos) << t;
}

TEST(DebugGates, EachFailingGateIsOneLineWithThresholdValueAndMargin) {
  const DebugReport r = sample_report();
  const auto failed = failed_gates(r, {.min_output_sqnr_db = 20.0, .min_weight_sqnr_db = 10.0, .max_size = SizeLimit{0, 0.25}});
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_EQ(failed[0], "--fail-below-sqnr 20.00 dB: output 'probs' is 15.00 dB, 5.00 dB below");
  EXPECT_EQ(failed[1],
            "--max-size 0.25x of the float model = 250 bytes: the quantized model is 300 bytes (300 B, 0.300x), 50 bytes over");
  EXPECT_TRUE(failed_gates(r, {.min_output_sqnr_db = 15.0, .min_weight_sqnr_db = 12.5, .max_size = SizeLimit{300, 0}}).empty());
  const auto weight = failed_gates(r, {.min_weight_sqnr_db = 13.0});
  ASSERT_EQ(weight.size(), 1u);
  EXPECT_EQ(weight[0], "--fail-below-weight-sqnr 13.00 dB: weight 'b' (node 'b_node') is 12.50 dB, 0.50 dB below");
}

TEST(DebugGates, ANanOutputSqnrFailsTheGate) {
  DebugReport r = sample_report();
  r.outputs[0].sqnr_db = NAN;
  EXPECT_EQ(failed_gates(r, {.min_output_sqnr_db = -100.0}).size(), 1u);
}

TEST(DebugGates, SizeLimitsAreBytesWithUnitsOrRatios) {
  EXPECT_EQ(parse_size_limit("120MB").bytes, 120000000u);
  EXPECT_EQ(parse_size_limit("5000000").bytes, 5000000u);
  EXPECT_DOUBLE_EQ(parse_size_limit("0.3x").ratio, 0.3);
  for (const char* bad : {"x", "-1x", "abc", "0x"}) {
    try {
      parse_size_limit(bad);
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kUsage) << bad;
    }
  }
}

}  // namespace
}  // namespace onnxq
