#pragma once

// Small helpers for the shape-family kernel tests: typed values out of a tensor, and the
// error code a kernel run throws.

#include <vector>

#include "onnxq/error.hpp"
#include "onnxq/tensor.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq::test {

template <class T>
std::vector<T> values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

inline Tensor ints(Shape shape, const std::vector<int64_t>& v) { return Tensor::from_vector<int64_t>(std::move(shape), v); }
inline Tensor ints(const std::vector<int64_t>& v) { return ints({static_cast<int64_t>(v.size())}, v); }
inline Tensor floats(Shape shape, const std::vector<float>& v) { return Tensor::from_vector<float>(std::move(shape), v); }

// The exit code of the error running the op throws, or kOk when it runs.
template <class Fn>
ExitCode error_code(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.code();
  }
  return ExitCode::kOk;
}

}  // namespace onnxq::test
