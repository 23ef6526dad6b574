#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "onnxq/tensor_proto.hpp"
#include "quant/static/qdq_plan.hpp"
#include "quant/static/weight_spec.hpp"

namespace onnxq {
namespace {

Tensor scalar_tensor(DataType type, int32_t value) {
  Tensor t(type, {});
  write_quantized(t, 0, value);
  return t;
}

onnx::NodeProto report_node(const TensorPlan& plan) {
  onnx::NodeProto n;
  n.set_name(plan.node);
  n.set_op_type(plan.op_type);
  return n;
}

}  // namespace

onnx::NodeProto QdqPlan::qdq_node(const std::string& op, const std::string& in, const std::string& scale,
                                  const std::string& zp, const std::string& out, const std::string& name,
                                  int axis) const {
  std::vector<std::string> inputs = {in, scale};
  if (!zp.empty()) inputs.push_back(zp);
  onnx::NodeProto n = make_node(op, inputs, {out}, name);
  if (axis >= 0) set_attr(n, "axis", int64_t{axis});
  return n;
}

QuantParams QdqPlan::activation_params(const std::string& name) const {
  const bool symmetric = options_.symmetric_activations;
  const TensorRange r = ranges_.at(name);
  return compute_quant_params(r.min, r.max, quant_range(options_.activation_type, symmetric, false), symmetric);
}

QuantizedNames QdqPlan::emit_activation(const std::string& name, const TensorPlan& plan,
                                        std::vector<onnx::NodeProto>& head,
                                        std::map<std::string, std::vector<onnx::NodeProto>>& after) {
  QuantizedNames q;
  if (plan.kind == TensorPlan::Kind::kShared) {
    const QuantizedNames& src = done_.at(plan.source);
    q.scale = src.scale;
    q.zero_point = src.zero_point;
  } else {
    const QuantParams p = activation_params(name);
    q.scale = names_.unique(name + "_scale");
    q.zero_point = names_.unique(name + "_zero_point");
    editor_.add_initializer(q.scale, Tensor::from_vector<float>({}, {p.scale}));
    editor_.add_initializer(q.zero_point, scalar_tensor(options_.activation_type, p.zero_point));
    QuantizedTensorInfo info;
    info.name = name;
    info.node = plan.node;
    info.op_type = plan.op_type;
    info.type = std::string(dtype_name(options_.activation_type));
    info.scale = {p.scale};
    info.zero_point = {p.zero_point};
    report_.activations.push_back(std::move(info));
  }
  // A graph output keeps its name: the producer writes a new one, the DequantizeLinear the old.
  std::string q_input = name;
  if (graph_outputs_.count(name)) {
    q_input = names_.unique(name + "_QuantizeLinear_Input");
    for (auto& n : *model_.graph().mutable_node())
      for (auto& o : *n.mutable_output())
        if (o == name) o = q_input;
    q.dequantized = name;
  } else {
    q.dequantized = names_.unique(name + "_DequantizeLinear_Output");
  }
  const std::string q_out = names_.unique(name + "_QuantizeLinear_Output");
  auto& dest = graph_inputs_.count(name) ? head : after[q_input];
  auto qn = qdq_node("QuantizeLinear", q_input, q.scale, q.zero_point, q_out, names_.unique(name + "_QuantizeLinear"), -1);
  auto dqn =
      qdq_node("DequantizeLinear", q_out, q.scale, q.zero_point, q.dequantized, names_.unique(name + "_DequantizeLinear"), -1);
  if (!qdq_domain_.empty()) {
    qn.set_domain(qdq_domain_);
    dqn.set_domain(qdq_domain_);
  }
  dest.push_back(std::move(qn));
  dest.push_back(std::move(dqn));
  return q;
}

QuantizedNames QdqPlan::emit_weight(const std::string& name, const TensorPlan& plan, bool as_activation,
                                    std::vector<onnx::NodeProto>& head) {
  WeightQuantSpec spec;
  if (as_activation) {
    spec.type = options_.activation_type;
    spec.symmetric = options_.symmetric_activations;
  } else {
    spec = static_weight_spec(options_, plan.axis);
    if (auto it = scale_floors_.find(name); it != scale_floors_.end()) spec.min_scale = it->second;
  }
  auto constant = editor_.find_constant(name);
  const QuantizedWeightNames w = weights_.quantize(*constant, name, spec, report_node(plan));
  QuantizedNames q{w.scale, w.zero_point, names_.unique(name + "_DequantizeLinear_Output"), spec.axis};
  auto dq = qdq_node("DequantizeLinear", w.values, w.scale, w.zero_point, q.dequantized,
                     names_.unique(name + "_DequantizeLinear"), spec.axis);
  if (dtype_bits(spec.type) == 16 && !qdq_domain_.empty()) dq.set_domain(qdq_domain_);
  head.push_back(std::move(dq));
  return q;
}

void QdqPlan::emit_bias(const std::string& name, const TensorPlan& plan, std::vector<onnx::NodeProto>& head) {
  auto in = done_.find(plan.input);
  auto w = done_.find(plan.weight);
  if (in == done_.end() || w == done_.end()) return;  // its input or weight stayed float
  auto read = [&](const std::string& n) { return model_.tensor_data(*model_.find_initializer(n)); };
  const Tensor in_scale = read(in->second.scale);
  const Tensor w_scale = read(w->second.scale);
  const Tensor bias = model_.tensor_data(*editor_.find_constant(name)->proto);
  if (in_scale.numel() != 1 || bias.rank() != 1 || (w_scale.numel() != 1 && w_scale.numel() != bias.numel())) return;

  const int64_t n = bias.numel();
  const bool per_channel = w_scale.numel() > 1;
  Tensor scale(DataType::kFloat, per_channel ? Shape{n} : Shape{});
  Tensor values(DataType::kInt32, {n});
  Tensor zero(DataType::kInt32, scale.shape());
  const float s_in = in_scale.data<float>()[0];
  int64_t clipped = 0;
  for (int64_t c = 0; c < scale.numel(); ++c) scale.data<float>()[c] = s_in * w_scale.data<float>()[c] * plan.beta;
  for (int64_t i = 0; i < n; ++i) {
    // As ONNX Runtime: the division in float32, rounded half to even.
    const float s = scale.data<float>()[per_channel ? i : 0];
    const double q = std::nearbyint(static_cast<double>(bias.data<float>()[i] / s));
    const double lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max();
    if (q < lo || q > hi || std::isnan(q)) ++clipped;
    values.data<int32_t>()[i] = static_cast<int32_t>(std::isnan(q) ? 0.0 : std::clamp(q, lo, hi));
  }
  if (clipped)
    report_.warnings.push_back("bias '" + name + "': " + std::to_string(clipped) +
                               " values exceed int32 at scale input x weight and were clipped");
  if (auto f = scale_floors_.find(plan.weight); f != scale_floors_.end()) {
    int64_t widened = 0;
    for (int64_t c = 0; c < w_scale.numel(); ++c) {
      const float floor = f->second[f->second.size() == 1 ? 0 : static_cast<size_t>(c)];
      widened += floor > 0.0f && w_scale.data<float>()[c] <= floor * (1.0f + 1e-5f);
    }
    if (widened)
      report_.warnings.push_back("weight '" + plan.weight + "': scale widened on " + std::to_string(widened) + " of " +
                                 std::to_string(w_scale.numel()) + (w_scale.numel() == 1 ? " scale" : " channels") +
                                 " so that bias '" + name + "' fits int32 at input scale x weight scale");
  }
  const std::string qv = names_.unique(name + "_quantized"), qs = names_.unique(name + "_quantized_scale"),
                    qz = names_.unique(name + "_quantized_zero_point");
  editor_.add_initializer(qv, values);
  editor_.add_initializer(qs, scale);
  editor_.add_initializer(qz, zero);
  QuantizedNames q{qs, qz, names_.unique(name + "_DequantizeLinear_Output"), per_channel ? 0 : -1};
  head.push_back(qdq_node("DequantizeLinear", qv, qs, qz, q.dequantized, names_.unique(name + "_DequantizeLinear"), q.axis));
  done_[name] = q;

  QuantizedTensorInfo info;
  info.name = name;
  info.node = plan.node;
  info.op_type = plan.op_type;
  info.type = "int32";
  info.axis = q.axis;
  info.scale.assign(scale.data<float>(), scale.data<float>() + scale.numel());
  info.zero_point.assign(static_cast<size_t>(scale.numel()), 0);
  double sig = 0, err = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double b = bias.data<float>()[i];
    const double d = static_cast<double>(values.data<int32_t>()[i]) * scale.data<float>()[per_channel ? i : 0];
    sig += b * b;
    err += (b - d) * (b - d);
  }
  info.sqnr_db = err == 0 ? std::numeric_limits<double>::infinity() : 10.0 * std::log10(sig / err);
  info.bytes_before = bias.nbytes();
  info.bytes_after = values.nbytes() + scale.nbytes() + zero.nbytes();
  report_.tensors.push_back(std::move(info));
  weights_.mark_replaced(name);
}

// Per weight, the smallest scales at which each bias it multiplies into keeps |bias / (input scale
// x weight scale x beta)| <= 2^30, half of int32: a bias that does not fit would be clipped, and
// its channel's output with it. ONNX Runtime's tool widens such weight scales too. Only channels
// whose weights are tiny next to their bias (dead ones, or a folded shift) reach the floor, and
// their weights hardly count.
std::map<std::string, std::vector<float>> QdqPlan::bias_scale_floors() {
  std::map<std::string, std::vector<float>> floors;
  for (const auto& name : order_) {
    const TensorPlan& plan = plans_.at(name);
    if (plan.kind != TensorPlan::Kind::kBias) continue;
    std::string in = plan.input;  // shared scales lead to their source
    for (auto it = plans_.find(in); it != plans_.end() && it->second.kind == TensorPlan::Kind::kShared;
         it = plans_.find(in))
      in = it->second.source;
    auto ip = plans_.find(in);
    auto wp = plans_.find(plan.weight);
    if (ip == plans_.end() || ip->second.kind != TensorPlan::Kind::kActivation || is_constant(in) ||
        !ranges_.count(in) || wp == plans_.end() || wp->second.kind != TensorPlan::Kind::kWeight)
      continue;
    const double s_in = activation_params(in).scale;
    const Tensor bias = model_.tensor_data(*editor_.find_constant(name)->proto);
    auto weight = editor_.find_constant(plan.weight);
    if (bias.dtype() != DataType::kFloat || bias.rank() != 1 || !weight || plan.beta == 0.0f) continue;
    const int axis = static_weight_spec(options_, wp->second.axis).axis;
    if (axis >= 0 && (axis >= weight->proto->dims_size() || weight->proto->dims(axis) != bias.numel())) continue;
    std::vector<float>& f = floors[plan.weight];
    f.resize(axis >= 0 ? static_cast<size_t>(bias.numel()) : 1, 0.0f);
    for (int64_t i = 0; i < bias.numel(); ++i) {
      const double need = std::fabs(bias.data<float>()[i]) / (s_in * std::fabs(plan.beta) * 1073741824.0);
      float& slot = f[axis >= 0 ? static_cast<size_t>(i) : 0];
      slot = std::max(slot, static_cast<float>(need));
    }
  }
  std::erase_if(floors, [](const auto& f) { return std::all_of(f.second.begin(), f.second.end(), [](float v) { return v == 0.0f; }); });
  return floors;
}

void QdqPlan::emit() {
  scale_floors_ = bias_scale_floors();
  std::vector<onnx::NodeProto> head;
  std::map<std::string, std::vector<onnx::NodeProto>> after;  // by the producer output they follow
  for (const auto& name : order_) {
    const TensorPlan& plan = plans_.at(name);
    if (plan.kind == TensorPlan::Kind::kActivation)
      done_[name] = is_constant(name) ? emit_weight(name, plan, true, head) : emit_activation(name, plan, head, after);
    else if (plan.kind == TensorPlan::Kind::kWeight)
      done_[name] = emit_weight(name, plan, false, head);
  }
  // Shared parameters follow their source, which may itself be shared: repeat until settled.
  for (bool progress = true; progress;) {
    progress = false;
    for (const auto& name : order_) {
      const TensorPlan& plan = plans_.at(name);
      if (plan.kind != TensorPlan::Kind::kShared || done_.count(name) || !done_.count(plan.source)) continue;
      done_[name] = emit_activation(name, plan, head, after);
      progress = true;
    }
  }
  for (const auto& name : order_)
    if (plans_.at(name).kind == TensorPlan::Kind::kBias) emit_bias(name, plans_.at(name), head);

  std::map<std::string, std::string> reads;  // what consumers read instead
  for (const auto& [name, q] : done_)
    if (q.dequantized != name) reads[name] = q.dequantized;
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  for (auto& n : head) *nodes.Add() = std::move(n);
  auto& graph = model_.graph();
  for (int i = 0; i < graph.node_size(); ++i) {
    if (removed_nodes_.count(i)) continue;
    onnx::NodeProto node = std::move(*graph.mutable_node(i));
    for (auto& in : *node.mutable_input())
      if (auto it = reads.find(in); it != reads.end()) in = it->second;
    const auto outputs = node.output();
    *nodes.Add() = std::move(node);
    for (const auto& o : outputs)
      if (auto it = after.find(o); it != after.end())
        for (auto& extra : it->second) *nodes.Add() = std::move(extra);
  }
  graph.mutable_node()->Swap(&nodes);
  report_.nodes_quantized = static_cast<int64_t>(quantizing_nodes_.size());
  report_.tensors.insert(report_.tensors.begin(), weights_.infos().begin(), weights_.infos().end());
  prune();
}

// Float weights nothing reads any more, and value_info of names that no longer exist.
void QdqPlan::prune() {
  std::set<std::string> used, produced;
  std::function<void(const onnx::GraphProto&)> collect = [&](const onnx::GraphProto& g) {
    for (const auto& o : g.output()) used.insert(o.name());
    for (const auto& n : g.node()) {
      for (const auto& i : n.input()) used.insert(i);
      for (const auto& o : n.output()) produced.insert(o);
      for (const auto& a : n.attribute()) {
        if (a.has_g()) collect(a.g());
        for (const auto& sub : a.graphs()) collect(sub);
      }
    }
  };
  collect(model_.graph());
  auto& g = model_.graph();
  const auto& replaced = weights_.replaced();
  auto* inits = g.mutable_initializer();
  for (int i = inits->size() - 1; i >= 0; --i) {
    const std::string& name = inits->Get(i).name();
    if ((replaced.count(name) || weights_.added().count(name)) && !used.count(name) && !graph_inputs_.count(name))
      inits->DeleteSubrange(i, 1);
  }
  auto* nodes = g.mutable_node();
  for (int i = nodes->size() - 1; i >= 0; --i) {
    const auto& n = nodes->Get(i);
    if (n.op_type() == "Constant" && n.output_size() == 1 && replaced.count(n.output(0)) && !used.count(n.output(0)))
      nodes->DeleteSubrange(i, 1);
  }
  for (const auto& t : g.initializer()) produced.insert(t.name());
  for (const auto& v : g.input()) produced.insert(v.name());
  auto* infos = g.mutable_value_info();
  for (int i = infos->size() - 1; i >= 0; --i)
    if (!produced.count(infos->Get(i).name())) infos->DeleteSubrange(i, 1);
}

}  // namespace onnxq
