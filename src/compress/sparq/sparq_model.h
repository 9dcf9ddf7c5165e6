// SPARQ over a whole model (../shared/docs/algorithms/sparq.md, sections 1, 2 and 5): which convs
// it quantizes (every conv but the stem, read from the layer graph, so the convs of the residual
// blocks and their 1x1 shortcuts; linear layers, batch-norm, pooling and the residual stream stay
// float32), the train-mode passes that calibrate activation ranges and re-estimate batch-norm
// statistics, the ranges as a file, and the model's size in bits.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "compress/sparq/sparq_conv.h"
#include "datasets/batch_source.h"
#include "nn/model.h"

namespace bmc::compress {

// Installs a SparqConvKernel on every quantized conv (in graph order) and returns them.
std::vector<SparqConvKernel*> attach_sparq(nn::Model& model, int x_bits, int w_bits);
void detach_sparq(nn::Model& model);

// The upstream calibration loop's batch count: it runs 2048 / B iterations but stops only after
// the batch with index 2048 / B, so floor(2048 / B) + 1 batches (17 at B = 128). When B does not
// divide 2048 that index is never reached and upstream runs a whole epoch: -1.
int64_t upstream_calibration_batches(int batch_size);

// Forwards of `batches` batches starting at step `first` of `source`, without gradients or weight
// updates; calibrating kernels fold each batch into their ranges. With `train_mode` batch-norm
// uses batch statistics and updates its running ones (momentum 0.1, unbiased variance), as
// upstream's calibration loop does; otherwise it runs in eval mode. The previous mode is restored.
// `label` titles the progress line on stderr.
void calibration_passes(nn::Model& model, const data::BatchSource& source, int64_t first, int64_t batches,
                        bool train_mode, const char* label);

// {"x_bits", "w_bits", "layers": [{"name", "range", "images"}]}.
nlohmann::json ranges_json(const std::vector<SparqConvKernel*>& kernels);
// Sets every kernel's range from ranges_json output; throws when the layers differ.
void load_ranges(const nlohmann::json& ranges, const std::vector<SparqConvKernel*>& kernels);

struct SparqSize {
  int64_t quantized_weight_bits = 0;  // codes of the SPARQ convs (2:4 layers: the kept half)
  int64_t metadata_bits = 0;          // 2:4 layers: 4 bits per group of 4 (two 2-bit positions)
  int64_t scale_bits = 0;             // 32 per weight step, per bias step, per activation step
  int64_t float_bits = 0;             // every other parameter, 32 bits each
  int64_t activations_per_image = 0;  // inputs of the SPARQ convs for one image
  int shift_bits = 0;                 // per activation: the window's placement index
  int64_t total() const { return quantized_weight_bits + metadata_bits + scale_bits + float_bits; }
};

// Size of the model as the kernels hold it; `compressed_2of4` stores the weights of every 2:4
// layer compressed (values plus metadata), `window_placements` > 1 adds the shift bits.
SparqSize sparq_model_size(nn::Model& model, const std::vector<SparqConvKernel*>& kernels, bool compressed_2of4,
                           int window_placements);
// Placements of a window (1 + (8 - n) / shift step).
int window_placements(const BitWindow& w);

}  // namespace bmc::compress
