// torchvision's ImageNet ResNets (v1.5: the stride sits on the 3x3 convolution of a Bottleneck),
// resnet18/34 (BasicBlock) and resnet50/101 (Bottleneck), with torchvision's state_dict keys:
// conv1 (7x7 stride 2 padding 3) bn1 relu maxpool (3x3 stride 2 padding 1), layer1..layer4 of
// blocks layer<i>.<j>.conv1/bn1/conv2/bn2[/conv3/bn3] and downsample.0 / downsample.1 (1x1 conv +
// bn) where the shape changes, avgpool, fc. resnet18: 11,689,512 parameters; resnet50: 25,557,032.
#pragma once

#include <memory>
#include <string>

#include "nn/module.h"

namespace bmc::models {

// 18, 34, 50 or 101 for resnet18 ... resnet101; 0 if the name is none of them.
int parse_imagenet_resnet(const std::string& name);

std::unique_ptr<nn::Module> imagenet_resnet(int depth, int num_classes);

}  // namespace bmc::models
