// Parsing of model names such as mnist_lenet_300_100 or cifar_resnet_20_16.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bmc::models {

// The '_'-separated positive integers after `prefix`, or empty if name does not start with the
// prefix or any field is not a positive decimal integer (as OpenLTH's is_valid_model_name).
std::vector<int64_t> positive_fields_after(const std::string& name, const std::string& prefix);

}  // namespace bmc::models
