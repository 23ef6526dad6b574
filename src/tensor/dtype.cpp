#include "onnxq/dtype.hpp"

#include <array>

namespace onnxq {
namespace {

struct DtypeRow {
  DataType type;
  std::string_view name;
  int bits;
  bool is_float;
  bool is_signed;
};

// One row per element type the library holds; everything else about a type derives from it.
constexpr std::array<DtypeRow, 20> kDtypes = {{
    {DataType::kFloat, "float32", 32, true, true},
    {DataType::kUInt8, "uint8", 8, false, false},
    {DataType::kInt8, "int8", 8, false, true},
    {DataType::kUInt16, "uint16", 16, false, false},
    {DataType::kInt16, "int16", 16, false, true},
    {DataType::kInt32, "int32", 32, false, true},
    {DataType::kInt64, "int64", 64, false, true},
    {DataType::kBool, "bool", 8, false, false},
    {DataType::kFloat16, "float16", 16, true, true},
    {DataType::kDouble, "float64", 64, true, true},
    {DataType::kUInt32, "uint32", 32, false, false},
    {DataType::kUInt64, "uint64", 64, false, false},
    {DataType::kBFloat16, "bfloat16", 16, true, true},
    {DataType::kFloat8E4M3FN, "float8e4m3fn", 8, true, true},
    {DataType::kFloat8E4M3FNUZ, "float8e4m3fnuz", 8, true, true},
    {DataType::kFloat8E5M2, "float8e5m2", 8, true, true},
    {DataType::kFloat8E5M2FNUZ, "float8e5m2fnuz", 8, true, true},
    {DataType::kUInt4, "uint4", 4, false, false},
    {DataType::kInt4, "int4", 4, false, true},
    {DataType::kString, "string", 0, false, false},
}};

const DtypeRow* find_row(DataType type) {
  for (const auto& row : kDtypes)
    if (row.type == type) return &row;
  return nullptr;
}

}  // namespace

int dtype_bits(DataType type) {
  const auto* row = find_row(type);
  return row ? row->bits : 0;
}

size_t dtype_storage_bytes(DataType type, int64_t count) {
  const int bits = dtype_bits(type);
  return (static_cast<size_t>(count) * static_cast<size_t>(bits) + 7) / 8;
}

bool dtype_is_numeric(DataType type) { return dtype_bits(type) > 0; }

bool dtype_is_float(DataType type) {
  const auto* row = find_row(type);
  return row && row->is_float;
}

bool dtype_is_signed(DataType type) {
  const auto* row = find_row(type);
  return row && row->is_signed;
}

std::string_view dtype_name(DataType type) {
  if (const auto* row = find_row(type)) return row->name;
  switch (type) {
    case DataType::kComplex64: return "complex64";
    case DataType::kComplex128: return "complex128";
    default: return "undefined";
  }
}

std::optional<DataType> dtype_from_name(std::string_view name) {
  for (const auto& row : kDtypes)
    if (row.name == name) return row.type;
  if (name == "float") return DataType::kFloat;
  if (name == "double") return DataType::kDouble;
  return std::nullopt;
}

std::optional<DataType> dtype_from_onnx(int32_t onnx_type) {
  if (onnx_type < 1 || onnx_type > static_cast<int32_t>(DataType::kInt4)) return std::nullopt;
  return static_cast<DataType>(onnx_type);
}

}  // namespace onnxq
