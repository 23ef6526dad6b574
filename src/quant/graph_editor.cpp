#include "quant/graph_editor.hpp"

#include <cstring>
#include <functional>
#include <tuple>

#include "onnxq/quant_report.hpp"
#include "core/spill_file.hpp"
#include "onnxq/tensor_proto.hpp"
#include "quant/weight_spill.hpp"

namespace onnxq {
namespace {

void collect_names(const onnx::GraphProto& g, std::set<std::string>& used) {
  for (const auto& v : g.input()) used.insert(v.name());
  for (const auto& v : g.output()) used.insert(v.name());
  for (const auto& v : g.value_info()) used.insert(v.name());
  for (const auto& t : g.initializer()) used.insert(t.name());
  for (const auto& n : g.node()) {
    used.insert(n.name());
    for (const auto& i : n.input()) used.insert(i);
    for (const auto& o : n.output()) used.insert(o);
    for (const auto& a : n.attribute()) {
      if (a.has_g()) collect_names(a.g(), used);
      for (const auto& sub : a.graphs()) collect_names(sub, used);
    }
  }
}

}  // namespace

NameSet::NameSet(const onnx::GraphProto& graph) { collect_names(graph, used_); }

std::string NameSet::unique(const std::string& base) {
  std::string name = base;
  for (int i = 1; used_.count(name); ++i) name = base + "_" + std::to_string(i);
  used_.insert(name);
  return name;
}

GraphEditor::GraphEditor(Model& model, onnx::GraphProto& graph, GraphEditor* parent, NameSet& names)
    : model_(model), graph_(graph), parent_(parent), names_(names) {
  for (const auto& t : graph.initializer()) initializers_[t.name()] = &t;
  for (const auto& v : graph.input()) inputs_.insert(v.name());
  for (const auto& n : graph.node()) {
    for (const auto& o : n.output()) produced_.insert(o);
    if (n.op_type() != "Constant" || !(n.domain().empty() || n.domain() == "ai.onnx") || n.output_size() != 1)
      continue;
    for (const auto& a : n.attribute())
      if (a.name() == "value" && a.has_t()) constant_nodes_[n.output(0)] = &a.t();
  }
}

bool GraphEditor::is_overridable_initializer(const std::string& name) const {
  return initializers_.count(name) && inputs_.count(name);
}

std::optional<GraphEditor::Constant> GraphEditor::find_constant(const std::string& name) {
  if (inputs_.count(name)) return std::nullopt;  // an input (overridable or not) shadows outer names
  if (auto it = initializers_.find(name); it != initializers_.end()) return Constant{it->second, this};
  if (auto it = constant_nodes_.find(name); it != constant_nodes_.end()) return Constant{it->second, this};
  if (produced_.count(name)) return std::nullopt;  // computed here
  return parent_ ? parent_->find_constant(name) : std::nullopt;
}

void GraphEditor::add_initializer(const std::string& name, const Tensor& value) {
  auto* t = graph_.add_initializer();
  t->set_name(name);
  model_.set_tensor(*t, value);  // quantized weights are fresh: kept, not copied
  initializers_[name] = t;
}

// Float data is read where it is stored (the proto, the mapped model file), at whatever
// alignment it has: a copy of every weight in fresh memory is the largest cost of quantizing
// a big model. Data in typed fields is decoded into `decoded`.
std::span<const std::byte> WeightStore::read_weight(const Model& model, const onnx::TensorProto& proto,
                                                    Tensor& decoded) {
  if (proto.data_type() == onnx::TensorProto::FLOAT) {
    const std::span<const std::byte> bytes = model.stored_bytes(proto);
    const auto n = static_cast<uint64_t>(shape_numel(proto_shape(proto)));
    if (!bytes.empty() && n * 4 == bytes.size()) return bytes;
  }
  decoded = model.tensor_data(proto);
  if (decoded.dtype() != DataType::kFloat)
    fail(ExitCode::kUnsupported,
         "only float32 weights are quantized, not " + std::string(dtype_name(decoded.dtype())));
  return decoded.bytes();
}

bool WeightStore::Key::operator<(const Key& o) const {
  auto tie = [](const Key& k) {
    return std::make_tuple(k.proto, static_cast<int>(k.spec.type), k.spec.symmetric, k.spec.reduce_range, k.spec.axis,
                           k.spec.block_size, std::cref(k.spec.min_scale), std::cref(k.layout));
  };
  return tie(*this) < tie(o);
}

QuantizedWeightNames WeightStore::quantize(GraphEditor::Constant weight, const std::string& weight_name,
                                           const WeightQuantSpec& spec, const onnx::NodeProto& node,
                                           const WeightLayout* layout) {
  replaced_.insert(weight_name);
  const Key key{weight.proto, spec, layout ? layout->name : std::string()};
  if (auto it = done_.find(key); it != done_.end()) return it->second;

  GraphEditor& owner = *weight.owner;
  Tensor decoded;
  const std::span<const std::byte> w = read_weight(owner.model(), *weight.proto, decoded);
  // Values that are stored as they come out go to the spill file (see core/spill_file.hpp);
  // those a layout repacks stay in memory, where the packing reads them.
  if (!layout && !spill_ && w.size() >= kSpillMinBytes) spill_ = SpillFile::create();
  SpillFile* spill = !layout && w.size() >= kSpillMinBytes ? spill_.get() : nullptr;
  const QuantizedWeight q = with_context("weight '" + weight_name + "' of node '" + node.name() + "'", [&] {
    return quantize_weight_spilled(w, proto_shape(*weight.proto), spec, threads_, spill);
  });
  if (layout && layout->pack_spilled && !spill_ && w.size() >= kSpillMinBytes) spill_ = SpillFile::create();
  const QuantizedWeight stored = !layout                                            ? q
                                 : layout->pack_spilled && w.size() >= kSpillMinBytes ? layout->pack_spilled(q, spill_.get())
                                                                                     : layout->pack(q);
  QuantizedWeightNames names{owner.unique_name(weight_name + "_quantized"), owner.unique_name(weight_name + "_scale"),
                             stored.zero_point.defined() ? owner.unique_name(weight_name + "_zero_point") : ""};
  owner.add_initializer(names.values, stored.values);
  owner.add_initializer(names.scale, stored.scale);
  if (stored.zero_point.defined()) owner.add_initializer(names.zero_point, stored.zero_point);
  added_.insert({names.values, names.scale, names.zero_point});

  QuantizedTensorInfo info;
  info.name = weight_name;
  info.node = node.name();
  info.op_type = node.op_type();
  info.type = std::string(dtype_name(spec.type));
  info.axis = spec.axis;
  info.block_size = spec.block_size;
  info.scale.assign(q.scale.data<float>(), q.scale.data<float>() + q.scale.numel());
  for (int64_t i = 0; i < q.zero_point.numel(); ++i) info.zero_point.push_back(read_quantized(q.zero_point, i));
  info.sqnr_db = q.sqnr_db;
  info.bytes_before = w.size();
  info.bytes_after = stored.values.nbytes() + stored.scale.nbytes() + stored.zero_point.nbytes();
  infos_.push_back(std::move(info));
  info_zero_points_.emplace_back(names.zero_point, stored.zero_point.nbytes());
  return done_[key] = names;
}

void WeightStore::forget_pruned(const std::function<bool(const std::string&)>& pruned) {
  for (size_t i = 0; i < infos_.size(); ++i) {
    auto& [name, bytes] = info_zero_points_[i];
    if (name.empty() || !pruned(name)) continue;
    infos_[i].bytes_after -= bytes;
    bytes = 0;
  }
}

onnx::NodeProto make_node(const std::string& op_type, const std::vector<std::string>& inputs,
                          const std::vector<std::string>& outputs, const std::string& name,
                          const std::string& domain) {
  onnx::NodeProto n;
  n.set_op_type(op_type);
  n.set_name(name);
  if (!domain.empty()) n.set_domain(domain);
  for (const auto& i : inputs) n.add_input(i);
  for (const auto& o : outputs) n.add_output(o);
  return n;
}

void set_attr(onnx::NodeProto& node, const std::string& name, int64_t value) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

void set_attr(onnx::NodeProto& node, const std::string& name, float value) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(value);
}

void set_attr(onnx::NodeProto& node, const std::string& name, const std::vector<int64_t>& values) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) a->add_ints(v);
}

const onnx::AttributeProto* find_attr(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

bool is_default_domain(const onnx::NodeProto& node) { return node.domain().empty() || node.domain() == "ai.onnx"; }

int64_t attr_or(const onnx::NodeProto& node, const std::string& name, int64_t fallback) {
  const auto* a = find_attr(node, name);
  return a ? a->i() : fallback;
}

}  // namespace onnxq
