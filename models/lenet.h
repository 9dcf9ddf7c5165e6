// MNIST LeNets.
//  mnist_lenet_<h1>_<h2>...: OpenLTH's fully connected LeNet (open_lth/models/mnist_lenet.py): the
//    28x28 input flattened to 784, hidden Linear layers fc_layers.0, fc_layers.1, ... each followed
//    by a ReLU, and the output layer fc. mnist_lenet_300_100 has 266,610 parameters.
//  mnist_lenet5: the classic convolutional LeNet-5 (not in OpenLTH; bmc's names): conv1 (6@5x5,
//    padding 2) ReLU maxpool 2x2, conv2 (16@5x5) ReLU maxpool 2x2, fc1 (400 -> 120) ReLU,
//    fc2 (120 -> 84) ReLU, fc3 (84 -> classes). 61,706 parameters for 10 classes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nn/module.h"

namespace bmc::models {

// The hidden sizes of an mnist_lenet_<h1>_<h2>... name; empty if the name is not of that family.
std::vector<int64_t> parse_mnist_lenet(const std::string& name);

std::unique_ptr<nn::Module> mnist_lenet(const std::vector<int64_t>& hidden, int num_classes);
std::unique_ptr<nn::Module> mnist_lenet5(int num_classes);

}  // namespace bmc::models
