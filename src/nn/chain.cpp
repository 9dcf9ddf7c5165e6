#include "nn/chain.h"

namespace bmc::nn {

Tensor Chain::forward_impl(const Tensor& x) {
  Tensor h = x.view(x.shape());
  for (Module* m : modules_) h = m->forward(h);
  return h;
}

Tensor Chain::backward_impl(const Tensor& dy) {
  Tensor g = dy.view(dy.shape());
  for (auto it = modules_.rbegin(); it != modules_.rend(); ++it) g = (*it)->backward(g);
  return g;
}

}  // namespace bmc::nn
