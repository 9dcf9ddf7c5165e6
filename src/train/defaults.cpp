#include "train/defaults.h"

#include "models/registry.h"

namespace bmc::train {

ModelDefaults model_defaults(const std::string& model) {
  ModelDefaults h;
  h.train.model = model;
  switch (models::model_family(model)) {
    case models::ModelFamily::MnistLenet:
    case models::ModelFamily::MnistLenet5:  // not in OpenLTH: bmc uses the fully connected LeNet's
      h.train.dataset = "mnist";
      h.train.batch_size = 128;
      h.train.lr = 0.1f;
      h.train.training_length = Duration::parse("40ep");
      h.pruning_layers_to_ignore = {models::model_family(model) == models::ModelFamily::MnistLenet ? "fc.weight" : "fc3.weight"};
      break;
    case models::ModelFamily::CifarResnet:
      h.train.dataset = "cifar10";
      h.train.batch_size = 128;
      h.train.lr = 0.1f;
      h.train.momentum = 0.9f;
      h.train.weight_decay = 1e-4f;
      h.train.milestones = parse_durations("80ep,120ep");
      h.train.gamma = 0.1f;
      h.train.training_length = Duration::parse("160ep");
      break;
    case models::ModelFamily::ImagenetResnet:
      h.train.dataset = "imagenet";
      h.train.batch_size = 1024;
      h.train.lr = 0.4f;
      h.train.momentum = 0.9f;
      h.train.weight_decay = 1e-4f;
      h.train.milestones = parse_durations("30ep,60ep,80ep");
      h.train.gamma = 0.1f;
      h.train.warmup = Duration::parse("5ep");
      h.train.training_length = Duration::parse("90ep");
      break;
  }
  // OpenLTH augments CIFAR (random crop with 4-pixel padding + horizontal flip), not MNIST.
  // ImageNet trains on RandomResizedCrop + flip (torchvision's reference recipe, OpenLTH's too).
  h.train.augment = h.train.dataset == "cifar10" || h.train.dataset == "cifar100" || h.train.dataset == "imagenet";
  return h;
}

TrainHparams default_hparams(const std::string& model) { return model_defaults(model).train; }

}  // namespace bmc::train
