#include "train/defaults.h"

#include "core/error.h"

namespace bmc::train {
namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

TrainHparams default_hparams(const std::string& model) {
  TrainHparams hp;
  hp.model = model;
  if (starts_with(model, "mnist_lenet")) {
    // open_lth/models/mnist_lenet.py: batch 128, SGD lr 0.1, no momentum or weight decay, 40 epochs.
    hp.dataset = "mnist";
    hp.batch_size = 128;
    hp.lr = 0.1f;
    hp.training_length = {40, true};
    return hp;
  }
  if (starts_with(model, "cifar_resnet")) {
    // open_lth/models/cifar_resnet.py: batch 128, SGD lr 0.1 momentum 0.9, wd 1e-4, milestones
    // 80ep,120ep with gamma 0.1, 160 epochs; random crop + flip augmentation.
    hp.dataset = "cifar10";
    hp.batch_size = 128;
    hp.lr = 0.1f;
    hp.momentum = 0.9f;
    hp.weight_decay = 1e-4f;
    hp.milestones = {{80, true}, {120, true}};
    hp.gamma = 0.1f;
    hp.training_length = {160, true};
    hp.augment = true;
    hp.holdout_per_class = 500;
    return hp;
  }
  if (starts_with(model, "resnet")) {
    // torchvision reference recipe for ImageNet: batch 256, lr 0.1, momentum 0.9, wd 1e-4,
    // decay by 10 every 30 epochs, 90 epochs.
    hp.dataset = "imagenet";
    hp.batch_size = 256;
    hp.lr = 0.1f;
    hp.momentum = 0.9f;
    hp.weight_decay = 1e-4f;
    hp.milestones = {{30, true}, {60, true}, {80, true}};
    hp.training_length = {90, true};
    hp.augment = true;
    return hp;
  }
  BMC_FAIL("no default hyper-parameters for model '", model, "'");
}

}  // namespace bmc::train
