// LatticeQ's block reconstruction (../shared/docs/algorithms/latticeq.md 2.10), BRECQ-style: unit
// by unit in network order (the stem convolution, every residual block, the classifier), the
// unit's "weight" parameters (the latent weights under their lattice, through its straight-through
// gradient, and the batch-norm scales) learn with Adam (AMSGrad) and a once-per-epoch cosine
// schedule from lr to lr / 10, to match the full-precision model's unit output (MSE) on the
// calibration images cut into slices; both models in train mode. Gradients are zeroed once per
// epoch and a step follows every slice (upstream's accumulation, kept).
//
// The quantized model's input to a unit is computed once per unit: the earlier units are fixed by
// then and train-mode batch-norm depends only on the batch, so it is the input upstream recomputes
// every step; what this saves is upstream's repeated running-statistics updates of the earlier
// batch-norms (theirs converge to the same calibration statistics).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "nn/model.h"

namespace bmc::compress {

struct ReconstructionOptions {
  int epochs = 2000;
  int slices = 4;
  float lr = 2e-6f;
};

struct UnitReport {
  std::string name;
  int64_t parameters = 0;  // elements learned
  double mse_first = 0;    // the first epoch's last slice
  double mse_last = 0;     // the last epoch's last slice
  double seconds = 0;
};

// The units in network order (module names of `model`).
std::vector<std::string> reconstruction_units(nn::Model& model);

// images: the calibration batch on the models' device, split into `slices` equal slices.
std::vector<UnitReport> reconstruct_blocks(nn::Model& quantized, nn::Model& fp, const Tensor& images,
                                           const ReconstructionOptions& options,
                                           const std::function<void(const UnitReport&, int epoch)>& progress = {});

}  // namespace bmc::compress
