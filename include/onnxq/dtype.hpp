#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace onnxq {

// Element types, numbered as onnx::TensorProto::DataType. libonnx 1.12 stops at BFLOAT16;
// the float8 and 4-bit types are handled by number.
enum class DataType : int32_t {
  kUndefined = 0,
  kFloat = 1,
  kUInt8 = 2,
  kInt8 = 3,
  kUInt16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kString = 8,
  kBool = 9,
  kFloat16 = 10,
  kDouble = 11,
  kUInt32 = 12,
  kUInt64 = 13,
  kComplex64 = 14,
  kComplex128 = 15,
  kBFloat16 = 16,
  kFloat8E4M3FN = 17,
  kFloat8E4M3FNUZ = 18,
  kFloat8E5M2 = 19,
  kFloat8E5M2FNUZ = 20,
  kUInt4 = 21,
  kInt4 = 22,
};

// Bits one element occupies in storage (4 for the packed 4-bit types, 0 when unknown).
int dtype_bits(DataType type);

// Bytes `count` elements occupy, with 4-bit types packed two per byte (rounded up).
size_t dtype_storage_bytes(DataType type, int64_t count);

// Whether onnxq::Tensor can hold this type (every fixed-size numeric type and bool).
bool dtype_is_numeric(DataType type);
bool dtype_is_float(DataType type);
bool dtype_is_signed(DataType type);

// numpy-style names: "float32", "float16", "bfloat16", "int4", "bool", ...
std::string_view dtype_name(DataType type);
std::optional<DataType> dtype_from_name(std::string_view name);
std::optional<DataType> dtype_from_onnx(int32_t onnx_type);

// Maps a C++ element type to its DataType, for typed access to tensors.
template <class T>
struct DataTypeOf;
template <> struct DataTypeOf<float> { static constexpr DataType value = DataType::kFloat; };
template <> struct DataTypeOf<double> { static constexpr DataType value = DataType::kDouble; };
template <> struct DataTypeOf<int8_t> { static constexpr DataType value = DataType::kInt8; };
template <> struct DataTypeOf<uint8_t> { static constexpr DataType value = DataType::kUInt8; };
template <> struct DataTypeOf<int16_t> { static constexpr DataType value = DataType::kInt16; };
template <> struct DataTypeOf<uint16_t> { static constexpr DataType value = DataType::kUInt16; };
template <> struct DataTypeOf<int32_t> { static constexpr DataType value = DataType::kInt32; };
template <> struct DataTypeOf<uint32_t> { static constexpr DataType value = DataType::kUInt32; };
template <> struct DataTypeOf<int64_t> { static constexpr DataType value = DataType::kInt64; };
template <> struct DataTypeOf<uint64_t> { static constexpr DataType value = DataType::kUInt64; };
template <> struct DataTypeOf<bool> { static constexpr DataType value = DataType::kBool; };

}  // namespace onnxq
