#pragma once

// Helpers shared by the shape and data-movement kernels: axis and index normalization,
// reading shape-like integer inputs, C-order strides, fill values by element type, and a
// strided permutation used by Transpose, DepthToSpace and SpaceToDepth.

#include <cstdint>
#include <string>
#include <vector>

#include "exec/kernel.hpp"
#include "onnxq/tensor.hpp"

namespace onnxq::exec {

[[noreturn]] void shape_fail(const std::string& op, const std::string& message);

// An axis in [-rank, rank) mapped to [0, rank); kInput naming the op otherwise.
int64_t normalize_axis(const std::string& op, int64_t axis, int64_t rank);

// Normalized axes, rejecting duplicates.
std::vector<int64_t> normalize_axes(const std::string& op, const std::vector<int64_t>& axes, int64_t rank);

// An index in [-dim, dim) mapped to [0, dim); kInput naming the op otherwise.
inline int64_t wrap_index(const std::string& op, int64_t index, int64_t dim) {
  if (index < -dim || index >= dim)
    shape_fail(op, "index " + std::to_string(index) + " is out of range for a dimension of size " +
                       std::to_string(dim));
  return index < 0 ? index + dim : index;
}

// The values of an int32/int64 tensor (shapes, axes, pads, indices), as int64.
std::vector<int64_t> read_ints(const std::string& op, const Tensor& t, const char* what);
// The single value of an int32/int64 tensor of one element.
int64_t read_int_scalar(const std::string& op, const Tensor& t, const char* what);

// Indices tensor as int64 (int32 widened), checked to be an integer type.
std::vector<int64_t> read_indices(const std::string& op, const Tensor& t);

// Bytes of one element for kernels that copy raw blocks; kUnsupported for packed 4-bit types.
size_t element_bytes(const std::string& op, DataType dtype);

std::vector<int64_t> strides_of(const Shape& shape);
int64_t product(const Shape& shape, size_t begin, size_t end);

// A one-element tensor of `dtype` holding `value` (converted as a C cast would; float16 and
// bfloat16 rounded to nearest even), for fill values given as numbers.
Tensor scalar_of(DataType dtype, double value);

// A tensor of `shape` whose every element has the bits of `value`'s single element.
Tensor filled(const Shape& shape, const Tensor& value, const std::string& op);

// y[i0..in] = x viewed as `view` at the permuted index: y has shape view[perm[k]]. Runs
// in fixed chunks on up to `threads` threads; pure data movement, so any split gives the
// same bits.
Tensor permute(const Tensor& x, const Shape& view, const std::vector<int64_t>& perm, int threads);

}  // namespace onnxq::exec
