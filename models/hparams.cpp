#include "models/hparams.h"

#include "models/registry.h"

namespace bmc::models {

DefaultHparams default_hparams(const std::string& model) {
  DefaultHparams h;
  switch (model_family(model)) {
    case ModelFamily::MnistLenet:
    case ModelFamily::MnistLenet5:  // not in OpenLTH: bmc uses the fully connected LeNet's
      h.dataset = "mnist";
      h.batch_size = 128;
      h.lr = 0.1f;
      h.training_steps = "40ep";
      h.pruning_layers_to_ignore = {model_family(model) == ModelFamily::MnistLenet ? "fc.weight" : "fc3.weight"};
      break;
    case ModelFamily::CifarResnet:
      h.dataset = "cifar10";
      h.batch_size = 128;
      h.lr = 0.1f;
      h.momentum = 0.9f;
      h.weight_decay = 1e-4f;
      h.milestones = {"80ep", "120ep"};
      h.gamma = 0.1f;
      h.training_steps = "160ep";
      break;
    case ModelFamily::ImagenetResnet:
      h.dataset = "imagenet";
      h.batch_size = 1024;
      h.lr = 0.4f;
      h.momentum = 0.9f;
      h.weight_decay = 1e-4f;
      h.milestones = {"30ep", "60ep", "80ep"};
      h.gamma = 0.1f;
      h.warmup = "5ep";
      h.training_steps = "90ep";
      break;
  }
  return h;
}

std::string default_dataset(const std::string& model) { return default_hparams(model).dataset; }

}  // namespace bmc::models
