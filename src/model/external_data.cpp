#include "model/external_data.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "onnxq/tensor_proto.hpp"

namespace onnxq {
namespace {

std::string label(const onnx::TensorProto& proto) { return "tensor '" + proto.name() + "'"; }

uint64_t parse_u64(const onnx::TensorProto& proto, const std::string& key, const std::string& value) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || end != value.data() + value.size())
    fail(ExitCode::kInput, label(proto) + ": external data " + key + " '" + value + "' is not a number");
  return v;
}

}  // namespace

ExternalRef parse_external_ref(const onnx::TensorProto& proto) {
  ExternalRef ref;
  bool has_length = false;
  for (const auto& entry : proto.external_data()) {
    if (entry.key() == "location") {
      ref.location = entry.value();
    } else if (entry.key() == "offset") {
      ref.offset = parse_u64(proto, "offset", entry.value());
    } else if (entry.key() == "length") {
      ref.length = parse_u64(proto, "length", entry.value());
      has_length = true;
    }
  }
  if (ref.location.empty()) fail(ExitCode::kInput, label(proto) + ": external data has no location");
  const std::filesystem::path loc(ref.location);
  if (loc.is_absolute() || loc.lexically_normal().string().starts_with(".."))
    fail(ExitCode::kInput, label(proto) + ": external data location '" + ref.location +
                               "' must be a path inside the model's directory");
  const uint64_t expected = dtype_storage_bytes(proto_dtype(proto), shape_numel(proto_shape(proto)));
  if (!has_length) ref.length = expected;
  if (ref.length != expected)
    fail(ExitCode::kInput, label(proto) + ": external data length " + std::to_string(ref.length) +
                               " does not match its type and shape (" + std::to_string(expected) + " bytes)");
  return ref;
}

struct ExternalDataStore::Mapping {
  std::byte* data = nullptr;
  uint64_t size = 0;
  ~Mapping() {
    if (data) ::munmap(data, size);
  }
};

std::shared_ptr<ExternalDataStore::Mapping> ExternalDataStore::map_file(const std::string& location) {
  std::lock_guard lock(mutex_);
  if (auto it = mappings_.find(location); it != mappings_.end()) return it->second;
  const auto path = resolve(location);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    fail(ExitCode::kInput, "external data file '" + path.string() + "' " +
                               (err == ENOENT ? std::string("is missing") : std::strerror(err)));
  }
  struct stat st {};
  ::fstat(fd, &st);
  auto mapping = std::make_shared<Mapping>();
  mapping->size = static_cast<uint64_t>(st.st_size);
  if (mapping->size > 0) {
    // Private and writable: tensors viewing the file may be modified without touching it.
    void* p = ::mmap(nullptr, mapping->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      fail(ExitCode::kInput, "external data file '" + path.string() + "': " + std::strerror(err));
    }
    mapping->data = static_cast<std::byte*>(p);
  }
  ::close(fd);
  mappings_.emplace(location, mapping);
  return mapping;
}

void ExternalDataStore::validate(const onnx::TensorProto& proto) {
  const ExternalRef ref = parse_external_ref(proto);
  const auto mapping = with_context(label(proto), [&] { return map_file(ref.location); });
  if (ref.offset + ref.length > mapping->size)
    fail(ExitCode::kInput, label(proto) + ": external data file '" + resolve(ref.location).string() +
                               "' is too short (needs " + std::to_string(ref.offset + ref.length) +
                               " bytes, has " + std::to_string(mapping->size) + ")");
}

Tensor ExternalDataStore::read(const onnx::TensorProto& proto) {
  validate(proto);
  const ExternalRef ref = parse_external_ref(proto);
  const auto mapping = map_file(ref.location);
  std::byte* p = mapping->data + ref.offset;
  if (ref.offset % Tensor::kAlignment == 0)
    return Tensor::view(proto_dtype(proto), proto_shape(proto), p, mapping);
  return tensor_from_proto_bytes(proto, p, ref.length);
}

}  // namespace onnxq
