// The typed layer graph: one walk over a model that names each node's role, in execution order,
// with the nodes each one reads. Every compression pass selects layers from it (PTQ's wrappers,
// SPARQ's conv inputs inside blocks, BSQ's activation quantizers after relu1 and after the add,
// LatticeQ's per-layer and per-block reconstruction) instead of matching type names or
// inferring structure from statistics. Containers describe their children (Module::describe);
// ReLUs applied inside a container (OpenLTH's LeNet stack, the ReLUs of a residual block) are
// nodes too, named "<container>.relu<k>" and "<block>.relu_out".
#pragma once

#include <string>
#include <vector>

namespace bmc::nn {

class Module;

enum class NodeRole {
  ParamLayer,  // Conv2d, Linear
  Activation,  // ReLU
  BatchNorm,
  Pool,        // max, average, global average
  Reshape,     // Flatten
  Add,         // a residual block's sum of main path and shortcut (no module of its own)
  Other,
};
const char* node_role_name(NodeRole role);

struct GraphNode {
  std::string name;        // dotted module name (the state_dict prefix of its parameters)
  NodeRole role = NodeRole::Other;
  Module* module = nullptr;  // null for Add
  std::vector<int> inputs;   // nodes read (-1: the network input)
  std::vector<int> consumers;
  std::string block;       // the residual block the node belongs to ("" outside blocks)
  bool shortcut = false;   // on a block's shortcut path
  bool stem = false;       // the first parameter layer, outside every block
  bool classifier = false; // the last parameter layer of the network
};

class GraphBuilder {
 public:
  // Adds a node reading `inputs`; returns its index.
  int add(const std::string& name, NodeRole role, Module* module, std::vector<int> inputs);
  // Scope of a residual block / of its shortcut path, for the nodes added meanwhile.
  void enter_block(const std::string& name) { block_ = name; }
  void leave_block() { block_.clear(); }
  void set_shortcut(bool on) { shortcut_ = on; }
  std::vector<GraphNode> finish();

 private:
  std::vector<GraphNode> nodes_;
  std::string block_;
  bool shortcut_ = false;
};

class LayerGraph {
 public:
  explicit LayerGraph(Module& net);
  const std::vector<GraphNode>& nodes() const { return nodes_; }
  const GraphNode& node(int i) const { return nodes_.at(static_cast<size_t>(i)); }
  int output() const { return output_; }
  // Index of the node named `name`, or -1.
  int find(const std::string& name) const;
  // Indices of the nodes with this role, in execution order.
  std::vector<int> with_role(NodeRole role) const;
  // The single consumer of node i when it has exactly one, else -1.
  int only_consumer(int i) const;

 private:
  std::vector<GraphNode> nodes_;
  int output_ = -1;
};

}  // namespace bmc::nn
