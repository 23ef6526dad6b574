// Which ops ONNX Runtime's CPU provider runs in float16 itself.
#include <algorithm>

#include "onnxq/fp16.hpp"

namespace onnxq {

// ONNX Runtime 1.30 on x86-64 (onnxruntime-node): a float16 model of each op, loaded with
// optimizations off and its session's graph saved, keeps these ops as they are; every other op
// it wraps in Cast nodes to run in float32 (the InsertCastTransformer), or refuses when the
// op's schema takes no float16 (Range, NonMaxSuppression, Celu, IsInf). The list matches the
// float16 entries of ONNX Runtime's OperatorKernels.md for the CPU provider and is pinned by
// Fp16CpuKernels tests, which run these ops in float16 in ONNX Runtime and find no Cast added.
const std::vector<std::string>& fp16_cpu_native_ops() {
  static const std::vector<std::string> ops = {
      "Cast",    "Clip",    "Concat",  "ConstantOfShape", "DequantizeLinear", "Expand",    "Flatten",
      "Gather",  "GatherElements",     "Identity",        "If",               "IsNaN",     "LayerNormalization",
      "Loop",    "Max",     "Min",     "Mod",             "QuantizeLinear",   "Reshape",   "Round",
      "Scan",    "ScatterND", "Shape", "Sign",            "Slice",            "Split",     "Squeeze",
      "Transpose", "Unsqueeze",
  };
  return ops;
}

bool default_fp16_blocked(const std::string& op_type) {
  const auto& ops = fp16_cpu_native_ops();
  return std::find(ops.begin(), ops.end(), op_type) == ops.end();
}

}  // namespace onnxq
