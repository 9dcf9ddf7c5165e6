#include "train/checkpoint.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "io/atomic_file.h"
#include "io/json_file.h"
#include "io/pth_import.h"
#include "io/safetensors.h"
#include "io/state_dict.h"

namespace bmc::train {
namespace {

std::string model_file(int64_t step) { return "checkpoint_" + std::to_string(step) + ".safetensors"; }
std::string state_file(int64_t step) { return "checkpoint_" + std::to_string(step) + "_state.safetensors"; }

// prefix -> describe() of every parametrization and activation transform.
nlohmann::json owners_of(nn::Model& model) {
  nlohmann::json owners = nlohmann::json::object();
  model.visit_state_owners([&](const std::string& prefix, nn::StateOwner& o) { owners[prefix] = o.describe(); });
  return owners;
}

nlohmann::json scalars_of(nn::Model& model) {
  nlohmann::json scalars = nlohmann::json::object();
  model.visit_state_owners([&](const std::string& prefix, nn::StateOwner& o) {
    o.visit_state({[](const std::string&, nn::StateTensor&) {},
                   [&](const std::string& local, double& v) { scalars[prefix + "." + local] = v; }});
  });
  return scalars;
}

}  // namespace

std::vector<std::pair<std::string, const Tensor*>> training_state(nn::Model& model) {
  std::vector<std::pair<std::string, const Tensor*>> out = {{"momentum", &model.momentum()},
                                                            {"masks", &model.masks()}};
  model.visit_state([&](const std::string& name, nn::StateTensor& t) {
    out.emplace_back(name, &t.value);
    if (t.trainable) out.emplace_back(name + ".momentum", &t.momentum);
  });
  return out;
}

std::map<std::string, std::string> training_state_metadata(nn::Model& model) {
  return {{"arch", model.arch()}, {"state_owners", owners_of(model).dump()}, {"state_scalars", scalars_of(model).dump()}};
}

void load_training_state(const std::string& path, nn::Model& model) {
  const io::SafeTensors state = io::load_safetensors(path);
  const Tensor& momentum = state.at("momentum");
  BMC_CHECK(momentum.numel() == model.num_parameters(), path, ": momentum has ", momentum.numel(),
            " values, the model ", model.num_parameters());
  // The masks first: they decide where mask parametrizations sit, which the comparison includes.
  if (state.contains("masks")) {
    BMC_CHECK(state.at("masks").numel() == model.num_parameters(), path, ": masks have ", state.at("masks").numel(),
              " values, the model ", model.num_parameters());
    model.masks().copy_from(state.at("masks"));
    model.masks_changed();
  }
  const nlohmann::json have = owners_of(model);
  const auto owners_it = state.metadata.find("state_owners");
  const nlohmann::json saved =
      owners_it == state.metadata.end() ? nlohmann::json::object() : io::parse_json_text(owners_it->second, path + ": metadata 'state_owners'");
  BMC_CHECK(saved == have, path, " was written with the parametrizations and transforms ", saved.dump(),
            ", the model has ", have.dump());
  // Check every state tensor before changing one.
  model.visit_state([&](const std::string& name, nn::StateTensor& t) {
    BMC_CHECK(state.contains(name), path, " lacks the state tensor '", name, "'");
    const Tensor& v = state.at(name);
    BMC_CHECK(v.dtype() == DType::F32 && (t.resizable || v.shape() == t.value.shape()), path, ": state '", name,
              "' is ", v.describe(), ", the model's ", t.value.describe());
    if (t.trainable) BMC_CHECK(state.contains(name + ".momentum") && state.at(name + ".momentum").shape() == v.shape(),
                               path, ": state '", name, "' has no momentum of its shape");
  });
  model.momentum().copy_from(momentum);
  model.visit_state([&](const std::string& name, nn::StateTensor& t) {
    const Tensor& v = state.at(name);
    if (v.shape() != t.value.shape()) t.resize(v.shape());
    t.value.copy_from(v);
    if (t.trainable) t.momentum.copy_from(state.at(name + ".momentum"));
  });
  const auto scalars_it = state.metadata.find("state_scalars");
  const nlohmann::json scalars =
      scalars_it == state.metadata.end() ? nlohmann::json::object() : io::parse_json_text(scalars_it->second, path + ": metadata 'state_scalars'");
  model.visit_state_owners([&](const std::string& prefix, nn::StateOwner& o) {
    o.visit_state({[](const std::string&, nn::StateTensor&) {},
                   [&](const std::string& local, double& v) {
                     const std::string key = prefix + "." + local;
                     BMC_CHECK(scalars.contains(key), path, " lacks the state scalar '", key, "'");
                     v = scalars.at(key).get<double>();
                   }});
    o.state_loaded();
  });
}

void save_weights(const std::string& path, nn::Model& model) {
  io::save_safetensors(path, io::state_dict(model), {{"arch", model.arch()}});
}

void load_weights(const std::string& path, nn::Model& model) {
  if (io::is_pth_file(path)) return io::load_state_dict(model, io::pth_state_dict_for(path, model));
  const io::SafeTensors file = io::load_safetensors(path);
  if (auto it = file.metadata.find("arch"); it != file.metadata.end())
    BMC_CHECK(it->second == model.arch(), path, " holds a ", it->second, " checkpoint, not ", model.arch());
  io::load_state_dict(model, file);
}

void save_checkpoint(const io::RunDir& dir, nn::Model& model, int64_t step, const nlohmann::json& loop) {
  const auto previous = latest_checkpoint_step(dir);
  if (previous && *previous == step) return;
  save_weights(dir.file(model_file(step)), model);
  std::map<std::string, std::string> metadata = training_state_metadata(model);
  metadata["step"] = std::to_string(step);
  io::save_safetensors(dir.file(state_file(step)), training_state(model), metadata);
  nlohmann::json latest = {{"step", step}};
  if (!loop.is_null()) latest["loop"] = loop;
  io::write_file_atomic(dir.file("latest.json"), latest.dump() + "\n");
  if (previous && io::writes_files()) {
    std::filesystem::remove(dir.file(model_file(*previous)));
    std::filesystem::remove(dir.file(state_file(*previous)));
  }
}

std::optional<int64_t> latest_checkpoint_step(const io::RunDir& dir) {
  if (!dir.exists("latest.json")) return std::nullopt;
  const auto latest = io::read_json_file(dir.file("latest.json"));
  BMC_CHECK(latest.is_object() && latest.contains("step") && latest["step"].is_number_integer(), dir.file("latest.json"),
            " does not name a checkpoint step; remove it, or the run directory, to start over");
  const int64_t step = latest["step"].get<int64_t>();
  if (!dir.exists(model_file(step)) || !dir.exists(state_file(step))) return std::nullopt;
  return step;
}

nlohmann::json checkpoint_loop_state(const io::RunDir& dir) {
  if (!dir.exists("latest.json")) return nlohmann::json::object();
  const auto latest = io::read_json_file(dir.file("latest.json"));
  return latest.is_object() && latest.contains("loop") && latest["loop"].is_object() ? latest["loop"]
                                                                                     : nlohmann::json::object();
}

void load_checkpoint(const io::RunDir& dir, nn::Model& model, int64_t step) {
  const std::string path = dir.file(state_file(step));
  {
    const io::SafeTensors state = io::load_safetensors(path);
    BMC_CHECK(state.metadata.count("step") && state.metadata.at("step") == std::to_string(step), path,
              " does not belong to step ", step);
  }
  load_weights(dir.file(model_file(step)), model);
  load_training_state(path, model);
}

}  // namespace bmc::train
