// One entry per op whose weight gets a codebook.
#include "ewq/weight_rules.hpp"

#include "quant/graph_editor.hpp"

namespace onnxq {

const std::vector<EwqWeightRule>& ewq_weight_rules() {
  static const std::vector<EwqWeightRule> rules = {
      {"Conv", 1, [](const onnx::NodeProto&, int64_t rank) { return rank >= 3 ? 0 : -1; }},
      // [C_in, C_out / group, k...]
      {"ConvTranspose", 1, [](const onnx::NodeProto&, int64_t rank) { return rank >= 3 ? 1 : -1; }},
      // B [.., K, N]: the output columns
      {"MatMul", 1, [](const onnx::NodeProto&, int64_t rank) { return rank >= 2 ? static_cast<int>(rank - 1) : -1; }},
      {"Gemm", 1,
       [](const onnx::NodeProto& n, int64_t rank) { return rank == 2 ? (attr_or(n, "transB", 0) ? 0 : 1) : -1; }},
      // An embedding table [rows, features]: per-row codebooks would outweigh the rows, so a
      // channel is a feature column. Rank-1 data (a codebook ewq wrote) is not a table.
      {"Gather", 0,
       [](const onnx::NodeProto& n, int64_t rank) { return rank == 2 && attr_or(n, "axis", 0) == 0 ? 1 : -1; }},
  };
  return rules;
}

const EwqWeightRule* find_ewq_weight_rule(const onnx::NodeProto& node) {
  if (!(node.domain().empty() || node.domain() == "ai.onnx")) return nullptr;
  for (const auto& r : ewq_weight_rules())
    if (r.op_type == node.op_type()) return &r;
  return nullptr;
}

}  // namespace onnxq
