// A PyTorch checkpoint mapped onto a bmc model: the state dict found in the file (io/pth.h) with the
// key prefixes users' wrappers add removed (DataParallel's "module.", OpenLTH's "model." around
// ImageNet ResNets, each only when every key has it), and BatchNorm counters the file lacks (the
// published torchvision weights predate them) set to 0. The result loads with
// io::load_state_dict's strict checks.
#pragma once

#include <string>

#include "io/pth.h"
#include "io/safetensors.h"
#include "nn/model.h"

namespace bmc::io {

// Strips a prefix that every key carries ("module.", then "model." unless `keep_model_prefix`).
void strip_wrapper_prefixes(std::vector<std::pair<std::string, Tensor>>& tensors, bool keep_model_prefix = false);

// The state dict of a .pth file for `model`, as a SafeTensors (CPU tensors).
SafeTensors pth_state_dict_for(const std::string& path, nn::Model& model, const PthOptions& options = {});

}  // namespace bmc::io
