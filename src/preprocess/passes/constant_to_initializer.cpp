// `Constant` nodes become initializers of the graph they are in (main graph or subgraph:
// ONNX allows initializers in If/Loop/Scan bodies), where quantizers look for weights.

#include "onnxq/tensor_proto.hpp"
#include "graph/graph_uses.hpp"
#include "preprocess/pass.hpp"
#include "preprocess/scope.hpp"

namespace onnxq::preprocessing {

namespace {

// The Constant's value as a TensorProto, or false for forms left alone (sparse, strings).
bool constant_value(const onnx::NodeProto& node, onnx::TensorProto& out) {
  for (const auto& a : node.attribute()) {
    if (a.name() == "value" && a.has_t()) {
      out = a.t();
      return true;
    }
    if (a.name() == "value_float") {
      out.set_data_type(onnx::TensorProto::FLOAT);
      out.add_float_data(a.f());
      return true;
    }
    if (a.name() == "value_floats") {
      out.set_data_type(onnx::TensorProto::FLOAT);
      out.add_dims(a.floats_size());
      for (float f : a.floats()) out.add_float_data(f);
      return true;
    }
    if (a.name() == "value_int") {
      out.set_data_type(onnx::TensorProto::INT64);
      out.add_int64_data(a.i());
      return true;
    }
    if (a.name() == "value_ints") {
      out.set_data_type(onnx::TensorProto::INT64);
      out.add_dims(a.ints_size());
      for (int64_t v : a.ints()) out.add_int64_data(v);
      return true;
    }
  }
  return false;
}

int64_t run_in(Scope& scope) {
  auto& graph = scope.graph();
  std::set<std::string> outputs;
  for (const auto& v : graph.output()) outputs.insert(v.name());
  std::set<int> doomed;
  for (int i = 0; i < graph.node_size(); ++i) {
    const auto& node = graph.node(i);
    if (node.op_type() != "Constant" || (!node.domain().empty() && node.domain() != "ai.onnx") ||
        node.output_size() != 1)
      continue;
    // A body's outputs stay computed by its nodes: ONNX Runtime rejects some that are not
    // (onnxruntime#11536), so such a Constant is kept.
    if (scope.is_subgraph() && outputs.count(node.output(0))) continue;
    onnx::TensorProto value;
    if (!constant_value(node, value) || value.data_type() == onnx::TensorProto::STRING) continue;
    value.set_name(node.output(0));
    scope.add_initializer(std::move(value));
    doomed.insert(i);
  }
  erase_nodes(graph, doomed);
  return static_cast<int64_t>(doomed.size());
}

int64_t run(PassContext& ctx) { return for_each_scope(ctx.model, run_in); }

}  // namespace

void register_constant_to_initializer(PassRegistry& registry) {
  registry.add({"constant-to-initializer", "Constant nodes become initializers", run});
}

}  // namespace onnxq::preprocessing
