// Nodes nothing reads (and that are not graph outputs) and initializers nothing reads are
// removed, repeatedly, so whole dead chains go. A value a subgraph reads counts as read by
// the node owning the subgraph; a subgraph keeps what its outputs need.

#include "graph/graph_uses.hpp"
#include "preprocess/pass.hpp"
#include "preprocess/scope.hpp"

namespace onnxq::preprocessing {

namespace {

int64_t run_in(Scope& scope) {
  auto& graph = scope.graph();
  int64_t changes = 0;
  for (bool again = true; again;) {
    again = false;
    GraphUses uses(graph);
    std::set<int> doomed;
    for (int i = 0; i < graph.node_size(); ++i) {
      bool live = false;
      for (const auto& o : graph.node(i).output())
        live = live || (!o.empty() && (uses.reader_count(o) > 0 || uses.graph_outputs.count(o)));
      if (!live) doomed.insert(i);
    }
    erase_nodes(graph, doomed);
    changes += static_cast<int64_t>(doomed.size());
    again = !doomed.empty();
  }
  GraphUses uses(graph);
  std::set<std::string> graph_inputs;
  for (const auto& v : graph.input()) graph_inputs.insert(v.name());
  auto* inits = graph.mutable_initializer();
  int kept = 0;
  for (int i = 0; i < inits->size(); ++i) {
    const std::string& name = inits->Get(i).name();
    if (uses.reader_count(name) > 0 || uses.graph_outputs.count(name) || graph_inputs.count(name))
      inits->SwapElements(i, kept++);
  }
  changes += inits->size() - kept;
  inits->DeleteSubrange(kept, inits->size() - kept);
  return changes;
}

int64_t run(PassContext& ctx) { return for_each_scope(ctx.model, run_in); }

}  // namespace

void register_remove_dead_nodes(PassRegistry& registry) {
  registry.add({"remove-dead-nodes", "nodes and initializers nothing reads removed", run});
}

}  // namespace onnxq::preprocessing
