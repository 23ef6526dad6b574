#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "onnxq/fp16.hpp"
#include "onnxq/tensor.hpp"

namespace onnxq {
class SpillFile;
}

namespace onnxq::fp16 {

struct HalfStats {
  int64_t clamped = 0;  // values moved into range
  int64_t large = 0;    // of which were beyond max_finite_val
  double sqnr_db = 0;   // of the 16-bit values read back against the float32 ones (inf: exact)
};

// A float32 tensor as float16 (clamped into [min_positive_val, max_finite_val] in magnitude,
// see Fp16Options) or bfloat16 (rounded only).
// Converted in fixed chunks on options.threads: the values and the stats are the same for any
// thread count, and the same whether the CPU has F16C or not (`vector_path` false forces the
// scalar path, for the test that says so).
Tensor to_half(const Tensor& value, const Fp16Options& options, HalfStats* stats = nullptr);
void to_half_values(const float* x, uint16_t* y, int64_t n, const Fp16Options& options, HalfStats* stats,
                    bool vector_path);
// The same from stored float32 bytes (possibly misaligned, possibly mirroring a file: read
// with pread), the 16-bit values written to `spill` (the result is a read-only view of it) or,
// without one, to memory.
Tensor to_half_stored(std::span<const std::byte> floats, const Shape& shape, const Fp16Options& options,
                       HalfStats* stats, SpillFile* spill);

}  // namespace onnxq::fp16
