#include "models/registry.h"

#include "models/cifar_resnet.h"
#include "models/imagenet_resnet.h"
#include "models/lenet.h"

namespace bmc::models {

namespace {

constexpr const char* kValidNames =
    "mnist_lenet_<h1>[_<h2>...] (e.g. mnist_lenet_300_100), mnist_lenet5, cifar_resnet_<D>[_<W>] with D = 6n+2 "
    "(e.g. cifar_resnet_20, cifar_resnet_20_64), resnet18, resnet34, resnet50, resnet101";

}  // namespace

ModelFamily model_family(const std::string& name) {
  if (name == "mnist_lenet5") return ModelFamily::MnistLenet5;
  if (!parse_mnist_lenet(name).empty()) return ModelFamily::MnistLenet;
  if (parse_cifar_resnet(name).depth != 0) return ModelFamily::CifarResnet;
  if (parse_imagenet_resnet(name) != 0) return ModelFamily::ImagenetResnet;
  BMC_FAIL("unknown model '", name, "'; valid names: ", kValidNames);
}

std::unique_ptr<nn::Model> make_model(const std::string& name, Device device, int num_classes) {
  BMC_CHECK(num_classes >= 0, "make_model: num_classes must be positive (0 for the default), got ", num_classes);
  const ModelFamily family = model_family(name);
  const int classes = num_classes > 0 ? num_classes : (family == ModelFamily::ImagenetResnet ? 1000 : 10);
  std::unique_ptr<nn::Module> net;
  switch (family) {
    case ModelFamily::MnistLenet: net = mnist_lenet(parse_mnist_lenet(name), classes); break;
    case ModelFamily::MnistLenet5: net = mnist_lenet5(classes); break;
    case ModelFamily::CifarResnet: net = cifar_resnet(parse_cifar_resnet(name), classes); break;
    case ModelFamily::ImagenetResnet: net = imagenet_resnet(parse_imagenet_resnet(name), classes); break;
  }
  return std::make_unique<nn::Model>(name, std::move(net), device);
}

}  // namespace bmc::models
