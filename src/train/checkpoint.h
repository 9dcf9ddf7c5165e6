// Training checkpoints in a run directory. Each checkpoint is a pair of safetensors files written
// atomically: checkpoint_<step>.safetensors (the model's state_dict: parameters and buffers,
// loadable by PyTorch) and checkpoint_<step>_state.safetensors (optimizer momentum and the step
// counter). latest.json names the newest complete pair and is written last, so an interruption at
// any moment leaves the previous checkpoint usable; older pairs are then deleted.
#pragma once

#include <cstdint>
#include <optional>

#include "io/run_dir.h"
#include "nn/model.h"

namespace bmc::train {

void save_checkpoint(const io::RunDir& dir, nn::Model& model, int64_t step);
std::optional<int64_t> latest_checkpoint_step(const io::RunDir& dir);
void load_checkpoint(const io::RunDir& dir, nn::Model& model, int64_t step);

// Model weights only (state_dict), e.g. model_final.safetensors or model_init.safetensors.
void save_weights(const std::string& path, nn::Model& model);
void load_weights(const std::string& path, nn::Model& model);

}  // namespace bmc::train
