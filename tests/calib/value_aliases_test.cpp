#include "calib/value_aliases.hpp"

#include <gtest/gtest.h>

#include "calib/calib_data.hpp"
#include "support/graph_builder.hpp"

namespace onnxq {
namespace {

// x -> Reshape -> r -> Transpose -> t -> Relu -> y, and x -> Identity -> i.
Model chain() {
  test::GraphBuilder g(13);
  g.input("x", DataType::kFloat, {2, 6}).output("y", DataType::kFloat, {3, 4}).output("i", DataType::kFloat, {2, 6});
  g.initializer("shape", Tensor::from_vector<int64_t>({2}, {4, 3}));
  g.node("Reshape", {"x", "shape"}, {"r"}, "reshape");
  test::attr_ints(g.node("Transpose", {"r"}, {"t"}, "transpose"), "perm", {1, 0});
  g.node("Relu", {"t"}, {"y"}, "relu");
  g.node("Identity", {"x"}, {"i"}, "identity");
  return g.model();
}

TEST(ValueAliases, ReshapedAndTransposedCopiesOfAnObservedTensorAreAliasesOfIt) {
  const Model m = chain();
  const auto aliases = calib::same_value_aliases(m.graph(), {"x", "t", "y", "i"});
  const std::map<std::string, std::string> expected = {{"t", "x"}, {"i", "x"}};  // r is not wanted; y is a Relu's
  EXPECT_EQ(aliases, expected);
  // Without x observed, t stands for itself.
  EXPECT_TRUE(calib::same_value_aliases(m.graph(), {"t", "y"}).empty());
  // A chain of aliases resolves to its root.
  const auto chained = calib::same_value_aliases(m.graph(), {"x", "r", "t"});
  EXPECT_EQ(chained, (std::map<std::string, std::string>{{"r", "x"}, {"t", "x"}}));
}

// x's values transposed, so any statistic of the multiset is the same for both.
Tensor transposed(const Tensor& x) {
  Tensor t(DataType::kFloat, {x.shape()[1], x.shape()[0]});
  for (int64_t i = 0; i < x.shape()[0]; ++i)
    for (int64_t j = 0; j < x.shape()[1]; ++j) t.data<float>()[j * x.shape()[0] + i] = x.data<float>()[i * x.shape()[1] + j];
  return t;
}

TEST(ValueAliases, AnAliasGetsExactlyTheRangeAndStateObservingItWouldGiveForEveryMethod) {
  for (const auto& method : calibration_methods()) {
    SCOPED_TRACE(method);
    auto both = make_calibrator({.method = method});
    auto aliased = calib::with_aliases(make_calibrator({.method = method}), {{"t", "x"}});
    aliased->expect({"x", "t"});
    for (uint32_t s = 0; s < 4; ++s) {
      // Ranges that grow from sample to sample, as histograms must follow.
      const Tensor x = test::random_tensor({16, 24}, 40 + s, -1.0f - static_cast<float>(s), 2.0f + 3.0f * static_cast<float>(s));
      both->observe("x", x);
      both->observe("t", transposed(x));
      aliased->observe("x", x);
      aliased->observe("t", transposed(x));  // ignored: it is an alias
    }
    EXPECT_EQ(aliased->ranges(), both->ranges());
    EXPECT_EQ(aliased->save(), both->save());
  }
}

}  // namespace
}  // namespace onnxq
