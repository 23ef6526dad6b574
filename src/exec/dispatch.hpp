#pragma once

// Calls a generic lambda with a value of the C++ element type of a DataType, so a kernel
// is written once as a template: dispatch_numeric(t.dtype(), [&]<class T>(T) { ... }).

#include <string>

#include "onnxq/dtype.hpp"
#include "onnxq/error.hpp"

namespace onnxq::exec {

[[noreturn]] inline void unsupported_dtype(DataType type, const char* what) {
  fail(ExitCode::kUnsupported, std::string(what) + " does not support element type " +
                                   std::string(dtype_name(type)));
}

// float, double.
template <class Fn>
decltype(auto) dispatch_float(DataType type, Fn&& fn, const char* what = "this op") {
  switch (type) {
    case DataType::kFloat: return fn(float{});
    case DataType::kDouble: return fn(double{});
    default: unsupported_dtype(type, what);
  }
}

// Every integer type.
template <class Fn>
decltype(auto) dispatch_integer(DataType type, Fn&& fn, const char* what = "this op") {
  switch (type) {
    case DataType::kInt8: return fn(int8_t{});
    case DataType::kUInt8: return fn(uint8_t{});
    case DataType::kInt16: return fn(int16_t{});
    case DataType::kUInt16: return fn(uint16_t{});
    case DataType::kInt32: return fn(int32_t{});
    case DataType::kUInt32: return fn(uint32_t{});
    case DataType::kInt64: return fn(int64_t{});
    case DataType::kUInt64: return fn(uint64_t{});
    default: unsupported_dtype(type, what);
  }
}

// float, double and every integer type (not bool, not 16-bit floats).
template <class Fn>
decltype(auto) dispatch_numeric(DataType type, Fn&& fn, const char* what = "this op") {
  switch (type) {
    case DataType::kFloat: return fn(float{});
    case DataType::kDouble: return fn(double{});
    default: return dispatch_integer(type, std::forward<Fn>(fn), what);
  }
}

// Any fixed-size type by storage only (bool as uint8_t, float16/bfloat16 as uint16_t), for
// kernels that move elements without looking at them (Transpose, Gather, Concat, ...).
template <class Fn>
decltype(auto) dispatch_storage(DataType type, Fn&& fn, const char* what = "this op") {
  switch (dtype_bits(type)) {
    case 8: return fn(uint8_t{});
    case 16: return fn(uint16_t{});
    case 32: return fn(uint32_t{});
    case 64: return fn(uint64_t{});
    default: unsupported_dtype(type, what);
  }
}

}  // namespace onnxq::exec
