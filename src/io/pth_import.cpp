#include "io/pth_import.h"

#include "io/state_dict.h"

namespace bmc::io {

void strip_wrapper_prefixes(std::vector<std::pair<std::string, Tensor>>& tensors, bool keep_model_prefix) {
  auto strip_if_all = [&](const std::string& prefix) {
    for (const auto& [key, t] : tensors)
      if (key.rfind(prefix, 0) != 0) return;
    for (auto& [key, t] : tensors) key = key.substr(prefix.size());
  };
  strip_if_all("module.");
  if (!keep_model_prefix) strip_if_all("model.");
}

SafeTensors pth_state_dict_for(const std::string& path, nn::Model& model, const PthOptions& options) {
  PthStateDict pth = load_pth(path, options);
  bool model_has_model_prefix = true;
  for (const auto& [key, t] : state_dict(model)) model_has_model_prefix = model_has_model_prefix && key.rfind("model.", 0) == 0;
  strip_wrapper_prefixes(pth.tensors, model_has_model_prefix);
  SafeTensors out;
  for (auto& [key, t] : pth.tensors) out.tensors.emplace(key, std::move(t));
  for (const nn::Buffer* b : model.buffers()) {
    const std::string suffix = "num_batches_tracked";
    if (b->name.size() >= suffix.size() && b->name.compare(b->name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
        !out.tensors.count(b->name))
      out.tensors.emplace(b->name, Tensor::zeros(b->shape, b->dtype));
  }
  out.metadata["source"] = path;
  return out;
}

}  // namespace bmc::io
