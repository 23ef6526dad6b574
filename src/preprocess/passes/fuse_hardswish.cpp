// HardSwish written out as x·Clip(x + 3, 0, 6)/6 (PaddlePaddle's and older PyTorch exports)
// becomes one HardSwish at opset 14 and up, or x·HardSigmoid(x) before. Besides the three
// elementwise passes it saves at run time, a quantizer then places Q/DQ around one activation
// instead of four chained ones, each of which would round.

#include <cmath>

#include "graph/graph_uses.hpp"
#include "preprocess/pass.hpp"
#include "preprocess/scope.hpp"
#include "quant/graph_editor.hpp"

namespace onnxq::preprocessing {

namespace {

class Matcher {
 public:
  Matcher(const Scope& scope, const onnx::GraphProto& graph, const GraphUses& uses)
      : scope_(scope), graph_(graph), uses_(uses) {}

  // The node producing `value` when it is a default-domain `op` whose output only one node
  // reads (it disappears with the fusion), else nullptr.
  const onnx::NodeProto* inner(const std::string& value, const char* op) const {
    auto p = uses_.producer.find(value);
    if (p == uses_.producer.end() || uses_.reader_count(value) != 1 || uses_.graph_outputs.count(value)) return nullptr;
    const onnx::NodeProto& n = graph_.node(p->second);
    if (n.op_type() != op || !is_default_domain(n) || n.output_size() != 1) return nullptr;
    return &n;
  }

  // Whether `value` is a float constant with one element equal to `want` (within `tol`).
  bool is_scalar(const std::string& value, double want, double tol = 0) const {
    auto c = scope_.constant_value(value);
    return c && c->dtype() == DataType::kFloat && c->numel() == 1 && std::abs(c->data<float>()[0] - want) <= tol;
  }

  // x when `value` = Clip(x + 3, 0, 6), else "".
  std::string relu6_of_shift(const std::string& value) const {
    const onnx::NodeProto* clip = inner(value, "Clip");
    if (!clip) return "";
    if (const auto* lo = find_attr(*clip, "min"); lo || find_attr(*clip, "max")) {
      const auto* hi = find_attr(*clip, "max");
      if (!lo || !hi || lo->f() != 0.0f || hi->f() != 6.0f || clip->input_size() != 1) return "";
    } else if (clip->input_size() != 3 || !is_scalar(clip->input(1), 0) || !is_scalar(clip->input(2), 6)) {
      return "";
    }
    const onnx::NodeProto* add = inner(clip->input(0), "Add");
    if (!add || add->input_size() != 2) return "";
    for (int k = 0; k < 2; ++k)
      if (is_scalar(add->input(1 - k), 3)) return add->input(k);
    return "";
  }

  // Whether `value` = y/6 or y·(1/6); y goes to `y`.
  bool divided_by_six(const std::string& value, std::string& y) const {
    if (const auto* div = inner(value, "Div"); div && div->input_size() == 2 && is_scalar(div->input(1), 6)) {
      y = div->input(0);
      return true;
    }
    if (const auto* mul = inner(value, "Mul"); mul && mul->input_size() == 2) {
      for (int k = 0; k < 2; ++k)
        if (is_scalar(mul->input(1 - k), 1.0 / 6, 1e-7)) {
          y = mul->input(k);
          return true;
        }
    }
    return false;
  }

  // x when `value` is HardSigmoid(x) with HardSwish's slope and offset, or Clip(x + 3, 0, 6)/6.
  std::string hard_sigmoid_of(const std::string& value, bool take_hard_sigmoid) const {
    if (const auto* hs = inner(value, "HardSigmoid"); hs && take_hard_sigmoid && hs->input_size() == 1) {
      const auto* alpha = find_attr(*hs, "alpha");
      const auto* beta = find_attr(*hs, "beta");
      if (alpha && beta && std::abs(alpha->f() - 1.0 / 6) <= 1e-7 && beta->f() == 0.5f) return hs->input(0);
    }
    std::string r;
    return divided_by_six(value, r) ? relu6_of_shift(r) : "";
  }

  // x when `node` (its output read by others) computes HardSwish(x), else "".
  std::string hardswish_input(const onnx::NodeProto& node, bool take_hard_sigmoid) const {
    if (!is_default_domain(node) || node.input_size() != 2 || node.output_size() != 1) return "";
    if (node.op_type() == "Mul") {  // x · HardSigmoid(x)
      for (int k = 0; k < 2; ++k)
        if (const std::string x = hard_sigmoid_of(node.input(1 - k), take_hard_sigmoid); !x.empty() && x == node.input(k))
          return x;
    }
    // (x · Clip(x + 3, 0, 6)) / 6, the division spelt either way.
    const onnx::NodeProto* mul = nullptr;
    if (node.op_type() == "Div" && is_scalar(node.input(1), 6)) mul = inner(node.input(0), "Mul");
    if (node.op_type() == "Mul")
      for (int k = 0; k < 2 && !mul; ++k)
        if (is_scalar(node.input(1 - k), 1.0 / 6, 1e-7)) mul = inner(node.input(k), "Mul");
    if (!mul || mul->input_size() != 2) return "";
    for (int k = 0; k < 2; ++k)
      if (const std::string x = relu6_of_shift(mul->input(1 - k)); !x.empty() && x == mul->input(k)) return x;
    return "";
  }

 private:
  const Scope& scope_;
  const onnx::GraphProto& graph_;
  const GraphUses& uses_;
};

int64_t run_in(Scope& scope, bool has_hardswish) {
  auto& graph = scope.graph();
  int64_t changes = 0;
  GraphUses uses(graph);
  Matcher match(scope, graph, uses);
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  for (const auto& node : graph.node()) {
    // Below opset 14, x·HardSigmoid(x) is already the fused form.
    const std::string x = match.hardswish_input(node, has_hardswish);
    if (x.empty()) {
      *nodes.Add() = node;
      continue;
    }
    const std::string& y = node.output(0);
    const std::string base = node.name().empty() ? y : node.name();
    if (has_hardswish) {
      *nodes.Add() = make_node("HardSwish", {x}, {y}, base);
    } else {
      const std::string gate = scope.unique_name(y + "_gate");
      onnx::NodeProto hs = make_node("HardSigmoid", {x}, {gate}, scope.unique_name(base + "_HardSigmoid"));
      set_attr(hs, "alpha", 1.0f / 6);
      set_attr(hs, "beta", 0.5f);
      *nodes.Add() = std::move(hs);
      *nodes.Add() = make_node("Mul", {x, gate}, {y}, base);
    }
    ++changes;
  }
  // The Add, Clip, Mul and Div the fusion bypassed are left to remove-dead-nodes.
  if (changes) graph.mutable_node()->Swap(&nodes);
  return changes;
}

int64_t run(PassContext& ctx) {
  const bool has_hardswish = ctx.model.opset_version("") >= 14;
  return for_each_scope(ctx.model, [&](Scope& scope) { return run_in(scope, has_hardswish); });
}

}  // namespace

void register_fuse_hardswish(PassRegistry& registry) {
  registry.add({"fuse-hardswish", "x*Clip(x+3,0,6)/6 made HardSwish (opset 14 and up) or x*HardSigmoid(x)", run});
}

}  // namespace onnxq::preprocessing
