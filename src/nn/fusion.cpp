#include "nn/fusion.h"

#include "nn/batch_norm.h"
#include "nn/layers.h"

namespace bmc::nn {

bool relu_fusable(const Module& relu) {
  return dynamic_cast<const ReLU*>(&relu) && !relu.identity() && !relu.has_transforms(TransformSide::Input) &&
         !relu.has_transforms(TransformSide::Output);
}

bool fuse_relu_into(Module& layer, Module* next) {
  auto* bn = dynamic_cast<BatchNorm2d*>(&layer);
  if (!bn) return false;
  const bool fuse = next && relu_fusable(*next) && !bn->identity() && !bn->has_transforms(TransformSide::Output);
  bn->set_relu_fused(fuse);
  return fuse;
}

}  // namespace bmc::nn
