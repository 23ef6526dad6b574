#pragma once

#include <nlohmann/json.hpp>

#include <optional>

#include "onnxq/model.hpp"
#include "onnxq/quantize_dynamic.hpp"
#include "onnxq/static_pipeline.hpp"

namespace onnxq {

// How a model was quantized, kept in its metadata_props under "onnxq.recipe" (JSON), so that
// `onnxq debug --suggest-exclude` can quantize the float model again with nodes left out:
//   {"command": "quantize-dynamic", "options": {...}}
//   {"command": "quantize-static", "options": {...}, "calib": {...}, "smooth_quant": ...}
// Only what decides the output is recorded: not threads, and not where the ranges came from
// (samples or calibration tables), since both give the same bytes; a static recipe is repeated
// on data the caller gives.
inline constexpr const char* kRecipeKey = "onnxq.recipe";

nlohmann::json dynamic_recipe(const DynamicQuantOptions& options);
// `calib`: the calibration options the ranges were made with (a table's own, when read from tables).
nlohmann::json static_recipe(const StaticFileOptions& options, const CalibOptions& calib);
// Back from JSON; kInput naming the field when malformed.
DynamicQuantOptions dynamic_options_from_recipe(const nlohmann::json& recipe);
// Everything but the data (empty).
StaticFileOptions static_options_from_recipe(const nlohmann::json& recipe);

// Sets (or replaces) the recipe entry; reads it, if any.
void set_recipe(Model& model, const nlohmann::json& recipe);
std::optional<nlohmann::json> read_recipe(const Model& model);

}  // namespace onnxq
