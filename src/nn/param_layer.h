// What every parameter layer (Conv2d, Linear) offers compression passes: its weight and optional
// bias, whose parametrization chains they attach to. The layer graph gives these nodes the role
// NodeRole::ParamLayer.
#pragma once

#include "nn/module.h"

namespace bmc::nn {

class ParamLayer : public Module {
 public:
  using Module::Module;
  NodeRole graph_role() const override { return NodeRole::ParamLayer; }
  virtual Parameter& weight() = 0;
  virtual Parameter* bias() = 0;
};

}  // namespace bmc::nn
