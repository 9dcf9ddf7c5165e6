// Training checkpoints in a run directory. Each checkpoint is a pair of safetensors files written
// atomically: checkpoint_<step>.safetensors (the model's state_dict: parameters and buffers,
// loadable by PyTorch) and checkpoint_<step>_state.safetensors (the training state: optimizer
// momentum, the masks, and every state tensor of the attached parametrizations and activation
// transforms under its dotted name, with their momentum; the metadata holds the step, what is
// attached where, and the host scalars). latest.json names the newest complete pair and is written last, so an interruption at
// any moment leaves the previous checkpoint usable; older pairs are then deleted.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "io/run_dir.h"
#include "nn/model.h"

namespace bmc::train {

// `loop` is the training loop's own state at `step` (the loss interval in progress), kept in
// latest.json beside the step and returned by checkpoint_loop_state.
void save_checkpoint(const io::RunDir& dir, nn::Model& model, int64_t step, const nlohmann::json& loop = {});
nlohmann::json checkpoint_loop_state(const io::RunDir& dir);
std::optional<int64_t> latest_checkpoint_step(const io::RunDir& dir);
void load_checkpoint(const io::RunDir& dir, nn::Model& model, int64_t step);

// The training state as named tensors and metadata (views valid while the model lives), and its
// load: the parametrizations and transforms attached to the model must be those that were saved
// (same places, same describe()); state tensors may change shape where their owner allows it.
std::vector<std::pair<std::string, const Tensor*>> training_state(nn::Model& model);
std::map<std::string, std::string> training_state_metadata(nn::Model& model);
void load_training_state(const std::string& path, nn::Model& model);

// Model weights only (state_dict), e.g. model_final.safetensors or model_init.safetensors. Loading
// also takes a PyTorch checkpoint (.pth / .pth.tar, io/pth_import.h).
void save_weights(const std::string& path, nn::Model& model);
void load_weights(const std::string& path, nn::Model& model);

}  // namespace bmc::train
