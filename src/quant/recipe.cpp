#include "onnxq/recipe.hpp"

namespace onnxq {
namespace {

using nlohmann::json;

std::string type_name(DataType t) { return std::string(dtype_name(t)); }
DataType type_of(const json& j) {
  const auto t = dtype_from_name(j.get<std::string>());
  if (!t) fail(ExitCode::kInput, "unknown element type '" + j.get<std::string>() + "'");
  return *t;
}

}  // namespace

json dynamic_recipe(const DynamicQuantOptions& o) {
  json opt = {{"format", o.format == QuantFormat::kQDQ ? "qdq" : "qoperator"},
              {"weight_type", type_name(o.weight_type)},
              {"per_channel", o.per_channel},
              {"reduce_range", o.reduce_range},
              {"block_size", o.block_size},
              {"int4_format", o.int4_format == Int4Format::kQDQ ? "qdq" : "matmulnbits"},
              {"accuracy_level", o.accuracy_level},
              {"op_types", o.op_types},
              {"nodes_include", o.nodes_include},
              {"nodes_exclude", o.nodes_exclude}};
  return {{"command", "quantize-dynamic"}, {"options", opt}};
}

DynamicQuantOptions dynamic_options_from_recipe(const json& recipe) {
  try {
    const json& j = recipe.at("options");
    DynamicQuantOptions o;
    o.format = j.at("format") == "qdq" ? QuantFormat::kQDQ : QuantFormat::kQOperator;
    o.weight_type = type_of(j.at("weight_type"));
    o.per_channel = j.at("per_channel");
    o.reduce_range = j.at("reduce_range");
    o.block_size = j.at("block_size");
    o.int4_format = j.at("int4_format") == "qdq" ? Int4Format::kQDQ : Int4Format::kMatMulNBits;
    o.accuracy_level = j.at("accuracy_level");
    o.op_types = j.at("op_types").get<std::vector<std::string>>();
    o.nodes_include = j.at("nodes_include").get<std::vector<std::string>>();
    o.nodes_exclude = j.at("nodes_exclude").get<std::vector<std::string>>();
    return o;
  } catch (const json::exception& e) {
    fail(ExitCode::kInput, std::string("quantization recipe: ") + e.what());
  }
}

json static_recipe(const StaticFileOptions& o, const CalibOptions& c) {
  // As calibration tables write them (num_bins resolved), so ranges from samples and from tables
  // record the same recipe.
  const json calib = calib_options_to_json(c);
  const auto& q = o.quant;
  json quant = {{"format", q.format == QuantFormat::kQDQ ? "qdq" : "qoperator"},
                {"activation_type", type_name(q.activation_type)},
                {"weight_type", type_name(q.weight_type)},
                {"per_channel", q.per_channel},
                {"reduce_range", q.reduce_range},
                {"symmetric_activations", q.symmetric_activations},
                {"symmetric_weights", q.symmetric_weights ? json(*q.symmetric_weights) : json()},
                {"op_types", q.op_types},
                {"nodes_include", q.nodes_include},
                {"nodes_exclude", q.nodes_exclude}};
  return {{"command", "quantize-static"},
          {"options", quant},
          {"calib", calib},
          {"smooth_quant", o.smooth_quant},
          {"smooth_quant_alpha", o.smooth_quant_alpha},
          {"bias_correction", o.bias_correction}};
}

StaticFileOptions static_options_from_recipe(const json& recipe) {
  try {
    StaticFileOptions o;
    o.calib = calib_options_from_json(recipe.at("calib"));
    const json& q = recipe.at("options");
    o.quant.format = q.at("format") == "qdq" ? QuantFormat::kQDQ : QuantFormat::kQOperator;
    o.quant.activation_type = type_of(q.at("activation_type"));
    o.quant.weight_type = type_of(q.at("weight_type"));
    o.quant.per_channel = q.at("per_channel");
    o.quant.reduce_range = q.at("reduce_range");
    o.quant.symmetric_activations = q.at("symmetric_activations");
    if (!q.at("symmetric_weights").is_null()) o.quant.symmetric_weights = q.at("symmetric_weights").get<bool>();
    o.quant.op_types = q.at("op_types").get<std::vector<std::string>>();
    o.quant.nodes_include = q.at("nodes_include").get<std::vector<std::string>>();
    o.quant.nodes_exclude = q.at("nodes_exclude").get<std::vector<std::string>>();
    o.smooth_quant = recipe.at("smooth_quant");
    o.smooth_quant_alpha = recipe.at("smooth_quant_alpha");
    o.bias_correction = recipe.at("bias_correction");
    return o;
  } catch (const json::exception& e) {
    fail(ExitCode::kInput, std::string("quantization recipe: ") + e.what());
  }
}

void set_recipe(Model& model, const json& recipe) {
  auto* props = model.proto().mutable_metadata_props();
  for (auto& p : *props)
    if (p.key() == kRecipeKey) {
      p.set_value(recipe.dump());
      return;
    }
  auto* p = props->Add();
  p->set_key(kRecipeKey);
  p->set_value(recipe.dump());
}

std::optional<json> read_recipe(const Model& model) {
  for (const auto& p : model.proto().metadata_props())
    if (p.key() == kRecipeKey) {
      try {
        return json::parse(p.value());
      } catch (const json::exception& e) {
        fail(ExitCode::kInput, std::string("metadata '") + kRecipeKey + "' is not JSON: " + e.what());
      }
    }
  return std::nullopt;
}

}  // namespace onnxq
