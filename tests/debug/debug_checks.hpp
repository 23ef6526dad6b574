#pragma once

// Checks shared by the debug tests: the numbers debug_models reports, recomputed by other means
// (the executor's hook read directly, ONNX Runtime's outputs).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "onnxq/debug.hpp"
#include "onnxq/executor.hpp"
#include "onnxq/npy.hpp"
#include "onnxq/quant_report.hpp"
#include "support/ort_oracle.hpp"
#include "support/temp_dir.hpp"

namespace onnxq::debug_checks {

using test::TempDir;

struct Sums {
  double signal = 0, noise = 0;
  void add(const Tensor& x, const Tensor& y) {
    ASSERT_EQ(x.shape(), y.shape());
    for (int64_t i = 0; i < x.numel(); ++i) {
      const double a = x.data<float>()[i], d = a - y.data<float>()[i];
      signal += a * a;
      noise += d * d;
    }
  }
  double sqnr() const { return noise == 0 ? INFINITY : 10 * std::log10(signal / noise); }
};

// Samples on disk (DIR/<input>/NNN.npy) for debug_models, and in memory for the checks.
struct Samples {
  TempDir dir;
  std::vector<NamedTensors> values;

  void add(NamedTensors sample) {
    char name[32];
    std::snprintf(name, sizeof name, "%03zu.npy", values.size());
    for (const auto& [input, t] : sample) {
      std::filesystem::create_directories(dir / input);
      write_npy(dir / input / name, t);
    }
    values.push_back(std::move(sample));
  }
  DebugOptions options(int threads = 1) const {
    DebugOptions o;
    o.data.source = dir.path().string();
    o.threads = threads;
    return o;
  }
};

// The SQNR of one tensor over all samples, read through the executor's hook of each model.
inline double tensor_sqnr_by_hand(const Model& f, const Model& q, const Samples& samples, const std::string& float_name,
                           const std::string& quant_name) {
  const Executor fe(f, {1}), qe(q, {1});
  Sums sums;
  for (const auto& s : samples.values) {
    Tensor x, y;
    fe.run(s, [&](const std::string& n, const Tensor& v) {
      if (n == float_name) x = v.clone();
    });
    qe.run(s, [&](const std::string& n, const Tensor& v) {
      if (n == quant_name) y = v.clone();
    });
    if (y.dtype() != DataType::kFloat) return NAN;  // integers: not checked this way
    sums.add(x, y);
  }
  return sums.sqnr();
}

// Output SQNR and top-1 agreement over all samples, from the executor's outputs.
struct OutputByHand {
  double sqnr = 0;
  int64_t rows = 0, agree = 0;
};
inline OutputByHand output_by_hand(const Model& f, const Model& q, const Samples& samples) {
  const Executor fe(f, {1}), qe(q, {1});
  Sums sums;
  OutputByHand out;
  for (const auto& s : samples.values) {
    const Tensor x = fe.run(s)[0], y = qe.run(s)[0];
    sums.add(x, y);
    const int64_t classes = x.shape().back();
    for (int64_t r = 0; r < x.numel() / classes; ++r) {
      const float* a = x.data<float>() + r * classes;
      const float* b = y.data<float>() + r * classes;
      out.agree += std::max_element(a, a + classes) - a == std::max_element(b, b + classes) - b;
      ++out.rows;
    }
  }
  out.sqnr = sums.sqnr();
  return out;
}

// The output SQNR from ONNX Runtime's runs of both models.
inline double output_sqnr_in_onnxruntime(Model& f, Model& q, const Samples& samples) {
  TempDir dir;
  f.save(dir / "f.onnx");
  q.save(dir / "q.onnx");
  Sums sums;
  for (const auto& s : samples.values) {
    std::map<std::string, Tensor> inputs(s.begin(), s.end());
    const auto a = test::run_in_onnxruntime(dir / "f.onnx", inputs);
    const auto b = test::run_in_onnxruntime(dir / "q.onnx", inputs);
    sums.add(a.outputs.at(a.names[0]), b.outputs.at(a.names[0]));
  }
  return sums.sqnr();
}

inline void expect_weights_as_reported(const DebugReport& report, const QuantizeReport& quantized) {
  EXPECT_EQ(report.weights.size(), quantized.tensors.size());
  for (const auto& t : quantized.tensors) {
    SCOPED_TRACE(t.name);
    auto it = std::find_if(report.weights.begin(), report.weights.end(), [&](const auto& w) { return w.name == t.name; });
    ASSERT_NE(it, report.weights.end());
    // An int32 bias dequantizes in float32 as DequantizeLinear computes it; the quantizer's
    // report does it in double, which differs at about 80 dB.
    const double tolerance = t.type == "int32" ? 0.01 : 1e-6;
    if (std::isinf(t.sqnr_db)) EXPECT_TRUE(std::isinf(it->sqnr_db));
    else EXPECT_NEAR(it->sqnr_db, t.sqnr_db, tolerance);
  }
}

}  // namespace onnxq::debug_checks
