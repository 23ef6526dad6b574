// If, Loop and Scan: kernels that run planned subgraphs. The subgraph sees the values of
// the enclosing run through io.scope().

#include <cstring>

#include "exec/graph_plan.hpp"
#include "exec/kernel.hpp"
#include "exec/kernels/families.hpp"

namespace onnxq::exec {

namespace {

bool truth(const Tensor& t, const char* what) {
  if (t.dtype() != DataType::kBool || t.numel() != 1)
    fail(ExitCode::kInput, std::string(what) + " must be a single bool, got " +
                               std::string(dtype_name(t.dtype())) + " " + shape_to_string(t.shape()));
  return t.data<bool>()[0];
}

int64_t element_bytes(const Tensor& t) { return dtype_bits(t.dtype()) / 8; }

// Slice `index` of `t` along `axis`, as a new tensor without that axis.
Tensor take_slice(const Tensor& t, int64_t axis, int64_t index) {
  Shape shape = t.shape();
  const int64_t count = shape[axis];
  shape.erase(shape.begin() + axis);
  Tensor out(t.dtype(), shape);
  int64_t outer = 1, inner = element_bytes(t);
  for (int64_t d = 0; d < axis; ++d) outer *= t.shape()[d];
  for (size_t d = axis + 1; d < t.rank(); ++d) inner *= t.shape()[d];
  for (int64_t o = 0; o < outer; ++o)
    std::memcpy(out.raw_data() + o * inner, t.raw_data() + (o * count + index) * inner, inner);
  return out;
}

// Stacks equally shaped tensors along a new `axis`.
Tensor stack(const std::vector<Tensor>& parts, int64_t axis, const char* what) {
  const Tensor& first = parts.front();
  Shape shape = first.shape();
  shape.insert(shape.begin() + axis, static_cast<int64_t>(parts.size()));
  Tensor out(first.dtype(), shape);
  int64_t outer = 1, inner = element_bytes(first);
  for (int64_t d = 0; d < axis; ++d) outer *= first.shape()[d];
  for (size_t d = axis; d < first.rank(); ++d) inner *= first.shape()[d];
  const int64_t count = static_cast<int64_t>(parts.size());
  for (int64_t p = 0; p < count; ++p) {
    if (parts[p].shape() != first.shape() || parts[p].dtype() != first.dtype())
      fail(ExitCode::kInput, std::string(what) + ": iteration " + std::to_string(p) + " produced " +
                                 shape_to_string(parts[p].shape()) + ", earlier ones " + shape_to_string(first.shape()));
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(out.raw_data() + (o * count + p) * inner, parts[p].raw_data() + o * inner, inner);
  }
  return out;
}

// An empty stack when a loop ran zero times: the shape the body declares, with 0 in front.
Tensor empty_stack(const ValueInfo& info) {
  Shape shape{0};
  for (int64_t d : info.shape) shape.push_back(d < 0 ? 0 : d);
  return Tensor(info.dtype == DataType::kUndefined ? DataType::kFloat : info.dtype, shape);
}

std::unique_ptr<OpKernel> make_if(const NodeInfo& info) {
  auto then_plan = info.attr_graph("then_branch");
  auto else_plan = info.attr_graph("else_branch");
  return make_kernel([then_plan, else_plan](KernelIO& io) {
    const auto& plan = truth(io.input(0), "If condition") ? then_plan : else_plan;
    auto results = plan->run({}, io.scope(), nullptr, io.threads());
    if (results.size() != io.num_outputs())
      fail(ExitCode::kInput, "the branch has " + std::to_string(results.size()) + " outputs, the node " +
                                 std::to_string(io.num_outputs()));
    for (size_t i = 0; i < results.size(); ++i) io.set_output(i, std::move(results[i]));
  });
}

std::unique_ptr<OpKernel> make_loop(const NodeInfo& info) {
  auto body = info.attr_graph("body");
  const size_t carried = info.num_inputs() >= 2 ? info.num_inputs() - 2 : 0;
  if (body->inputs().size() != carried + 2)
    info.invalid("the body has " + std::to_string(body->inputs().size()) + " inputs, expected " +
                 std::to_string(carried + 2));
  if (body->outputs().size() < carried + 1) info.invalid("the body has too few outputs");
  const size_t scans = body->outputs().size() - 1 - carried;
  return make_kernel([body, carried, scans](KernelIO& io) {
    int64_t max_trip = -1;
    if (io.has_input(0)) {
      const Tensor& m = io.input(0);
      if (m.dtype() != DataType::kInt64 || m.numel() != 1) fail(ExitCode::kInput, "Loop trip count must be one int64");
      max_trip = m.data<int64_t>()[0];
    }
    bool cond = io.has_input(1) ? truth(io.input(1), "Loop condition") : true;
    std::vector<Tensor> state;
    for (size_t i = 0; i < carried; ++i) state.push_back(io.input(2 + i));
    std::vector<std::vector<Tensor>> scan_parts(scans);
    for (int64_t iter = 0; (max_trip < 0 || iter < max_trip) && cond; ++iter) {
      std::vector<Tensor> in;
      in.push_back(Tensor::from_vector<int64_t>({}, {iter}));
      Tensor c(DataType::kBool, {});
      c.data<bool>()[0] = cond;
      in.push_back(c);
      for (auto& s : state) in.push_back(s);
      auto out = body->run(std::move(in), io.scope(), nullptr, io.threads());
      cond = truth(out[0], "Loop body condition");
      for (size_t i = 0; i < carried; ++i) state[i] = std::move(out[1 + i]);
      for (size_t k = 0; k < scans; ++k) scan_parts[k].push_back(std::move(out[1 + carried + k]));
    }
    for (size_t i = 0; i < carried; ++i) io.set_output(i, std::move(state[i]));
    for (size_t k = 0; k < scans; ++k)
      io.set_output(carried + k, scan_parts[k].empty() ? empty_stack(body->outputs()[1 + carried + k])
                                                       : stack(scan_parts[k], 0, "Loop scan output"));
  });
}

std::unique_ptr<OpKernel> make_scan(const NodeInfo& info) {
  auto body = info.attr_graph("body");
  const int64_t num_scan = info.required_int("num_scan_inputs");
  const int64_t states = static_cast<int64_t>(info.num_inputs()) - num_scan;
  if (states < 0) info.invalid("num_scan_inputs exceeds the inputs");
  const int64_t scan_outs = static_cast<int64_t>(body->outputs().size()) - states;
  auto per_input = [&](const char* name, int64_t n) {
    auto v = info.attr_ints(name);
    if (v.empty()) v.assign(static_cast<size_t>(n), 0);
    if (static_cast<int64_t>(v.size()) != n) info.invalid(std::string(name) + " has the wrong length");
    return v;
  };
  const auto in_axes = per_input("scan_input_axes", num_scan);
  const auto in_dirs = per_input("scan_input_directions", num_scan);
  const auto out_axes = per_input("scan_output_axes", scan_outs);
  const auto out_dirs = per_input("scan_output_directions", scan_outs);
  return make_kernel([=](KernelIO& io) {
    std::vector<Tensor> state;
    for (int64_t i = 0; i < states; ++i) state.push_back(io.input(i));
    std::vector<int64_t> axes(num_scan);
    int64_t length = -1;
    for (int64_t j = 0; j < num_scan; ++j) {
      const Tensor& x = io.input(states + j);
      int64_t a = in_axes[j] < 0 ? in_axes[j] + static_cast<int64_t>(x.rank()) : in_axes[j];
      if (a < 0 || a >= static_cast<int64_t>(x.rank())) fail(ExitCode::kInput, "Scan input axis out of range");
      axes[j] = a;
      if (length >= 0 && x.shape()[a] != length) fail(ExitCode::kInput, "Scan inputs differ in sequence length");
      length = x.shape()[a];
    }
    std::vector<std::vector<Tensor>> parts(scan_outs);
    for (int64_t t = 0; t < length; ++t) {
      std::vector<Tensor> in = state;
      for (int64_t j = 0; j < num_scan; ++j)
        in.push_back(take_slice(io.input(states + j), axes[j], in_dirs[j] ? length - 1 - t : t));
      auto out = body->run(std::move(in), io.scope(), nullptr, io.threads());
      for (int64_t i = 0; i < states; ++i) state[i] = std::move(out[i]);
      for (int64_t k = 0; k < scan_outs; ++k) parts[k].push_back(std::move(out[states + k]));
    }
    for (int64_t i = 0; i < states; ++i) io.set_output(i, std::move(state[i]));
    for (int64_t k = 0; k < scan_outs; ++k) {
      if (parts[k].empty()) {
        io.set_output(states + k, empty_stack(body->outputs()[states + k]));
        continue;
      }
      if (out_dirs[k]) std::reverse(parts[k].begin(), parts[k].end());
      const int64_t rank = static_cast<int64_t>(parts[k].front().rank()) + 1;
      const int64_t a = out_axes[k] < 0 ? out_axes[k] + rank : out_axes[k];
      if (a < 0 || a >= rank) fail(ExitCode::kInput, "Scan output axis out of range");
      io.set_output(states + k, stack(parts[k], a, "Scan output"));
    }
  });
}

}  // namespace

void register_control_flow(KernelRegistry& registry) {
  registry.add("If", make_if, 1);
  registry.add("Loop", make_loop, 1);
  registry.add("Scan", make_scan, 9);
}

}  // namespace onnxq::exec
