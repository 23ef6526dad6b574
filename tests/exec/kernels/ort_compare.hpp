#pragma once

// Compares a kernel with ONNX Runtime itself: a case builds a one-node model (input 0 fed at
// run time, the rest initializers, as quantized models have them), runs it in ONNX Runtime
// and through the kernel registry with 1 and 2 threads, and requires integer outputs to be
// identical and float ones close.

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"
#include "support/ort_oracle.hpp"
#include "support/temp_dir.hpp"

namespace onnxq::test {

struct Input {
  std::string name;
  Tensor value;  // undefined: an absent optional input
};

// Uniform random integers of an 8-bit type.
inline Tensor random_ints(DataType type, Shape shape, uint32_t seed, int lo, int hi) {
  std::mt19937 rng(seed);
  Tensor t(type, std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i) {
    const int v = lo + static_cast<int>(rng() % static_cast<uint32_t>(hi - lo + 1));
    if (type == DataType::kUInt8) t.data<uint8_t>()[i] = static_cast<uint8_t>(v);
    else t.data<int8_t>()[i] = static_cast<int8_t>(v);
  }
  return t;
}

template <class T>
Tensor scalar_of(T v) { return Tensor::from_vector<T>({}, {v}); }

class OrtComparison : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node is not installed";
  }

  // Runs `node` (attributes set, no inputs/outputs) both ways; float outputs may differ by
  // `tolerance` relative to their largest magnitude, integer ones not at all.
  void compare(onnx::NodeProto node, int64_t opset, const std::vector<Input>& inputs,
               const std::vector<DataType>& output_types, float tolerance = 0.0f) {
    GraphBuilder g(node.domain().empty() ? opset : 17);
    if (!node.domain().empty()) g.opset(node.domain(), opset);
    std::vector<std::string> in_names, out_names;
    std::map<std::string, Tensor> feeds;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!inputs[i].value.defined()) {
        in_names.push_back("");
        continue;
      }
      in_names.push_back(inputs[i].name);
      if (i == 0) {
        const Tensor& v = inputs[i].value;
        std::vector<Dim> dims(v.shape().begin(), v.shape().end());
        g.input(inputs[i].name, v.dtype(), dims);
        feeds[inputs[i].name] = v;
      } else {
        g.initializer(inputs[i].name, inputs[i].value);
      }
    }
    for (size_t o = 0; o < output_types.size(); ++o) {
      out_names.push_back("y" + std::to_string(o));
      g.output(out_names.back(), output_types[o]);
    }
    onnx::NodeProto& n = g.node(node.op_type(), in_names, out_names, "node", node.domain());
    for (const auto& a : node.attribute()) *n.add_attribute() = a;
    Model model = g.model();
    model.save(dir_ / "model.onnx");
    const OrtResult ort = run_in_onnxruntime(dir_ / "model.onnx", feeds);

    std::vector<Tensor> values;
    for (const auto& in : inputs) values.push_back(in.value);
    for (int threads : {1, 2}) {
      const std::vector<Tensor> ours = run_op(node, values, output_types.size(), opset, threads);
      for (size_t o = 0; o < output_types.size(); ++o) {
        const Tensor& expected = ort.outputs.at(out_names[o]);
        const Tensor& actual = ours[o];
        ASSERT_EQ(actual.dtype(), expected.dtype()) << "output " << o;
        ASSERT_EQ(actual.shape(), expected.shape()) << "output " << o;
        if (actual.dtype() != DataType::kFloat) {
          int64_t mismatches = 0, first = -1;
          for (size_t b = 0; b < actual.nbytes(); ++b)
            if (actual.bytes()[b] != expected.bytes()[b] && mismatches++ == 0) first = static_cast<int64_t>(b);
          EXPECT_EQ(mismatches, 0) << "output " << o << " first differing byte " << first;
          continue;
        }
        float peak = 0.0f;
        for (int64_t i = 0; i < expected.numel(); ++i) peak = std::max(peak, std::fabs(expected.data<float>()[i]));
        for (int64_t i = 0; i < expected.numel(); ++i)
          ASSERT_NEAR(actual.data<float>()[i], expected.data<float>()[i], tolerance * std::max(peak, 1.0f))
              << "output " << o << " element " << i;
      }
    }
  }

  TempDir dir_;
};

}  // namespace onnxq::test
