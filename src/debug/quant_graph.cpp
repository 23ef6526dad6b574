#include "debug/quant_graph.hpp"

namespace onnxq::debug {

GraphIndex::GraphIndex(const Model& model, bool subgraphs) : model_(model) { add(model.graph(), subgraphs); }

void GraphIndex::add(const onnx::GraphProto& g, bool subgraphs) {
  for (const auto& t : g.initializer()) constants_[t.name()] = &t;
  for (const auto& n : g.node()) {
    const int i = static_cast<int>(nodes_.size());
    nodes_.push_back(&n);
    if (!n.name().empty()) by_name_.emplace(n.name(), i);
    for (const auto& o : n.output()) producer_[o] = i;
    for (int s = 0; s < n.input_size(); ++s)
      if (!n.input(s).empty()) consumers_[n.input(s)].emplace_back(i, s);
    if (n.op_type() == "Constant" && (n.domain().empty() || n.domain() == "ai.onnx") && n.output_size() == 1)
      for (const auto& a : n.attribute())
        if (a.name() == "value" && a.has_t()) constants_[n.output(0)] = &a.t();
    if (subgraphs)
      for (const auto& a : n.attribute()) {
        if (a.has_g()) add(a.g(), true);
        for (const auto& body : a.graphs()) add(body, true);
      }
  }
  // A graph input shadows an initializer of the same name: the caller may override it.
  for (const auto& v : g.input()) constants_.erase(v.name());
}

const onnx::TensorProto* GraphIndex::constant(const std::string& name) const {
  auto it = constants_.find(name);
  return it == constants_.end() ? nullptr : it->second;
}

Tensor GraphIndex::value(const std::string& name) const {
  const auto* p = constant(name);
  if (!p) fail(ExitCode::kInput, "tensor '" + name + "' is not a constant");
  return with_context("tensor '" + name + "'", [&] { return model_.tensor_data(*p); });
}

int GraphIndex::producer(const std::string& name) const {
  auto it = producer_.find(name);
  return it == producer_.end() ? -1 : it->second;
}

const std::vector<std::pair<int, int>>& GraphIndex::consumers(const std::string& name) const {
  static const std::vector<std::pair<int, int>> kNone;
  auto it = consumers_.find(name);
  return it == consumers_.end() ? kNone : it->second;
}

int GraphIndex::node_named(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? -1 : it->second;
}

int64_t int_attr(const onnx::NodeProto& node, const std::string& name, int64_t fallback) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return a.i();
  return fallback;
}

}  // namespace onnxq::debug
