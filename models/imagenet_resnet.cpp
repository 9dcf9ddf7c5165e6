#include "models/imagenet_resnet.h"

#include <array>

#include "nn/batch_norm.h"
#include "nn/module.h"
#include "nn/conv.h"
#include "nn/pool.h"
#include "nn/residual.h"

namespace bmc::models {

namespace {

struct Plan {
  int depth;
  bool bottleneck;
  std::array<int, 4> blocks;
};

constexpr std::array<Plan, 4> kPlans{{
    {18, false, {2, 2, 2, 2}},
    {34, false, {3, 4, 6, 3}},
    {50, true, {3, 4, 6, 3}},
    {101, true, {3, 4, 23, 3}},
}};

std::unique_ptr<nn::Module> downsample(int64_t in, int64_t out, int stride) {
  auto d = std::make_unique<nn::Sequential>();
  d->append(std::make_unique<nn::Conv2d>(in, out, 1, stride, 0, false));
  d->append(std::make_unique<nn::BatchNorm2d>(out));
  return d;
}

// torchvision BasicBlock (expansion 1) or Bottleneck (expansion 4).
std::unique_ptr<nn::Module> block(bool bottleneck, int64_t inplanes, int64_t planes, int stride) {
  auto b = std::make_unique<nn::ResidualBlock>(bottleneck ? "Bottleneck" : "BasicBlock");
  const int64_t out = bottleneck ? planes * 4 : planes;
  if (bottleneck) {
    b->add_main("conv1", std::make_unique<nn::Conv2d>(inplanes, planes, 1, 1, 0, false));
    b->add_main("bn1", std::make_unique<nn::BatchNorm2d>(planes), true);
    b->add_main("conv2", std::make_unique<nn::Conv2d>(planes, planes, 3, stride, 1, false));
    b->add_main("bn2", std::make_unique<nn::BatchNorm2d>(planes), true);
    b->add_main("conv3", std::make_unique<nn::Conv2d>(planes, out, 1, 1, 0, false));
    b->add_main("bn3", std::make_unique<nn::BatchNorm2d>(out));
  } else {
    b->add_main("conv1", std::make_unique<nn::Conv2d>(inplanes, planes, 3, stride, 1, false));
    b->add_main("bn1", std::make_unique<nn::BatchNorm2d>(planes), true);
    b->add_main("conv2", std::make_unique<nn::Conv2d>(planes, planes, 3, 1, 1, false));
    b->add_main("bn2", std::make_unique<nn::BatchNorm2d>(planes));
  }
  if (stride != 1 || inplanes != out) b->set_shortcut("downsample", downsample(inplanes, out, stride));
  return b;
}

}  // namespace

int parse_imagenet_resnet(const std::string& name) {
  for (const Plan& plan : kPlans)
    if (name == "resnet" + std::to_string(plan.depth)) return plan.depth;
  return 0;
}

std::unique_ptr<nn::Module> imagenet_resnet(int depth, int num_classes) {
  const Plan* plan = nullptr;
  for (const Plan& p : kPlans)
    if (p.depth == depth) plan = &p;
  BMC_CHECK(plan != nullptr, "imagenet_resnet: depth must be 18, 34, 50 or 101, got ", depth);
  auto net = std::make_unique<nn::Chain>("ResNet");
  net->append("conv1", std::make_unique<nn::Conv2d>(3, 64, 7, 2, 3, false));
  net->append("bn1", std::make_unique<nn::BatchNorm2d>(64));
  net->append("relu", std::make_unique<nn::ReLU>());
  net->append("maxpool", std::make_unique<nn::MaxPool2d>(3, 2, 1));
  int64_t inplanes = 64;
  for (int layer = 0; layer < 4; ++layer) {
    const int64_t planes = int64_t{64} << layer;
    auto blocks = std::make_unique<nn::Sequential>();
    for (int j = 0; j < plan->blocks[layer]; ++j) {
      const int stride = (layer > 0 && j == 0) ? 2 : 1;
      blocks->append(block(plan->bottleneck, inplanes, planes, stride));
      inplanes = plan->bottleneck ? planes * 4 : planes;
    }
    net->append("layer" + std::to_string(layer + 1), std::move(blocks));
  }
  net->append("avgpool", std::make_unique<nn::GlobalAvgPool>());
  net->append("fc", std::make_unique<nn::Linear>(inplanes, num_classes));
  return net;
}

}  // namespace bmc::models
