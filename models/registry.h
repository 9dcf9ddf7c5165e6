// Model names -> networks. Valid names:
//   mnist_lenet_<h1>[_<h2>...]   OpenLTH's fully connected LeNet (e.g. mnist_lenet_300_100)
//   mnist_lenet5                 convolutional LeNet-5
//   cifar_resnet_<D>[_<W>]       OpenLTH's CIFAR ResNet, D = 6n+2 (e.g. cifar_resnet_20)
//   resnet18, resnet34, resnet50, resnet101   torchvision's ImageNet ResNets
#pragma once

#include <memory>
#include <string>

#include "nn/model.h"

namespace bmc::models {

enum class ModelFamily { MnistLenet, MnistLenet5, CifarResnet, ImagenetResnet };

// Throws bmc::Error listing the valid names for an unknown model.
ModelFamily model_family(const std::string& name);

// The network with its parameters zero and BatchNorm statistics at PyTorch's defaults; call
// models::initialize() for OpenLTH's initial weights. num_classes 0: the dataset's default
// (10, or 1000 for ImageNet ResNets).
std::unique_ptr<nn::Model> make_model(const std::string& name, Device device, int num_classes = 0);

}  // namespace bmc::models
