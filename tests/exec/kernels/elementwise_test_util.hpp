#pragma once

// Small helpers for the elementwise kernel tests: building typed tensors and reading them
// back as vectors.

#include <cstdint>
#include <vector>

#include "onnxq/tensor.hpp"

namespace onnxq::test {

template <class T>
Tensor tensor(Shape shape, std::vector<T> values) {
  return Tensor::from_vector<T>(std::move(shape), values);
}

inline Tensor bool_tensor(Shape shape, std::vector<uint8_t> values) {
  return Tensor::from_bytes(DataType::kBool, std::move(shape), values.data(), values.size());
}

template <class T>
std::vector<T> values(const Tensor& t) {
  const T* p = t.storage<T>();
  return std::vector<T>(p, p + t.numel());
}

}  // namespace onnxq::test
