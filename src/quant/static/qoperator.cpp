#include "quant/static/qoperator.hpp"

#include <functional>
#include <map>
#include <set>

#include "graph/graph_uses.hpp"
#include "quant/graph_editor.hpp"

namespace onnxq {
namespace {

// A DequantizeLinear seen from the float tensor it produces.
struct Dequantized {
  std::string q, scale, zero_point;
  int node = -1;
  bool per_tensor = true;
};

class QOperatorRewrite {
 public:
  QOperatorRewrite(Model& model, QuantizeReport& report) : model_(model), graph_(model.graph()), report_(report) {
    for (const auto& o : graph_.output()) graph_outputs_.insert(o.name());
    for (int i = 0; i < graph_.node_size(); ++i) {
      const auto& n = graph_.node(i);
      for (const auto& o : n.output()) producer_[o] = i;
      if (n.op_type() == "DequantizeLinear" && n.domain().empty()) {
        Dequantized d{n.input(0), n.input(1), n.input_size() > 2 ? n.input(2) : "", i, true};
        if (auto* init = model.find_initializer(d.scale)) d.per_tensor = init->dims_size() == 0;
        dequantized_[n.output(0)] = d;
      }
    }
    reads_ = read_counts(graph_, true);
  }

  void run() {
    for (int i = 0; i < graph_.node_size(); ++i) {
      const auto& n = graph_.node(i);
      if (!n.domain().empty()) continue;
      const std::string& op = n.op_type();
      if (op == "Conv" || op == "MatMul") fuse_linear(i);
      else if (op == "Add" || op == "Mul") fuse_binary(i);
      else if (op == "GlobalAveragePool") fuse_unary(i, "QLinearGlobalAveragePool");
      else if (op == "Concat") fuse_concat(i);
      else if (op == "Reshape" || op == "Transpose" || op == "Squeeze" || op == "Unsqueeze" || op == "Flatten")
        move_to_integers(i);
    }
    apply();
  }

 private:
  const Dequantized* input_of(const onnx::NodeProto& n, int i) const {
    if (i >= n.input_size()) return nullptr;
    auto it = dequantized_.find(n.input(i));
    return it == dequantized_.end() ? nullptr : &it->second;
  }

  // The QuantizeLinear that alone reads the node's only output, if there is one.
  const onnx::NodeProto* sole_quantize(const onnx::NodeProto& n) const {
    if (n.output_size() != 1 || graph_outputs_.count(n.output(0))) return nullptr;
    auto r = reads_.find(n.output(0));
    if (r == reads_.end() || r->second != 1) return nullptr;
    for (const auto& c : graph_.node())
      if (c.op_type() == "QuantizeLinear" && c.domain().empty() && c.input(0) == n.output(0) && c.input_size() == 3 &&
          !find_attr(c, "axis"))
        return &c;
    return nullptr;
  }

  // The QuantizeLinear's zero point must be given: QLinear ops take it as a required input.
  void replace(int index, onnx::NodeProto fused, const onnx::NodeProto& q) {
    fused.set_name(graph_.node(index).name());
    for (const auto& a : graph_.node(index).attribute()) *fused.add_attribute() = a;
    ++report_.nodes_by_op[fused.op_type()];
    ++report_.nodes_quantized;
    replacement_[index] = std::move(fused);
    removed_q_.insert(&q);
  }

  std::string zero_point_of(const Dequantized& d) {
    if (!d.zero_point.empty()) return d.zero_point;
    // A weight stored without a zero point (symmetric int8): QLinear ops need it spelled out.
    const Tensor scale = model_.tensor_data(*model_.find_initializer(d.scale));
    Tensor zero(model_.tensor_data(*model_.find_initializer(d.q)).dtype(), scale.shape());
    NameSet names(graph_);
    const std::string name = names.unique(d.q + "_zero_point");
    model_.set_initializer(name, zero);
    return name;
  }

  void fuse_linear(int index) {
    const auto& n = graph_.node(index);
    const Dequantized* x = input_of(n, 0);
    const Dequantized* w = input_of(n, 1);
    const onnx::NodeProto* q = sole_quantize(n);
    if (!x || !w || !q || !x->per_tensor) return;
    std::vector<std::string> in = {x->q, x->scale, zero_point_of(*x), w->q, w->scale, zero_point_of(*w),
                                   q->input(1), q->input(2)};
    if (n.op_type() == "Conv" && n.input_size() > 2 && !n.input(2).empty()) {
      const Dequantized* b = input_of(n, 2);
      if (!b) return;  // a float bias: QLinearConv takes int32 only
      in.push_back(b->q);
    }
    replace(index, make_node(n.op_type() == "Conv" ? "QLinearConv" : "QLinearMatMul", in, {q->output(0)}, ""), *q);
  }

  void fuse_binary(int index) {
    const auto& n = graph_.node(index);
    const Dequantized* a = input_of(n, 0);
    const Dequantized* b = input_of(n, 1);
    const onnx::NodeProto* q = sole_quantize(n);
    if (!a || !b || !q || !a->per_tensor || !b->per_tensor) return;
    auto fused = make_node("QLinear" + n.op_type(),
                           {a->q, a->scale, zero_point_of(*a), b->q, b->scale, zero_point_of(*b), q->input(1), q->input(2)},
                           {q->output(0)}, "", "com.microsoft");
    replace(index, std::move(fused), *q);
    uses_contrib_ = true;
  }

  void fuse_unary(int index, const std::string& op) {
    const auto& n = graph_.node(index);
    const Dequantized* x = input_of(n, 0);
    const onnx::NodeProto* q = sole_quantize(n);
    if (!x || !q || !x->per_tensor) return;
    replace(index, make_node(op, {x->q, x->scale, zero_point_of(*x), q->input(1), q->input(2)}, {q->output(0)}, "",
                             "com.microsoft"),
            *q);
    uses_contrib_ = true;
  }

  void fuse_concat(int index) {
    const auto& n = graph_.node(index);
    const onnx::NodeProto* q = sole_quantize(n);
    if (!q) return;
    std::vector<std::string> in = {q->input(1), q->input(2)};
    for (int i = 0; i < n.input_size(); ++i) {
      const Dequantized* x = input_of(n, i);
      if (!x || !x->per_tensor) return;
      in.insert(in.end(), {x->q, x->scale, zero_point_of(*x)});
    }
    replace(index, make_node("QLinearConcat", in, {q->output(0)}, "", "com.microsoft"), *q);
    uses_contrib_ = true;
  }

  // Shape ops between a DequantizeLinear and a QuantizeLinear of the same scale and zero point run
  // on the integers directly (ONNX Runtime's QOperator format does the same).
  void move_to_integers(int index) {
    const auto& n = graph_.node(index);
    const Dequantized* x = input_of(n, 0);
    const onnx::NodeProto* q = sole_quantize(n);
    if (!x || !q || x->scale != q->input(1) || x->zero_point != q->input(2)) return;
    onnx::NodeProto moved = make_node(n.op_type(), {}, {q->output(0)}, "");
    moved.add_input(x->q);
    for (int i = 1; i < n.input_size(); ++i) moved.add_input(n.input(i));
    replace(index, std::move(moved), *q);
  }

  // Swaps in the fused nodes, then drops QuantizeLinear nodes they absorbed and DequantizeLinear
  // nodes nobody reads any more, and initializers left unread.
  void apply() {
    google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
    for (int i = 0; i < graph_.node_size(); ++i) {
      if (removed_q_.count(&graph_.node(i))) continue;
      auto it = replacement_.find(i);
      *nodes.Add() = it != replacement_.end() ? std::move(it->second) : graph_.node(i);
    }
    graph_.mutable_node()->Swap(&nodes);
    for (bool changed = true; changed;) {
      changed = false;
      std::map<std::string, int> reads;
      std::function<void(const onnx::GraphProto&)> count = [&](const onnx::GraphProto& g) {
        for (const auto& n : g.node()) {
          for (const auto& i : n.input()) ++reads[i];
          for (const auto& a : n.attribute()) {
            if (a.has_g()) count(a.g());
            for (const auto& sub : a.graphs()) count(sub);
          }
        }
        for (const auto& o : g.output()) ++reads[o.name()];
      };
      count(graph_);
      auto* list = graph_.mutable_node();
      for (int i = list->size() - 1; i >= 0; --i) {
        const auto& n = list->Get(i);
        const bool qdq = (n.op_type() == "DequantizeLinear" || n.op_type() == "QuantizeLinear");
        if (qdq && n.output_size() == 1 && !reads.count(n.output(0))) {
          list->DeleteSubrange(i, 1);
          changed = true;
        }
      }
      std::set<std::string> inputs;
      for (const auto& v : graph_.input()) inputs.insert(v.name());
      auto* inits = graph_.mutable_initializer();
      for (int i = inits->size() - 1; i >= 0; --i)
        if (!reads.count(inits->Get(i).name()) && !inputs.count(inits->Get(i).name())) {
          inits->DeleteSubrange(i, 1);
          changed = true;
        }
    }
    if (uses_contrib_) {
      bool imported = false;
      for (const auto& op : model_.proto().opset_import()) imported = imported || op.domain() == "com.microsoft";
      if (!imported) {
        auto* op = model_.proto().add_opset_import();
        op->set_domain("com.microsoft");
        op->set_version(1);
      }
    }
  }

  Model& model_;
  onnx::GraphProto& graph_;
  QuantizeReport& report_;
  std::set<std::string> graph_outputs_;
  std::map<std::string, int> producer_;
  std::map<std::string, Dequantized> dequantized_;
  std::map<std::string, int> reads_;
  std::map<int, onnx::NodeProto> replacement_;
  std::set<const onnx::NodeProto*> removed_q_;
  bool uses_contrib_ = false;
};

}  // namespace

void convert_to_qoperator(Model& model, QuantizeReport& report) {
  // Counted again: the nodes that became integer ops.
  report.nodes_quantized = 0;
  report.nodes_by_op.clear();
  QOperatorRewrite(model, report).run();
}

}  // namespace onnxq
