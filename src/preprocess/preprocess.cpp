#include "onnxq/preprocess.hpp"

#include <onnx/version_converter/convert.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <tuple>

#include "model/external_data.hpp"
#include "onnxq/checker.hpp"
#include "preprocess/pass.hpp"
#include "preprocess/value_types.hpp"
#include "quant/opset_upgrade.hpp"

namespace onnxq {

namespace preprocessing {

const PassRegistry& PassRegistry::global() {
  static const PassRegistry registry = [] {
    PassRegistry r;
    register_constant_to_initializer(r);
    register_remove_identity(r);
    register_fold_batchnorm(r);
    register_fuse_hardswish(r);
    register_fold_affine(r);
    register_fold_input_affine(r);
    register_fold_constants(r);
    register_share_initializers(r);
    register_remove_dead_nodes(r);
    return r;
  }();
  return registry;
}

}  // namespace preprocessing

std::vector<std::string> preprocess_pass_names() {
  std::vector<std::string> names;
  for (const auto& p : preprocessing::PassRegistry::global().passes()) names.push_back(p.name);
  return names;
}

namespace {

// Nodes and initializers of the main graph and every subgraph.
std::pair<int64_t, int64_t> count_nodes_and_initializers(const Model& model) {
  int64_t nodes = 0, initializers = model.graph().initializer_size();
  for_each_node(model.graph(), [&](const onnx::NodeProto& node, int) {
    ++nodes;
    for (const auto& a : node.attribute()) {
      if (a.has_g()) initializers += a.g().initializer_size();
      for (const auto& g : a.graphs()) initializers += g.initializer_size();
    }
  });
  return {nodes, initializers};
}

void fix_input_shapes(Model& model, const std::map<std::string, Shape>& shapes) {
  for (const auto& [name, shape] : shapes) {
    onnx::ValueInfoProto* input = nullptr;
    for (auto& v : *model.graph().mutable_input())
      if (v.name() == name) input = &v;
    if (!input) fail(ExitCode::kInput, "--input-shape: the model has no input '" + name + "'");
    if (!input->type().has_tensor_type()) fail(ExitCode::kInput, "--input-shape: input '" + name + "' is not a tensor");
    auto* dims = input->mutable_type()->mutable_tensor_type()->mutable_shape();
    if (dims->dim_size() != 0 && dims->dim_size() != static_cast<int>(shape.size()))
      fail(ExitCode::kInput, "--input-shape: input '" + name + "' has rank " + std::to_string(dims->dim_size()) +
                                 ", given " + shape_to_string(shape));
    for (size_t i = 0; i < shape.size(); ++i) {
      if (static_cast<int>(i) >= dims->dim_size()) dims->add_dim();
      auto* d = dims->mutable_dim(static_cast<int>(i));
      if (d->has_dim_value() && d->dim_value() != shape[i])
        fail(ExitCode::kInput, "--input-shape: input '" + name + "' has fixed dimension " + std::to_string(i) +
                                   " = " + std::to_string(d->dim_value()) + ", given " + std::to_string(shape[i]));
      d->set_dim_value(shape[i]);
    }
  }
}

void convert_opset(Model& model, int64_t target) {
  const int64_t current = model.opset_version("");
  if (target == current) return;
  if (target > current) {
    raise_opset(model, "", target);
    return;
  }
  if (current > max_known_opset())
    fail(ExitCode::kUnsupported, "--opset " + std::to_string(target) + ": converting down from opset " +
                                     std::to_string(current) + " needs libonnx to know opset " + std::to_string(current));
  try {
    materialize_held_tensors(model);  // the converter drops external references
    model.proto() = onnx::version_conversion::ConvertVersion(model.proto(), static_cast<int>(target));
  } catch (const std::exception& e) {
    fail(ExitCode::kUnsupported, "--opset " + std::to_string(target) + ": libonnx cannot convert this model from opset " +
                                     std::to_string(current) + ": " + e.what());
  }
}

}  // namespace

PreprocessReport preprocess(Model& model, const PreprocessOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  PreprocessReport report;
  std::tie(report.nodes_before, report.initializers_before) = count_nodes_and_initializers(model);
  report.opset_before = model.opset_version("");
  fix_input_shapes(model, options.input_shapes);
  if (options.opset > 0) convert_opset(model, options.opset);

  for (const auto& skip : options.skip_passes) {
    const auto names = preprocess_pass_names();
    if (std::find(names.begin(), names.end(), skip) == names.end())
      fail(ExitCode::kUsage, "unknown pass '" + skip + "'");
  }
  if (options.optimization) {
    // Shapes first: BatchNormalization without a Conv to fold into needs its input's rank,
    // and Shape folding needs static shapes.
    if (options.shape_inference) preprocessing::infer_value_types(model, options.threads, nullptr);
    std::map<std::string, PassReport> totals;
    preprocessing::PassContext ctx{model, options, {}};
    for (int round = 0; round < 8; ++round) {
      int64_t round_changes = 0;
      for (const auto& pass : preprocessing::PassRegistry::global().passes()) {
        if (std::find(options.skip_passes.begin(), options.skip_passes.end(), pass.name) != options.skip_passes.end())
          continue;
        auto& total = totals[pass.name];
        total.name = pass.name;
        ctx.warnings.clear();
        const int64_t n = with_context("pass " + pass.name, [&] { return pass.run(ctx); });
        total.changes += n;
        // Later rounds see the same nodes again: keep the first round's words.
        if (total.warning.empty() && !ctx.warnings.empty()) {
          total.warning = ctx.warnings.front();
          if (ctx.warnings.size() > 1) total.warning += " (and " + std::to_string(ctx.warnings.size() - 1) + " more)";
        }
        round_changes += n;
      }
      if (round_changes == 0) break;
    }
    for (const auto& pass : preprocessing::PassRegistry::global().passes())
      if (totals.count(pass.name)) report.passes.push_back(totals[pass.name]);
  }
  if (options.shape_inference) {
    report.value_infos = preprocessing::infer_value_types(model, options.threads, &report.shape_inference_note);
  }
  std::tie(report.nodes_after, report.initializers_after) = count_nodes_and_initializers(model);
  report.opset_after = model.opset_version("");
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

PreprocessReport preprocess_file(const std::filesystem::path& input, const std::filesystem::path& output,
                                 const PreprocessOptions& options, const SaveOptions& save) {
  Model model = Model::load(input);
  PreprocessReport report = preprocess(model, options);
  report.file_bytes_before = model.model_file_bytes() + model.external_file_bytes();
  require_checker_pass(model, "preprocessed");
  report.file_bytes_after = model.save(output, save);
  return report;
}

nlohmann::json preprocess_report_to_json(const PreprocessReport& r) {
  nlohmann::json passes = nlohmann::json::array();
  for (const auto& p : r.passes) {
    nlohmann::json j{{"name", p.name}, {"changes", p.changes}};
    if (!p.warning.empty()) j["warning"] = p.warning;
    passes.push_back(j);
  }
  return {{"passes", passes},
          {"nodes", {{"before", r.nodes_before}, {"after", r.nodes_after}}},
          {"initializers", {{"before", r.initializers_before}, {"after", r.initializers_after}}},
          {"opset", {{"before", r.opset_before}, {"after", r.opset_after}}},
          {"value_infos", r.value_infos},
          {"shape_inference_note", r.shape_inference_note},
          {"file_bytes", {{"before", r.file_bytes_before}, {"after", r.file_bytes_after}}},
          {"seconds", r.seconds}};
}

std::string preprocess_summary(const PreprocessReport& r) {
  std::string s;
  for (const auto& p : r.passes) {
    s += "  " + p.name + ": ";
    s += std::to_string(p.changes) + (p.changes == 1 ? " change" : " changes");
    if (!p.warning.empty()) s += " (" + p.warning + ")";
    s += "\n";
  }
  s += "  shape inference: " + std::to_string(r.value_infos) + " typed intermediate values";
  if (!r.shape_inference_note.empty()) s += " (" + r.shape_inference_note + ")";
  s += "\n";
  char line[256];
  std::snprintf(line, sizeof line,
                "nodes %lld -> %lld, initializers %lld -> %lld, %.2f s\n",
                static_cast<long long>(r.nodes_before), static_cast<long long>(r.nodes_after),
                static_cast<long long>(r.initializers_before), static_cast<long long>(r.initializers_after), r.seconds);
  return s + line;
}

}  // namespace onnxq
