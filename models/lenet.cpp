#include "models/lenet.h"

#include "models/name_parse.h"
#include "nn/module.h"
#include "nn/conv.h"
#include "nn/layers.h"
#include "nn/pool.h"

namespace bmc::models {

namespace {

constexpr int64_t kMnistPixels = 28 * 28;

// OpenLTH's fc_layers ModuleList: Linear children "0", "1", ..., applied each with a ReLU after.
class ReluLinearStack : public nn::Module {
 public:
  ReluLinearStack(int64_t in_features, const std::vector<int64_t>& sizes) : Module("ModuleList") {
    for (const int64_t size : sizes) {
      layers_.push_back(&add_child(std::to_string(layers_.size()), std::make_unique<nn::Linear>(in_features, size)));
      relus_.push_back(std::make_unique<nn::ReLU>());
      in_features = size;
    }
  }

  int describe(nn::GraphBuilder& g, const std::string& name, int input) override {
    for (size_t i = 0; i < layers_.size(); ++i) {
      input = layers_[i]->describe(g, join_name(name, std::to_string(i)), input);
      input = g.add(join_name(name, "relu" + std::to_string(i)), nn::NodeRole::Activation, relus_[i].get(), {input});
    }
    return input;
  }

 protected:
  Tensor forward_impl(const Tensor& x) override {
    Tensor h = x.view(x.shape());
    for (size_t i = 0; i < layers_.size(); ++i) h = relus_[i]->forward(layers_[i]->forward(h));
    return h;
  }
  Tensor backward_impl(const Tensor& dy) override {
    Tensor g = dy.view(dy.shape());
    for (size_t i = layers_.size(); i-- > 0;) g = layers_[i]->backward(relus_[i]->backward(g));
    return g;
  }

 private:
  std::vector<nn::Linear*> layers_;
  std::vector<std::unique_ptr<nn::ReLU>> relus_;
};

}  // namespace

std::vector<int64_t> parse_mnist_lenet(const std::string& name) {
  return positive_fields_after(name, "mnist_lenet_");
}

std::unique_ptr<nn::Module> mnist_lenet(const std::vector<int64_t>& hidden, int num_classes) {
  BMC_CHECK(!hidden.empty(), "mnist_lenet needs at least one hidden layer");
  auto net = std::make_unique<nn::Chain>("MnistLenet");
  net->append("flatten", std::make_unique<nn::Flatten>());
  net->append("fc_layers", std::make_unique<ReluLinearStack>(kMnistPixels, hidden));
  net->append("fc", std::make_unique<nn::Linear>(hidden.back(), num_classes));
  return net;
}

std::unique_ptr<nn::Module> mnist_lenet5(int num_classes) {
  auto net = std::make_unique<nn::Chain>("MnistLenet5");
  net->append("conv1", std::make_unique<nn::Conv2d>(1, 6, 5, 1, 2));
  net->append("relu1", std::make_unique<nn::ReLU>());
  net->append("pool1", std::make_unique<nn::MaxPool2d>(2, 2));
  net->append("conv2", std::make_unique<nn::Conv2d>(6, 16, 5));
  net->append("relu2", std::make_unique<nn::ReLU>());
  net->append("pool2", std::make_unique<nn::MaxPool2d>(2, 2));
  net->append("flatten", std::make_unique<nn::Flatten>());
  net->append("fc1", std::make_unique<nn::Linear>(16 * 5 * 5, 120));
  net->append("relu3", std::make_unique<nn::ReLU>());
  net->append("fc2", std::make_unique<nn::Linear>(120, 84));
  net->append("relu4", std::make_unique<nn::ReLU>());
  net->append("fc3", std::make_unique<nn::Linear>(84, num_classes));
  return net;
}

}  // namespace bmc::models
