#include "nn/graph.h"

#include "core/error.h"
#include "nn/module.h"

namespace bmc::nn {

const char* node_role_name(NodeRole role) {
  switch (role) {
    case NodeRole::ParamLayer: return "param_layer";
    case NodeRole::Activation: return "activation";
    case NodeRole::BatchNorm: return "batch_norm";
    case NodeRole::Pool: return "pool";
    case NodeRole::Reshape: return "reshape";
    case NodeRole::Add: return "add";
    case NodeRole::Other: return "other";
  }
  return "?";
}

int GraphBuilder::add(const std::string& name, NodeRole role, Module* module, std::vector<int> inputs) {
  GraphNode n;
  n.name = name;
  n.role = role;
  n.module = module;
  n.inputs = std::move(inputs);
  n.block = block_;
  n.shortcut = shortcut_;
  nodes_.push_back(std::move(n));
  return static_cast<int>(nodes_.size()) - 1;
}

std::vector<GraphNode> GraphBuilder::finish() {
  for (size_t i = 0; i < nodes_.size(); ++i)
    for (const int in : nodes_[i].inputs)
      if (in >= 0) nodes_[static_cast<size_t>(in)].consumers.push_back(static_cast<int>(i));
  int first = -1, last = -1;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].role != NodeRole::ParamLayer) continue;
    if (first < 0) first = static_cast<int>(i);
    last = static_cast<int>(i);
  }
  if (first >= 0 && nodes_[static_cast<size_t>(first)].block.empty()) nodes_[static_cast<size_t>(first)].stem = true;
  if (last >= 0 && nodes_[static_cast<size_t>(last)].block.empty()) nodes_[static_cast<size_t>(last)].classifier = true;
  return std::move(nodes_);
}

LayerGraph::LayerGraph(Module& net) {
  GraphBuilder b;
  output_ = net.describe(b, "", -1);
  nodes_ = b.finish();
}

int LayerGraph::find(const std::string& name) const {
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].name == name) return static_cast<int>(i);
  return -1;
}

std::vector<int> LayerGraph::with_role(NodeRole role) const {
  std::vector<int> out;
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].role == role) out.push_back(static_cast<int>(i));
  return out;
}

int LayerGraph::only_consumer(int i) const {
  const auto& c = node(i).consumers;
  return c.size() == 1 ? c[0] : -1;
}

}  // namespace bmc::nn
