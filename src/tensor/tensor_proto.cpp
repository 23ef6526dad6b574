#include "onnxq/tensor_proto.hpp"

#include <cstring>

namespace onnxq {
namespace {

std::string proto_label(const onnx::TensorProto& proto) {
  return proto.name().empty() ? std::string("tensor") : "tensor '" + proto.name() + "'";
}

// Copies typed-field values into the tensor buffer, converting each element to T.
template <class T, class Field>
void copy_field(const Field& field, Tensor& t, const onnx::TensorProto& proto, const char* field_name) {
  if (static_cast<int64_t>(field.size()) != t.numel())
    fail(ExitCode::kInput, proto_label(proto) + ": " + field_name + " holds " + std::to_string(field.size()) +
                               " values, shape " + shape_to_string(t.shape()) + " needs " +
                               std::to_string(t.numel()));
  auto* out = reinterpret_cast<T*>(t.raw_data());
  for (int i = 0; i < field.size(); ++i) out[i] = static_cast<T>(field.Get(i));
}

}  // namespace

DataType proto_dtype(const onnx::TensorProto& proto) {
  const auto type = dtype_from_onnx(proto.data_type());
  if (!type || !dtype_is_numeric(*type))
    fail(ExitCode::kUnsupported, proto_label(proto) + ": element type " +
                                     (type ? std::string(dtype_name(*type)) : std::to_string(proto.data_type())) +
                                     " is not supported");
  return *type;
}

Shape proto_shape(const onnx::TensorProto& proto) {
  Shape shape(proto.dims().begin(), proto.dims().end());
  for (int64_t d : shape)
    if (d < 0) fail(ExitCode::kInput, proto_label(proto) + ": negative dimension in " + shape_to_string(shape));
  return shape;
}

Tensor tensor_from_proto_bytes(const onnx::TensorProto& proto, const void* data, size_t nbytes) {
  return with_context(proto_label(proto), [&] {
    return Tensor::from_bytes(proto_dtype(proto), proto_shape(proto), data, nbytes);
  });
}

Tensor tensor_from_proto(const onnx::TensorProto& proto) {
  if (proto.data_location() == onnx::TensorProto::EXTERNAL)
    fail(ExitCode::kInternal, proto_label(proto) + ": external data must be read through its Model");
  const DataType type = proto_dtype(proto);
  if (proto.has_raw_data())
    return tensor_from_proto_bytes(proto, proto.raw_data().data(), proto.raw_data().size());

  Tensor t(type, proto_shape(proto));
  switch (type) {
    case DataType::kFloat: copy_field<float>(proto.float_data(), t, proto, "float_data"); break;
    case DataType::kDouble: copy_field<double>(proto.double_data(), t, proto, "double_data"); break;
    case DataType::kInt64: copy_field<int64_t>(proto.int64_data(), t, proto, "int64_data"); break;
    case DataType::kUInt32: copy_field<uint32_t>(proto.uint64_data(), t, proto, "uint64_data"); break;
    case DataType::kUInt64: copy_field<uint64_t>(proto.uint64_data(), t, proto, "uint64_data"); break;
    case DataType::kInt32: copy_field<int32_t>(proto.int32_data(), t, proto, "int32_data"); break;
    case DataType::kInt16: copy_field<int16_t>(proto.int32_data(), t, proto, "int32_data"); break;
    // float16/bfloat16 keep their bit patterns in int32_data; bool and 8-bit types one per value.
    case DataType::kUInt16:
    case DataType::kFloat16:
    case DataType::kBFloat16: copy_field<uint16_t>(proto.int32_data(), t, proto, "int32_data"); break;
    case DataType::kInt8: copy_field<int8_t>(proto.int32_data(), t, proto, "int32_data"); break;
    case DataType::kUInt8:
    case DataType::kBool:
    case DataType::kFloat8E4M3FN:
    case DataType::kFloat8E4M3FNUZ:
    case DataType::kFloat8E5M2:
    case DataType::kFloat8E5M2FNUZ: copy_field<uint8_t>(proto.int32_data(), t, proto, "int32_data"); break;
    case DataType::kInt4:
    case DataType::kUInt4: {
      // Each int32_data value holds one packed byte (two elements), as onnx.helper writes.
      const auto& field = proto.int32_data();
      if (static_cast<size_t>(field.size()) != t.nbytes())
        fail(ExitCode::kInput, proto_label(proto) + ": int32_data holds " + std::to_string(field.size()) +
                                   " packed bytes, shape " + shape_to_string(t.shape()) + " needs " +
                                   std::to_string(t.nbytes()));
      auto* out = reinterpret_cast<uint8_t*>(t.raw_data());
      for (int i = 0; i < field.size(); ++i) out[i] = static_cast<uint8_t>(field.Get(i));
      break;
    }
    default:
      fail(ExitCode::kUnsupported, proto_label(proto) + ": element type " + std::string(dtype_name(type)) +
                                       " is not supported");
  }
  return t;
}

void tensor_to_proto(const Tensor& tensor, onnx::TensorProto& proto) {
  const std::string name = proto.name();
  proto.Clear();
  proto.set_name(name);
  proto.set_data_type(static_cast<int32_t>(tensor.dtype()));
  for (int64_t d : tensor.shape()) proto.add_dims(d);
  proto.set_raw_data(tensor.raw_data(), tensor.nbytes());
}

}  // namespace onnxq
