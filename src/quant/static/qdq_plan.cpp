#include "quant/static/qdq_plan.hpp"

#include <algorithm>
#include <functional>

#include "graph/graph_uses.hpp"
#include "quant/static/layernorm_pattern.hpp"
#include "quant/node_filter.hpp"

namespace onnxq {

QdqPlan::QdqPlan(Model& model, const TensorRanges& ranges, const StaticQuantOptions& options, QuantizeReport& report)
    : model_(model),
      ranges_(ranges),
      options_(options),
      report_(report),
      names_(model.graph()),
      editor_(model, model.graph(), nullptr, names_),
      weights_(options.threads),
      opset_(model.opset_version("")) {
  for (const auto& o : model.graph().output()) graph_outputs_.insert(o.name());
  for (const auto& i : model.graph().input()) graph_inputs_.insert(i.name());
  for (int i : decomposed_layernorm_nodes(model.graph())) float_units_.insert(&model.graph().node(i));
  const bool wide = dtype_bits(options.activation_type) == 16;
  qdq_domain_ = wide && opset_ < 21 ? "com.microsoft" : "";
}

bool QdqPlan::selected(const onnx::NodeProto& n) const {
  if (!is_default_domain(n) || float_units_.count(&n)) return false;
  return passes_node_filters(n, options_.op_types, options_.nodes_include, options_.nodes_exclude);
}

bool QdqPlan::is_constant(const std::string& name) const {
  auto c = const_cast<GraphEditor&>(editor_).find_constant(name);
  return c && c->proto->data_type() == onnx::TensorProto::FLOAT;
}

int QdqPlan::constant_rank(const std::string& name) const {
  auto c = const_cast<GraphEditor&>(editor_).find_constant(name);
  return c ? c->proto->dims_size() : -1;
}

int QdqPlan::reader_count(const std::string& name) const {
  const auto reads = read_counts(model_.graph(), false);
  auto it = reads.find(name);
  return (it == reads.end() ? 0 : it->second) + static_cast<int>(graph_outputs_.count(name));
}

// As ONNX Runtime does before quantizing: a Relu/Clip that will fold into its producer lends it
// its (non-negative) output range, and Softmax's output is [0, 1] whatever was observed.
void QdqPlan::adjust_ranges() {
  auto reads = read_counts(model_.graph(), false);
  for (const auto& n : model_.graph().node()) {
    if (!selected(n) || !static_rules().find(n.op_type())) continue;
    if ((n.op_type() == "Relu" || n.op_type() == "Clip") && !options_.symmetric_activations) {
      // The input's own range is not needed (calibration may skip it): a float Relu/Clip has a
      // float input.
      const std::string& in = n.input(0);
      if (reads[in] == 1 && !graph_outputs_.count(in) && ranges_.count(n.output(0))) {
        ranges_[in] = ranges_[n.output(0)];
        range_from_[in] = n.output(0);
      }
    } else if (n.op_type() == "Softmax") {
      ranges_[n.output(0)] = TensorRange{0.0f, 1.0f};
      range_from_[n.output(0)] = "";
    }
  }
}

void QdqPlan::collect() {
  adjust_ranges();
  const int count = model_.graph().node_size();
  for (int i = 0; i < count; ++i) {
    const onnx::NodeProto& node = model_.graph().node(i);
    const StaticRule* rule = static_rules().find(node.op_type());
    if (!rule || !selected(node)) continue;
    current_node_ = i;
    StaticContext ctx(*this, node);
    with_context("node '" + node.name() + "' (" + node.op_type() + ")", [&] { (*rule)(ctx); });
  }
  current_node_ = -1;
}

std::vector<std::string> QdqPlan::ranges_needed() {
  std::vector<std::string> candidates;
  for (const auto& n : model_.graph().node()) {
    if (!selected(n) || !static_rules().find(n.op_type())) continue;
    auto add = [&](const std::string& name) {
      // Any range will do: the rules only ask whether there is one.
      if (!name.empty() && !is_constant(name) && ranges_.emplace(name, TensorRange{0.0f, 1.0f}).second)
        candidates.push_back(name);
    };
    for (const auto& i : n.input()) add(i);
    for (const auto& o : n.output()) add(o);
  }
  collect();
  std::set<std::string> read;
  for (const auto& [name, plan] : plans_) {
    if (plan.kind != TensorPlan::Kind::kActivation || is_constant(name)) continue;
    auto it = range_from_.find(name);
    if (it == range_from_.end())
      read.insert(name);
    else if (!it->second.empty())
      read.insert(it->second);
  }
  std::vector<std::string> out;
  for (const auto& name : candidates)
    if (read.erase(name)) out.push_back(name);
  out.insert(out.end(), read.begin(), read.end());  // none expected: every range read is a candidate
  return out;
}

void QdqPlan::request(const std::string& name, TensorPlan plan, const onnx::NodeProto& node) {
  if (name.empty() || plans_.count(name)) return;
  const bool constant = is_constant(name);
  switch (plan.kind) {
    case TensorPlan::Kind::kActivation:
      if (!constant && !has_range(name)) return;  // integer tensors, or nothing observed
      break;
    case TensorPlan::Kind::kWeight:
      if (!constant) return;
      break;
    case TensorPlan::Kind::kBias:
      if (!constant) return;
      break;
    case TensorPlan::Kind::kShared:
      if (constant || !is_quantized(plan.source)) return;
      break;
  }
  plan.node = node.name();
  plan.op_type = node.op_type();
  plans_[name] = std::move(plan);
  order_.push_back(name);
  if (quantizing_nodes_.insert(std::to_string(current_node_)).second) ++report_.nodes_by_op[node.op_type()];
}

bool QdqPlan::fold_into_producer(const std::string& upstream, const std::string& output, const onnx::NodeProto& node) {
  if (options_.symmetric_activations || !has_range(upstream) || !has_range(output)) return false;
  if (graph_outputs_.count(upstream) || graph_inputs_.count(upstream) || reader_count(upstream) != 1) return false;
  if (plans_.count(output)) return false;
  auto& graph = model_.graph();
  onnx::NodeProto* producer = nullptr;
  int producer_output = -1;
  for (int i = 0; i < current_node_ && !producer; ++i)
    for (int o = 0; o < graph.node(i).output_size(); ++o)
      if (graph.node(i).output(o) == upstream) {
        producer = graph.mutable_node(i);
        producer_output = o;
      }
  if (!producer || removed_nodes_.count(current_node_)) return false;
  producer->set_output(producer_output, output);
  if (plans_.erase(upstream)) order_.erase(std::find(order_.begin(), order_.end(), upstream));
  removed_nodes_.insert(current_node_);
  (void)node;
  return true;
}

}  // namespace onnxq
