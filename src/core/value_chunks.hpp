#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "onnxq/tensor.hpp"

namespace onnxq {

class SpillFile;

// Stored float values (a weight, a codebook group) read in fixed chunks (boundaries
// independent of threads and CPU):
// with pread when they lie in a file the model is mapped from, so the mapping's pages are never
// touched (see core/file_regions.hpp), else from memory, copied only when misaligned.
class ValueChunks {
 public:
  static constexpr int64_t kChunk = int64_t{1} << 16;  // a multiple of the kernels' 16 lanes

  ValueChunks(const std::byte* data, int64_t n);
  explicit ValueChunks(std::span<const float> values)
      : ValueChunks(reinterpret_cast<const std::byte*>(values.data()), static_cast<int64_t>(values.size())) {}

  int64_t size() const { return n_; }
  bool in_place() const { return in_place_; }
  int64_t chunks() const { return (n_ + kChunk - 1) / kChunk; }
  int64_t count(int64_t c) const { return std::min(kChunk, n_ - c * kChunk); }
  // Chunk c's values: in place when they can be read there, else copied into `buffer` (kChunk floats).
  const float* read(int64_t c, float* buffer) const;
  // Values [begin, begin + n) into `out`.
  void read_range(int64_t begin, int64_t n, float* out) const;

 private:
  const std::byte* data_;
  int64_t n_;
  bool in_place_;
};

// Where a result tensor is written piece by piece: a region of the spill file (read back as a
// mapping the save copies file to file) or, without one, memory. A default one discards.
class TensorSink {
 public:
  TensorSink() = default;
  TensorSink(SpillFile* spill, DataType dtype, Shape shape);
  // Writes into `memory` (kept alive by the caller), for results that are read back, not stored.
  static TensorSink borrowed(std::byte* memory, DataType dtype, Shape shape);

  bool discards() const { return !spill_ && !memory_.defined(); }
  void write(uint64_t offset, const void* data, uint64_t n);
  void read(uint64_t offset, uint64_t n, void* out) const;
  // What was written, with `shape` (same bytes).
  Tensor tensor() const;

 private:
  SpillFile* spill_ = nullptr;
  uint64_t offset_ = 0;
  DataType dtype_ = DataType::kUInt8;
  Shape shape_;
  Tensor memory_;
};

}  // namespace onnxq
