#include "train/defaults.h"

#include "models/hparams.h"

namespace bmc::train {

TrainHparams default_hparams(const std::string& model) {
  const models::DefaultHparams d = models::default_hparams(model);
  TrainHparams hp;
  hp.model = model;
  hp.dataset = d.dataset;
  hp.batch_size = d.batch_size;
  hp.lr = d.lr;
  hp.momentum = d.momentum;
  hp.weight_decay = d.weight_decay;
  for (const std::string& m : d.milestones) hp.milestones.push_back(Duration::parse(m));
  hp.gamma = d.gamma;
  if (!d.warmup.empty()) hp.warmup = Duration::parse(d.warmup);
  hp.training_length = Duration::parse(d.training_steps);
  // OpenLTH augments CIFAR (random crop with 4-pixel padding + horizontal flip), not MNIST.
  hp.augment = d.dataset == "cifar10" || d.dataset == "cifar100";
  return hp;
}

}  // namespace bmc::train
