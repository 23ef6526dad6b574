#pragma once

#include <cstddef>
#include <span>

#include "onnxq/weight_quant.hpp"

namespace onnxq {

class SpillFile;

// quantize_weight with the values written to `spill` (when not null) rather than to fresh
// memory: the result's values are a read-only view of the file.
QuantizedWeight quantize_weight_spilled(std::span<const std::byte> float_data, const Shape& shape,
                                        const WeightQuantSpec& spec, int threads, SpillFile* spill);

}  // namespace onnxq
