#include "train/checkpoint.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "io/state_dict.h"

namespace bmc::train {
namespace {

std::string model_file(int64_t step) { return "checkpoint_" + std::to_string(step) + ".safetensors"; }
std::string state_file(int64_t step) { return "checkpoint_" + std::to_string(step) + "_state.safetensors"; }

}  // namespace

void save_weights(const std::string& path, nn::Model& model) {
  io::save_safetensors(path, io::state_dict(model), {{"arch", model.arch()}});
}

void load_weights(const std::string& path, nn::Model& model) {
  const io::SafeTensors file = io::load_safetensors(path);
  if (auto it = file.metadata.find("arch"); it != file.metadata.end())
    BMC_CHECK(it->second == model.arch(), path, " holds a ", it->second, " checkpoint, not ", model.arch());
  io::load_state_dict(model, file);
}

void save_checkpoint(const io::RunDir& dir, nn::Model& model, int64_t step) {
  const auto previous = latest_checkpoint_step(dir);
  if (previous && *previous == step) return;
  save_weights(dir.file(model_file(step)), model);
  io::save_safetensors(dir.file(state_file(step)), {{"momentum", &model.momentum()}},
                       {{"step", std::to_string(step)}, {"arch", model.arch()}});
  io::write_file_atomic(dir.file("latest.json"), nlohmann::json{{"step", step}}.dump() + "\n");
  if (previous) {
    std::filesystem::remove(dir.file(model_file(*previous)));
    std::filesystem::remove(dir.file(state_file(*previous)));
  }
}

std::optional<int64_t> latest_checkpoint_step(const io::RunDir& dir) {
  if (!dir.exists("latest.json")) return std::nullopt;
  const auto latest = nlohmann::json::parse(io::read_file(dir.file("latest.json")));
  const int64_t step = latest.at("step").get<int64_t>();
  if (!dir.exists(model_file(step)) || !dir.exists(state_file(step))) return std::nullopt;
  return step;
}

void load_checkpoint(const io::RunDir& dir, nn::Model& model, int64_t step) {
  load_weights(dir.file(model_file(step)), model);
  const io::SafeTensors state = io::load_safetensors(dir.file(state_file(step)));
  BMC_CHECK(state.metadata.count("step") && state.metadata.at("step") == std::to_string(step),
            dir.file(state_file(step)), " does not belong to step ", step);
  const Tensor& momentum = state.at("momentum");
  BMC_CHECK(momentum.numel() == model.num_parameters(), dir.file(state_file(step)), ": momentum has ",
            momentum.numel(), " values, the model ", model.num_parameters());
  model.momentum().copy_from(momentum);
}

}  // namespace bmc::train
