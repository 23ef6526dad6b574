#include "graph/graph_uses.hpp"

#include <gtest/gtest.h>

namespace onnxq {
namespace {

onnx::NodeProto* add_node(onnx::GraphProto& g, const std::string& op, std::vector<std::string> in,
                          std::vector<std::string> out) {
  auto* n = g.add_node();
  n->set_op_type(op);
  for (auto& i : in) n->add_input(i);
  for (auto& o : out) n->add_output(o);
  return n;
}

// x -> Relu -> r; If(cond) whose then-branch reads r from outside and whose else-branch
// defines its own r (shadowing the outer one); graph output y = Add(r, r).
onnx::GraphProto graph_with_branches() {
  onnx::GraphProto g;
  add_node(g, "Relu", {"x"}, {"r"});
  auto* branch = add_node(g, "If", {"cond"}, {"b"});
  auto* then_attr = branch->add_attribute();
  then_attr->set_name("then_branch");
  then_attr->set_type(onnx::AttributeProto::GRAPH);
  add_node(*then_attr->mutable_g(), "Neg", {"r"}, {"t"});
  then_attr->mutable_g()->add_output()->set_name("t");
  auto* else_attr = branch->add_attribute();
  else_attr->set_name("else_branch");
  else_attr->set_type(onnx::AttributeProto::GRAPH);
  add_node(*else_attr->mutable_g(), "Constant", {}, {"r"});
  else_attr->mutable_g()->add_output()->set_name("r");
  add_node(g, "Add", {"r", "r"}, {"y"});
  g.add_output()->set_name("y");
  return g;
}

TEST(ReadCounts, CountsEveryInputSlotAndSubgraphReads) {
  const auto reads = read_counts(graph_with_branches(), false);
  EXPECT_EQ(reads.at("r"), 3);  // the then-branch's Neg and both slots of Add
  EXPECT_EQ(reads.at("x"), 1);
  EXPECT_EQ(reads.count("y"), 0u);
}

TEST(ReadCounts, CountsGraphOutputsOnlyWhenAsked) {
  const auto with_outputs = read_counts(graph_with_branches(), true);
  EXPECT_EQ(with_outputs.at("y"), 1);
  EXPECT_EQ(with_outputs.at("t"), 1);  // a subgraph's output is read by its owner
}

TEST(ReplaceUses, RenamesOuterReadsButLeavesAShadowingSubgraphAlone) {
  auto g = graph_with_branches();
  EXPECT_EQ(replace_uses(g, "r", "r2"), 3);
  EXPECT_EQ(g.node(1).attribute(0).g().node(0).input(0), "r2");
  EXPECT_EQ(g.node(1).attribute(1).g().output(0).name(), "r");  // the else-branch's own r
  EXPECT_EQ(g.node(2).input(0), "r2");
  EXPECT_EQ(g.node(2).input(1), "r2");
}

TEST(ReplaceUses, IsRefusedWhenASubgraphReadingTheValueDefinesTheNewName) {
  auto g = graph_with_branches();
  EXPECT_FALSE(can_replace_uses(g, "r", "t"));  // the then-branch defines t itself
  EXPECT_TRUE(can_replace_uses(g, "r", "fresh"));
}

}  // namespace
}  // namespace onnxq
