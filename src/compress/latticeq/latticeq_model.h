// LatticeQ over a whole model (../shared/docs/algorithms/latticeq.md 2.2-2.9): the plan of every
// parameter layer (lattice dimension, precision, shared or per-channel bases, the search schedule,
// bias correction, from the first- and last-layer rules), the search of each layer, the
// parametrizations and activation quantizers that make the model compute with the result, and
// the size of the quantized model in bits.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "compress/latticeq/lattice_activations.h"
#include "compress/latticeq/lattice_search.h"
#include "nn/model.h"

namespace bmc::compress {

struct LatticeqOptions {
  int bits_w = 4;
  bool quantize_basis = false;
  int bits_b = 8;
  bool per_layer = false;  // one basis per layer instead of one per output channel
  int agreg = 2;           // n for 1x1 convolutions and linear layers
  int steps = 80;
  int restarts = 5;
  bool bias_corr = false;
  uint64_t seed = 1;
  bool quant_a = false;
  int bits_a = 8;
  bool per_channel_a = false;  // quantiles per input channel instead of the layer max
};

struct LatticeLayerPlan {
  std::string name;  // the parameter ("blocks.0.conv1.weight")
  nn::Parameter* weight = nullptr;
  LatticeLayerKind kind = LatticeLayerKind::Other;
  bool conv = false;
  LatticeSearchShape shape;
  LatticeSchedule schedule;
  bool bias_correct = false;  // in the forward (convolutions with --bias-corr)
  uint32_t stream = 0;        // the layer's Philox stream
};

std::vector<LatticeLayerPlan> plan_latticeq(nn::Model& model, const LatticeqOptions& options);

// The layer's weights divided by max |W|, on the model's device.
Tensor normalized_weights(const LatticeLayerPlan& plan);

// Makes the layer compute with the lattice of `bases` (replacing an earlier lattice link).
void attach_lattice_weight(const LatticeLayerPlan& plan, const std::vector<float>& bases);

// Input quantizers: every convolution but the first at bits_a (per layer: max |x|; or per channel),
// the classifier at 8 bits (max x), other linear layers at bits_a, every pool at 8 bits (max |x|).
// They calibrate on the first forward. Returns them by module name.
std::map<std::string, LatticeActQuant*> attach_lattice_activations(nn::Model& model, const LatticeqOptions& options);

struct LatticeqSize {
  int64_t coordinate_bits = 0;  // b per quantized weight
  int64_t basis_bits = 0;       // n^2 entries per basis at bits_b (32 unquantized), plus one FP32 max when quantized
  int64_t scale_bits = 0;       // the FP32 layer scale d of every layer
  int64_t float_bits = 0;       // every other parameter (biases, batch-norm) in FP32
  int64_t fp32_bits = 0;        // the whole model in FP32
  int64_t total() const { return coordinate_bits + basis_bits + scale_bits + float_bits; }
};
LatticeqSize latticeq_size(nn::Model& model, const std::vector<LatticeLayerPlan>& plans);

nlohmann::json plan_json(const LatticeLayerPlan& plan);

}  // namespace bmc::compress
