#include "nn/fusion.h"

#include "nn/batch_norm.h"
#include "nn/conv.h"
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

int fuse_into_convolution(Module& layer, Module* next, Module* after, const Tensor& x) {
  auto* conv = dynamic_cast<Conv2d*>(&layer);
  if (!conv) return 0;
  auto* bn = dynamic_cast<BatchNorm2d*>(next);
  const bool fuse = bn && !conv->training() && !bn->training() && !x.device().is_cuda() && !conv->kernel() &&
                    !conv->identity() && !conv->has_transforms(TransformSide::Output) && !bn->identity() &&
                    !bn->has_transforms(TransformSide::Input) && !bn->has_transforms(TransformSide::Output);
  if (!fuse) {
    conv->set_epilogue(std::nullopt);
    return 0;
  }
  const bool relu = after && relu_fusable(*after);
  conv->set_epilogue(bn->eval_epilogue(relu));
  return relu ? 2 : 1;
}

bool fuse_residual_into(Module& layer, const Tensor& residual, const Module& relu) {
  auto* conv = dynamic_cast<Conv2d*>(&layer);
  if (!conv || !conv->epilogue_takes_residual() || !relu_fusable(relu) || residual.device().is_cuda()) return false;
  conv->add_residual_to_epilogue(residual);
  return true;
}

}  // namespace bmc::nn
