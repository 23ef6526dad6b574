#include "core/scratch_buffer.hpp"

#include <sys/mman.h>

#include <new>

namespace onnxq {

RawScratch::~RawScratch() {
  if (data_) ::munmap(data_, bytes_);
}

void* RawScratch::get(size_t n) {
  if (n <= bytes_) return data_;
  constexpr size_t kHuge = size_t{2} << 20;
  const size_t bytes = (n + kHuge - 1) / kHuge * kHuge;
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  ::madvise(p, bytes, MADV_HUGEPAGE);  // advice only: without it the buffer works the same
#endif
  if (data_) ::munmap(data_, bytes_);
  data_ = p;
  bytes_ = bytes;
  return data_;
}

}  // namespace onnxq
