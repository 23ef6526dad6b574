#pragma once

#include <cstddef>

namespace onnxq {

// Memory reused from one piece of work to the next: it only grows, is never zero-filled, and asks
// for huge pages, so a buffer of a large weight costs a few page faults instead of one per 4 kB
// (each a few microseconds on the virtual machines onnxq runs on).
class RawScratch {
 public:
  RawScratch() = default;
  ~RawScratch();
  RawScratch(const RawScratch&) = delete;
  RawScratch& operator=(const RawScratch&) = delete;
  RawScratch(RawScratch&& o) noexcept : data_(o.data_), bytes_(o.bytes_) { o.data_ = nullptr, o.bytes_ = 0; }

  // At least n bytes; the contents are kept only while no larger size is asked for.
  void* get(size_t n);

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

template <class T>
class ScratchBuffer {
 public:
  T* get(size_t n) { return static_cast<T*>(raw_.get(n * sizeof(T))); }

 private:
  RawScratch raw_;
};

}  // namespace onnxq
