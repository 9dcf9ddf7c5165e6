#include "compress/bsq/bsq_activations.h"

#include "ops/bsq.h"

namespace bmc::compress {

BsqActivation::BsqActivation(int bits, bool upstream_clamp, Device device) : bits_(bits), pact_(uses_pact(bits)) {
  BMC_CHECK(bits >= 0 && bits <= 16, "BSQ: activation bits must be 0..16 (0: not quantized), got ", bits);
  clip_.trainable = pact_;
  if (pact_ && upstream_clamp) {
    clip_.clamp_min = 0.0f;
    clip_.clamp_max = 2.0f;
  }
  clip_.allocate({1}, device, pact_ ? kPactInitialClip : 6.0f);
}

std::string BsqActivation::describe() const {
  return std::string(kKind) + "(b=" + std::to_string(bits_) + "," + (pact_ ? "pact" : "relu6") +
         (clip_.clamped() ? ",clamped" : "") + ")";
}

void BsqActivation::visit_state(const nn::StateVisitor& v) {
  if (pact_) v.tensor("alpha", clip_);
}

float BsqActivation::clip() const { return clip_.value.to_vector<float>()[0]; }
void BsqActivation::set_clip(float value) { clip_.value.fill(value); }

Tensor BsqActivation::forward(const Tensor& x) {
  Tensor y(x.shape(), DType::F32, x.device());
  ops::bsq_act_forward(y, x, clip_.value, bits_);
  x_ = x.view(x.shape());
  return y;
}

Tensor BsqActivation::backward(const Tensor& dy) {
  Tensor dx(dy.shape(), DType::F32, dy.device());
  ops::bsq_act_backward(dx, pact_ ? &clip_.grad : nullptr, dy, x_, clip_.value, pact_);
  x_ = Tensor();
  return dx;
}

std::vector<std::string> bsq_activation_sites(const nn::Model& model) {
  const auto& nodes = model.graph().nodes();
  bool has_blocks = false;
  for (const nn::GraphNode& n : nodes) has_blocks |= !n.block.empty();
  std::vector<std::string> sites;
  for (const nn::GraphNode& n : nodes)
    if (n.role == nn::NodeRole::Activation && n.module && (!has_blocks || !n.block.empty())) sites.push_back(n.name);
  return sites;
}

std::map<std::string, BsqActivation*> attach_bsq_activations(nn::Model& model, int bits, bool upstream_clamp) {
  std::map<std::string, BsqActivation*> out;
  for (const std::string& name : bsq_activation_sites(model)) {
    nn::Module& relu = *model.graph().node(model.graph().find(name)).module;
    auto& t = relu.add_transform(nn::TransformSide::Output,
                                 std::make_unique<BsqActivation>(bits, upstream_clamp, model.device()));
    out[name] = dynamic_cast<BsqActivation*>(&t);
  }
  return out;
}

}  // namespace bmc::compress
