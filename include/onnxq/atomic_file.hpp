#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>

namespace onnxq {

// Writes a file so that readers see either the old file or the whole new one: data goes to
// a temporary file in the target's directory, renamed into place on commit() and removed
// if the object dies uncommitted. Targets that are not regular files (/dev/null, a pipe)
// are written directly. Every failure throws kOutput naming the target.
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path target);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t size);
  void write(std::string_view data) { write(data.data(), data.size()); }
  // Writes zero bytes until the offset is a multiple of `alignment`.
  void pad_to(uint64_t alignment);
  uint64_t offset() const { return offset_; }

  void commit();
  // Removes the temporary file (or, after commit(), the committed target).
  void discard();

  const std::filesystem::path& target() const { return target_; }

 private:
  [[noreturn]] void fail_io(std::string_view what) const;
  bool copy_from_file(const void* data, size_t size);
  void write_bytes(const char* p, size_t size);
  static constexpr size_t kKernelCopyMinBytes = 64 * 1024;

  std::filesystem::path target_;
  std::filesystem::path temp_;
  int fd_ = -1;
  bool direct_ = false;
  bool committed_ = false;
  uint64_t offset_ = 0;
};

}  // namespace onnxq
