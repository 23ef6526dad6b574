// --suggest-exclude on a model made hard to quantize on purpose: x -> mm1 -> h -> mm2 -> y where
// mm2's weight has one huge row (1000) that per-tensor scales spend the int8 range on, while the
// input channel it multiplies is always 0 (mm1's column 0 is zero). Quantized, every other row
// of mm2 rounds to 0 and y collapses; mm2's own weight SQNR still looks fine (~50 dB: the
// outlier row holds the energy). Only the activations show where the error is made.
#include <gtest/gtest.h>

#include "debug/debug_checks.hpp"
#include "onnxq/quantize_dynamic.hpp"
#include "onnxq/recipe.hpp"
#include "onnxq/static_pipeline.hpp"
#include "support/cli_runner.hpp"
#include "support/graph_builder.hpp"

namespace onnxq {
namespace {

using namespace debug_checks;

Model outlier_model() {
  test::GraphBuilder g(13);
  g.input("x", DataType::kFloat, {4, 16}).output("y", DataType::kFloat, {4, 8});
  Tensor w1 = test::random_tensor({16, 16}, 1);
  for (int64_t r = 0; r < 16; ++r) w1.data<float>()[r * 16] = 0;  // h[:, 0] is always 0
  Tensor w2 = test::random_tensor({16, 8}, 2);
  for (int64_t c = 0; c < 8; ++c) w2.data<float>()[c] = 1000;  // row 0: the outlier
  g.initializer("W1", w1).initializer("W2", w2);
  g.node("MatMul", {"x", "W1"}, {"h"}, "mm1");
  g.node("MatMul", {"h", "W2"}, {"y"}, "mm2");
  return g.model();
}

struct Files {
  TempDir dir;
  Samples samples;
  Files() {
    outlier_model().save(dir / "f.onnx");
    for (uint32_t i = 0; i < 4; ++i) samples.add({{"x", test::random_tensor({4, 16}, 10 + i)}});
  }
  std::string f() const { return (dir / "f.onnx").string(); }
  std::string q() const { return (dir / "q.onnx").string(); }
};

void expect_mm2_named_and_output_recovers(const Files& files) {
  const Model f = Model::load(files.f()), q = Model::load(files.q());
  const DebugOptions options = files.samples.options();
  const DebugReport report = debug_models(f, q, options);
  const auto candidates = rank_exclude_candidates(f, report);
  ASSERT_FALSE(candidates.empty());
  EXPECT_EQ(candidates[0].node, "mm2");

  const ExcludeSuggestion s = suggest_exclude(f, q, report, 1, options);
  ASSERT_EQ(s.nodes.size(), 1u);
  EXPECT_EQ(s.nodes[0].node, "mm2");
  EXPECT_TRUE(s.nodes[0].kept);
  EXPECT_EQ(s.excluded(), std::vector<std::string>{"mm2"});
  EXPECT_EQ(s.nodes[0].sqnr_with_db, s.sqnr_after);
  EXPECT_EQ(s.output, "y");
  std::printf("[ measured ] %s: output SQNR %.1f dB, without mm2 %.1f dB\n", s.command.c_str(), s.sqnr_before, s.sqnr_after);
  EXPECT_LT(s.sqnr_before, 10.0);
  EXPECT_GT(s.sqnr_after, s.sqnr_before + 20.0);
  EXPECT_NE(exclude_suggestion_text(s).find("--nodes-exclude mm2\n"), std::string::npos) << exclude_suggestion_text(s);
}

TEST(SuggestExclude, NamesTheOutlierMatMulAfterQuantizeDynamicAndTheOutputRecovers) {
  Files files;
  quantize_dynamic_file(files.f(), files.q(), {});
  expect_mm2_named_and_output_recovers(files);
}

TEST(SuggestExclude, NamesTheOutlierMatMulAfterQuantizeStaticAndTheOutputRecovers) {
  Files files;
  StaticFileOptions o;
  o.data = files.samples.options().data;
  quantize_static_file(files.f(), files.q(), o);
  expect_mm2_named_and_output_recovers(files);
}

std::vector<ExcludeCandidate> candidates(std::vector<std::string> names) {
  std::vector<ExcludeCandidate> out;
  for (auto& n : names) out.push_back({.node = n, .op_type = "Conv"});
  return out;
}

// SQNR as a sum of what each node left in float gains, with an interaction: c only helps
// once a is float too.
double fake_sqnr(const std::vector<std::string>& excluded) {
  auto has = [&](const char* n) { return std::find(excluded.begin(), excluded.end(), n) != excluded.end(); };
  double db = 10;
  if (has("a")) db += 3;
  if (has("b")) db -= 1;     // leaving b in float hurts (errors that cancelled no longer do)
  if (has("c")) db += has("a") ? 0.5 : -2;
  if (has("d")) db += 0.05;  // helps, but by less than is worth a float node
  return db;
}

TEST(SuggestExclude, TheGreedySearchKeepsOnlyExclusionsThatRaiseTheOutputSqnr) {
  auto c = candidates({"a", "b", "c", "d"});
  std::vector<std::vector<std::string>> tried;
  const double final_db = keep_helpful_exclusions(c, 10, [&](const std::vector<std::string>& names) {
    tried.push_back(names);
    return fake_sqnr(names);
  });
  EXPECT_DOUBLE_EQ(final_db, 13.5);
  EXPECT_TRUE(c[0].kept);
  EXPECT_FALSE(c[1].kept);
  EXPECT_TRUE(c[2].kept);
  EXPECT_FALSE(c[3].kept);
  EXPECT_DOUBLE_EQ(c[1].sqnr_with_db, 12);
  EXPECT_DOUBLE_EQ(c[3].sqnr_with_db, 13.55);
  // Each try stacks on the kept ones only: b is not carried into c's try.
  const std::vector<std::vector<std::string>> expected = {{"a"}, {"a", "b"}, {"a", "c"}, {"a", "c", "d"}};
  EXPECT_EQ(tried, expected);
}

TEST(SuggestExclude, ABrokenOutputNeverWinsAndAnExactOneIsNotImprovedOn) {
  auto c = candidates({"nan", "exact", "more"});
  keep_helpful_exclusions(c, 5, [](const std::vector<std::string>& names) {
    return names.back() == "nan" ? NAN : INFINITY;
  });
  EXPECT_FALSE(c[0].kept);
  EXPECT_TRUE(c[1].kept);
  EXPECT_FALSE(c[2].kept);
}

TEST(SuggestExclude, AModelWithoutARecipeIsAnInputError) {
  Files files;
  Model q = outlier_model();
  quantize_dynamic(q, {});  // in memory: no recipe recorded
  q.save(files.q());
  const Model f = Model::load(files.f()), loaded = Model::load(files.q());
  const DebugReport report = debug_models(f, loaded, files.samples.options());
  try {
    suggest_exclude(f, loaded, report, 1, files.samples.options());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInput);
    EXPECT_NE(std::string(e.what()).find("onnxq.recipe"), std::string::npos) << e.what();
  }
}

TEST(SuggestExclude, TheCommandPrintsAReadyNodesExcludeArgument) {
  Files files;
  ASSERT_EQ(test::run_cli({"quantize-dynamic", files.f(), "-o", files.q(), "-q"}).exit_code, 0);
  const auto r = test::run_cli({"debug", files.f(), files.q(), "--data", files.samples.dir.path().string(),
                                "--suggest-exclude", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("  --nodes-exclude mm2\n"), std::string::npos) << r.out;
  const auto j = test::run_cli({"debug", files.f(), files.q(), "--data", files.samples.dir.path().string(),
                                "--suggest-exclude", "1", "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_EQ(nlohmann::json::parse(j.out)["suggest_exclude"]["nodes_exclude"], "mm2");
  EXPECT_EQ(test::run_cli({"debug", files.f(), files.q(), "--suggest-exclude", "1"}).exit_code, 2);  // needs --data
}

TEST(QuantizationRecipe, StaticOptionsSurviveTheRoundTripThroughJson) {
  StaticFileOptions o;
  CalibOptions calib;
  calib.method = "percentile";
  calib.percentile = 99.9;
  o.quant.format = QuantFormat::kQOperator;
  o.quant.per_channel = true;
  o.quant.symmetric_weights = false;
  o.quant.nodes_exclude = {"a", "b*"};
  o.smooth_quant = true;
  o.bias_correction = true;
  const StaticFileOptions back = static_options_from_recipe(static_recipe(o, calib));
  EXPECT_EQ(static_recipe(back, back.calib), static_recipe(o, calib));
  EXPECT_EQ(back.calib.method, "percentile");
  EXPECT_TRUE(back.bias_correction);
  EXPECT_EQ(back.quant.symmetric_weights, std::optional<bool>(false));
  EXPECT_EQ(back.quant.nodes_exclude, (std::vector<std::string>{"a", "b*"}));

  DynamicQuantOptions d;
  d.weight_type = DataType::kUInt4;
  d.int4_format = Int4Format::kQDQ;
  d.nodes_include = {"mm*"};
  EXPECT_EQ(dynamic_recipe(dynamic_options_from_recipe(dynamic_recipe(d))), dynamic_recipe(d));
}

}  // namespace
}  // namespace onnxq
