// OpenLTH's CIFAR ResNets (open_lth/models/cifar_resnet.py), named cifar_resnet_<D>[_<W>] with
// depth D = 6n + 2 and width W (default 16): conv (3x3, W filters) bn relu, then three segments
// of n blocks with W, 2W, 4W filters (the first block of segments 2 and 3 has stride 2 and a
// 1x1 stride-2 conv + bn shortcut), global average pooling, fc. Blocks are blocks.0 ...
// blocks.<3n-1> with conv1, bn1, conv2, bn2 and, when the shape changes, shortcut.0 / shortcut.1.
// Convolutions have no bias; fc has one. cifar_resnet_20 has 272,474 parameters.
#pragma once

#include <memory>
#include <string>

#include "nn/module.h"

namespace bmc::models {

struct CifarResnetSpec {
  int depth = 0;  // 0: the name is not a CIFAR ResNet
  int width = 16;
};

CifarResnetSpec parse_cifar_resnet(const std::string& name);

std::unique_ptr<nn::Module> cifar_resnet(const CifarResnetSpec& spec, int num_classes);

}  // namespace bmc::models
