#include "core/value_chunks.hpp"

#include <cstring>

#include "core/file_regions.hpp"
#include "core/spill_file.hpp"

namespace onnxq {

ValueChunks::ValueChunks(const std::byte* data, int64_t n)
    : data_(data),
      n_(n),
      in_place_(n == 0 || (reinterpret_cast<uintptr_t>(data) % alignof(float) == 0 &&
                           !find_file_region(data, static_cast<uint64_t>(n) * 4))) {}

const float* ValueChunks::read(int64_t c, float* buffer) const {
  const int64_t begin = c * kChunk;
  if (in_place_) return reinterpret_cast<const float*>(data_) + begin;
  read_bytes(data_ + 4 * begin, static_cast<uint64_t>(count(c)) * 4, buffer);
  return buffer;
}

void ValueChunks::read_range(int64_t begin, int64_t n, float* out) const {
  if (in_place_)
    std::memcpy(out, data_ + 4 * begin, static_cast<size_t>(n) * 4);
  else
    read_bytes(data_ + 4 * begin, static_cast<uint64_t>(n) * 4, out);
}

TensorSink::TensorSink(SpillFile* spill, DataType dtype, Shape shape) : spill_(spill), dtype_(dtype), shape_(std::move(shape)) {
  const uint64_t bytes = dtype_storage_bytes(dtype_, shape_numel(shape_));
  if (spill_ && bytes > 0)
    offset_ = spill_->reserve(bytes);
  else {
    spill_ = nullptr;
    memory_ = Tensor::uninitialized(dtype_, shape_);
  }
}

TensorSink TensorSink::borrowed(std::byte* memory, DataType dtype, Shape shape) {
  TensorSink sink;
  sink.dtype_ = dtype;
  sink.memory_ = Tensor::view(dtype, shape, memory, nullptr);
  sink.shape_ = std::move(shape);
  return sink;
}

void TensorSink::write(uint64_t offset, const void* data, uint64_t n) {
  if (spill_)
    spill_->write(offset_ + offset, data, n);
  else if (memory_.defined())
    std::memcpy(memory_.raw_data() + offset, data, n);
}

void TensorSink::read(uint64_t offset, uint64_t n, void* out) const {
  if (spill_)
    spill_->read(offset_ + offset, out, n);
  else
    std::memcpy(out, memory_.raw_data() + offset, n);
}

Tensor TensorSink::tensor() const { return spill_ ? spill_->view(dtype_, shape_, offset_) : memory_; }

}  // namespace onnxq
