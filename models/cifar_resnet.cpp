#include "models/cifar_resnet.h"

#include "models/name_parse.h"
#include "nn/batch_norm.h"
#include "nn/module.h"
#include "nn/conv.h"
#include "nn/pool.h"
#include "nn/residual.h"

namespace bmc::models {

namespace {

std::unique_ptr<nn::Module> block(int64_t f_in, int64_t f_out, bool downsample) {
  auto b = std::make_unique<nn::ResidualBlock>("CifarResnetBlock");
  const int stride = downsample ? 2 : 1;
  b->add_main("conv1", std::make_unique<nn::Conv2d>(f_in, f_out, 3, stride, 1, false));
  b->add_main("bn1", std::make_unique<nn::BatchNorm2d>(f_out), /*relu_after=*/true);
  b->add_main("conv2", std::make_unique<nn::Conv2d>(f_out, f_out, 3, 1, 1, false));
  b->add_main("bn2", std::make_unique<nn::BatchNorm2d>(f_out));
  if (downsample || f_in != f_out) {
    // OpenLTH uses stride 2 here whenever the shortcut has parameters.
    auto shortcut = std::make_unique<nn::Sequential>();
    shortcut->append(std::make_unique<nn::Conv2d>(f_in, f_out, 1, 2, 0, false));
    shortcut->append(std::make_unique<nn::BatchNorm2d>(f_out));
    b->set_shortcut("shortcut", std::move(shortcut));
  }
  return b;
}

}  // namespace

CifarResnetSpec parse_cifar_resnet(const std::string& name) {
  const std::vector<int64_t> fields = positive_fields_after(name, "cifar_resnet_");
  if (fields.empty() || fields.size() > 2 || fields[0] <= 2 || (fields[0] - 2) % 6 != 0) return {};
  CifarResnetSpec spec;
  spec.depth = static_cast<int>(fields[0]);
  if (fields.size() == 2) spec.width = static_cast<int>(fields[1]);
  return spec;
}

std::unique_ptr<nn::Module> cifar_resnet(const CifarResnetSpec& spec, int num_classes) {
  BMC_CHECK(spec.depth > 2 && (spec.depth - 2) % 6 == 0, "cifar_resnet: depth must be 6n+2, got ", spec.depth);
  const int blocks_per_segment = (spec.depth - 2) / 6;
  const int64_t w = spec.width;
  auto net = std::make_unique<nn::Chain>("CifarResnet");
  net->append("conv", std::make_unique<nn::Conv2d>(3, w, 3, 1, 1, false));
  net->append("bn", std::make_unique<nn::BatchNorm2d>(w));
  net->append("relu", std::make_unique<nn::ReLU>());
  auto blocks = std::make_unique<nn::Sequential>();
  int64_t current = w;
  for (int segment = 0; segment < 3; ++segment) {
    const int64_t filters = w << segment;
    for (int i = 0; i < blocks_per_segment; ++i) {
      blocks->append(block(current, filters, segment > 0 && i == 0));
      current = filters;
    }
  }
  net->append("blocks", std::move(blocks));
  net->append("pool", std::make_unique<nn::GlobalAvgPool>());
  net->append("fc", std::make_unique<nn::Linear>(current, num_classes));
  return net;
}

}  // namespace bmc::models
