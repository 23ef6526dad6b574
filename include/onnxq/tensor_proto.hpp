#pragma once

#include <onnx/onnx_pb.h>

#include "onnxq/tensor.hpp"

namespace onnxq {

// Reads a TensorProto whose data is inline (raw_data or the typed fields). External data is
// resolved by Model::tensor_data. Throws kInput for malformed protos (wrong byte count) and
// kUnsupported for strings and complex types.
Tensor tensor_from_proto(const onnx::TensorProto& proto);

// Builds a tensor from a proto's dtype and dims and the bytes stored elsewhere.
Tensor tensor_from_proto_bytes(const onnx::TensorProto& proto, const void* data, size_t nbytes);

// Writes dtype, dims and raw_data (as exporters do); keeps the proto's name.
void tensor_to_proto(const Tensor& tensor, onnx::TensorProto& proto);

// dtype and dims of a proto, checked (kInput on negative dims, kUnsupported on unknown types).
DataType proto_dtype(const onnx::TensorProto& proto);
Shape proto_shape(const onnx::TensorProto& proto);

}  // namespace onnxq
