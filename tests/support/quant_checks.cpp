#include "support/quant_checks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "onnxq/quant_math.hpp"
#include "support/temp_dir.hpp"

namespace onnxq::test {

std::map<std::string, int> op_counts(const Model& model) {
  std::map<std::string, int> counts;
  for_each_node(model.graph(), [&](const onnx::NodeProto& n, int) { counts[n.op_type()]++; });
  return counts;
}

int count(const std::map<std::string, int>& ops, const std::string& op) {
  auto it = ops.find(op);
  return it == ops.end() ? 0 : it->second;
}

double worst_sqnr(const OrtResult& reference, const OrtResult& actual) {
  double worst = std::numeric_limits<double>::infinity();
  for (const auto& [name, a] : reference.outputs) {
    const Tensor& b = actual.outputs.at(name);
    EXPECT_EQ(a.shape(), b.shape()) << name;
    if (a.shape() != b.shape()) return -std::numeric_limits<double>::infinity();
    worst = std::min(worst, sqnr_db(a.data<float>(), b.data<float>(), a.numel()));
  }
  return worst;
}

double output_sqnr(Model& float_model, Model& quant_model, const std::map<std::string, Tensor>& inputs) {
  TempDir dir;
  float_model.save(dir / "f.onnx");
  quant_model.save(dir / "q.onnx");
  return worst_sqnr(run_in_onnxruntime(dir / "f.onnx", inputs), run_in_onnxruntime(dir / "q.onnx", inputs));
}

void expect_requantizing_changes_nothing(Model& quantized, const DynamicQuantOptions& options) {
  std::string once, twice;
  quantized.proto().SerializeToString(&once);
  EXPECT_EQ(quantize_dynamic(quantized, options).nodes_quantized, 0);
  quantized.proto().SerializeToString(&twice);
  EXPECT_EQ(once, twice);
}

std::vector<Combo> every_8bit_combo() {
  std::vector<Combo> combos;
  for (QuantFormat format : {QuantFormat::kQOperator, QuantFormat::kQDQ})
    for (DataType type : {DataType::kInt8, DataType::kUInt8})
      for (bool per_channel : {false, true})
        for (bool reduce_range : {false, true}) combos.push_back({format, type, per_channel, reduce_range});
  return combos;
}

std::string combo_name(QuantFormat format, DataType type, bool per_channel, bool reduce_range) {
  return std::string(format == QuantFormat::kQDQ ? "qdq" : "qoperator") + "/" + std::string(dtype_name(type)) +
         (per_channel ? "/per-channel" : "") + (reduce_range ? "/reduce-range" : "");
}

}  // namespace onnxq::test
