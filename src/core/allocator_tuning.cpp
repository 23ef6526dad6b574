#include "core/allocator_tuning.hpp"

#include <mutex>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace onnxq {

void tune_allocator_for_tensors() {
#if defined(__GLIBC__)
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest; bigger buffers stay mmapped
    mallopt(M_TRIM_THRESHOLD, 1 << 30);   // keep up to 1 GiB of freed heap for reuse
    mallopt(M_TOP_PAD, 64 << 20);         // grow the heap in large steps
  });
#endif
}

}  // namespace onnxq
