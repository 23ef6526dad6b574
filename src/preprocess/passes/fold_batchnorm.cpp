// Inference BatchNormalization folded into the Conv, ConvTranspose or Gemm before it
// (y = s·x + t per channel, s = scale/sqrt(var + eps), t = bias − mean·s), so quantizers see
// one weight per layer; a BatchNormalization with nothing to fold into becomes Mul + Add.

#include <cmath>

#include "onnxq/tensor_proto.hpp"
#include "graph/graph_uses.hpp"
#include "preprocess/pass.hpp"
#include "preprocess/scope.hpp"
#include "quant/graph_editor.hpp"

namespace onnxq::preprocessing {

namespace {

struct Affine {
  std::vector<double> s, t;  // per channel
};

std::optional<Affine> bn_affine(const Scope& scope, const onnx::NodeProto& bn) {
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
  Affine a;
  for (size_t i = 0; i < c; ++i) {
    const double s = p[0][i] / std::sqrt(p[3][i] + static_cast<double>(static_cast<float>(eps)));
    a.s.push_back(s);
    a.t.push_back(p[1][i] - p[2][i] * s);
  }
  return a;
}

// Stores `value` under the name `name` when it is this graph's own initializer and only one
// node reads it, else under a new name in this graph (an enclosing graph's weight may have
// other readers); returns the name to use.
std::string store(Scope& scope, const GraphUses& uses, const std::string& name, const Tensor& value) {
  if (scope.owns_initializer(name) && uses.reader_count(name) <= 1) {
    scope.set_initializer(name, value);
    return name;
  }
  const std::string fresh = scope.unique_name(name + "_bn_folded");
  scope.set_initializer(fresh, value);
  return fresh;
}

// Conv/ConvTranspose/Gemm `node` followed by `bn`; true when folded.
bool fold_into(Scope& scope, const GraphUses& uses, onnx::NodeProto& node, const Affine& a) {
  const std::string& op = node.op_type();
  if (node.input_size() < 2) return false;
  auto w = scope.constant_value(node.input(1));
  if (!w || w->dtype() != DataType::kFloat) return false;
  const int64_t channels = static_cast<int64_t>(a.s.size());
  Tensor nw = w->clone();
  float* wd = nw.data<float>();
  // Index of the output channel of weight element `i`.
  std::function<int64_t(int64_t)> channel_of;
  if (op == "Conv") {
    if (w->rank() < 1 || w->shape()[0] != channels) return false;
    const int64_t per = w->numel() / channels;
    channel_of = [per](int64_t i) { return i / per; };
  } else if (op == "ConvTranspose") {
    const int64_t group = attr_or(node, "group", 1);
    if (w->rank() < 2 || w->shape()[1] * group != channels) return false;
    const int64_t cout_g = w->shape()[1], inner = w->numel() / (w->shape()[0] * cout_g);
    const int64_t cin_g = w->shape()[0] / group;
    channel_of = [=](int64_t i) {
      const int64_t cin = i / (cout_g * inner), j = (i / inner) % cout_g;
      return (cin / cin_g) * cout_g + j;
    };
  } else {  // Gemm
    if (w->rank() != 2) return false;
    const bool trans_b = attr_or(node, "transB", 0) != 0;
    const int64_t n = trans_b ? w->shape()[0] : w->shape()[1];
    if (n != channels) return false;
    const int64_t cols = w->shape()[1];
    channel_of = trans_b ? std::function<int64_t(int64_t)>([cols](int64_t i) { return i / cols; })
                         : std::function<int64_t(int64_t)>([cols](int64_t i) { return i % cols; });
  }
  // The bias: Conv's B [C], Gemm's C broadcast to [N] (times beta).
  std::vector<double> bias(static_cast<size_t>(channels), 0.0);
  const bool has_bias = node.input_size() > 2 && !node.input(2).empty();
  if (has_bias) {
    auto b = scope.constant_value(node.input(2));
    if (!b || b->dtype() != DataType::kFloat) return false;
    double beta = 1.0;
    if (op == "Gemm") {
      if (const auto* at = find_attr(node, "beta")) beta = at->f();
    }
    if (b->numel() == channels && (b->rank() == 1 || (b->rank() == 2 && b->shape()[0] == 1))) {
      for (int64_t c = 0; c < channels; ++c) bias[c] = beta * b->data<float>()[c];
    } else if (b->numel() == 1) {
      for (int64_t c = 0; c < channels; ++c) bias[c] = beta * b->data<float>()[0];
    } else {
      return false;
    }
  }
  for (int64_t i = 0; i < nw.numel(); ++i) wd[i] = static_cast<float>(wd[i] * a.s[channel_of(i)]);
  Tensor nb(DataType::kFloat, {channels});
  for (int64_t c = 0; c < channels; ++c) nb.data<float>()[c] = static_cast<float>(bias[c] * a.s[c] + a.t[c]);
  node.set_input(1, store(scope, uses, node.input(1), nw));
  const std::string bias_name =
      has_bias ? store(scope, uses, node.input(2), nb)
               : [&] {
                   const std::string fresh = scope.unique_name(node.input(1) + "_bias");
                   scope.set_initializer(fresh, nb);
                   return fresh;
                 }();
  while (node.input_size() < 3) node.add_input("");
  node.set_input(2, bias_name);
  if (op == "Gemm") {
    for (auto& at : *node.mutable_attribute())
      if (at.name() == "beta") at.set_f(1.0f);
  }
  return true;
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
        const std::string& op = prev.op_type();
        if ((op == "Conv" || op == "ConvTranspose" || op == "Gemm") &&
            (prev.domain().empty() || prev.domain() == "ai.onnx") && prev.output_size() == 1 &&
            fold_into(scope, uses, prev, *affine)) {
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
