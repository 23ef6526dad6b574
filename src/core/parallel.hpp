#pragma once

#include <cstdint>
#include <functional>

namespace onnxq {

// Threads to use for a request: 0 means every core.
int resolve_threads(int requested);

// Runs fn(chunk) for every chunk in [0, chunks) on up to `threads` threads. Callers make
// results independent of the thread count by fixing the chunking and combining per-chunk
// results in chunk order.
void parallel_for(int64_t chunks, int threads, const std::function<void(int64_t)>& fn);

}  // namespace onnxq
