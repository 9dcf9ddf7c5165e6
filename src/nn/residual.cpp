#include "nn/residual.h"

#include "nn/fusion.h"
#include "ops/elementwise.h"
#include "ops/relu.h"

namespace bmc::nn {

int ResidualBlock::describe(GraphBuilder& g, const std::string& name, int input) {
  g.enter_block(name);
  int h = input, relus = 0;
  for (Step& step : main_) {
    h = step.layer->describe(g, join_name(name, step.name), h);
    if (step.relu) h = g.add(join_name(name, "relu" + std::to_string(++relus)), NodeRole::Activation, step.relu.get(), {h});
  }
  int s = input;
  if (shortcut_) {
    g.set_shortcut(true);
    s = shortcut_->describe(g, join_name(name, shortcut_name_), input);
    g.set_shortcut(false);
  }
  const int sum = g.add(join_name(name, "add"), NodeRole::Add, nullptr, {h, s});
  const int out = g.add(join_name(name, "relu_out"), NodeRole::Activation, &out_relu_, {sum});
  g.leave_block();
  return out;
}

Tensor ResidualBlock::forward_impl(const Tensor& x) {
  // In eval on the CPU the shortcut comes first, so that the last convolution, running the last
  // batch norm inside, can also add the shortcut and apply the block's ReLU while its output is
  // in cache. Not when a transform watches either input of the add.
  auto plain = [](const Module& m) {
    return !m.has_transforms(TransformSide::Input) && !m.has_transforms(TransformSide::Output);
  };
  const bool add_fusable = !training() && !x.device().is_cuda() && relu_fusable(out_relu_) && plain(add_inputs_[0]) &&
                           plain(add_inputs_[1]);
  Tensor s;
  if (add_fusable) s = shortcut_ ? shortcut_->forward(x) : x.view(x.shape());
  bool added = false;
  Tensor h = x.view(x.shape());
  for (size_t i = 0; i < main_.size(); ++i) {
    Step& step = main_[i];
    step.ran_inside_previous = false;
    Step* next = i + 1 < main_.size() ? &main_[i + 1] : nullptr;
    // A convolution may run the whole next step inside, its batch norm and that one's ReLU: a
    // ReLU that cannot go with it keeps the batch norm out too (a step's ReLU never runs alone).
    const bool offer = next && !step.relu && (!next->relu || relu_fusable(*next->relu));
    const bool whole_next =
        fuse_into_convolution(*step.layer, offer ? next->layer : nullptr, offer ? next->relu.get() : nullptr, h) > 0;
    step.relu_fused = fuse_relu_into(*step.layer, step.relu.get());
    if (whole_next && add_fusable && i + 2 == main_.size()) added = fuse_residual_into(*step.layer, s, out_relu_);
    h = step.layer->forward(h);
    if (step.relu && !step.relu_fused) h = step.relu->forward(h);
    if (whole_next) {
      next->ran_inside_previous = true;
      ++i;
    }
  }
  if (added) {
    out_y_ = Tensor();  // eval: no backward follows
    return h;
  }
  h = add_inputs_[0].forward(h);
  if (!s.defined()) s = shortcut_ ? shortcut_->forward(x) : x.view(x.shape());
  s = add_inputs_[1].forward(s);
  if (!relu_fusable(out_relu_)) {
    out_y_ = Tensor();
    ops::add_forward(h, h, s);
    return out_relu_.forward(h);
  }
  ops::add_relu_forward(h, h, s);
  out_y_ = h.view(h.shape());
  return h;
}

Tensor ResidualBlock::backward_impl(const Tensor& dy) {
  Tensor g;
  if (out_y_.defined()) {
    g = Tensor(dy.shape(), DType::F32, dy.device());
    ops::relu_backward(g, dy, out_y_);
    out_y_ = Tensor();
  } else {
    g = out_relu_.backward(dy);
  }
  const Tensor g_shortcut = add_inputs_[1].backward(g);
  Tensor dx = add_inputs_[0].backward(g);
  for (auto it = main_.rbegin(); it != main_.rend(); ++it) {
    if (it->ran_inside_previous) continue;
    if (it->relu && !it->relu_fused) dx = it->relu->backward(dx);
    dx = it->layer->backward(dx);
  }
  if (shortcut_) {
    ops::axpy(dx, 1.0f, shortcut_->backward(g_shortcut));
  } else {
    ops::axpy(dx, 1.0f, g_shortcut);
  }
  return dx;
}

}  // namespace bmc::nn
