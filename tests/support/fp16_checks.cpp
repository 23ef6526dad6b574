#include "support/fp16_checks.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "onnxq/float16.hpp"
#include "support/ort_oracle.hpp"
#include "support/temp_dir.hpp"

namespace onnxq::test {
namespace {

Tensor as_float(const Tensor& t) {
  if (t.dtype() == DataType::kFloat) return t;
  Tensor out(DataType::kFloat, t.shape());
  const auto* h = t.data<uint16_t>();
  for (int64_t i = 0; i < t.numel(); ++i) out.data<float>()[i] = half_to_float(h[i]);
  return out;
}

Tensor as_half(const Tensor& t) {
  Tensor out(DataType::kFloat16, t.shape());
  for (int64_t i = 0; i < t.numel(); ++i) out.data<uint16_t>()[i] = float_to_half(t.data<float>()[i]);
  return out;
}

double sqnr(const Tensor& ref, const Tensor& got) {
  double signal = 0, noise = 0;
  for (int64_t i = 0; i < ref.numel(); ++i) {
    const double a = ref.data<float>()[i], b = got.data<float>()[i];
    signal += a * a;
    noise += (a - b) * (a - b);
  }
  if (noise == 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

}  // namespace

int declared_type(const Model& model, const std::string& name) {
  for (const auto* list : {&model.graph().input(), &model.graph().output()})
    for (const auto& v : *list)
      if (v.name() == name) return v.type().tensor_type().elem_type();
  return 0;
}

double fp16_size_floor(const Model& model, uint64_t file_bytes) {
  uint64_t float_bytes = 0;
  for_each_tensor_proto(model.graph(), [&](const onnx::TensorProto& t) {
    if (t.data_type() == onnx::TensorProto::FLOAT) float_bytes += model.tensor_bytes(t);
  });
  return (static_cast<double>(file_bytes) - 0.5 * static_cast<double>(float_bytes)) / static_cast<double>(file_bytes);
}

int count_ops(const Model& model, const std::string& op_type) {
  int n = 0;
  for (const auto& node : model.graph().node()) n += node.op_type() == op_type;
  return n;
}

double fp16_output_sqnr(Model& float_model, Model& converted, const std::map<std::string, Tensor>& inputs) {
  TempDir dir;
  float_model.save(dir / "f.onnx");
  converted.save(dir / "h.onnx");
  std::map<std::string, Tensor> half_inputs;
  for (const auto& [name, t] : inputs)
    half_inputs[name] = t.dtype() == DataType::kFloat && declared_type(converted, name) == 10 ? as_half(t) : t;
  const OrtResult f = run_in_onnxruntime(dir / "f.onnx", inputs);
  const OrtResult h = run_in_onnxruntime(dir / "h.onnx", half_inputs);
  double worst = std::numeric_limits<double>::infinity();
  for (const auto& [name, a] : f.outputs) {
    if (a.dtype() != DataType::kFloat) continue;
    const Tensor b = as_float(h.outputs.at(name));
    EXPECT_EQ(a.shape(), b.shape()) << name;
    if (a.shape() != b.shape()) return -std::numeric_limits<double>::infinity();
    worst = std::min(worst, sqnr(a, b));
  }
  return worst;
}

}  // namespace onnxq::test
