#include "quant/static/smooth_quant.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "graph/graph_uses.hpp"
#include "quant/graph_editor.hpp"
#include "quant/node_filter.hpp"

namespace onnxq {
namespace {

bool selected(const onnx::NodeProto& n, const StaticQuantOptions& o) {
  if (n.op_type() != "MatMul" || !(n.domain().empty() || n.domain() == "ai.onnx")) return false;
  return passes_node_filters(n, o.op_types, o.nodes_include, o.nodes_exclude);
}

// A float 2-D initializer of the main graph that no graph input overrides.
const onnx::TensorProto* weight_2d(const Model& model, const std::string& name) {
  for (const auto& i : model.graph().input())
    if (i.name() == name) return nullptr;
  const auto* t = model.find_initializer(name);
  return t && t->data_type() == onnx::TensorProto::FLOAT && t->dims_size() == 2 ? t : nullptr;
}

}  // namespace

std::vector<std::string> smooth_quant_inputs(const Model& model, const StaticQuantOptions& options) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& n : model.graph().node())
    if (selected(n, options) && n.input_size() == 2 && weight_2d(model, n.input(1)) && !weight_2d(model, n.input(0)) &&
        !model.find_initializer(n.input(0)) && seen.insert(n.input(0)).second)
      out.push_back(n.input(0));
  return out;
}

void observe_channel_maxima(ChannelMaxima& maxima, const std::string& name, const Tensor& value) {
  if (value.dtype() != DataType::kFloat || value.rank() == 0 || value.numel() == 0) return;
  const int64_t k = value.shape().back();
  auto& m = maxima[name];
  if (m.empty()) m.assign(static_cast<size_t>(k), 0.0f);
  if (static_cast<int64_t>(m.size()) != k) return;  // a dynamic last axis: not a channel axis
  const float* __restrict x = value.data<float>();
  float* __restrict top = m.data();  // not aliasing x: the loop vectorizes
  for (int64_t i = 0; i < value.numel(); i += k)
    for (int64_t j = 0; j < k; ++j) {
      const float a = std::fabs(x[i + j]);
      top[j] = a > top[j] ? a : top[j];  // NaN never wins
    }
}

SmoothQuantResult apply_smooth_quant(Model& model, const ChannelMaxima& maxima, float alpha,
                                     const StaticQuantOptions& options) {
  SmoothQuantResult result;
  auto& graph = model.graph();
  NameSet names(graph);
  auto reads = read_counts(graph, true);
  std::map<std::string, int> producer;
  for (int i = 0; i < graph.node_size(); ++i)
    for (const auto& o : graph.node(i).output()) producer[o] = i;
  std::map<int, std::vector<onnx::NodeProto>> insert_before;  // Mul nodes, before their first reader

  for (const auto& [x, amax] : maxima) {
    const int64_t k = static_cast<int64_t>(amax.size());
    std::vector<int> consumers;
    for (int i = 0; i < graph.node_size(); ++i) {
      const auto& n = graph.node(i);
      if (!selected(n, options) || n.input_size() != 2 || n.input(0) != x) continue;
      const auto* w = weight_2d(model, n.input(1));
      if (w && w->dims(0) == k) consumers.push_back(i);
    }
    if (consumers.empty()) continue;

    std::vector<float> wmax(static_cast<size_t>(k), 0.0f);
    for (int i : consumers) {
      const Tensor w = model.tensor_data(*model.find_initializer(graph.node(i).input(1)));
      const int64_t n = w.shape()[1];
      for (int64_t j = 0; j < k; ++j)
        for (int64_t c = 0; c < n; ++c)
          wmax[static_cast<size_t>(j)] = std::max(wmax[static_cast<size_t>(j)], std::fabs(w.data<float>()[j * n + c]));
    }
    std::vector<float> s(static_cast<size_t>(k), 1.0f);
    for (int64_t j = 0; j < k; ++j) {
      const float a = amax[static_cast<size_t>(j)], b = wmax[static_cast<size_t>(j)];
      if (a > 0 && b > 0 && std::isfinite(a) && std::isfinite(b))
        s[static_cast<size_t>(j)] = std::clamp(std::pow(a, alpha) / std::pow(b, 1.0f - alpha), 1e-5f, 1e5f);
    }

    // Weights: row j times s_j; a weight also read elsewhere is copied for these readers.
    for (int i : consumers) {
      auto& node = *graph.mutable_node(i);
      const std::string wname = node.input(1);
      Tensor w = model.tensor_data(*model.find_initializer(wname));
      Tensor scaled(DataType::kFloat, w.shape());
      const int64_t n = w.shape()[1];
      for (int64_t j = 0; j < k; ++j)
        for (int64_t c = 0; c < n; ++c)
          scaled.data<float>()[j * n + c] = w.data<float>()[j * n + c] * s[static_cast<size_t>(j)];
      if (reads[wname] == 1) {
        model.set_initializer(wname, scaled);
      } else {
        const std::string copy = names.unique(wname + "_smoothed");
        model.set_initializer(copy, scaled);
        --reads[wname];
        node.set_input(1, copy);
      }
      ++result.weights;
    }

    // Activation: 1/s into the LayerNormalization producing it, or a Mul.
    ++result.activations;
    auto p = producer.find(x);
    const bool only_smoothed = reads[x] == static_cast<int>(consumers.size());
    if (p != producer.end() && only_smoothed) {
      auto& ln = *graph.mutable_node(p->second);
      const bool plain_ln = ln.op_type() == "LayerNormalization" && (ln.domain().empty() || ln.domain() == "ai.onnx") &&
                            ln.output_size() == 1;
      const auto* gamma = plain_ln && ln.input_size() > 1 ? model.find_initializer(ln.input(1)) : nullptr;
      const bool has_beta = ln.input_size() > 2 && !ln.input(2).empty();
      const auto* beta = has_beta ? model.find_initializer(ln.input(2)) : nullptr;
      auto owned = [&](const onnx::TensorProto* t) {
        return t && t->data_type() == onnx::TensorProto::FLOAT && reads[t->name()] == 1 &&
               model.tensor_data(*t).numel() == k;
      };
      if (plain_ln && owned(gamma) && (!has_beta || owned(beta))) {
        for (const auto* t : {gamma, has_beta ? beta : nullptr}) {
          if (!t) continue;
          Tensor v = model.tensor_data(*t);
          Tensor out(DataType::kFloat, v.shape());
          for (int64_t j = 0; j < k; ++j) out.data<float>()[j] = v.data<float>()[j] / s[static_cast<size_t>(j)];
          model.set_initializer(t->name(), out);
        }
        ++result.folded;
        continue;
      }
    }
    Tensor inv(DataType::kFloat, {k});
    for (int64_t j = 0; j < k; ++j) inv.data<float>()[j] = 1.0f / s[static_cast<size_t>(j)];
    const std::string inv_name = names.unique(x + "_smooth_scale");
    const std::string out = names.unique(x + "_smoothed");
    model.set_initializer(inv_name, inv);
    const std::string mul = names.unique(x + "_smooth");
    insert_before[consumers.front()].push_back(make_node("Mul", {x, inv_name}, {out}, mul));
    result.inserted_nodes.push_back(mul);
    for (int i : consumers) graph.mutable_node(i)->set_input(0, out);
  }

  if (!insert_before.empty()) {
    google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
    for (int i = 0; i < graph.node_size(); ++i) {
      if (auto it = insert_before.find(i); it != insert_before.end())
        for (auto& n : it->second) *nodes.Add() = std::move(n);
      *nodes.Add() = std::move(*graph.mutable_node(i));
    }
    graph.mutable_node()->Swap(&nodes);
  }
  return result;
}

}  // namespace onnxq
