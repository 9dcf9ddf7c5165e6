// Storage size of a pruned, quantized model, as the QLTH table counts it:
//   conv / linear weights: (unpruned weights) x (weight bits), plus a 1-bit-per-weight bitmap
//     for each weight tensor that has pruned entries (the positions of the kept weights);
//   biases: (accumulator bits) each (Distiller stores them as 32-bit codes);
//   other parameters (batch-norm): 32 bits each (left in float), except for batch norms folded
//     into the layer before them: their parameters are gone and the layer's bias (its own, or
//     the one folding gives it) counts (accumulator bits) per output channel;
//   quantization parameters: 2 x 32 bits (scale, zero point) per weight scale (per tensor or per
//     output channel).
// Activation scales (a few per layer) are not counted.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "nn/model.h"

namespace bmc::compress {

struct ModelSize {
  int64_t weight_bits = 0, mask_bits = 0, bias_bits = 0, other_bits = 0, scale_bits = 0;
  int64_t total() const { return weight_bits + mask_bits + bias_bits + other_bits + scale_bits; }
};

// Kept weights are read from the masks. folded_norms: batch norm name -> the layer it was folded
// into (PostTrainQuantizer::folded_norms()).
ModelSize quantized_model_size(nn::Model& model, int bits_weights, int bits_accum, bool per_channel,
                               const std::map<std::string, std::string>& folded_norms = {});
// The same model in float32, dense: 32 bits per parameter.
int64_t float_model_bits(const nn::Model& model);

}  // namespace bmc::compress
