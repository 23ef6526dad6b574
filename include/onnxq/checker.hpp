#pragma once

#include <string>

#include "onnxq/model.hpp"

namespace onnxq {

struct CheckResult {
  enum class Status { kValid, kInvalid, kUnchecked };
  Status status = Status::kValid;
  // Why the model is invalid, or why libonnx could not check it.
  std::string message;
};

// Runs the ONNX checker (libonnx 1.12) on the model, with external data resolved against
// the model's directory. Models beyond what libonnx knows (opsets above 17, IR above 8,
// float8 and 4-bit types) come back kUnchecked rather than failing: ONNX Runtime proves them.
CheckResult check_model(const Model& model);

// For a model onnxq itself rewrote: a checker failure is onnxq's bug (kInternal, "the
// <what> model fails the ONNX checker: ..."), caught before anything is written.
void require_checker_pass(const Model& model, const std::string& what);

// Registers ONNX's operator schemas, which the first check otherwise pays for (tens of ms): call it
// on a thread while a model loads. Safe to call from several threads.
void warm_up_checker();

// ONNX shape inference, writing value_info into the model. Throws kInput with libonnx's
// message when inference finds an inconsistency and `strict` is set; otherwise nodes it
// can't infer are left without shapes.
void infer_shapes(Model& model, bool strict = false);

// The highest ai.onnx opset libonnx knows.
int max_known_opset();

}  // namespace onnxq
