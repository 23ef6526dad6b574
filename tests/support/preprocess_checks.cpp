#include "support/preprocess_checks.hpp"

#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

namespace onnxq::test {

int64_t pass_changes(const PreprocessReport& report, const std::string& pass) {
  for (const auto& p : report.passes)
    if (p.name == pass) return p.changes;
  return -1;
}

double worst_relative_diff(const Model& a, const Model& b, const NamedTensors& inputs) {
  const auto ya = Executor(a).run(inputs);
  const auto yb = Executor(b).run(inputs);
  EXPECT_EQ(ya.size(), yb.size());
  double worst = 0;
  for (size_t o = 0; o < ya.size() && o < yb.size(); ++o) {
    EXPECT_EQ(ya[o].shape(), yb[o].shape()) << "output " << o;
    if (ya[o].shape() != yb[o].shape()) return INFINITY;
    const float* p = ya[o].data<float>();
    const float* q = yb[o].data<float>();
    float lo = INFINITY, hi = -INFINITY, diff = 0;
    for (int64_t i = 0; i < yb[o].numel(); ++i) {
      lo = std::min(lo, q[i]);
      hi = std::max(hi, q[i]);
      diff = std::max(diff, std::abs(p[i] - q[i]));
    }
    worst = std::max(worst, static_cast<double>(diff) / std::max(1e-6f, hi - lo));
  }
  return worst;
}

}  // namespace onnxq::test
