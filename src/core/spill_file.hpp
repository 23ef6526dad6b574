#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "onnxq/tensor.hpp"

namespace onnxq {

// Results from this size on go to a spill file; smaller ones cost less in memory than a write.
constexpr uint64_t kSpillMinBytes = 1 << 20;

// An unlinked temporary file that large results (quantized weights) are written to from a
// small reused buffer instead of being built in fresh memory, whose first touch is the
// costliest part of quantizing a big model on a virtual machine. The results are read back
// as read-only mappings registered as file regions, so saving copies them file to file in
// the kernel and nothing touches their pages.
class SpillFile {
 public:
  // In $TMPDIR (else /tmp); nullptr when no temporary file can be made there.
  static std::shared_ptr<SpillFile> create();
  ~SpillFile();
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;

  // Room for n bytes at a page-aligned offset, returned; safe from several threads.
  uint64_t reserve(uint64_t n);
  // Writes [data, data + n) at `offset`; safe from several threads on disjoint ranges.
  // kOutput on failure.
  void write(uint64_t offset, const void* data, uint64_t n);
  // Reads back n bytes written at `offset`. kOutput on failure.
  void read(uint64_t offset, void* data, uint64_t n) const;
  // The bytes at `offset` (written already) as a read-only tensor: writing through it faults.
  Tensor view(DataType dtype, Shape shape, uint64_t offset);

 private:
  explicit SpillFile(int fd) : fd_(fd) {}
  int fd_;
  std::atomic<uint64_t> size_{0};  // reserved from several threads at once (ewq codes weights in parallel)
  std::weak_ptr<SpillFile> self_;
};

}  // namespace onnxq
