// The typed layer graph of the model zoo: roles, names, inputs, stem, classifier and blocks, as
// read off the PyTorch definitions (OpenLTH's LeNet and CIFAR ResNet, torchvision's ResNets).
#include <gtest/gtest.h>

#include "models/registry.h"
#include "nn/graph.h"
#include "nn/model.h"

namespace bmc {
namespace {

using nn::NodeRole;

std::vector<std::string> names_with(const nn::LayerGraph& g, NodeRole role) {
  std::vector<std::string> out;
  for (const int i : g.with_role(role)) out.push_back(g.node(i).name);
  return out;
}

TEST(LayerGraph, MnistLenetNamesItsFunctionalRelus) {
  auto model = models::make_model("mnist_lenet_300_100", Device::cpu(), 0);
  const nn::LayerGraph& g = model->graph();
  std::vector<std::string> all;
  for (const auto& n : g.nodes()) all.push_back(n.name + ":" + nn::node_role_name(n.role));
  EXPECT_EQ(all, (std::vector<std::string>{"flatten:reshape", "fc_layers.0:param_layer", "fc_layers.relu0:activation",
                                           "fc_layers.1:param_layer", "fc_layers.relu1:activation", "fc:param_layer"}));
  EXPECT_TRUE(g.node(g.find("fc_layers.0")).stem);
  EXPECT_TRUE(g.node(g.find("fc")).classifier);
  EXPECT_EQ(g.node(g.find("fc_layers.0")).inputs, std::vector<int>{g.find("flatten")});
  EXPECT_EQ(g.only_consumer(g.find("fc_layers.1")), g.find("fc_layers.relu1"));
  EXPECT_EQ(g.output(), g.find("fc"));
}

TEST(LayerGraph, CifarResnetBlocksShortcutsAndTheReluAfterTheAdd) {
  auto model = models::make_model("cifar_resnet_20", Device::cpu(), 0);
  const nn::LayerGraph& g = model->graph();
  // conv + 9 blocks x 2 convs + 2 shortcut convs + fc (OpenLTH's ResNet-20).
  const auto params = names_with(g, NodeRole::ParamLayer);
  ASSERT_EQ(params.size(), 22u);
  EXPECT_EQ(params.front(), "conv");
  EXPECT_EQ(params.back(), "fc");
  EXPECT_TRUE(g.node(g.find("conv")).stem);
  EXPECT_TRUE(g.node(g.find("fc")).classifier);
  EXPECT_EQ(names_with(g, NodeRole::Add).size(), 9u);
  const int relu1 = g.find("blocks.3.relu1"), add = g.find("blocks.3.add"), out = g.find("blocks.3.relu_out");
  ASSERT_GE(relu1, 0);
  ASSERT_GE(add, 0);
  ASSERT_GE(out, 0);
  EXPECT_EQ(g.node(relu1).inputs, std::vector<int>{g.find("blocks.3.bn1")});
  EXPECT_EQ(g.node(g.find("blocks.3.conv2")).inputs, std::vector<int>{relu1});
  // blocks.3 opens segment 2 (16 -> 32 channels): its add reads bn2 and the shortcut's batch norm.
  EXPECT_EQ(g.node(add).inputs, (std::vector<int>{g.find("blocks.3.bn2"), g.find("blocks.3.shortcut.1")}));
  EXPECT_TRUE(g.node(g.find("blocks.3.shortcut.0")).shortcut);
  EXPECT_EQ(g.node(g.find("blocks.3.shortcut.0")).inputs, std::vector<int>{g.find("blocks.2.relu_out")});
  EXPECT_EQ(g.node(g.find("blocks.3.conv1")).block, "blocks.3");
  EXPECT_EQ(g.node(out).inputs, std::vector<int>{add});
  // An identity shortcut: blocks.1's add reads the block input (blocks.0's output).
  EXPECT_EQ(g.node(g.find("blocks.1.add")).inputs,
            (std::vector<int>{g.find("blocks.1.bn2"), g.find("blocks.0.relu_out")}));
  EXPECT_EQ(g.node(g.find("pool")).role, NodeRole::Pool);
  EXPECT_TRUE(g.node(g.find("pool")).block.empty());
}

TEST(LayerGraph, TorchvisionResnetsName) {
  auto r18 = models::make_model("resnet18", Device::cpu(), 0);
  EXPECT_EQ(names_with(r18->graph(), NodeRole::ParamLayer).size(), 21u);  // 1 + 16 + 3 downsample + fc
  EXPECT_GE(r18->graph().find("layer2.0.downsample.0"), 0);
  auto r50 = models::make_model("resnet50", Device::cpu(), 0);
  EXPECT_EQ(names_with(r50->graph(), NodeRole::ParamLayer).size(), 54u);  // 1 + 48 + 4 downsample + fc
  EXPECT_GE(r50->graph().find("layer1.0.relu2"), 0) << "a bottleneck has ReLUs after bn1 and bn2";
}

}  // namespace
}  // namespace bmc
