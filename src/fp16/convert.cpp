#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <numeric>
#include <set>

#include "core/spill_file.hpp"
#include "fp16/half_tensor.hpp"
#include "graph/graph_uses.hpp"
#include "onnxq/error.hpp"
#include "onnxq/fp16.hpp"
#include "onnxq/tensor_proto.hpp"
#include "quant/graph_editor.hpp"

namespace onnxq {
namespace {

using onnx::GraphProto;
using onnx::NodeProto;

constexpr int kFloat = onnx::TensorProto::FLOAT;
// A float32 weight read only by float32 nodes is stored 16-bit behind a Cast from this size on;
// below, the Cast node (about 100 bytes of names) would cost more than the 2 bytes per value
// it saves.
constexpr int64_t kMinCastElements = 64;
// float16 rounds a normal value to 11 significant bits, about 70 dB; a tensor that keeps less
// lost values to the subnormal range.
constexpr double kFaithfulSqnrDb = 50.0;

std::string format_float(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

bool is_onnx(const NodeProto& n) { return n.domain().empty() || n.domain() == "ai.onnx"; }

bool is_quantization_op(const std::string& op) {
  static const std::set<std::string> ops = {"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear",
                                            "QLinearConv",    "QLinearMatMul",    "MatMulInteger",
                                            "ConvInteger"};
  return ops.count(op) > 0;
}

using Types = std::map<std::string, int>;

void collect_types(const GraphProto& g, Types& t);

// Types of every value of `g` and its subgraphs.
void collect_all_types(const GraphProto& g, Types& t) {
  collect_types(g, t);
  for (const auto& n : g.node())
    for (const auto& a : n.attribute()) {
      if (a.has_g()) collect_all_types(a.g(), t);
      for (const auto& sub : a.graphs()) collect_all_types(sub, t);
    }
}

void collect_types(const GraphProto& g, Types& t) {
  auto add = [&](const onnx::ValueInfoProto& v) {
    if (v.type().has_tensor_type() && v.type().tensor_type().elem_type() != 0)
      t[v.name()] = v.type().tensor_type().elem_type();
  };
  for (const auto& v : g.input()) add(v);
  for (const auto& v : g.value_info()) add(v);
  for (const auto& v : g.output()) add(v);
  for (const auto& i : g.initializer()) t[i.name()] = i.data_type();
  for (const auto& n : g.node())
    if (n.op_type() == "Constant" && is_onnx(n) && n.output_size() == 1)
      for (const auto& a : n.attribute()) {
        if (a.name() == "value" && a.has_t()) t[n.output(0)] = a.t().data_type();
        if (a.name() == "value_float" || a.name() == "value_floats") t[n.output(0)] = kFloat;
      }
}

struct Ctx {
  Model& model;
  const Fp16Options& options;
  int half;  // TensorProto::FLOAT16 or BFLOAT16
  int64_t opset;
  std::set<std::string> block_ops, block_nodes;
  NameSet& names;
  Fp16Report& report;
  std::shared_ptr<SpillFile> spill;  // large converted values, kept out of fresh memory
};

const onnx::OpSchema* schema_of(const Ctx& c, const NodeProto& n) {
  if (!is_onnx(n)) return nullptr;
  return onnx::OpSchemaRegistry::Schema(n.op_type(), static_cast<int>(c.opset), "");
}

// Whether input (or output) `i` of the schema takes `type` (default: the target 16-bit type).
bool slot_allows(const Ctx& c, const onnx::OpSchema* s, bool input, int i, int type = 0) {
  if (!s) return false;
  const auto& params = input ? s->inputs() : s->outputs();
  if (params.empty()) return false;
  size_t k = static_cast<size_t>(i);
  if (k >= params.size()) {
    if (params.back().GetOption() != onnx::OpSchema::FormalParameterOption::Variadic) return false;
    k = params.size() - 1;
  }
  if (!type) type = c.half;
  const std::string want = type == onnx::TensorProto::FLOAT16 ? "tensor(float16)" : "tensor(bfloat16)";
  for (const auto* t : params[k].GetTypes())
    if (*t == want) return true;
  return false;
}

bool moves_data_only(const std::string& op) {
  static const std::set<std::string> ops = {
      "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Flatten", "Identity", "Concat", "Split", "Slice",
      "Gather", "GatherElements", "GatherND", "Expand", "Tile", "Pad", "DepthToSpace", "SpaceToDepth",
      "Cast", "Shape", "Size", "ConstantOfShape", "ScatterND", "ScatterElements", "If", "Loop", "Scan"};
  return ops.count(op) > 0;
}

int cast_to(const NodeProto& n) {
  for (const auto& a : n.attribute())
    if (a.name() == "to") return static_cast<int>(a.i());
  return 0;
}

void set_int_attr(NodeProto& n, const std::string& name, int64_t value) {
  for (auto& a : *n.mutable_attribute())
    if (a.name() == name) {
      a.set_i(value);
      return;
    }
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

class GraphConverter {
 public:
  // `outer`: the types of every value visible here (inferred ones included), with the outer
  // graphs' decisions applied.
  // `original`: the types every visible value had before conversion (inferred ones included);
  // `current`: the same with the enclosing graphs' decisions applied.
  GraphConverter(Ctx& c, GraphProto& g, const Types& original, const Types& current, bool io_half)
      : c_(c), g_(g), original_(original), types_(current), io_half_(io_half) {
    collect_types(g_, original_);
    collect_types(g_, types_);
  }

  void run() {
    decide_nodes();
    plan_outputs();
    plan_reads();
    rewrite();
    recurse();
  }

 private:
  // Was float32 before conversion (an outer value may be 16-bit by now: see type_of).
  bool is_float32(const std::string& v) const {
    auto it = original_.find(v);
    return !v.empty() && it != original_.end() && it->second == kFloat;
  }
  bool is_half(const std::string& v) const {
    auto it = types_.find(v);
    return it != types_.end() && (it->second == onnx::TensorProto::FLOAT16 || it->second == onnx::TensorProto::BFLOAT16);
  }

  // A node that could compute in 16 bits: not blocked, known to ONNX, reading or writing float32.
  bool candidate(const NodeProto& n) const {
    if (!is_onnx(n) || is_quantization_op(n.op_type()) || n.op_type() == "Constant") return false;
    if (c_.block_ops.count(n.op_type()) || c_.block_nodes.count(n.name())) return false;
    if (!schema_of(c_, n)) return false;
    if (n.op_type() == "Cast") return cast_to(n) == kFloat && !is_half(n.input(0));
    bool floats = false;
    for (const auto& o : n.output()) {
      if (!o.empty() && !types_.count(o)) return false;  // unknown type: leave it alone
      floats |= is_float32(o);
    }
    for (const auto& i : n.input()) floats |= is_float32(i);
    return floats;
  }

  int find(int i) { return parent_[i] == i ? i : parent_[i] = find(parent_[i]); }

  // Candidates convert in connected runs. A run converts when it computes something or touches
  // something 16-bit (a 16-bit graph input or output, an outer or existing 16-bit value); a run
  // that only moves data between float32 ops would gain nothing but Casts.
  void decide_nodes() {
    const int n = g_.node_size();
    candidate_.assign(n, false);
    parent_.resize(n);
    std::iota(parent_.begin(), parent_.end(), 0);
    std::vector<bool> anchored(n, false);
    std::set<std::string> graph_inputs, graph_outputs;
    for (const auto& v : g_.input()) graph_inputs.insert(v.name());
    for (const auto& v : g_.output()) graph_outputs.insert(v.name());
    for (const auto& i : g_.initializer()) graph_inputs.erase(i.name());  // overridable defaults
    std::map<std::string, int> producer;
    for (int i = 0; i < n; ++i) {
      candidate_[i] = candidate(g_.node(i));
      anchored[i] = candidate_[i] && !moves_data_only(g_.node(i).op_type());
      for (const auto& o : g_.node(i).output()) producer[o] = i;
    }
    for (int i = 0; i < n; ++i) {
      if (!candidate_[i]) continue;
      const auto& node = g_.node(i);
      const auto* s = schema_of(c_, node);
      for (int k = 0; k < node.input_size(); ++k) {
        const std::string& v = node.input(k);
        if (!slot_allows(c_, s, true, k)) continue;
        if (is_half(v)) anchored[i] = true;
        if (!is_float32(v)) continue;
        if (graph_inputs.count(v) && io_half_) anchored[i] = true;
        auto p = producer.find(v);
        if (p != producer.end() && candidate_[p->second] && output_allows(p->second, v))
          parent_[find(i)] = find(p->second);
      }
      for (int k = 0; k < node.output_size(); ++k)
        if (graph_outputs.count(node.output(k)) && io_half_ && is_float32(node.output(k)) && slot_allows(c_, s, false, k))
          anchored[i] = true;
    }
    std::vector<bool> root_anchored(n, false);
    for (int i = 0; i < n; ++i)
      if (candidate_[i] && anchored[i]) root_anchored[find(i)] = true;
    convert_.assign(n, false);
    for (int i = 0; i < n; ++i) convert_[i] = candidate_[i] && root_anchored[find(i)];
    for (int i = 0; i < n; ++i) {
      if (g_.node(i).op_type() == "Constant") continue;  // counted as tensors
      bool floats = false;
      for (const auto& v : g_.node(i).input()) floats |= is_float32(v);
      for (const auto& v : g_.node(i).output()) floats |= is_float32(v);
      if (convert_[i])
        ++c_.report.nodes_converted;
      else if (floats)
        ++c_.report.nodes_kept;
    }
    // Final types of node outputs.
    for (int i = 0; i < n; ++i) {
      const auto& node = g_.node(i);
      for (const auto& o : node.output())
        if (is_float32(o) && convert_[i] && output_allows(i, o)) final_[o] = c_.half;
    }
    for (const auto& v : g_.input())
      if (is_float32(v.name()) && graph_inputs.count(v.name()) && io_half_) final_[v.name()] = c_.half;
  }

  bool output_allows(int node, const std::string& value) const {
    const auto& n = g_.node(node);
    for (int k = 0; k < n.output_size(); ++k)
      if (n.output(k) == value) return slot_allows(c_, schema_of(c_, n), false, k);
    return false;
  }

  int type_of(const std::string& v) const {
    auto f = final_.find(v);
    if (f != final_.end()) return f->second;
    auto t = types_.find(v);
    return t == types_.end() ? 0 : t->second;
  }

  // Graph outputs whose producer's precision differs from what the output must be get a Cast
  // under the output's name.
  void plan_outputs() {
    std::map<std::string, int> producer;
    for (int i = 0; i < g_.node_size(); ++i)
      for (const auto& o : g_.node(i).output()) producer[o] = i;
    for (auto& out : *g_.mutable_output()) {
      const std::string name = out.name();
      if (!is_float32(name) || !producer.count(name)) continue;
      const int want = io_half_ ? c_.half : kFloat;
      const int have = type_of(name);
      if (have == want) continue;
      const std::string inner = c_.names.unique(name + (have == kFloat ? "_fp32" : "_fp16"));
      auto& node = *g_.mutable_node(producer[name]);
      for (auto& o : *node.mutable_output())
        if (o == name) o = inner;
      replace_uses(g_, name, inner);
      final_[inner] = have;
      original_[inner] = kFloat;
      types_[inner] = kFloat;
      output_casts_[producer[name]].push_back(make_cast(inner, name, want));
      final_[name] = want;
    }
  }

  NodeProto make_cast(const std::string& in, const std::string& out, int to) {
    NodeProto n;
    n.set_op_type("Cast");
    n.set_name(c_.names.unique(out + "_Cast"));
    n.add_input(in);
    n.add_output(out);
    set_int_attr(n, "to", to);
    ++c_.report.casts_inserted;
    return n;
  }

  // The name holding `v` in type `to`: v itself, or a Cast of it (one per value and type).
  std::string cast_of(const std::string& v, int to) {
    if (type_of(v) == to) return v;
    auto key = std::make_pair(v, to);
    auto it = casts_.find(key);
    if (it != casts_.end()) return it->second;
    const std::string out = c_.names.unique(v + (to == kFloat ? "_fp32" : "_fp16"));
    NodeProto cast = make_cast(v, out, to);
    auto p = producer_.find(v);
    if (p != producer_.end())
      output_casts_[p->second].push_back(std::move(cast));
    else
      head_.push_back(std::move(cast));
    casts_[key] = out;
    return out;
  }

  void plan_reads() {
    for (int i = 0; i < g_.node_size(); ++i)
      for (const auto& o : g_.node(i).output()) producer_[o] = i;
    std::set<std::string> overridable, outputs;
    for (const auto& v : g_.input()) overridable.insert(v.name());
    for (const auto& v : g_.output()) outputs.insert(v.name());
    // Names read inside subgraphs, and whether every such read could take a 16-bit value
    // behind a Cast (the body inserts its own Casts).
    std::map<std::string, bool> body_touchable;
    for (const auto& n : g_.node())
      for (const auto& a : n.attribute()) {
        if (a.has_g()) collect_body_reads(a.g(), body_touchable);
        for (const auto& sub : a.graphs()) collect_body_reads(sub, body_touchable);
      }
    std::map<std::string, const onnx::TensorProto*> initializers;
    for (const auto& t : g_.initializer())
      if (t.data_type() == kFloat && !overridable.count(t.name()) && !outputs.count(t.name())) initializers[t.name()] = &t;
    std::map<std::string, int> constants;  // float Constant nodes with a 'value' tensor
    for (int i = 0; i < g_.node_size(); ++i) {
      const auto& n = g_.node(i);
      if (n.op_type() != "Constant" || !is_onnx(n) || !is_float32(n.output(0)) || outputs.count(n.output(0))) continue;
      for (const auto& a : n.attribute())
        if (a.name() == "value" && a.has_t()) constants[n.output(0)] = i;
    }

    // Reads of each float32 value: (node, slot, wanted type, touchable).
    struct Read {
      int node, slot, want;
      bool touchable;
    };
    std::map<std::string, std::vector<Read>> reads;
    for (int i = 0; i < g_.node_size(); ++i) {
      const auto& n = g_.node(i);
      const auto* s = schema_of(c_, n);
      for (int k = 0; k < n.input_size(); ++k) {
        const std::string& v = n.input(k);
        if (!is_float32(v)) continue;
        const bool allows = slot_allows(c_, s, true, k);
        // A slot that takes float16 holds data, not a shape or a scale (Resize's scales, a
        // quantizer's scale): its value may travel 16-bit behind a Cast.
        const bool touchable = slot_allows(c_, s, true, k, onnx::TensorProto::FLOAT16) &&
                               !is_quantization_op(n.op_type()) && is_onnx(n);
        reads[v].push_back({i, k, convert_[i] && allows ? c_.half : kFloat, touchable});
      }
    }
    for (const auto& [v, touchable] : body_touchable)
      if (is_float32(v) && (initializers.count(v) || constants.count(v))) reads[v];  // read in bodies only
    for (auto& [v, rs] : reads) {
      const bool storage = initializers.count(v) || constants.count(v);
      if (storage) {
        const auto body = body_touchable.find(v);
        const bool in_body = body != body_touchable.end();
        // A body's reader may want float32: count it as one.
        bool any_half = false, all_half = !in_body, all_touchable = !in_body || body->second;
        for (const auto& r : rs) {
          any_half |= r.want == c_.half;
          all_half &= r.want == c_.half;
          all_touchable &= r.touchable;
        }
        const int64_t elements = element_count(v, initializers, constants);
        // Read in 16 bits anyway: convert. Read in float32 only: store 16-bit behind a Cast
        // when that is worth a node and loses nothing but rounding.
        const bool to_half = all_touchable && (all_half || elements >= kMinCastElements) &&
                             convert_storage(v, initializers, constants, !all_half);
        if (to_half)
          final_[v] = c_.half;
        else if (!any_half)
          continue;
      }
      for (const auto& r : rs)
        if (type_of(v) != r.want) g_.mutable_node(r.node)->set_input(r.slot, cast_of(v, r.want));
    }
  }

  void collect_body_reads(const GraphProto& body, std::map<std::string, bool>& touchable) const {
    for (const auto& n : body.node()) {
      const auto* s = schema_of(c_, n);
      for (int k = 0; k < n.input_size(); ++k) {
        const bool ok = slot_allows(c_, s, true, k, onnx::TensorProto::FLOAT16) &&
                        !is_quantization_op(n.op_type()) && is_onnx(n);
        auto [it, fresh] = touchable.try_emplace(n.input(k), ok);
        if (!fresh) it->second = it->second && ok;
      }
      for (const auto& a : n.attribute()) {
        if (a.has_g()) collect_body_reads(a.g(), touchable);
        for (const auto& sub : a.graphs()) collect_body_reads(sub, touchable);
      }
    }
  }

  int64_t element_count(const std::string& v, const std::map<std::string, const onnx::TensorProto*>& inits,
                        const std::map<std::string, int>& constants) const {
    const onnx::TensorProto* t = nullptr;
    if (auto it = inits.find(v); it != inits.end()) t = it->second;
    if (auto it = constants.find(v); it != constants.end())
      for (const auto& a : g_.node(it->second).attribute())
        if (a.name() == "value") t = &a.t();
    if (!t) return 0;
    int64_t n = 1;
    for (int64_t d : t->dims()) n *= d;
    return n;
  }

  // Converts a stored tensor, unless `only_if_faithful` and its 16-bit values would lose more
  // than rounding does (clamped beyond the range, or mostly subnormal: a BatchNormalization's
  // running variance); then it stays float32 and false is returned.
  bool convert_tensor(onnx::TensorProto& proto, const std::string& name, bool only_if_faithful) {
    fp16::HalfStats stats;
    Tensor half;
    int64_t elements = 0;
    const std::span<const std::byte> stored = c_.model.stored_bytes(proto);
    const Shape shape = proto_shape(proto);
    if (proto.data_type() == kFloat && !stored.empty() && stored.size() == 4 * static_cast<uint64_t>(shape_numel(shape))) {
      const bool large = stored.size() >= kSpillMinBytes;
      if (large && !c_.spill) c_.spill = SpillFile::create();
      half = fp16::to_half_stored(stored, shape, c_.options, &stats, large ? c_.spill.get() : nullptr);
      elements = shape_numel(shape);
    } else {
      const Tensor value = c_.model.tensor_data(proto);
      half = fp16::to_half(value, c_.options, &stats);
      elements = value.numel();
    }
    if (only_if_faithful && (stats.large > 0 || stats.sqnr_db < kFaithfulSqnrDb)) return false;
    Fp16TensorInfo info;
    info.name = name;
    info.elements = elements;
    info.clamped = stats.clamped;
    info.clamped_large = stats.large;
    info.bytes_before = 4 * static_cast<uint64_t>(elements);
    info.bytes_after = half.nbytes();
    c_.report.values_clamped += stats.clamped;
    c_.report.weight_bytes_before += info.bytes_before;
    c_.report.weight_bytes_after += info.bytes_after;
    if (stats.large)
      c_.report.warnings.push_back("tensor '" + name + "': " + std::to_string(stats.large) + " values beyond ±" +
                                   format_float(c_.options.max_finite_val) + " clamped");
    c_.report.tensors.push_back(std::move(info));
    c_.model.set_tensor(proto, half);
    return true;
  }

  bool convert_storage(const std::string& v, const std::map<std::string, const onnx::TensorProto*>& inits,
                       const std::map<std::string, int>& constants, bool only_if_faithful) {
    if (inits.count(v)) {
      for (auto& t : *g_.mutable_initializer())
        if (t.name() == v) return convert_tensor(t, v, only_if_faithful);
      return false;
    }
    auto& node = *g_.mutable_node(constants.at(v));
    for (auto& a : *node.mutable_attribute())
      if (a.name() == "value") return convert_tensor(*a.mutable_t(), v, only_if_faithful);
    return false;
  }

  void rewrite() {
    for (int i = 0; i < g_.node_size(); ++i) {
      if (!convert_[i]) continue;
      auto& n = *g_.mutable_node(i);
      if (n.op_type() == "Cast") set_int_attr(n, "to", c_.half);
      if (n.op_type() == "ConstantOfShape") {
        bool has_value = false;
        for (auto& a : *n.mutable_attribute())
          if (a.name() == "value" && a.has_t()) {
            has_value = true;
            if (a.t().data_type() == kFloat) {
              const Tensor half = fp16::to_half(c_.model.tensor_data(a.t()), c_.options);
              c_.model.set_tensor(*a.mutable_t(), half);
            }
          }
        if (!has_value) {  // the default is a float32 zero
          auto* a = n.add_attribute();
          a->set_name("value");
          a->set_type(onnx::AttributeProto::TENSOR);
          a->mutable_t()->add_dims(1);
          a->mutable_t()->set_data_type(c_.half);
          a->mutable_t()->set_raw_data(std::string(2, '\0'));
        }
      }
      for (auto& a : *n.mutable_attribute())
        if (a.name() == "dtype" && a.i() == kFloat) a.set_i(c_.half);
    }
    // Value types.
    auto retype = [&](onnx::ValueInfoProto& v) {
      if (v.type().has_tensor_type() && v.type().tensor_type().elem_type() == kFloat) {
        const int t = type_of(v.name());
        if (t) v.mutable_type()->mutable_tensor_type()->set_elem_type(t);
      }
    };
    for (auto& v : *g_.mutable_input()) retype(v);
    for (auto& v : *g_.mutable_output()) retype(v);
    for (auto& v : *g_.mutable_value_info()) retype(v);
    // Nodes with the Casts after their producers, input Casts first.
    google::protobuf::RepeatedPtrField<NodeProto> nodes;
    for (auto& h : head_) *nodes.Add() = std::move(h);
    for (int i = 0; i < g_.node_size(); ++i) {
      *nodes.Add() = std::move(*g_.mutable_node(i));
      for (auto& cast : output_casts_[i]) *nodes.Add() = std::move(cast);
    }
    g_.mutable_node()->Swap(&nodes);
  }

  void recurse() {
    Types current = types_;
    for (const auto& [v, t] : final_) current[v] = t;
    for (auto& n : *g_.mutable_node()) {
      bool has_body = false;
      for (const auto& a : n.attribute()) has_body |= a.has_g() || a.graphs_size() > 0;
      if (!has_body) continue;
      // A body's inputs and outputs take the precision of its owner.
      const bool converted = owner_converted(n);
      for (auto& a : *n.mutable_attribute()) {
        if (a.has_g()) GraphConverter(c_, *a.mutable_g(), original_, current, converted).run();
        for (auto& sub : *a.mutable_graphs()) GraphConverter(c_, sub, original_, current, converted).run();
      }
    }
  }

  // A control-flow node converted to 16 bits has its outputs typed 16-bit.
  bool owner_converted(const NodeProto& n) const {
    for (const auto& o : n.output())
      if (final_.count(o) && final_.at(o) == c_.half) return true;
    return false;
  }

  Ctx& c_;
  GraphProto& g_;
  Types original_, types_;
  bool io_half_;
  std::vector<bool> candidate_, convert_;
  std::vector<int> parent_;
  std::map<std::string, int> final_;  // values whose type changed or was decided
  std::map<std::string, int> producer_;
  std::map<std::pair<std::string, int>, std::string> casts_;
  std::map<int, std::vector<NodeProto>> output_casts_;
  std::vector<NodeProto> head_;
};

}  // namespace

Fp16Report convert_fp16(Model& model, const Fp16Options& options) {
  const auto start = std::chrono::steady_clock::now();
  Fp16Report report;
  // Types of every intermediate value, subgraphs included, inferred on a copy so the output's
  // value_info is the input's (retyped): converting twice then gives the same bytes.
  Types inferred;
  {
    onnx::ModelProto copy = model.proto();
    try {
      onnx::ShapeInferenceOptions inference(/*check_type=*/false, /*strict_mode=*/0, /*data_prop=*/false);
      onnx::shape_inference::InferShapes(copy, onnx::OpSchemaRegistry::Instance(), inference);
    } catch (const std::exception& e) {
      fail(ExitCode::kInput, std::string("type inference failed: ") + e.what());
    }
    collect_all_types(copy.graph(), inferred);
  }
  NameSet names(model.graph());
  Ctx c{model, options, options.bfloat16 ? onnx::TensorProto::BFLOAT16 : onnx::TensorProto::FLOAT16,
        model.opset_version(""), {}, {}, names, report};
  if (options.op_block_list) {
    c.block_ops.insert(options.op_block_list->begin(), options.op_block_list->end());
  } else {
    for_each_node(model.graph(), [&](const NodeProto& n, int) {
      if (default_fp16_blocked(n.op_type())) c.block_ops.insert(n.op_type());
    });
  }
  c.block_nodes.insert(options.node_block_list.begin(), options.node_block_list.end());
  GraphConverter(c, model.graph(), inferred, inferred, !options.keep_io_types).run();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace onnxq
