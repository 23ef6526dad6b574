// Einsum by direct summation over every label: each operand reads through per-label
// strides (repeated labels in one term add their strides, giving diagonals; broadcast
// ellipsis dims get stride 0). Simple and general; it is not on the hot path of the
// models we target.

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "core/parallel.hpp"
#include "exec/dispatch.hpp"
#include "exec/kernel.hpp"
#include "exec/kernels/families.hpp"

namespace onnxq::exec {

namespace {

// Labels are letters; ellipsis dims become labels 52 + k (k counted from the left of the
// broadcast ellipsis shape).
constexpr int kEllipsisBase = 52;

int label_of(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= 'A' && c <= 'Z') return 26 + (c - 'A');
  return -1;
}

struct Term {
  std::vector<int> labels;  // -1 marks where the ellipsis stands
  bool ellipsis = false;
};

Term parse_term(const std::string& s, const std::string& eq) {
  Term t;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.compare(i, 3, "...") == 0) {
      if (t.ellipsis) fail(ExitCode::kInput, "Einsum: two ellipses in one term of '" + eq + "'");
      t.ellipsis = true;
      t.labels.push_back(-1);
      i += 2;
      continue;
    }
    const int l = label_of(s[i]);
    if (l < 0) fail(ExitCode::kInput, "Einsum: bad character in equation '" + eq + "'");
    t.labels.push_back(l);
  }
  return t;
}

struct Plan {
  std::vector<int64_t> out_shape;
  std::vector<int> out_labels, sum_labels;
  std::map<int, int64_t> dims;
  // strides[operand][label]
  std::vector<std::map<int, int64_t>> strides;
};

Plan make_plan(const std::string& equation, const std::vector<const Tensor*>& ins) {
  std::string eq;
  for (char c : equation)
    if (c != ' ') eq += c;
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  std::vector<Term> terms;
  for (size_t start = 0;;) {
    const size_t comma = lhs.find(',', start);
    terms.push_back(parse_term(lhs.substr(start, comma - start), equation));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (terms.size() != ins.size())
    fail(ExitCode::kInput, "Einsum: equation has " + std::to_string(terms.size()) + " terms for " +
                               std::to_string(ins.size()) + " inputs");
  Plan p;
  p.strides.resize(ins.size());
  int64_t ell_rank = 0;
  std::vector<int64_t> ell_shape;
  // Ellipsis dims per operand, right-aligned against the broadcast ellipsis shape.
  std::vector<std::vector<int64_t>> ell_dims(ins.size());
  for (size_t k = 0; k < ins.size(); ++k) {
    const int64_t named = static_cast<int64_t>(terms[k].labels.size()) - (terms[k].ellipsis ? 1 : 0);
    const int64_t rank = static_cast<int64_t>(ins[k]->rank());
    if ((!terms[k].ellipsis && rank != named) || rank < named)
      fail(ExitCode::kInput, "Einsum: term " + std::to_string(k) + " does not match input rank " + std::to_string(rank));
    ell_rank = std::max(ell_rank, rank - named);
  }
  ell_shape.assign(static_cast<size_t>(ell_rank), 1);
  for (size_t k = 0; k < ins.size(); ++k) {
    const Shape& s = ins[k]->shape();
    std::vector<int64_t> stride(s.size(), 1);
    for (size_t d = s.size(); d-- > 1;) stride[d - 1] = stride[d] * s[d];
    size_t axis = 0;
    for (int l : terms[k].labels) {
      if (l >= 0) {
        auto [it, fresh] = p.dims.emplace(l, s[axis]);
        if (!fresh && it->second != s[axis])
          fail(ExitCode::kInput, "Einsum: label dimension mismatch in '" + equation + "'");
        p.strides[k][l] += stride[axis];
        ++axis;
        continue;
      }
      const int64_t n = static_cast<int64_t>(s.size()) - (static_cast<int64_t>(terms[k].labels.size()) - 1);
      for (int64_t e = 0; e < n; ++e, ++axis) {
        const int64_t slot = ell_rank - n + e;
        const int64_t dim = s[axis];
        int64_t& b = ell_shape[static_cast<size_t>(slot)];
        if (dim != 1 && b != 1 && dim != b) fail(ExitCode::kInput, "Einsum: ellipsis dims do not broadcast");
        if (dim != 1) {
          b = dim;
          p.strides[k][kEllipsisBase + static_cast<int>(slot)] += stride[axis];
        }
      }
    }
  }
  for (int64_t e = 0; e < ell_rank; ++e) p.dims[kEllipsisBase + static_cast<int>(e)] = ell_shape[static_cast<size_t>(e)];
  if (arrow != std::string::npos) {
    const Term out = parse_term(eq.substr(arrow + 2), equation);
    for (int l : out.labels) {
      if (l < 0) {
        for (int64_t e = 0; e < ell_rank; ++e) p.out_labels.push_back(kEllipsisBase + static_cast<int>(e));
      } else {
        if (!p.dims.count(l)) fail(ExitCode::kInput, "Einsum: output label not in any input of '" + equation + "'");
        p.out_labels.push_back(l);
      }
    }
  } else {
    // Implicit output: ellipsis dims, then labels used exactly once, alphabetically.
    for (int64_t e = 0; e < ell_rank; ++e) p.out_labels.push_back(kEllipsisBase + static_cast<int>(e));
    std::map<int, int> uses;
    for (const Term& t : terms)
      for (int l : t.labels)
        if (l >= 0) ++uses[l];
    for (auto [l, n] : uses)
      if (n == 1) p.out_labels.push_back(l);
  }
  for (auto [l, d] : p.dims)
    if (std::find(p.out_labels.begin(), p.out_labels.end(), l) == p.out_labels.end()) p.sum_labels.push_back(l);
  for (int l : p.out_labels) p.out_shape.push_back(p.dims[l]);
  return p;
}

template <class T>
void evaluate(const Plan& p, const std::vector<const Tensor*>& ins, Tensor& y, int threads) {
  const size_t k_count = ins.size();
  auto stride_table = [&](const std::vector<int>& labels) {
    std::vector<std::vector<int64_t>> t(labels.size(), std::vector<int64_t>(k_count, 0));
    for (size_t i = 0; i < labels.size(); ++i)
      for (size_t k = 0; k < k_count; ++k) {
        auto it = p.strides[k].find(labels[i]);
        if (it != p.strides[k].end()) t[i][k] = it->second;
      }
    return t;
  };
  const auto out_strides = stride_table(p.out_labels), sum_strides = stride_table(p.sum_labels);
  std::vector<int64_t> sum_dims;
  for (int l : p.sum_labels) sum_dims.push_back(p.dims.at(l));
  int64_t sum_count = 1;
  for (int64_t d : sum_dims) sum_count *= d;
  std::vector<const T*> data;
  for (const Tensor* t : ins) data.push_back(t->data<T>());
  T* py = y.data<T>();
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
  constexpr int64_t kPerChunk = 256;
  const int64_t total = y.numel();
  parallel_for((total + kPerChunk - 1) / kPerChunk, threads, [&](int64_t chunk) {
    for (int64_t o = chunk * kPerChunk; o < std::min(total, (chunk + 1) * kPerChunk); ++o) {
      std::vector<int64_t> base(k_count, 0), idx(sum_dims.size(), 0), off(k_count);
      for (size_t i = p.out_labels.size(), rem = static_cast<size_t>(o); i-- > 0;) {
        const int64_t v = static_cast<int64_t>(rem % static_cast<size_t>(p.out_shape[i]));
        rem /= static_cast<size_t>(p.out_shape[i]);
        for (size_t k = 0; k < k_count; ++k) base[k] += v * out_strides[i][k];
      }
      Acc acc = Acc(0);
      for (int64_t s = 0; s < sum_count; ++s) {
        off = base;
        for (size_t i = 0; i < sum_dims.size(); ++i)
          for (size_t k = 0; k < k_count; ++k) off[k] += idx[i] * sum_strides[i][k];
        Acc prod = Acc(1);
        for (size_t k = 0; k < k_count; ++k) prod *= static_cast<Acc>(data[k][off[k]]);
        acc += prod;
        for (size_t i = sum_dims.size(); i-- > 0;) {
          if (++idx[i] < sum_dims[i]) break;
          idx[i] = 0;
        }
      }
      py[o] = static_cast<T>(acc);
    }
  });
}

std::unique_ptr<OpKernel> make_einsum(const NodeInfo& info) {
  const std::string equation = info.attr_string("equation", "");
  if (equation.empty()) info.invalid("missing required attribute 'equation'");
  return make_kernel([equation](KernelIO& io) {
    std::vector<const Tensor*> ins;
    for (size_t i = 0; i < io.num_inputs(); ++i) ins.push_back(&io.input(i));
    if (ins.empty()) fail(ExitCode::kInput, "Einsum: needs at least one input");
    for (const Tensor* t : ins)
      if (t->dtype() != ins[0]->dtype()) fail(ExitCode::kInput, "Einsum: inputs have different element types");
    const Plan p = make_plan(equation, ins);
    Tensor y(ins[0]->dtype(), p.out_shape);
    dispatch_numeric(y.dtype(), [&]<class T>(T) { evaluate<T>(p, ins, y, io.threads()); }, "Einsum");
    io.set_output(0, std::move(y));
  });
}

}  // namespace

void register_einsum(KernelRegistry& registry) { registry.add("Einsum", make_einsum, 12); }

}  // namespace onnxq::exec
