// Identity and inference-mode Dropout pass their input through: their readers read the input
// directly. An Identity between two graph-level names (input to output) has to stay, and so
// does one in a subgraph whose output is an outer value (a body's outputs must be computed in
// the body).

#include "graph/graph_uses.hpp"
#include "preprocess/pass.hpp"
#include "preprocess/scope.hpp"

namespace onnxq::preprocessing {

namespace {

bool is_passthrough(const onnx::NodeProto& node) {
  if (!node.domain().empty() && node.domain() != "ai.onnx") return false;
  if (node.op_type() == "Identity") return node.input_size() == 1 && node.output_size() == 1;
  if (node.op_type() != "Dropout") return false;
  // The mask output and a training_mode input make Dropout more than a pass-through.
  if (node.output_size() > 1 && !node.output(1).empty()) return false;
  if (node.input_size() > 2 && !node.input(2).empty()) return false;
  for (const auto& a : node.attribute())
    if (a.name() == "is_test" && a.i() == 0) return false;  // opset < 7 training mode
  return node.input_size() >= 1;
}

int64_t run_in(Scope& scope) {
  auto& graph = scope.graph();
  int64_t changes = 0;
  for (bool again = true; again;) {
    again = false;
    GraphUses uses(graph);
    std::set<std::string> graph_inputs;
    for (const auto& v : graph.input()) graph_inputs.insert(v.name());
    for (int i = 0; i < graph.node_size(); ++i) {
      const auto& node = graph.node(i);
      if (!is_passthrough(node)) continue;
      const std::string in = node.input(0), out = node.output(0);
      if (!uses.graph_outputs.count(out)) {
        if (!can_replace_uses(graph, out, in)) continue;
        replace_uses(graph, out, in);
      } else {
        // The output name must survive: the producer of `in` takes it over, if `in` is a
        // plain intermediate.
        auto p = uses.producer.find(in);
        if (p == uses.producer.end() || uses.graph_outputs.count(in) || graph_inputs.count(in) ||
            !can_replace_uses(graph, in, out))
          continue;
        auto* producer = graph.mutable_node(p->second);
        for (auto& o : *producer->mutable_output())
          if (o == in) o = out;
        replace_uses(graph, in, out);
      }
      erase_nodes(graph, {i});
      ++changes;
      again = true;
      break;  // indices moved: rebuild the uses
    }
  }
  return changes;
}

int64_t run(PassContext& ctx) { return for_each_scope(ctx.model, run_in); }

}  // namespace

void register_remove_identity(PassRegistry& registry) {
  registry.add({"remove-identity", "Identity and inference Dropout nodes removed", run});
}

}  // namespace onnxq::preprocessing
