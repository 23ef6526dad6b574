#include "debug/activation_matching.hpp"

#include <set>

namespace onnxq::debug {
namespace {

const std::string kQuantizeInput = "_QuantizeLinear_Input";
const std::string kQuantizeOutput = "_QuantizeLinear_Output";
const std::string kDequantizeOutput = "_DequantizeLinear_Output";

// `name` without `suffix` (and without a uniquifier "_N" after it), or empty.
std::string strip(const std::string& name, const std::string& suffix) {
  auto ends = [&](const std::string& s) {
    return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends(name)) return name.substr(0, name.size() - suffix.size());
  const auto p = name.rfind('_');
  if (p != std::string::npos && p + 1 < name.size() && name.find_first_not_of("0123456789", p + 1) == std::string::npos) {
    const std::string s = name.substr(0, p);
    if (ends(s)) return s.substr(0, s.size() - suffix.size());
  }
  return {};
}

std::optional<ActivationParams> params_at(const GraphIndex& q, const onnx::NodeProto& n, int scale, int zero_point) {
  if (scale >= n.input_size() || !q.constant(n.input(scale))) return std::nullopt;
  ActivationParams p;
  p.scale = q.value(n.input(scale));
  if (zero_point < n.input_size() && !n.input(zero_point).empty() && q.constant(n.input(zero_point)))
    p.zero_point = q.value(n.input(zero_point));
  p.layout.axis = static_cast<int>(int_attr(n, "axis", 1));
  p.layout.block_size = static_cast<int>(int_attr(n, "block_size", 0));
  return p;
}

// Output scale and zero point of the op producing an integer tensor, following ops that only
// move integers (Reshape, Transpose, ...).
std::optional<ActivationParams> output_params(const GraphIndex& q, const std::string& tensor, int depth = 0) {
  const int i = q.producer(tensor);
  if (i < 0 || depth > 16) return std::nullopt;
  const auto& n = q.node(i);
  const std::string& op = n.op_type();
  if (op == "QuantizeLinear") return params_at(q, n, 1, 2);
  if (op == "QLinearConv" || op == "QLinearMatMul" || op == "QLinearAdd" || op == "QLinearMul") return params_at(q, n, 6, 7);
  if (op == "QLinearConcat") return params_at(q, n, 0, 1);
  if (op == "QLinearGlobalAveragePool" || op == "QLinearSigmoid" || op == "QLinearLeakyRelu" ||
      op == "QLinearAveragePool" || op == "QLinearSoftmax")
    return params_at(q, n, 3, 4);
  static const std::set<std::string> kMovers = {"Reshape", "Transpose", "Squeeze", "Unsqueeze", "Flatten",
                                                 "MaxPool", "Slice", "Gather", "Split", "Identity"};
  if (kMovers.count(op) && n.input_size() > 0) return output_params(q, n.input(0), depth + 1);
  return std::nullopt;
}

}  // namespace

std::map<std::string, ActivationMatch> match_activations(const GraphIndex& f, const GraphIndex& q) {
  std::map<std::string, ActivationMatch> candidates;  // QUANT tensor -> match
  auto in_float = [&](const std::string& name) { return !name.empty() && f.producer(name) >= 0; };

  for (int i = 0; i < q.node_count(); ++i) {
    const auto& n = q.node(i);
    for (const auto& out : n.output()) {
      if (out.empty()) continue;
      if (n.op_type() == "DequantizeLinear" && n.input_size() >= 2 && !q.constant(n.input(0))) {
        std::string target;
        const int producer = q.producer(n.input(0));
        if (producer >= 0 && q.node(producer).op_type() == "QuantizeLinear") {
          target = q.node(producer).input(0);
          if (!in_float(target)) target = strip(target, kQuantizeInput);
        }
        if (!in_float(target)) target = strip(out, kDequantizeOutput);
        if (!in_float(target)) target = strip(n.input(0), kQuantizeOutput);
        if (in_float(target)) candidates[out] = {target, false, params_at(q, n, 1, 2), 3};
        continue;
      }
      if (const std::string target = strip(out, kQuantizeOutput); in_float(target)) {
        if (auto p = output_params(q, out)) {
          candidates[out] = {target, true, p, 2};
          continue;
        }
      }
      if (in_float(out)) candidates[out] = {out, false, std::nullopt, 1};
    }
  }
  // One QUANT tensor per float tensor: the most direct, the first in graph order among equals.
  std::map<std::string, std::pair<std::string, int>> best;  // float -> (quant tensor, rank)
  for (const auto& [name, m] : candidates) {
    auto it = best.find(m.float_name);
    if (it == best.end() || m.rank > it->second.second ||
        (m.rank == it->second.second && q.producer(name) < q.producer(it->second.first)))
      best[m.float_name] = {name, m.rank};
  }
  std::map<std::string, ActivationMatch> out;
  for (const auto& [float_name, chosen] : best) out[chosen.first] = candidates[chosen.first];
  return out;
}

}  // namespace onnxq::debug
