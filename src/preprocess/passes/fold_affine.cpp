// Mul, Add, Sub or Div by a constant that is the same on each output channel, right after a
// Conv, ConvTranspose or Gemm, folded into the layer's weight and bias (ONNX Runtime's
// Conv-Mul and Conv-Add fusions). Exporters write these for learnable affine blocks and layer
// scales; folded, the quantizer sees one weight and one activation where it saw three.

#include "preprocess/affine_fold.hpp"
#include "preprocess/pass.hpp"
#include "quant/graph_editor.hpp"

namespace onnxq::preprocessing {

namespace {

// The Mul/Add/Sub/Div at `i` folded into the layer producing one of its inputs.
std::optional<Fold> fold_after_layer(Scope& scope, int i, const GraphUses& uses, const std::vector<bool>& touched) {
  auto& graph = scope.graph();
  const onnx::NodeProto& node = graph.node(i);
  const std::string& op = node.op_type();
  if ((op != "Mul" && op != "Add" && op != "Sub" && op != "Div") || node.input_size() != 2) return std::nullopt;
  for (int slot = 0; slot < 2; ++slot) {
    const std::string& x = node.input(slot);
    auto p = uses.producer.find(x);
    if (p == uses.producer.end() || touched[static_cast<size_t>(p->second)] || uses.reader_count(x) != 1 ||
        uses.graph_outputs.count(x))
      continue;
    onnx::NodeProto& layer = *graph.mutable_node(p->second);
    const int64_t channels = layer_output_channels(scope, layer), rank = layer_output_rank(scope, layer);
    if (channels <= 0 || rank < 2) continue;
    auto a = constant_affine(scope, node, slot, rank, channels);
    if (!a || !fold_affine_into(scope, uses, layer, *a)) continue;
    layer.set_output(0, node.output(0));
    return Fold{p->second, i};
  }
  return std::nullopt;
}

int64_t run(PassContext& ctx) {
  return for_each_scope(ctx.model, [](Scope& scope) {
    return fold_in_sweeps(scope, [&](int i, const GraphUses& uses, const std::vector<bool>& touched) {
      return fold_after_layer(scope, i, uses, touched);
    });
  });
}

}  // namespace

void register_fold_affine(PassRegistry& registry) {
  registry.add({"fold-affine", "Mul/Add/Sub/Div by a per-channel constant after Conv/ConvTranspose/Gemm folded into it", run});
}

}  // namespace onnxq::preprocessing
