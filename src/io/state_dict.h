// PyTorch-compatible state_dict of a bmc model: every parameter and buffer under its dotted key,
// in the order torch.nn.Module.state_dict() gives (each module's own parameters, then its own
// buffers, then its children). Saved with io::save_safetensors it is a checkpoint PyTorch loads.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "io/safetensors.h"
#include "nn/model.h"

namespace bmc::io {

// Views of the model's tensors (valid while the model lives); buffers hold their current values.
std::vector<std::pair<std::string, const Tensor*>> state_dict(nn::Model& model);

// Strict load (as PyTorch's strict=True): every key of the model must be present with the same
// shape and dtype, and the file may hold no other key; otherwise one bmc::Error lists every
// problem (key, expected and found shape/dtype) and the model is left unchanged. Tensors are
// copied onto the model's device.
void load_state_dict(nn::Model& model, const SafeTensors& file);

}  // namespace bmc::io
