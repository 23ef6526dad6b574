#include "onnxq/npy.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "onnxq/atomic_file.hpp"

namespace onnxq {
namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
// Magic, two version bytes and the header length (u16 in 1.0, u32 in 2.0 and 3.0).
constexpr size_t kPreambleV1 = 10;
constexpr size_t kPreambleV2 = 12;
// numpy aligns the data so files can be memory-mapped and read in place.
constexpr size_t kArrayAlign = 64;
// numpy leaves room after the header so the first axis can grow in place (format.py).
constexpr size_t kGrowthAxisMaxDigits = 21;

struct NumpyType {
  DataType dtype;
  char kind;  // the letter of the numpy type string: '<f4' -> 'f'
  int size;
  std::string_view descr;  // as numpy writes it
};

constexpr std::array<NumpyType, 12> kNumpyTypes = {{
    {DataType::kFloat, 'f', 4, "<f4"},
    {DataType::kDouble, 'f', 8, "<f8"},
    {DataType::kFloat16, 'f', 2, "<f2"},
    {DataType::kInt8, 'i', 1, "|i1"},
    {DataType::kUInt8, 'u', 1, "|u1"},
    {DataType::kInt16, 'i', 2, "<i2"},
    {DataType::kUInt16, 'u', 2, "<u2"},
    {DataType::kInt32, 'i', 4, "<i4"},
    {DataType::kUInt32, 'u', 4, "<u4"},
    {DataType::kInt64, 'i', 8, "<i8"},
    {DataType::kUInt64, 'u', 8, "<u8"},
    {DataType::kBool, 'b', 1, "|b1"},
}};

const NumpyType* find_numpy_type(DataType dtype) {
  for (const auto& t : kNumpyTypes)
    if (t.dtype == dtype) return &t;
  return nullptr;
}

[[noreturn]] void fail_input(const std::string& source, const std::string& what) {
  fail(ExitCode::kInput, source + ": " + what);
}

// --- Header parsing -------------------------------------------------------------------------

// The header is a Python dict literal. numpy reads it with ast.literal_eval, so accept the
// same syntax (either quote style, any whitespace, trailing commas, Python 2 "3L" ints)
// rather than numpy's exact output.
struct Literal {
  enum class Kind { kString, kInt, kBool, kNone, kSequence, kDict };
  Kind kind = Kind::kNone;
  std::string text;               // kString
  int64_t number = 0;             // kInt
  bool flag = false;              // kBool
  std::vector<Literal> items;     // kSequence elements; kDict values
  std::vector<std::string> keys;  // kDict keys, parallel to items
  bool is_list = false;           // kSequence: [..] rather than (..)

  const Literal* find(std::string_view key) const {
    // Python keeps the last of repeated keys.
    for (size_t i = keys.size(); i-- > 0;)
      if (keys[i] == key) return &items[i];
    return nullptr;
  }
};

class LiteralParser {
 public:
  LiteralParser(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  Literal parse_header() {
    skip_space();
    if (pos_ == text_.size()) fail_input(source_, "malformed header: the header is empty");
    if (peek() != '{') error("expected '{'");
    Literal dict = parse_value(0);
    skip_space();
    if (pos_ != text_.size()) error("unexpected text after the closing '}'");
    return dict;
  }

 private:
  // Deep enough for any real header; stops hostile nesting from exhausting the stack.
  static constexpr int kMaxDepth = 32;

  [[noreturn]] void error(const std::string& what) const {
    fail_input(source_, "malformed header: " + what + " at character " + std::to_string(pos_));
  }

  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  bool consume(char c) {
    skip_space();
    if (peek() != c) return false;
    ++pos_;
    return true;
  }

  Literal parse_value(int depth) {
    if (depth > kMaxDepth) error("nesting too deep");
    skip_space();
    const char c = peek();
    if (c == '\'' || c == '"') return parse_string();
    if (c == '{') return parse_dict(depth);
    if (c == '(') return parse_sequence(')', false, depth);
    if (c == '[') return parse_sequence(']', true, depth);
    if (c == '-' || c == '+' || (c >= '0' && c <= '9')) return parse_int();
    return parse_name();
  }

  Literal parse_string() {
    const char quote = text_[pos_++];
    Literal lit;
    lit.kind = Literal::Kind::kString;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      // Escapes only appear in field names of structured arrays, which are rejected anyway.
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
      lit.text += text_[pos_++];
    }
    if (pos_ >= text_.size()) error("unterminated string");
    ++pos_;
    return lit;
  }

  Literal parse_int() {
    const size_t start = pos_;
    bool negative = false;
    if (peek() == '-' || peek() == '+') negative = text_[pos_++] == '-';
    uint64_t value = 0;
    const char* first = text_.data() + pos_;
    const auto [end, ec] = std::from_chars(first, text_.data() + text_.size(), value);
    if (ec == std::errc::result_out_of_range ||
        value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      pos_ = start;
      error("integer out of range");
    }
    if (ec != std::errc() || end == first) error("expected a number");
    pos_ += static_cast<size_t>(end - first);
    if (peek() == 'L' || peek() == 'l') ++pos_;  // Python 2 long, written by old numpy
    Literal lit;
    lit.kind = Literal::Kind::kInt;
    lit.number = negative ? -static_cast<int64_t>(value) : static_cast<int64_t>(value);
    return lit;
  }

  Literal parse_name() {
    const size_t start = pos_;
    while (pos_ < text_.size() && std::isalnum(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    const std::string_view name = text_.substr(start, pos_ - start);
    Literal lit;
    if (name == "True" || name == "False") {
      lit.kind = Literal::Kind::kBool;
      lit.flag = name == "True";
    } else if (name == "None") {
      lit.kind = Literal::Kind::kNone;
    } else {
      pos_ = start;
      error("unexpected " + (name.empty() ? std::string(1, peek()) : std::string(name)));
    }
    return lit;
  }

  Literal parse_sequence(char close, bool is_list, int depth) {
    ++pos_;
    Literal lit;
    lit.kind = Literal::Kind::kSequence;
    lit.is_list = is_list;
    while (!consume(close)) {
      lit.items.push_back(parse_value(depth + 1));
      if (!consume(',') && peek() != close) error(std::string("expected ',' or '") + close + "'");
    }
    return lit;
  }

  Literal parse_dict(int depth) {
    ++pos_;
    Literal lit;
    lit.kind = Literal::Kind::kDict;
    while (!consume('}')) {
      skip_space();
      if (peek() != '\'' && peek() != '"') error("expected a quoted key");
      lit.keys.push_back(parse_string().text);
      if (!consume(':')) error("expected ':'");
      lit.items.push_back(parse_value(depth + 1));
      if (!consume(',') && peek() != '}') error("expected ',' or '}'");
    }
    return lit;
  }

  std::string_view text_;
  const std::string& source_;
  size_t pos_ = 0;
};

DataType parse_descr(const Literal& descr, const std::string& source) {
  if (descr.kind == Literal::Kind::kSequence)
    fail_input(source, "structured arrays are not supported");
  if (descr.kind != Literal::Kind::kString)
    fail_input(source, "malformed header: 'descr' is not a string");
  const std::string& text = descr.text;
  std::string_view rest = text;
  char order = '=';
  if (!rest.empty() && std::strchr("<>|=", rest.front())) {
    order = rest.front();
    rest.remove_prefix(1);
  }
  if (!rest.empty() && rest.front() == 'O') fail_input(source, "object arrays are not supported");
  // Unstructured void ('|V8') is opaque records, which we can't interpret either.
  if (!rest.empty() && rest.front() == 'V')
    fail_input(source, "structured arrays are not supported");

  const NumpyType* match = nullptr;
  if (rest == "?") {
    match = find_numpy_type(DataType::kBool);
  } else if (rest.size() >= 2) {
    int size = 0;
    const auto [end, ec] = std::from_chars(rest.data() + 1, rest.data() + rest.size(), size);
    if (ec == std::errc() && end == rest.data() + rest.size()) {
      for (const auto& t : kNumpyTypes)
        if (t.kind == rest.front() && t.size == size) match = &t;
    }
  }
  if (!match) fail(ExitCode::kUnsupported, source + ": unsupported dtype '" + text + "'");
  // '<', '=' (native: we only build for little-endian hosts), '|' and no prefix all read
  // as little-endian, which is what numpy itself does on this host. Order is moot for bytes.
  if (order == '>' && match->size > 1)
    fail_input(source, "big-endian arrays are not supported ('" + text + "')");
  return match->dtype;
}

Shape parse_shape(const Literal& shape, const std::string& source) {
  if (shape.kind != Literal::Kind::kSequence)
    fail_input(source, "malformed header: 'shape' is not a tuple");
  Shape dims;
  for (const Literal& d : shape.items) {
    if (d.kind != Literal::Kind::kInt)
      fail_input(source, "malformed header: 'shape' holds a non-integer");
    if (d.number < 0) fail_input(source, "malformed header: negative dimension in 'shape'");
    dims.push_back(d.number);
  }
  return dims;
}

struct Header {
  DataType dtype = DataType::kUndefined;
  Shape shape;
  size_t data_offset = 0;  // where the array data starts
  size_t data_bytes = 0;
};

// Checks the magic and version and returns the offset of the data. Needs the first 12
// bytes of the file (or all of it, if shorter).
size_t data_offset(std::string_view start, const std::string& source) {
  if (start.size() < kMagic.size() || start.substr(0, kMagic.size()) != kMagic)
    fail_input(source, "not a .npy file (bad magic)");
  if (start.size() < kPreambleV1) fail_input(source, "truncated: the file ends inside the header");
  const auto major = static_cast<uint8_t>(start[6]);
  const auto minor = static_cast<uint8_t>(start[7]);
  const auto byte = [&](size_t i) { return static_cast<size_t>(static_cast<uint8_t>(start[i])); };
  if (major == 1) return kPreambleV1 + (byte(8) | byte(9) << 8);
  if (major == 2 || major == 3) {
    if (start.size() < kPreambleV2)
      fail_input(source, "truncated: the file ends inside the header");
    return kPreambleV2 + (byte(8) | byte(9) << 8 | byte(10) << 16 | byte(11) << 24);
  }
  fail(ExitCode::kUnsupported, source + ": unsupported .npy format version " +
                                   std::to_string(major) + "." + std::to_string(minor));
}

// Parses everything up to the data; `bytes` must extend at least to data_offset().
Header parse_header(std::string_view bytes, const std::string& source) {
  Header h;
  h.data_offset = data_offset(bytes, source);
  if (bytes.size() < h.data_offset)
    fail_input(source, "truncated: the file ends inside the header");
  const size_t preamble = static_cast<uint8_t>(bytes[6]) == 1 ? kPreambleV1 : kPreambleV2;
  const Literal dict =
      LiteralParser(bytes.substr(preamble, h.data_offset - preamble), source).parse_header();

  const auto require = [&](std::string_view key) -> const Literal& {
    const Literal* value = dict.find(key);
    if (!value) fail_input(source, "malformed header: no '" + std::string(key) + "' key");
    return *value;
  };
  h.dtype = parse_descr(require("descr"), source);
  const Literal& fortran = require("fortran_order");
  if (fortran.kind != Literal::Kind::kBool)
    fail_input(source, "malformed header: 'fortran_order' is not True or False");
  h.shape = parse_shape(require("shape"), source);
  const int64_t numel = with_context(source, [&] { return shape_numel(h.shape); });

  // With at most one axis longer than 1 the two orders lay out the same bytes.
  const auto long_axes =
      std::count_if(h.shape.begin(), h.shape.end(), [](int64_t d) { return d > 1; });
  if (fortran.flag && numel > 0 && long_axes > 1)
    fail_input(source, "Fortran-order arrays are not supported (save with np.ascontiguousarray)");

  const size_t item = static_cast<size_t>(find_numpy_type(h.dtype)->size);
  if (static_cast<uint64_t>(numel) > std::numeric_limits<size_t>::max() / item)
    fail_input(source, "shape " + shape_to_string(h.shape) + " has too many elements");
  h.data_bytes = static_cast<size_t>(numel) * item;
  return h;
}

void check_data_size(const Header& h, uint64_t available, const std::string& source) {
  // Bytes past the array are ignored, as np.load does (several arrays saved to one stream).
  if (available < h.data_bytes)
    fail_input(source, "truncated: header says " + std::to_string(h.data_bytes) +
                           " bytes of data, file has " + std::to_string(available));
}

// numpy stores bools as one byte of any value; onnxq relies on 0 and 1.
void normalize_bools(Tensor& t) {
  if (t.dtype() != DataType::kBool) return;
  std::byte* p = t.raw_data();
  for (size_t i = 0; i < t.nbytes(); ++i) p[i] = p[i] != std::byte{0} ? std::byte{1} : std::byte{0};
}

Tensor tensor_from(const Header& h, std::string_view data) {
  Tensor t = Tensor::from_bytes(h.dtype, h.shape, data.data(), h.data_bytes);
  normalize_bools(t);
  return t;
}

// --- Writing --------------------------------------------------------------------------------

// Python's repr of a tuple of ints: "()", "(3,)", "(2, 3)".
std::string shape_repr(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + (shape.size() == 1 ? ",)" : ")");
}

void append_le(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
}

// The magic, version, length and header dict exactly as numpy's format.write_array writes them.
std::string npy_header(const Tensor& tensor) {
  if (!tensor.defined()) fail(ExitCode::kInternal, "cannot write an undefined tensor as .npy");
  const NumpyType* type = find_numpy_type(tensor.dtype());
  if (!type) {
    const std::string name(dtype_name(tensor.dtype()));
    fail(ExitCode::kUnsupported,
         name + " tensors cannot be saved as .npy: numpy has no " + name + " type");
  }
  std::string dict = "{'descr': '" + std::string(type->descr) +
                     "', 'fortran_order': False, 'shape': " + shape_repr(tensor.shape()) + ", }";
  if (!tensor.shape().empty()) {
    const size_t digits = std::to_string(tensor.shape().front()).size();
    if (digits < kGrowthAxisMaxDigits) dict.append(kGrowthAxisMaxDigits - digits, ' ');
  }
  const size_t text_len = dict.size() + 1;  // with the closing '\n'
  for (int major : {1, 2}) {
    const size_t preamble = major == 1 ? kPreambleV1 : kPreambleV2;
    // Like numpy, a header that is already aligned still gets a full block of padding.
    const size_t pad = kArrayAlign - (preamble + text_len) % kArrayAlign;
    const size_t header_len = text_len + pad;
    if (major == 1 && header_len > 0xffff) continue;  // numpy falls back to version 2.0
    std::string out(kMagic);
    out += static_cast<char>(major);
    out += '\0';
    append_le(out, header_len, major == 1 ? 2 : 4);
    out += dict;
    out.append(pad, ' ');
    out += '\n';
    return out;
  }
  fail(ExitCode::kInternal, "unreachable: .npy header of " + std::to_string(text_len) + " bytes");
}

std::string read_stream(std::istream& in, const std::string& source) {
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail_input(source, "read failed");
  return bytes;
}

}  // namespace

Tensor parse_npy(std::string_view bytes, const std::string& source_name) {
  const Header h = parse_header(bytes, source_name);
  const std::string_view data = bytes.substr(h.data_offset);
  check_data_size(h, data.size(), source_name);
  return tensor_from(h, data);
}

Tensor read_npy(const std::filesystem::path& path) {
  const std::string source = path.string();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    fail_input(source, err == ENOENT ? std::string("no such file") : std::strerror(err));
  }
  if (S_ISDIR(st.st_mode)) fail_input(source, "is a directory, not a .npy file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_input(source, std::string("cannot open: ") + std::strerror(errno));
  // A pipe has no size to check against: read it whole.
  if (!S_ISREG(st.st_mode)) return parse_npy(read_stream(in, source), source);

  // Read the header, then the data straight into the tensor: arrays can be large.
  const auto file_size = static_cast<uint64_t>(st.st_size);
  const auto read_exact = [&](char* dst, size_t n) {
    in.read(dst, static_cast<std::streamsize>(n));
    if (static_cast<size_t>(in.gcount()) != n) fail_input(source, "read failed");
  };
  std::string head(static_cast<size_t>(std::min<uint64_t>(file_size, kPreambleV2)), '\0');
  read_exact(head.data(), head.size());
  const size_t offset = data_offset(head, source);
  if (offset > file_size) fail_input(source, "truncated: the file ends inside the header");
  head.resize(offset);
  read_exact(head.data() + std::min(offset, kPreambleV2),
             offset > kPreambleV2 ? offset - kPreambleV2 : 0);
  const Header h = parse_header(head, source);
  check_data_size(h, file_size - offset, source);

  Tensor t(h.dtype, h.shape);
  in.seekg(static_cast<std::streamoff>(offset));  // the 12 bytes read first may overshoot
  read_exact(reinterpret_cast<char*>(t.raw_data()), h.data_bytes);
  normalize_bools(t);
  return t;
}

std::string npy_bytes(const Tensor& tensor) {
  std::string out = npy_header(tensor);
  out.append(reinterpret_cast<const char*>(tensor.raw_data()), tensor.nbytes());
  return out;
}

void write_npy(const std::filesystem::path& path, const Tensor& tensor) {
  // Check the type before AtomicFile creates anything on disk.
  const std::string header = with_context(path.string(), [&] { return npy_header(tensor); });
  AtomicFile file(path);
  file.write(header);
  file.write(tensor.raw_data(), tensor.nbytes());
  file.commit();
}

}  // namespace onnxq
