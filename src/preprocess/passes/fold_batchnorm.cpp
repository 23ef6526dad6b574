// Inference BatchNormalization folded into the Conv, ConvTranspose or Gemm before it
// (y = s·x + t per channel, s = scale/sqrt(var + eps), t = bias − mean·s), so quantizers see
// one weight per layer; a BatchNormalization with nothing to fold into becomes Mul + Add.

#include <cmath>

#include "onnxq/tensor_proto.hpp"
#include "graph/graph_uses.hpp"
#include "preprocess/affine_fold.hpp"
#include "preprocess/pass.hpp"
#include "preprocess/scope.hpp"
#include "quant/graph_editor.hpp"

namespace onnxq::preprocessing {

namespace {

std::optional<ChannelAffine> bn_affine(const Scope& scope, const onnx::NodeProto& bn) {
  if (bn.input_size() < 5 || bn.output_size() < 1) return std::nullopt;
  for (int i = 1; i < bn.output_size(); ++i)
    if (!bn.output(i).empty()) return std::nullopt;  // training outputs
  if (attr_or(bn, "training_mode", 0) != 0) return std::nullopt;
  std::vector<std::vector<double>> p;
  for (int i = 1; i <= 4; ++i) {
    auto v = scope.constant_value(bn.input(i));
    if (!v || v->dtype() != DataType::kFloat || v->rank() != 1) return std::nullopt;
    p.emplace_back(v->data<float>(), v->data<float>() + v->numel());
  }
  const size_t c = p[0].size();
  for (const auto& v : p)
    if (v.size() != c) return std::nullopt;
  const auto* eps_attr = find_attr(bn, "epsilon");
  const double eps = eps_attr ? eps_attr->f() : 1e-5;
  ChannelAffine a;
  for (size_t i = 0; i < c; ++i) {
    const double s = p[0][i] / std::sqrt(p[3][i] + static_cast<double>(static_cast<float>(eps)));
    a.s.push_back(s);
    a.t.push_back(p[1][i] - p[2][i] * s);
  }
  return a;
}

int64_t run_in(Scope& scope) {
  auto& graph = scope.graph();
  int64_t changes = 0;
  for (bool again = true; again;) {
    again = false;
    GraphUses uses(graph);
    for (int i = 0; i < graph.node_size() && !again; ++i) {
      const onnx::NodeProto bn = graph.node(i);
      if (bn.op_type() != "BatchNormalization" || (!bn.domain().empty() && bn.domain() != "ai.onnx")) continue;
      auto affine = bn_affine(scope, bn);
      if (!affine) continue;
      const std::string x = bn.input(0), y = bn.output(0);
      auto p = uses.producer.find(x);
      const bool foldable = p != uses.producer.end() && uses.reader_count(x) == 1 && !uses.graph_outputs.count(x);
      if (foldable) {
        onnx::NodeProto& prev = *graph.mutable_node(p->second);
        if (fold_affine_into(scope, uses, prev, *affine)) {
          prev.set_output(0, y);
          erase_nodes(graph, {i});
          ++changes;
          again = true;
          continue;
        }
      }
      // Mul + Add with per-channel constants shaped [C, 1, ...] for the input's rank.
      const int64_t rank = scope.known_rank(x);
      if (rank < 2) continue;
      Shape shape(static_cast<size_t>(rank - 1), 1);
      shape[0] = static_cast<int64_t>(affine->s.size());
      Tensor s(DataType::kFloat, shape), t(DataType::kFloat, shape);
      for (size_t c = 0; c < affine->s.size(); ++c) {
        s.data<float>()[c] = static_cast<float>(affine->s[c]);
        t.data<float>()[c] = static_cast<float>(affine->t[c]);
      }
      const std::string base = bn.name().empty() ? y : bn.name();
      const std::string sn = scope.unique_name(base + "_scale"), tn = scope.unique_name(base + "_shift");
      scope.set_initializer(sn, s);
      scope.set_initializer(tn, t);
      const std::string mid = scope.unique_name(y + "_scaled");
      onnx::NodeProto mul = make_node("Mul", {x, sn}, {mid}, base + "_mul");
      onnx::NodeProto add = make_node("Add", {mid, tn}, {y}, base + "_add");
      *graph.mutable_node(i) = std::move(mul);
      auto* nodes = graph.mutable_node();
      nodes->Add(std::move(add));
      for (int k = nodes->size() - 1; k > i + 1; --k) nodes->SwapElements(k, k - 1);
      ++changes;
      again = true;
    }
  }
  return changes;
}

int64_t run(PassContext& ctx) { return for_each_scope(ctx.model, run_in); }

}  // namespace

void register_fold_batchnorm(PassRegistry& registry) {
  registry.add({"fold-batchnorm", "BatchNormalization folded into Conv/ConvTranspose/Gemm, or made Mul+Add", run});
}

}  // namespace onnxq::preprocessing
