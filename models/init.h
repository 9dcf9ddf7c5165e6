// OpenLTH's initialisation (open_lth/models/{initializers,bn_initializers}.py applied on top of
// PyTorch's layer defaults), drawn from the shared Philox RNG on the host and copied into the
// model's arena, so the same seed gives identical weights on every device.
//   initializer (conv / linear weights, fan_in = inputs per output unit, gain sqrt(2)):
//     kaiming_normal  N(0, 2 / fan_in)        kaiming_uniform  U(-sqrt(6 / fan_in), +sqrt(6 / fan_in))
//     binary          sign(w) * std(w) of a kaiming_normal draw (std with Bessel's correction)
//   bn_initializer (BatchNorm weight / bias):
//     uniform  U[0, 1) / 0     fixed  1 / 0     oneone  1 / 1     positivenegative  U[-1, 1) / 0
//   conv / linear biases keep PyTorch's default U(-1/sqrt(fan_in), 1/sqrt(fan_in)); BatchNorm
//   buffers are reset (running_mean 0, running_var 1, num_batches_tracked 0).
// Parameter i (in named_parameters order) draws from Philox stream i of `seed`.
#pragma once

#include <cstdint>
#include <string>

#include "nn/model.h"

namespace bmc::models {

void initialize(nn::Model& model, uint64_t seed, const std::string& initializer = "kaiming_normal",
                const std::string& bn_initializer = "uniform");

}  // namespace bmc::models
