#include "onnxq/tensor_proto.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace onnxq {
namespace {

const std::vector<DataType> kAllNumericTypes = {
    DataType::kFloat,        DataType::kUInt8,          DataType::kInt8,       DataType::kUInt16,
    DataType::kInt16,        DataType::kInt32,          DataType::kInt64,      DataType::kBool,
    DataType::kFloat16,      DataType::kDouble,         DataType::kUInt32,     DataType::kUInt64,
    DataType::kBFloat16,     DataType::kFloat8E4M3FN,   DataType::kFloat8E4M3FNUZ, DataType::kFloat8E5M2,
    DataType::kFloat8E5M2FNUZ, DataType::kUInt4,        DataType::kInt4,
};

// A tensor whose bytes are a recognisable pattern valid for every type (bools are 0/1).
Tensor patterned(DataType type, Shape shape) {
  Tensor t(type, std::move(shape));
  auto* bytes = reinterpret_cast<uint8_t*>(t.raw_data());
  for (size_t i = 0; i < t.nbytes(); ++i)
    bytes[i] = type == DataType::kBool ? static_cast<uint8_t>(i % 2) : static_cast<uint8_t>(i * 37 + 11);
  return t;
}

TEST(TensorProto, RoundTripsEveryNumericTypeThroughRawData) {
  for (DataType type : kAllNumericTypes) {
    SCOPED_TRACE(std::string(dtype_name(type)));
    const Tensor original = patterned(type, {3, 5});
    onnx::TensorProto proto;
    proto.set_name("w");
    tensor_to_proto(original, proto);
    EXPECT_EQ(proto.name(), "w");
    EXPECT_EQ(proto.data_type(), static_cast<int32_t>(type));
    EXPECT_TRUE(proto.has_raw_data());
    EXPECT_TRUE(tensor_from_proto(proto).equals(original));
  }
}

template <class T>
std::vector<T> iota_values(size_t n, T start) {
  std::vector<T> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

onnx::TensorProto typed_proto(DataType type, std::vector<int64_t> dims) {
  onnx::TensorProto p;
  p.set_name("t");
  p.set_data_type(static_cast<int32_t>(type));
  for (int64_t d : dims) p.add_dims(d);
  return p;
}

TEST(TensorProto, ReadsTheTypedFieldsOfEveryType) {
  {
    auto p = typed_proto(DataType::kFloat, {2, 2});
    for (float v : {1.5f, -2.f, 3.f, 0.25f}) p.add_float_data(v);
    EXPECT_TRUE(tensor_from_proto(p).equals(Tensor::from_vector<float>({2, 2}, {1.5f, -2.f, 3.f, 0.25f})));
  }
  {
    auto p = typed_proto(DataType::kDouble, {3});
    for (double v : {1.0, 2.0, -3.5}) p.add_double_data(v);
    EXPECT_TRUE(tensor_from_proto(p).equals(Tensor::from_vector<double>({3}, {1.0, 2.0, -3.5})));
  }
  {
    auto p = typed_proto(DataType::kInt64, {3});
    for (int64_t v : {-1LL, 0LL, 1LL << 40}) p.add_int64_data(v);
    EXPECT_TRUE(tensor_from_proto(p).equals(Tensor::from_vector<int64_t>({3}, {-1, 0, 1LL << 40})));
  }
  {
    auto p = typed_proto(DataType::kUInt64, {2});
    for (uint64_t v : {7ULL, ~0ULL}) p.add_uint64_data(v);
    EXPECT_TRUE(tensor_from_proto(p).equals(Tensor::from_vector<uint64_t>({2}, {7, ~0ULL})));
  }
  {
    auto p = typed_proto(DataType::kUInt32, {2});
    for (uint64_t v : {7ULL, 4000000000ULL}) p.add_uint64_data(v);
    EXPECT_TRUE(tensor_from_proto(p).equals(Tensor::from_vector<uint32_t>({2}, {7, 4000000000u})));
  }
  // Everything narrower than 32 bits lives in int32_data, one value per entry.
  {
    auto p = typed_proto(DataType::kInt32, {2});
    for (int v : {-5, 9}) p.add_int32_data(v);
    EXPECT_TRUE(tensor_from_proto(p).equals(Tensor::from_vector<int32_t>({2}, {-5, 9})));
  }
  {
    auto p = typed_proto(DataType::kInt16, {2});
    for (int v : {-300, 300}) p.add_int32_data(v);
    EXPECT_TRUE(tensor_from_proto(p).equals(Tensor::from_vector<int16_t>({2}, {-300, 300})));
  }
  {
    auto p = typed_proto(DataType::kUInt16, {1});
    p.add_int32_data(65535);
    EXPECT_TRUE(tensor_from_proto(p).equals(Tensor::from_vector<uint16_t>({1}, {65535})));
  }
  {
    auto p = typed_proto(DataType::kInt8, {2});
    for (int v : {-128, 127}) p.add_int32_data(v);
    EXPECT_TRUE(tensor_from_proto(p).equals(Tensor::from_vector<int8_t>({2}, {-128, 127})));
  }
  {
    auto p = typed_proto(DataType::kUInt8, {2});
    for (int v : {0, 255}) p.add_int32_data(v);
    EXPECT_TRUE(tensor_from_proto(p).equals(Tensor::from_vector<uint8_t>({2}, {0, 255})));
  }
  {
    auto p = typed_proto(DataType::kBool, {3});
    for (int v : {1, 0, 1}) p.add_int32_data(v);
    const uint8_t expected[] = {1, 0, 1};
    EXPECT_TRUE(tensor_from_proto(p).equals(Tensor::from_bytes(DataType::kBool, {3}, expected, 3)));
  }
  for (DataType type : {DataType::kFloat16, DataType::kBFloat16}) {
    auto p = typed_proto(type, {2});
    for (int v : {0x3c00, 0xc000}) p.add_int32_data(v);
    const uint16_t expected[] = {0x3c00, 0xc000};
    EXPECT_TRUE(tensor_from_proto(p).equals(Tensor::from_bytes(type, {2}, expected, 4)));
  }
  for (DataType type : {DataType::kFloat8E4M3FN, DataType::kFloat8E5M2}) {
    auto p = typed_proto(type, {2});
    for (int v : {0x38, 0xb8}) p.add_int32_data(v);
    const uint8_t expected[] = {0x38, 0xb8};
    EXPECT_TRUE(tensor_from_proto(p).equals(Tensor::from_bytes(type, {2}, expected, 2)));
  }
  // 4-bit: each int32_data entry is one packed byte holding two elements.
  for (DataType type : {DataType::kInt4, DataType::kUInt4}) {
    auto p = typed_proto(type, {3});
    for (int v : {0x21, 0x03}) p.add_int32_data(v);
    const uint8_t expected[] = {0x21, 0x03};
    EXPECT_TRUE(tensor_from_proto(p).equals(Tensor::from_bytes(type, {3}, expected, 2)));
  }
}

TEST(TensorProto, RejectsATypedFieldWithTheWrongCountNamingTheTensor) {
  auto p = typed_proto(DataType::kFloat, {2, 2});
  p.add_float_data(1.0f);
  try {
    tensor_from_proto(p);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInput);
    EXPECT_NE(std::string(e.what()).find("tensor 't'"), std::string::npos) << e.what();
  }
}

TEST(TensorProto, RejectsRawDataOfTheWrongSize) {
  auto p = typed_proto(DataType::kFloat, {4});
  p.set_raw_data(std::string(12, '\0'));
  EXPECT_THROW(tensor_from_proto(p), Error);
}

TEST(TensorProto, ReportsStringTensorsAsUnsupported) {
  auto p = typed_proto(DataType::kString, {1});
  p.add_string_data("hello");
  try {
    tensor_from_proto(p);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUnsupported);
  }
}

TEST(TensorProto, ReadsAScalarAndAnEmptyTensor) {
  auto scalar = typed_proto(DataType::kFloat, {});
  scalar.add_float_data(4.0f);
  EXPECT_EQ(tensor_from_proto(scalar).data<float>()[0], 4.0f);
  auto empty = typed_proto(DataType::kFloat, {0, 3});
  EXPECT_EQ(tensor_from_proto(empty).numel(), 0);
}

}  // namespace
}  // namespace onnxq
