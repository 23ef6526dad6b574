#include "calib/calibrator_registry.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "calib/calib_data.hpp"

namespace onnxq {
namespace {

using test::float_tensor;

TEST(CalibratorRegistry, ListsEveryMethodOnce) {
  EXPECT_EQ(calibration_methods(), (std::vector<std::string>{"minmax", "percentile", "entropy", "distribution", "mse"}));
}

TEST(CalibratorRegistry, ExpectingTensorsChangesNoRangeAndNoStateOfAnyMethod) {
  for (const auto& method : calibration_methods()) {
    auto plain = make_calibrator({.method = method});
    auto expecting = make_calibrator({.method = method});
    expecting->expect({"x", "never", "only_nan"});
    for (auto* c : {plain.get(), expecting.get()}) {
      c->observe("x", float_tensor({1.0f, -2.0f, 3.0f}));
      c->observe("x", float_tensor({0.5f, 4.5f}));
      c->observe("only_nan", float_tensor({std::numeric_limits<float>::quiet_NaN()}));
    }
    EXPECT_EQ(expecting->ranges(), plain->ranges()) << method;
    EXPECT_EQ(expecting->ranges().count("never"), 0u) << method;
    EXPECT_EQ(expecting->ranges().count("only_nan"), 0u) << method;
    EXPECT_EQ(expecting->save(), plain->save()) << method;
    // Merging a table into expected, unobserved state is merging into nothing.
    auto merged = make_calibrator({.method = method});
    merged->expect({"x"});
    merged->load_and_merge(plain->save());
    EXPECT_EQ(merged->ranges(), plain->ranges()) << method;
  }
}

TEST(CalibratorRegistry, AnUnknownMethodIsBadInputListingTheKnownOnes) {
  try {
    make_calibrator({.method = "kl"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInput);
    EXPECT_NE(std::string(e.what()).find("percentile"), std::string::npos);
  }
}

TEST(CalibratorRegistry, OptionsOutOfRangeAreBadInput) {
  const std::vector<CalibOptions> bad = {
      {.moving_average = true, .ma_constant = 1.5},
      {.method = "percentile", .percentile = 100.5},
      {.method = "percentile", .num_bins = 4},
      {.method = "entropy", .moving_average = true},
      {.method = "entropy", .num_quantized_bins = 1},
  };
  for (const CalibOptions& o : bad) {
    try {
      make_calibrator(o);
      ADD_FAILURE() << o.method << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kInput) << e.what();
    }
  }
}

TEST(CalibratorRegistry, DefaultBinsFollowOnnxRuntime) {
  const auto bins = [](const std::string& m) { return calib::resolve_options({.method = m}).num_bins; };
  EXPECT_EQ(bins("minmax"), 0);
  EXPECT_EQ(bins("percentile"), 2048);
  EXPECT_EQ(bins("entropy"), 128);
  EXPECT_EQ(bins("distribution"), 2048);
  EXPECT_EQ(calib::resolve_options({.method = "percentile", .num_bins = 512}).num_bins, 512);
}

// Walks the registry: every method gives the same ranges and state for any thread count.
TEST(CalibratorRegistry, EveryMethodGivesTheSameResultsForAnyThreadCount) {
  const auto big = test::laplace(1100000, 71, 1.5f);
  const auto small = test::gaussian(1000, 72, 2.0f, 0.5f);
  for (const std::string& method : calibration_methods()) {
    nlohmann::json reference;
    TensorRanges reference_ranges;
    for (int threads : {1, 2, 7}) {
      auto c = make_calibrator({.method = method, .threads = threads});
      c->observe("big", float_tensor(big));
      c->observe("small", float_tensor(small));
      c->observe("big", float_tensor(small));
      if (threads == 1) {
        reference = c->save();
        reference_ranges = c->ranges();
      }
      EXPECT_EQ(c->save(), reference) << method << " " << threads;
      EXPECT_EQ(c->ranges(), reference_ranges) << method << " " << threads;
    }
  }
}

}  // namespace
}  // namespace onnxq
