#include "model/external_data.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <algorithm>

#include "onnxq/model.hpp"
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

bool is_held(const onnx::TensorProto& proto) {
  if (proto.data_location() != onnx::TensorProto::EXTERNAL) return false;
  for (const auto& entry : proto.external_data())
    if (entry.key() == kHeldKey) return true;
  return false;
}

void materialize_held_tensors(Model& model) {
  for_each_tensor_proto(model.graph(), [&](onnx::TensorProto& t) {
    if (is_held(t)) tensor_to_proto(model.tensor_data(t), t);
  });
}

std::string file_identity(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return {};
  const auto mtime_ns = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000u + static_cast<uint64_t>(st.st_mtim.tv_nsec);
  return "file:" + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) +
         ":" + std::to_string(mtime_ns);
}

struct ExternalDataStore::Mapping {
  std::byte* data = nullptr;
  uint64_t size = 0;
  std::string identity;
  ~Mapping() {
    if (data) ::munmap(data, size);
  }
};

// Null when the file can't be mapped (errno says why).
std::shared_ptr<ExternalDataStore::Mapping> ExternalDataStore::map_fd(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return nullptr;
  auto mapping = std::make_shared<Mapping>();
  mapping->size = static_cast<uint64_t>(st.st_size);
  mapping->identity = file_identity(fd);
  if (mapping->size > 0) {
    // Private and writable: tensors viewing the file may be modified without touching it.
    void* p = ::mmap(nullptr, mapping->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) return nullptr;
    mapping->data = static_cast<std::byte*>(p);
  }
  return mapping;
}

std::shared_ptr<ExternalDataStore::Mapping> ExternalDataStore::map_path(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    fail(ExitCode::kInput, "external data file '" + path.string() + "' " +
                               (err == ENOENT ? std::string("is missing") : std::strerror(err)));
  }
  auto mapping = map_fd(fd);
  const int err = errno;
  ::close(fd);
  if (!mapping) fail(ExitCode::kInput, "external data file '" + path.string() + "': " + std::strerror(err));
  return mapping;
}

std::shared_ptr<ExternalDataStore::Mapping> ExternalDataStore::map_file(const std::string& location) {
  std::lock_guard lock(mutex_);
  if (auto it = mappings_.find(location); it != mappings_.end()) return it->second;
  auto mapping = map_path(resolve(location));
  mappings_.emplace(location, mapping);
  return mapping;
}

std::string_view ExternalDataStore::map_model_file(int fd, std::string& identity) {
  auto mapping = map_fd(fd);
  if (!mapping || !mapping->data) return {};
  identity = mapping->identity;
  std::lock_guard lock(mutex_);
  model_file_ = mapping;
  return {reinterpret_cast<const char*>(model_file_->data), model_file_->size};
}

void ExternalDataStore::keep_model_file(bool keep) {
  std::lock_guard lock(mutex_);
  if (!keep) {
    model_file_.reset();
  } else if (model_file_) {
    // Page tables filled up front from the page cache: one call instead of a fault per
    // 64 kB when the weights are read. Read-only population, so no page is copied.
#ifdef MADV_POPULATE_READ
    ::madvise(model_file_->data, model_file_->size, MADV_POPULATE_READ);
#else
    ::madvise(model_file_->data, model_file_->size, MADV_WILLNEED);
#endif
  }
}

void ExternalDataStore::hold(onnx::TensorProto& proto, const Tensor& value) {
  uint64_t id = 0;
  {
    std::lock_guard lock(mutex_);
    id = memory_.empty() ? 0 : memory_.rbegin()->first + 1;
    memory_.emplace(id, value);
  }
  const std::string name = proto.name();
  proto.Clear();
  proto.set_name(name);
  proto.set_data_type(static_cast<int32_t>(value.dtype()));
  for (int64_t d : value.shape()) proto.add_dims(d);
  proto.set_data_location(onnx::TensorProto::EXTERNAL);
  auto* location = proto.add_external_data();
  location->set_key("location");
  location->set_value(std::string(kHeldMemoryLocation));
  auto* held = proto.add_external_data();
  held->set_key(std::string(kHeldKey));
  held->set_value("memory:" + std::to_string(id));
}

std::span<std::byte> ExternalDataStore::locate(const onnx::TensorProto& proto, std::shared_ptr<void>& owner,
                                               bool* in_file) {
  const ExternalRef ref = parse_external_ref(proto);
  std::string held;
  for (const auto& entry : proto.external_data())
    if (entry.key() == kHeldKey) held = entry.value();
  if (held.starts_with("memory:")) {
    Tensor t;
    {
      std::lock_guard lock(mutex_);
      uint64_t id = 0;
      const auto [end, ec] = std::from_chars(held.data() + 7, held.data() + held.size(), id);
      auto it = ec == std::errc() ? memory_.find(id) : memory_.end();
      if (it == memory_.end())
        fail(ExitCode::kInternal, label(proto) + ": its data is held in memory by another model");
      t = it->second;
    }
    auto keep = std::make_shared<Tensor>(t);
    owner = keep;
    return {keep->raw_data(), keep->nbytes()};
  }
  std::shared_ptr<Mapping> mapping;
  if (!held.empty()) {
    {
      std::lock_guard lock(mutex_);
      if (model_file_ && model_file_->identity == held) mapping = model_file_;
    }
    // Another model's proto: the file is read by name, and must not have changed since.
    if (!mapping) mapping = with_context(label(proto), [&] { return map_file(ref.location); });
    if (mapping->identity != held)
      fail(ExitCode::kInput, label(proto) + ": model file '" + resolve(ref.location).string() +
                                 "' has changed since the model holding this tensor was loaded");
  } else {
    mapping = with_context(label(proto), [&] { return map_file(ref.location); });
  }
  if (ref.offset + ref.length > mapping->size || ref.offset + ref.length < ref.offset)
    fail(ExitCode::kInput, label(proto) + ": external data file '" + resolve(ref.location).string() +
                               "' is too short (needs " + std::to_string(ref.offset + ref.length) +
                               " bytes, has " + std::to_string(mapping->size) + ")");
  owner = mapping;
  if (in_file) *in_file = true;
  return {mapping->data + ref.offset, ref.length};
}

void ExternalDataStore::validate(const onnx::TensorProto& proto) {
  std::shared_ptr<void> owner;
  locate(proto, owner);
}

std::span<const std::byte> ExternalDataStore::bytes(const onnx::TensorProto& proto) {
  std::shared_ptr<void> owner;
  return locate(proto, owner);  // the store keeps mappings and held tensors alive
}

namespace {

// A copy of misaligned bytes from a file mapping, made piece by piece, unmapping each piece's
// pages once copied, so the weight is resident about once (as its copy), not twice, even
// while it is copied. The mapping is private, and these bytes belong to one tensor that is
// never viewed in place (it is misaligned), so the pages are clean: touching them again
// re-reads the file.
Tensor copy_dropping_pages(const onnx::TensorProto& proto, std::span<std::byte> bytes) {
  Tensor copy = Tensor::uninitialized(proto_dtype(proto), proto_shape(proto));
  if (copy.nbytes() != bytes.size()) return tensor_from_proto_bytes(proto, bytes.data(), bytes.size());  // its error
  constexpr size_t kPiece = size_t{4} << 20;
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto start = reinterpret_cast<uintptr_t>(bytes.data());
  uintptr_t dropped = (start + page - 1) / page * page;  // pages before this one are shared
  for (size_t done = 0; done < bytes.size();) {
    const size_t n = std::min(kPiece, bytes.size() - done);
    std::memcpy(copy.raw_data() + done, bytes.data() + done, n);
    done += n;
    const uintptr_t upto = (start + done) / page * page;
    if (upto > dropped) {
      ::madvise(reinterpret_cast<void*>(dropped), upto - dropped, MADV_DONTNEED);
      dropped = upto;
    }
  }
  return copy;
}

}  // namespace

Tensor ExternalDataStore::read(const onnx::TensorProto& proto) {
  std::shared_ptr<void> owner;
  bool in_file = false;
  const std::span<std::byte> bytes = locate(proto, owner, &in_file);
  // External files keep the 64-byte alignment onnxq writes them with; data held in a model
  // file sits wherever protobuf put it, and is viewed when its elements are aligned.
  const DataType type = proto_dtype(proto);
  const auto address = reinterpret_cast<uintptr_t>(bytes.data());
  const uintptr_t align = is_held(proto) ? std::max<uintptr_t>(1, dtype_bits(type) / 8) : Tensor::kAlignment;
  if (address % align == 0 || bytes.empty()) return Tensor::view(type, proto_shape(proto), bytes.data(), owner);
  if (in_file) return copy_dropping_pages(proto, bytes);
  return tensor_from_proto_bytes(proto, bytes.data(), bytes.size());
}

}  // namespace onnxq
