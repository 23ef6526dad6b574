#include "preprocess/affine_fold.hpp"

#include <functional>
#include <set>

#include "quant/graph_editor.hpp"

namespace onnxq::preprocessing {

namespace {

bool is_layer(const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  return (op == "Conv" || op == "ConvTranspose" || op == "Gemm") && is_default_domain(node) && node.input_size() >= 2 &&
         node.output_size() == 1;
}

// The constant's values when they broadcast along the channel axis (1) of an output of rank
// `rank` without growing it: one value, or `channels` values on that axis with 1 elsewhere.
std::optional<std::vector<double>> per_channel_values(const Tensor& c, int64_t rank, int64_t channels) {
  if (c.dtype() != DataType::kFloat || static_cast<int64_t>(c.rank()) > rank) return std::nullopt;
  const int64_t axis = static_cast<int64_t>(c.rank()) - rank + 1;  // the channel axis in c's own dims
  for (int64_t d = 0; d < static_cast<int64_t>(c.rank()); ++d)
    if (d != axis && c.shape()[d] != 1) return std::nullopt;
  if (c.numel() != 1 && c.numel() != channels) return std::nullopt;
  const float* v = c.data<float>();
  return std::vector<double>(v, v + c.numel());
}

std::string store_folded(Scope& scope, const GraphUses& uses, const std::string& name, const Tensor& value) {
  if (scope.owns_initializer(name) && uses.reader_count(name) <= 1) {
    scope.set_initializer(name, value);
    return name;
  }
  const std::string fresh = scope.unique_name(name + "_folded");
  scope.set_initializer(fresh, value);
  return fresh;
}

}  // namespace

std::optional<ChannelAffine> constant_affine(const Scope& scope, const onnx::NodeProto& node, int slot, int64_t rank,
                                             int64_t channels) {
  const std::string& op = node.op_type();
  if (!is_default_domain(node) || node.input_size() != 2 || node.output_size() != 1) return std::nullopt;
  auto c = scope.constant_value(node.input(1 - slot));
  if (!c) return std::nullopt;
  auto v = per_channel_values(*c, rank, channels);
  if (!v) return std::nullopt;
  ChannelAffine a;
  if (op == "Mul") {
    a.s = *v;
    a.t.assign(v->size(), 0.0);
  } else if (op == "Add") {
    a.s.assign(v->size(), 1.0);
    a.t = *v;
  } else if (op == "Sub") {  // y - c, or c - y
    a.s.assign(v->size(), slot == 0 ? 1.0 : -1.0);
    a.t = *v;
    if (slot == 0)
      for (double& t : a.t) t = -t;
  } else if (op == "Div" && slot == 0) {
    for (double d : *v) {
      if (d == 0) return std::nullopt;
      a.s.push_back(1.0 / d);
    }
    a.t.assign(v->size(), 0.0);
  } else {
    return std::nullopt;
  }
  return a;
}

int64_t fold_in_sweeps(Scope& scope, const std::function<std::optional<Fold>(int, const GraphUses&,
                                                                          const std::vector<bool>&)>& try_fold) {
  auto& graph = scope.graph();
  int64_t folds = 0;
  for (bool again = true; again;) {
    const GraphUses uses(graph);
    std::vector<bool> touched(static_cast<size_t>(graph.node_size()), false);
    std::set<int> removed;
    for (int i = 0; i < graph.node_size(); ++i) {
      if (touched[static_cast<size_t>(i)]) continue;
      if (const auto fold = try_fold(i, uses, touched)) {
        touched[static_cast<size_t>(fold->kept)] = touched[static_cast<size_t>(fold->removed)] = true;
        removed.insert(fold->removed);
      }
    }
    erase_nodes(graph, removed);
    folds += static_cast<int64_t>(removed.size());
    again = !removed.empty();
  }
  if (folds) scope.reindex();
  return folds;
}

void set_folded(Scope& scope, const GraphUses& uses, onnx::NodeProto& layer, const Tensor& weight, const Tensor& bias) {
  const bool has_bias = layer.input_size() > 2 && !layer.input(2).empty();
  layer.set_input(1, store_folded(scope, uses, layer.input(1), weight));
  const std::string bias_name = has_bias ? store_folded(scope, uses, layer.input(2), bias) : [&] {
    const std::string fresh = scope.unique_name(layer.input(1) + "_bias");
    scope.set_initializer(fresh, bias);
    return fresh;
  }();
  while (layer.input_size() < 3) layer.add_input("");
  layer.set_input(2, bias_name);
}

int64_t layer_output_channels(const Scope& scope, const onnx::NodeProto& layer) {
  if (!is_layer(layer)) return -1;
  const onnx::TensorProto* w = scope.find_constant(layer.input(1));
  if (!w || w->data_type() != onnx::TensorProto::FLOAT) return -1;
  const auto& d = w->dims();
  if (layer.op_type() == "Conv") return d.size() >= 1 ? d[0] : -1;
  if (layer.op_type() == "ConvTranspose") return d.size() >= 2 ? d[1] * attr_or(layer, "group", 1) : -1;
  if (d.size() != 2) return -1;
  return attr_or(layer, "transB", 0) != 0 ? d[0] : d[1];
}

int64_t layer_output_rank(const Scope& scope, const onnx::NodeProto& layer) {
  if (!is_layer(layer)) return -1;
  if (layer.op_type() == "Gemm") return 2;
  const onnx::TensorProto* w = scope.find_constant(layer.input(1));
  return w ? w->dims_size() : -1;
}

bool fold_affine_into(Scope& scope, const GraphUses& uses, onnx::NodeProto& node, ChannelAffine a) {
  const int64_t channels = layer_output_channels(scope, node);
  if (channels <= 0) return false;
  for (auto* v : {&a.s, &a.t}) {
    if (v->size() == 1) v->assign(static_cast<size_t>(channels), v->front());
    if (v->size() != static_cast<size_t>(channels)) return false;
  }
  const std::string& op = node.op_type();
  auto w = scope.constant_value(node.input(1));
  if (!w || w->dtype() != DataType::kFloat) return false;
  Tensor nw = w->clone();
  float* wd = nw.data<float>();
  // Index of the output channel of weight element `i`.
  std::function<int64_t(int64_t)> channel_of;
  if (op == "Conv") {
    const int64_t per = w->numel() / channels;
    channel_of = [per](int64_t i) { return i / per; };
  } else if (op == "ConvTranspose") {
    const int64_t group = attr_or(node, "group", 1);
    const int64_t cout_g = w->shape()[1], inner = w->numel() / (w->shape()[0] * cout_g);
    const int64_t cin_g = w->shape()[0] / group;
    channel_of = [=](int64_t i) {
      const int64_t cin = i / (cout_g * inner), j = (i / inner) % cout_g;
      return (cin / cin_g) * cout_g + j;
    };
  } else {  // Gemm
    const int64_t cols = w->shape()[1];
    channel_of = attr_or(node, "transB", 0) != 0
                     ? std::function<int64_t(int64_t)>([cols](int64_t i) { return i / cols; })
                     : std::function<int64_t(int64_t)>([cols](int64_t i) { return i % cols; });
  }
  // The bias: Conv's B [C], Gemm's C broadcast to [N] (times beta).
  std::vector<double> bias(static_cast<size_t>(channels), 0.0);
  const bool has_bias = node.input_size() > 2 && !node.input(2).empty();
  if (has_bias) {
    auto b = scope.constant_value(node.input(2));
    if (!b || b->dtype() != DataType::kFloat) return false;
    double beta = 1.0;
    if (op == "Gemm") {
      if (const auto* at = find_attr(node, "beta")) beta = at->f();
    }
    if (b->numel() == channels && (b->rank() == 1 || (b->rank() == 2 && b->shape()[0] == 1))) {
      for (int64_t c = 0; c < channels; ++c) bias[c] = beta * b->data<float>()[c];
    } else if (b->numel() == 1) {
      for (int64_t c = 0; c < channels; ++c) bias[c] = beta * b->data<float>()[0];
    } else {
      return false;
    }
  }
  for (int64_t i = 0; i < nw.numel(); ++i) wd[i] = static_cast<float>(wd[i] * a.s[channel_of(i)]);
  Tensor nb(DataType::kFloat, {channels});
  for (int64_t c = 0; c < channels; ++c) nb.data<float>()[c] = static_cast<float>(bias[c] * a.s[c] + a.t[c]);
  set_folded(scope, uses, node, nw, nb);
  if (op == "Gemm") {
    for (auto& at : *node.mutable_attribute())
      if (at.name() == "beta") at.set_f(1.0f);
  }
  return true;
}

}  // namespace onnxq::preprocessing
