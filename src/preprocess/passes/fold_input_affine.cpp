// Mul, Add, Sub or Div by a per-channel constant right before a Conv, folded into the Conv:
// conv(s·x + t) = conv_{W·s}(x) + Σ W·t. The shift is exact only where no output reads
// padding (padding would be shifted too), so Add and Sub fold into unpadded Convs only; a
// scale commutes with zero padding and folds into any. PaddlePaddle's learnable affine blocks
// put such a pair after each activation, before the next (often 1x1) convolution.

#include <algorithm>

#include "preprocess/affine_fold.hpp"
#include "preprocess/pass.hpp"
#include "quant/graph_editor.hpp"

namespace onnxq::preprocessing {

namespace {

bool reads_padding(const onnx::NodeProto& conv) {
  if (const auto* a = find_attr(conv, "auto_pad"); a && a->s() != "NOTSET" && a->s() != "VALID") return true;
  if (const auto* a = find_attr(conv, "pads"))
    for (int64_t p : a->ints())
      if (p != 0) return true;
  return false;
}

// Folds `a`, applied to the Conv's input, into its weight and bias; false when the weight or
// bias is not a float constant.
bool fold_before(Scope& scope, const GraphUses& uses, onnx::NodeProto& conv, ChannelAffine a) {
  auto w = scope.constant_value(conv.input(1));
  if (!w || w->dtype() != DataType::kFloat || w->rank() < 3) return false;
  const int64_t cout = w->shape()[0], cin_g = w->shape()[1], group = attr_or(conv, "group", 1);
  const int64_t inner = w->numel() / (cout * cin_g), cout_g = cout / group;
  for (auto* v : {&a.s, &a.t})
    if (v->size() == 1) v->assign(static_cast<size_t>(cin_g * group), v->front());
  std::vector<double> bias(static_cast<size_t>(cout), 0.0);
  const bool has_bias = conv.input_size() > 2 && !conv.input(2).empty();
  if (has_bias) {
    auto b = scope.constant_value(conv.input(2));
    if (!b || b->dtype() != DataType::kFloat || b->numel() != cout) return false;
    for (int64_t o = 0; o < cout; ++o) bias[o] = b->data<float>()[o];
  }
  Tensor nw = w->clone();
  const float* wd = w->data<float>();
  float* nd = nw.data<float>();
  for (int64_t o = 0; o < cout; ++o)
    for (int64_t i = 0; i < cin_g; ++i) {
      const size_t channel = static_cast<size_t>((o / cout_g) * cin_g + i);
      const int64_t at = (o * cin_g + i) * inner;
      for (int64_t k = 0; k < inner; ++k) {
        bias[o] += static_cast<double>(wd[at + k]) * a.t[channel];
        nd[at + k] = static_cast<float>(wd[at + k] * a.s[channel]);
      }
    }
  Tensor nb(DataType::kFloat, {cout});
  for (int64_t o = 0; o < cout; ++o) nb.data<float>()[o] = static_cast<float>(bias[o]);
  set_folded(scope, uses, conv, nw, nb);
  return true;
}

// The Mul/Add/Sub/Div producing the input of the Conv at `i` folded into it.
std::optional<Fold> fold_before_conv(Scope& scope, int i, const GraphUses& uses, const std::vector<bool>& touched) {
  auto& graph = scope.graph();
  onnx::NodeProto& conv = *graph.mutable_node(i);
  if (conv.op_type() != "Conv" || !is_default_domain(conv) || conv.input_size() < 2) return std::nullopt;
  const onnx::TensorProto* w = scope.find_constant(conv.input(1));
  if (!w || w->dims_size() < 3) return std::nullopt;
  const std::string x = conv.input(0);
  auto p = uses.producer.find(x);
  if (p == uses.producer.end() || touched[static_cast<size_t>(p->second)] || uses.reader_count(x) != 1 ||
      uses.graph_outputs.count(x))
    return std::nullopt;
  const onnx::NodeProto& affine = graph.node(p->second);
  const int64_t channels = w->dims(1) * attr_or(conv, "group", 1);
  for (int slot = 0; slot < 2; ++slot) {
    auto a = constant_affine(scope, affine, slot, w->dims_size(), channels);
    if (!a) continue;
    const bool shifts = std::any_of(a->t.begin(), a->t.end(), [](double t) { return t != 0; });
    if ((shifts && reads_padding(conv)) || !fold_before(scope, uses, conv, *a)) continue;
    conv.set_input(0, affine.input(slot));
    return Fold{i, p->second};
  }
  return std::nullopt;
}

int64_t run(PassContext& ctx) {
  return for_each_scope(ctx.model, [](Scope& scope) {
    return fold_in_sweeps(scope, [&](int i, const GraphUses& uses, const std::vector<bool>& touched) {
      return fold_before_conv(scope, i, uses, touched);
    });
  });
}

}  // namespace

void register_fold_input_affine(PassRegistry& registry) {
  registry.add({"fold-input-affine",
                "Mul/Div by a per-channel constant before a Conv, and Add/Sub before an unpadded one, folded into it", run});
}

}  // namespace onnxq::preprocessing
