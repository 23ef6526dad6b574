#include "core/parallel.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

namespace onnxq {
namespace {

// Workers check for the next job for a while before sleeping: jobs arriving back to back,
// in any mix of sizes and thread counts, must each run every chunk exactly once.
TEST(ParallelFor, BackToBackJobsRunEveryChunkExactlyOnce) {
  for (int job = 0; job < 2000; ++job) {
    const int64_t chunks = 1 + job % 37;
    const int threads = 1 + job % 4;
    std::vector<std::atomic<int>> runs(static_cast<size_t>(chunks));
    parallel_for(chunks, threads, [&](int64_t c) { runs[static_cast<size_t>(c)].fetch_add(1); });
    for (int64_t c = 0; c < chunks; ++c) ASSERT_EQ(runs[static_cast<size_t>(c)].load(), 1) << "job " << job << " chunk " << c;
  }
}

TEST(ParallelFor, NestedCallsRunInlineAndCompleteEveryChunk) {
  std::atomic<int> total{0};
  parallel_for(8, 3, [&](int64_t) { parallel_for(5, 3, [&](int64_t) { total.fetch_add(1); }); });
  EXPECT_EQ(total.load(), 40);
}

TEST(ParallelFor, AnExceptionInAChunkReachesTheCaller) {
  EXPECT_THROW(parallel_for(64, 2, [](int64_t c) {
                 if (c == 17) throw std::runtime_error("chunk 17");
               }),
               std::runtime_error);
  // The pool still works afterwards.
  std::atomic<int> total{0};
  parallel_for(10, 2, [&](int64_t) { total.fetch_add(1); });
  EXPECT_EQ(total.load(), 10);
}

}  // namespace
}  // namespace onnxq
