#include "onnxq/quantize_dynamic.hpp"

#include <chrono>
#include <functional>
#include <set>

#include "onnxq/checker.hpp"
#include "onnxq/recipe.hpp"
#include "quant/dynamic/dynamic_rules.hpp"
#include "quant/opset_upgrade.hpp"
#include "quant/weight_bytes.hpp"
#include "quant/node_filter.hpp"

namespace onnxq {
namespace {

// In 4-bit mode only MatMul takes 4-bit weights; Gather quantizes its embedding tables to int8 alongside.
const std::set<std::string> k4BitOps = {"MatMul", "Gather"};

std::string rule_key(const onnx::NodeProto& n) {
  return n.domain().empty() || n.domain() == "ai.onnx" ? n.op_type() : n.domain() + ":" + n.op_type();
}

class DynamicQuantizer {
 public:
  DynamicQuantizer(Model& model, const DynamicQuantOptions& options, QuantizeReport& report)
      : model_(model), options_(options), report_(report), names_(model.graph()), weights_(options.threads) {}

  void run() {
    // New ops must be inserted into a model already at their opset: converting afterwards
    // would meet ops (MatMulInteger, ...) the converter has no adapters for.
    if (any_candidate(model_.graph())) raise_opset(model_, "", minimum_opset());
    names_ = NameSet(model_.graph());
    GraphEditor main(model_, model_.graph(), nullptr, names_);
    rewrite(main);
    remove_replaced_weights();
    for (const auto& [domain, version] : required_) raise_opset(model_, domain, version);
    report_.tensors = std::move(weights_.infos());
  }

 private:
  int64_t minimum_opset() const {
    // 4-bit: blocked int4 DequantizeLinear, else MatMulNBits (com.microsoft) and Gather tables as
    // int8 per row (per-axis DequantizeLinear in qdq).
    if (is_4bit(options_))
      return options_.int4_format == Int4Format::kQDQ ? 21 : options_.format == QuantFormat::kQDQ ? 13 : 1;
    if (options_.format == QuantFormat::kQOperator) return 11;  // DynamicQuantizeLinear
    return options_.per_channel ? 13 : 10;                      // per-axis DequantizeLinear
  }

  bool any_candidate(const onnx::GraphProto& graph) const {
    bool any = false;
    for_each_node(graph, [&](const onnx::NodeProto& n, int) { any = any || (dynamic_rules().find(rule_key(n)) && selected(n)); });
    return any;
  }

  bool selected(const onnx::NodeProto& n) const {
    if (is_4bit(options_) && !k4BitOps.count(rule_key(n))) return false;
    // "Attention" and "com.microsoft:Attention" both name the contrib op.
    if (!options_.op_types.empty() && !matches_any(n.op_type(), options_.op_types) &&
        !matches_any(rule_key(n), options_.op_types))
      return false;
    if (!options_.nodes_include.empty() && !matches_any(n.name(), options_.nodes_include)) return false;
    return !matches_any(n.name(), options_.nodes_exclude);
  }

  void rewrite(GraphEditor& editor) {
    auto& graph = editor.graph();
    google::protobuf::RepeatedPtrField<onnx::NodeProto> rewritten;
    for (auto& node : *graph.mutable_node()) {
      for (auto& attr : *node.mutable_attribute()) {
        if (attr.has_g()) {
          GraphEditor sub(model_, *attr.mutable_g(), &editor, names_);
          rewrite(sub);
        }
        for (auto& g : *attr.mutable_graphs()) {
          GraphEditor sub(model_, g, &editor, names_);
          rewrite(sub);
        }
      }
      const DynamicRule* rule = dynamic_rules().find(rule_key(node));
      if (!rule || !selected(node)) {
        *rewritten.Add() = std::move(node);
        continue;
      }
      DynamicContext ctx{options_, editor, weights_, required_, activations_[&editor.graph()]};
      RuleResult result = with_context("node '" + node.name() + "' (" + node.op_type() + ")",
                                       [&] { return (*rule)(ctx, node); });
      if (!result.skip_reason.empty()) {
        report_.skipped.push_back({node.name(), node.op_type(), result.skip_reason});
        *rewritten.Add() = std::move(node);
        continue;
      }
      ++report_.nodes_quantized;
      for (auto& n : result.nodes) *rewritten.Add() = std::move(n);
    }
    graph.mutable_node()->Swap(&rewritten);
  }

  // Float weights (initializers or Constant nodes) and quantized ones nothing reads any more.
  void remove_replaced_weights() {
    std::set<std::string> used;
    std::function<void(const onnx::GraphProto&)> collect = [&](const onnx::GraphProto& g) {
      for (const auto& o : g.output()) used.insert(o.name());
      for (const auto& n : g.node()) {
        for (const auto& i : n.input()) used.insert(i);
        for (const auto& a : n.attribute()) {
          if (a.has_g()) collect(a.g());
          for (const auto& sub : a.graphs()) collect(sub);
        }
      }
    };
    collect(model_.graph());
    const auto& replaced = weights_.replaced();
    const auto& added = weights_.added();
    auto dead = [&](const std::string& name) { return (replaced.count(name) || added.count(name)) && !used.count(name); };
    std::function<void(onnx::GraphProto&)> prune = [&](onnx::GraphProto& g) {
      auto* inits = g.mutable_initializer();
      for (int i = inits->size() - 1; i >= 0; --i)
        if (dead(inits->Get(i).name())) inits->DeleteSubrange(i, 1);
      auto* nodes = g.mutable_node();
      for (int i = nodes->size() - 1; i >= 0; --i) {
        const auto& n = nodes->Get(i);
        if (n.op_type() == "Constant" && n.output_size() == 1 && dead(n.output(0))) nodes->DeleteSubrange(i, 1);
      }
      for (auto& n : *nodes)
        for (auto& a : *n.mutable_attribute()) {
          if (a.has_g()) prune(*a.mutable_g());
          for (auto& sub : *a.mutable_graphs()) prune(sub);
        }
    };
    prune(model_.graph());
    weights_.forget_pruned(dead);
  }

  Model& model_;
  const DynamicQuantOptions& options_;
  QuantizeReport& report_;
  NameSet names_;
  WeightStore weights_;
  std::map<std::string, int64_t> required_;
  // Keyed by graph, not editor: sibling subgraphs' editors may reuse one stack address.
  std::map<const onnx::GraphProto*, std::map<std::string, QuantizedWeightNames>> activations_;
};

void validate(const DynamicQuantOptions& options) {
  const bool four_bit = is_4bit(options);
  if (!four_bit && options.weight_type != DataType::kInt8 && options.weight_type != DataType::kUInt8)
    fail(ExitCode::kUsage, "dynamic quantization weights must be int8, uint8, int4 or uint4, not " +
                               std::string(dtype_name(options.weight_type)));
  const int bs = options.block_size;
  if (bs != 16 && bs != 32 && bs != 64 && bs != 128)
    fail(ExitCode::kUsage, "--block-size must be 16, 32, 64 or 128, not " + std::to_string(bs));
  if (options.accuracy_level < -1 || options.accuracy_level > 4)
    fail(ExitCode::kUsage, "--accuracy-level must be 0 to 4, not " + std::to_string(options.accuracy_level));
  for (const auto& op : options.op_types) {
    if (!dynamic_rules().find(op) && !dynamic_rules().find("com.microsoft:" + op))
      fail(ExitCode::kUsage, "--op-types: quantize-dynamic has no rule for '" + op + "'");
    if (four_bit && !k4BitOps.count(op))
      fail(ExitCode::kUsage, "--op-types: 4-bit weights apply to MatMul only (and Gather tables, as int8), not '" +
                                 op + "'");
  }
  if (four_bit && options.per_channel)
    fail(ExitCode::kUsage, "--per-channel does not apply to 4-bit weights: they have one scale per block");
  if (four_bit && options.reduce_range) fail(ExitCode::kUsage, "--reduce-range applies to 8-bit weights only");
  if (options.accuracy_level >= 0 && !(four_bit && options.int4_format == Int4Format::kMatMulNBits))
    fail(ExitCode::kUsage, "--accuracy-level applies to 4-bit weights in the matmulnbits format only");
}

}  // namespace

std::vector<std::string> dynamic_op_types() { return dynamic_rules().op_types(); }

QuantizeReport quantize_dynamic(Model& model, const DynamicQuantOptions& options) {
  validate(options);
  const auto start = std::chrono::steady_clock::now();
  QuantizeReport report;
  report.weight_bytes_before = weight_bytes_by_type(model);
  DynamicQuantizer(model, options, report).run();
  report.weight_bytes_after = weight_bytes_by_type(model);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace onnxq

namespace onnxq {

QuantizeReport quantize_dynamic_file(const std::filesystem::path& input, const std::filesystem::path& output,
                                     const DynamicQuantOptions& options, const SaveOptions& save) {
  Model model = Model::load(input);
  QuantizeReport report = quantize_dynamic(model, options);
  report.file_bytes_before = model.model_file_bytes() + model.external_file_bytes();
  require_checker_pass(model, "quantized");
  set_recipe(model, dynamic_recipe(options));  // for `onnxq debug --suggest-exclude`
  report.file_bytes_after = model.save(output, save);
  return report;
}

}  // namespace onnxq
