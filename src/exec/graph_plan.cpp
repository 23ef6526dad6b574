#include "exec/graph_plan.hpp"

#include <algorithm>
#include <set>
#include <unordered_set>

#include "onnxq/model.hpp"
#include "onnxq/tensor_proto.hpp"

namespace onnxq::exec {

namespace {

std::string node_label(const onnx::NodeProto& node) {
  std::string label = "node '" + (node.name().empty() ? node.output_size() ? node.output(0) : "" : node.name()) + "' (" + node.op_type();
  if (!node.domain().empty() && node.domain() != "ai.onnx") label += ", domain " + node.domain();
  return label + ")";
}

// Names a graph reads without defining them (the outer-scope values of a subgraph),
// including those its own subgraphs read, in first-use order.
void collect_free_names(const onnx::GraphProto& graph, std::vector<std::string>& out,
                        std::unordered_set<std::string>& seen) {
  std::unordered_set<std::string> defined;
  for (const auto& v : graph.input()) defined.insert(v.name());
  for (const auto& t : graph.initializer()) defined.insert(t.name());
  auto use = [&](const std::string& name) {
    if (!name.empty() && !defined.count(name) && seen.insert(name).second) out.push_back(name);
  };
  for (const auto& node : graph.node()) {
    for (const auto& in : node.input()) use(in);
    for (const auto& a : node.attribute()) {
      std::vector<const onnx::GraphProto*> subs;
      if (a.has_g()) subs.push_back(&a.g());
      for (const auto& g : a.graphs()) subs.push_back(&g);
      for (const auto* g : subs) {
        std::vector<std::string> inner;
        std::unordered_set<std::string> inner_seen;
        collect_free_names(*g, inner, inner_seen);
        for (const auto& n : inner) use(n);
      }
    }
    for (const auto& o : node.output()) defined.insert(o);
  }
  for (const auto& v : graph.output()) use(v.name());
}

// An initializer used in place: inline raw_data is viewed (the model outlives the plan),
// external data comes mapped from the model, typed fields are converted once.
Tensor constant_tensor(const onnx::TensorProto& proto, const Model* model) {
  const bool external = proto.data_location() == onnx::TensorProto::EXTERNAL;
  if (!external && proto.has_raw_data()) {
    const DataType type = proto_dtype(proto);
    const Shape shape = proto_shape(proto);
    const std::string& raw = proto.raw_data();
    const size_t align = std::max<size_t>(1, static_cast<size_t>(dtype_bits(type) / 8));
    if (dtype_is_numeric(type) && raw.size() == dtype_storage_bytes(type, shape_numel(shape)) &&
        reinterpret_cast<uintptr_t>(raw.data()) % align == 0)
      return Tensor::view(type, shape, const_cast<std::byte*>(reinterpret_cast<const std::byte*>(raw.data())),
                          nullptr);
  }
  return model ? model->tensor_data(proto) : tensor_from_proto(proto);
}

}  // namespace

std::vector<std::string> node_free_names(const onnx::NodeProto& node) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (const auto& a : node.attribute()) {
    if (a.has_g()) collect_free_names(a.g(), out, seen);
    for (const auto& g : a.graphs()) collect_free_names(g, out, seen);
  }
  return out;
}

ValueInfo value_info_from_proto(const onnx::ValueInfoProto& proto) {
  ValueInfo info;
  info.name = proto.name();
  if (!proto.type().has_tensor_type()) return info;
  const auto& tt = proto.type().tensor_type();
  if (auto dt = dtype_from_onnx(tt.elem_type())) info.dtype = *dt;
  if (tt.has_shape()) {
    info.has_shape = true;
    for (const auto& d : tt.shape().dim()) {
      info.shape.push_back(d.has_dim_value() ? d.dim_value() : -1);
      info.dim_params.push_back(d.has_dim_param() ? d.dim_param() : "");
    }
  }
  return info;
}

int GraphPlan::slot(const std::string& name) {
  auto [it, added] = slots_.emplace(name, static_cast<int>(names_.size()));
  if (added) {
    names_.push_back(name);
    constants_.emplace_back();
  }
  return it->second;
}

std::shared_ptr<const GraphPlan> GraphPlan::plan(const onnx::GraphProto& graph, const Model* model,
                                                 const std::map<std::string, int64_t>& opsets,
                                                 const std::vector<std::string>* outer_names) {
  auto plan = std::make_shared<GraphPlan>();
  GraphPlan& p = *plan;

  for (const auto& t : graph.initializer()) {
    const int s = p.slot(t.name());
    p.constants_[s] = with_context("initializer '" + t.name() + "'", [&] { return constant_tensor(t, model); });
  }
  std::unordered_set<std::string> defined;
  for (const auto& t : graph.initializer()) defined.insert(t.name());
  for (const auto& v : graph.input()) {
    ValueInfo info = value_info_from_proto(v);
    // Subgraph inputs (Loop/Scan bodies) may leave their types to the enclosing node.
    const bool subgraph = outer_names != nullptr;
    if (!subgraph && v.has_type() && !v.type().has_tensor_type())
      fail(ExitCode::kUnsupported, "graph input '" + v.name() + "' is not a tensor (sequences, maps and optionals are not supported)");
    if (!subgraph && info.dtype == DataType::kUndefined && !defined.count(v.name()))
      fail(ExitCode::kInput, "graph input '" + v.name() + "' has no known element type");
    p.input_slots_.push_back(p.slot(v.name()));
    p.inputs_.push_back(std::move(info));
    defined.insert(v.name());
  }

  // Outer-scope names a subgraph reads become extra "inputs" filled from the scope.
  std::unordered_set<std::string> outer(outer_names ? outer_names->begin() : std::vector<std::string>::const_iterator{},
                                        outer_names ? outer_names->end() : std::vector<std::string>::const_iterator{});

  // Kahn's algorithm, keeping the file's order among ready nodes: exporters sometimes
  // write nodes out of order, and a stable order keeps runs reproducible.
  const int n = graph.node_size();
  std::unordered_map<std::string, int> producer;
  for (int i = 0; i < n; ++i)
    for (const auto& o : graph.node(i).output())
      if (!o.empty()) {
        if (defined.count(o) || !producer.emplace(o, i).second)
          fail(ExitCode::kInput, node_label(graph.node(i)) + ": output '" + o + "' is produced twice");
      }
  std::vector<std::vector<std::string>> reads(n);
  std::vector<std::vector<int>> users(n);
  std::vector<int> pending(n, 0);
  for (int i = 0; i < n; ++i) {
    const auto& node = graph.node(i);
    reads[i].assign(node.input().begin(), node.input().end());
    for (auto& f : node_free_names(node)) reads[i].push_back(std::move(f));
    std::set<int> deps;
    for (const auto& name : reads[i]) {
      if (name.empty() || defined.count(name)) continue;
      auto it = producer.find(name);
      if (it != producer.end()) {
        deps.insert(it->second);
      } else if (outer.count(name)) {
        if (!p.slots_.count(name)) {
          p.free_slots_.push_back(p.slot(name));
          p.free_names_.push_back(name);
        }
      } else {
        fail(ExitCode::kInput, node_label(node) + ": input '" + name +
                                   "' is not produced by any node, graph input or initializer");
      }
    }
    for (int d : deps) users[d].push_back(i);
    pending[i] = static_cast<int>(deps.size());
  }
  std::vector<int> order;
  std::set<int> ready;
  for (int i = 0; i < n; ++i)
    if (pending[i] == 0) ready.insert(i);
  while (!ready.empty()) {
    const int i = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(i);
    for (int u : users[i])
      if (--pending[u] == 0) ready.insert(u);
  }
  if (static_cast<int>(order.size()) != n) {
    for (int i = 0; i < n; ++i)
      if (pending[i] > 0) fail(ExitCode::kInput, node_label(graph.node(i)) + ": the graph has a cycle through this node");
  }

  // Names visible to subgraphs of this graph: everything defined here plus the outer ones.
  auto visible = std::make_shared<std::vector<std::string>>();
  if (outer_names) *visible = *outer_names;
  for (const auto& name : defined) visible->push_back(name);
  for (const auto& [name, i] : producer) visible->push_back(name);
  std::sort(visible->begin(), visible->end());

  const auto compile = [model, opsets, visible](const onnx::GraphProto& g) {
    return GraphPlan::plan(g, model, opsets, visible.get());
  };
  const KernelRegistry& registry = KernelRegistry::global();
  for (int i : order) {
    const auto& node = graph.node(i);
    std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
    auto it = opsets.find(domain);
    if (it == opsets.end())
      fail(ExitCode::kInput, node_label(node) + ": the model imports no opset for domain '" + domain + "'");
    const int64_t opset = it->second;
    const KernelDef* def = registry.find(domain, node.op_type(), opset);
    if (!def) {
      const std::string where = node_label(node) + ": ";
      const std::string what = (domain.empty() ? "" : domain + ".") + node.op_type();
      if (registry.knows(domain, node.op_type()))
        fail(ExitCode::kUnsupported, where + what + " at opset " + std::to_string(opset) + " is not supported");
      fail(ExitCode::kUnsupported, where + "op " + what + " (opset " + std::to_string(opset) + ") has no kernel in onnxq's executor");
    }
    Step step;
    step.node = &node;
    step.opset = opset;
    step.kernel = with_context(node_label(node), [&] {
      NodeInfo info(node, opset, model, compile);
      return def->factory(info);
    });
    for (const auto& in : node.input()) step.inputs.push_back(in.empty() ? -1 : p.slot(in));
    for (const auto& out : node.output()) step.outputs.push_back(out.empty() ? -1 : p.slot(out));
    p.steps_.push_back(std::move(step));
  }

  for (const auto& v : graph.output()) {
    if (!p.slots_.count(v.name())) {
      if (!outer.count(v.name()))
        fail(ExitCode::kInput, "graph output '" + v.name() + "' is not produced by any node, input or initializer");
      p.free_slots_.push_back(p.slot(v.name()));
      p.free_names_.push_back(v.name());
    }
    p.output_slots_.push_back(p.slot(v.name()));
    p.outputs_.push_back(value_info_from_proto(v));
  }

  p.model_ = model;
  p.plan_releases(p.steps_);
  p.fused_steps_ = p.fuse(std::vector<bool>(p.names_.size(), false));
  return plan;
}

std::shared_ptr<const WatchedSteps> GraphPlan::watch(const std::vector<std::string>& names) const {
  auto w = std::make_shared<WatchedSteps>();
  w->watched.assign(names_.size(), false);
  for (const auto& name : names)
    if (auto it = slots_.find(name); it != slots_.end()) w->watched[it->second] = true;
  w->steps = fuse(w->watched);  // empty when nothing fuses: the run takes steps_
  return w;
}

void GraphPlan::plan_releases(std::vector<Step>& steps) const {
  // Lifetimes: a value is released after the last step that reads it (subgraph reads
  // count), unless it is an initializer or a graph output.
  std::vector<int> last_use(names_.size(), -1);
  for (size_t s = 0; s < steps.size(); ++s) {
    for (int in : steps[s].inputs)
      if (in >= 0) last_use[in] = static_cast<int>(s);
    for (const auto& name : node_free_names(*steps[s].node)) {
      auto it = slots_.find(name);
      if (it != slots_.end()) last_use[it->second] = static_cast<int>(s);
    }
    for (int out : steps[s].outputs)  // unused outputs die right away
      if (out >= 0 && last_use[out] < static_cast<int>(s)) last_use[out] = static_cast<int>(s);
  }
  std::vector<bool> keep(names_.size(), false);
  for (int s : output_slots_) keep[s] = true;
  for (auto& step : steps) step.release.clear();
  for (size_t s = 0; s < names_.size(); ++s)
    if (!keep[s] && last_use[s] >= 0 && !constants_[s].defined()) steps[last_use[s]].release.push_back(static_cast<int>(s));
}

}  // namespace onnxq::exec
