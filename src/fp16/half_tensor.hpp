#pragma once

#include <cstdint>

#include "onnxq/fp16.hpp"
#include "onnxq/tensor.hpp"

namespace onnxq::fp16 {

struct HalfStats {
  int64_t clamped = 0;  // values moved into range
  int64_t large = 0;    // of which were beyond max_finite_val
  double sqnr_db = 0;   // of the 16-bit values read back against the float32 ones (inf: exact)
};

// A float32 tensor as float16 (clamped into [min_positive_val, max_finite_val] in magnitude,
// see Fp16Options) or bfloat16 (rounded only).
Tensor to_half(const Tensor& value, const Fp16Options& options, HalfStats* stats = nullptr);

}  // namespace onnxq::fp16
