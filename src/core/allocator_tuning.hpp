#pragma once

namespace onnxq {

// Makes glibc keep freed tensor buffers for reuse instead of returning them to the kernel.
// The executor frees and reallocates activations of the same sizes on every node and every
// run; by default each buffer above a few MB is a fresh mmap, and touching its pages again
// (page faults plus zeroing) cost more than the convolutions themselves on PaddleOCR det.
// Process-wide and idempotent; a no-op outside glibc.
void tune_allocator_for_tensors();

}  // namespace onnxq
