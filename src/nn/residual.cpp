#include "nn/residual.h"

#include "ops/elementwise.h"

namespace bmc::nn {

Tensor ResidualBlock::forward_impl(const Tensor& x) {
  Tensor h = x.view(x.shape());
  for (Step& step : main_) {
    h = step.layer->forward(h);
    if (step.relu) h = step.relu->forward(h);
  }
  if (shortcut_) {
    const Tensor s = shortcut_->forward(x);
    ops::add_forward(h, h, s);
  } else {
    ops::add_forward(h, h, x);
  }
  return out_relu_.forward(h);
}

Tensor ResidualBlock::backward_impl(const Tensor& dy) {
  const Tensor g = out_relu_.backward(dy);
  Tensor dx = g.view(g.shape());
  for (auto it = main_.rbegin(); it != main_.rend(); ++it) {
    if (it->relu) dx = it->relu->backward(dx);
    dx = it->layer->backward(dx);
  }
  if (shortcut_) {
    ops::axpy(dx, 1.0f, shortcut_->backward(g));
  } else {
    ops::axpy(dx, 1.0f, g);
  }
  return dx;
}

}  // namespace bmc::nn
