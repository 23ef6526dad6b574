#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "onnxq/tensor.hpp"

namespace onnxq {

// NumPy .npy files (format versions 1.0, 2.0 and 3.0), little-endian, C order. Reading
// throws kInput naming the file for what it can't read (Fortran order, big-endian,
// object or structured arrays, truncated data); a missing file is kInput too.
Tensor read_npy(const std::filesystem::path& path);
Tensor parse_npy(std::string_view bytes, const std::string& source_name);

// Writes atomically; kOutput on failure. Types numpy lacks (bfloat16, 4-bit, float8)
// throw kUnsupported.
void write_npy(const std::filesystem::path& path, const Tensor& tensor);
std::string npy_bytes(const Tensor& tensor);

}  // namespace onnxq
