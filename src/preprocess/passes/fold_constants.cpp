// Nodes whose inputs are all constant are computed once, through the executor's kernels,
// and replaced by initializers; Shape and Size of a value whose shape is static are too.
// A size limit keeps folding from growing the model (a ConstantOfShape of a huge shape
// stays a node). In a subgraph, inputs may be constants of the enclosing graphs; the folded
// values become initializers of the subgraph the node was in.

#include <set>

#include "exec/kernel.hpp"
#include "onnxq/tensor_proto.hpp"
#include "graph/graph_uses.hpp"
#include "preprocess/pass.hpp"
#include "preprocess/scope.hpp"
#include "quant/graph_editor.hpp"

namespace onnxq::preprocessing {

namespace {

// Ops whose value is not a function of their inputs.
const std::set<std::string> kNonDeterministic = {"RandomNormal", "RandomUniform", "RandomNormalLike",
                                                 "RandomUniformLike", "Multinomial", "Bernoulli"};

bool has_subgraph(const onnx::NodeProto& node) {
  for (const auto& a : node.attribute())
    if (a.has_g() || a.graphs_size() > 0) return true;
  return false;
}

std::optional<std::vector<Tensor>> shape_of_static(const Scope& scope, const onnx::NodeProto& node, int64_t opset) {
  if (node.input_size() != 1 || node.output_size() != 1) return std::nullopt;
  auto shape = scope.static_shape(node.input(0));
  if (!shape) return std::nullopt;
  if (node.op_type() == "Size") return std::vector<Tensor>{Tensor::from_vector<int64_t>({}, {shape_numel(*shape)})};
  const int64_t rank = static_cast<int64_t>(shape->size());
  int64_t start = opset >= 15 ? attr_or(node, "start", 0) : 0;
  int64_t end = opset >= 15 ? attr_or(node, "end", rank) : rank;
  auto clamp = [rank](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank); };
  start = clamp(start);
  end = clamp(end);
  std::vector<int64_t> dims(shape->begin() + start, shape->begin() + std::max(start, end));
  return std::vector<Tensor>{Tensor::from_vector<int64_t>({static_cast<int64_t>(dims.size())}, dims)};
}

// Whether one of the node's outputs is among the graph outputs `outputs`.
bool feeds_graph_output(const onnx::NodeProto& node, const std::set<std::string>& outputs) {
  for (const auto& o : node.output())
    if (outputs.count(o)) return true;
  return false;
}

int64_t run_in(PassContext& ctx, Scope& scope) {
  Model& model = ctx.model;
  auto& graph = scope.graph();
  const auto& registry = exec::KernelRegistry::global();
  const int64_t opset = model.opset_version("");
  std::set<std::string> graph_outputs;
  for (const auto& v : graph.output()) graph_outputs.insert(v.name());
  int64_t changes = 0;
  std::set<int> doomed;
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto& node = graph.node(i);
    const std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
    if (!domain.empty() || kNonDeterministic.count(node.op_type()) || has_subgraph(node) ||
        node.op_type() == "Constant")
      continue;
    // A body's outputs stay computed by its nodes (see constant-to-initializer).
    if (scope.is_subgraph() && feeds_graph_output(node, graph_outputs)) continue;
    std::optional<std::vector<Tensor>> outputs;
    if (node.op_type() == "Shape" || node.op_type() == "Size") outputs = shape_of_static(scope, node, opset);
    if (!outputs) {
      std::vector<Tensor> inputs;
      uint64_t input_bytes = 0;
      bool all_constant = true;
      for (const auto& in : node.input()) {
        if (in.empty()) {
          inputs.emplace_back();
          continue;
        }
        auto v = scope.constant_value(in);
        if (!v) {
          all_constant = false;
          break;
        }
        input_bytes += v->nbytes();
        inputs.push_back(std::move(*v));
      }
      if (!all_constant) continue;
      const exec::KernelDef* def = registry.find(domain, node.op_type(), opset);
      if (!def) continue;
      try {
        exec::NodeInfo info(node, opset, &model);
        auto kernel = def->factory(info);
        std::vector<Tensor> out(static_cast<size_t>(node.output_size()));
        exec::KernelIO io(inputs, out, ctx.options.threads, nullptr);
        kernel->run(io);
        uint64_t out_bytes = 0;
        for (const auto& t : out) out_bytes += t.defined() ? t.nbytes() : 0;
        if (out_bytes > ctx.options.fold_size_limit && out_bytes > input_bytes) continue;
        outputs = std::move(out);
      } catch (const Error& e) {
        // The node stays for the runtime to judge; the user hears why it was not folded.
        ctx.warnings.push_back("node '" + node.name() + "' (" + node.op_type() + ") not folded: " + e.what());
        continue;
      }
    }
    for (int o = 0; o < node.output_size(); ++o) {
      if (node.output(o).empty() || !(*outputs)[o].defined()) continue;
      scope.set_initializer(node.output(o), (*outputs)[o]);
    }
    doomed.insert(i);
    ++changes;
  }
  // Outputs that were graph outputs stay listed; their values now come from initializers.
  erase_nodes(graph, doomed);
  return changes;
}

int64_t run(PassContext& ctx) {
  return for_each_scope(ctx.model, [&](Scope& scope) { return run_in(ctx, scope); });
}

}  // namespace

void register_fold_constants(PassRegistry& registry) {
  registry.add({"fold-constants", "nodes with constant inputs (and Shape of static shapes) computed ahead", run});
}

}  // namespace onnxq::preprocessing
