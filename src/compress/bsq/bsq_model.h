// BSQ over a whole model (../shared/docs/algorithms/bsq.md): which parameters get bit planes (the
// weights and biases of every parameter layer off the shortcut path: upstream keeps ResNet's 1x1
// downsample convs in float and out of the counts), the regularizer weights, re-quantization and
// precision adjustment of every layer, the bit accounting, and the bit-form and float files.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "compress/bsq/bit_planes.h"
#include "compress/bsq/bsq_activations.h"
#include "compress/bsq/bsq_latent.h"
#include "nn/model.h"

namespace bmc::compress {

// A precision per parameter name (the scheme a BSQ run found; 0: a layer it emptied).
using BsqScheme = std::map<std::string, int>;

struct BsqLayer {
  nn::Parameter* param = nullptr;
  BitPlanes* planes = nullptr;   // BSQ training and conversion
  BsqLatent* latent = nullptr;   // fine-tuning
  // Current precision; 0 for a 1-bit all-zero layer once exported.
  int bits(bool exported) const;
  int64_t count() const;  // parameters the accounting counts (unpruned entries)
};

struct BsqAccounting {
  int64_t params = 0;  // TP
  int64_t bits = 0;    // TB
  double compression() const { return bits == 0 ? 0.0 : 32.0 * static_cast<double>(params) / static_cast<double>(bits); }
  double average_bits() const { return params == 0 ? 0.0 : static_cast<double>(bits) / static_cast<double>(params); }
};

// The parameters BSQ quantizes, in model order.
std::vector<nn::Parameter*> bsq_parameters(nn::Model& model);
// The other trainable parameters upstream's clamp reaches because their names lack "bn" (the
// shortcut convs and shortcut batch-norms).
std::vector<nn::Parameter*> bsq_upstream_clamped(nn::Model& model);

// Bit planes converted from the model's current weights at `bits`, or at the scheme's precision
// for the parameters it names (0: a 1-bit all-zero layer, as upstream's convert.py --dict).
std::vector<BsqLayer> attach_bit_planes(nn::Model& model, int bits, const BsqScheme& scheme = {});
// Fine-tuning parametrizations at the planes' precisions: the stored values become the latents.
std::vector<BsqLayer> planes_to_latent(nn::Model& model, std::vector<BsqLayer>& layers);

BsqAccounting bsq_accounting(const std::vector<BsqLayer>& layers, bool exported);
// alpha * (N_l * #W_l) / TP on every layer, with the current precisions.
void set_bsq_regularizer(std::vector<BsqLayer>& layers, float alpha);
// The regularizer term of the last forward: alpha * sum_l (N_l #W_l) B_l / TP (host read).
double bsq_regularizer_value(const std::vector<BsqLayer>& layers);
// Re-quantization (max_bits) then precision adjustment (threshold), every layer.
std::vector<PrecisionChange> requantize_and_adjust(std::vector<BsqLayer>& layers, int max_bits, double threshold);
std::vector<PrecisionChange> adjust_precisions(std::vector<BsqLayer>& layers, double threshold);
// The float weights the layers compute with, into the parameters' stored values.
void store_dequantized(std::vector<BsqLayer>& layers);

BsqScheme bsq_scheme(const std::vector<BsqLayer>& layers, bool exported);
// Per layer: precision, scale, percent of ones per plane MSB first; plus the totals.
nlohmann::json bsq_report(const std::vector<BsqLayer>& layers, const std::map<std::string, BsqActivation*>& acts);
// One "layer: a%, b%, ..." line per quantized parameter, MSB first (upstream's print_stat).
std::string bsq_plane_table(const std::vector<BsqLayer>& layers);

// The bit form: every state_dict tensor (quantized parameters hold their float weights), the
// planes and scale of each quantized parameter, its mask when pruned, the PACT clips, and in the
// metadata the precisions and the activation bits. Fine-tuned layers are written as the binary
// planes of their latents (upstream's finetune_to_bit).
void save_bsq_bits(const std::string& path, nn::Model& model, const std::vector<BsqLayer>& layers, int act_bits,
                   const std::map<std::string, BsqActivation*>& acts);
// The float export: the state_dict with the float weights (loadable by PyTorch and bmc eval), and
// the activation quantizers in the metadata so bmc eval computes the same network.
void save_bsq_float(const std::string& path, nn::Model& model, std::vector<BsqLayer>& layers, int act_bits,
                    const std::map<std::string, BsqActivation*>& acts);

struct BsqBitsFile {
  int act_bits = 0;
  BsqScheme bits;  // precision of each quantized parameter (1 for an all-zero layer)
};
BsqBitsFile read_bsq_bits_header(const std::string& path);
// Loads a bit form into a fresh model: weights, masks, planes (attached here), PACT clips.
struct LoadedBsq {
  std::vector<BsqLayer> layers;
  std::map<std::string, BsqActivation*> acts;
  int act_bits = 0;
};
LoadedBsq load_bsq_bits(const std::string& path, nn::Model& model, bool upstream_clamp);
// When a weights file carries BSQ activation quantizers (a float export), attaches them.
void attach_recorded_bsq_activations(const std::string& weights_path, nn::Model& model);

}  // namespace bmc::compress
