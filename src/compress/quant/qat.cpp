#include "compress/quant/qat.h"

#include <algorithm>
#include <cmath>

#include "compress/quant/quant_config.h"
#include "compress/quant/range_linear.h"
#include "nn/param_layer.h"
#include "ops/fake_quant.h"

namespace bmc::compress {

std::string QatConfig::describe() const {
  return "w" + std::to_string(bits_weights) + "a" + std::to_string(bits_acts) + "_" + quant_mode_name(mode) +
         (per_channel ? "_per_channel" : "") + (quantize_inputs ? "" : "_float_input");
}

std::string WeightFakeQuant::describe() const {
  return std::string(kKind) + "(b=" + std::to_string(bits_) + "," + quant_mode_name(mode_) +
         (per_channel_ ? ",per_channel" : "") + ")";
}

Tensor WeightFakeQuant::forward(const Tensor& w) {
  quantizer_ = weight_params(w.to_vector<float>(), w.dim(0), bits_, mode_, per_channel_);
  w_ = w.view(w.shape());
  return fake_quantize(quantizer_, w);
}

Tensor WeightFakeQuant::backward(const Tensor& dy) {
  Tensor dx(dy.shape(), DType::F32, dy.device());
  ops::fake_quant_backward(dx, dy, w_, quantizer_.params, quantizer_.channel_axis);
  w_ = Tensor();
  return dx;
}

std::string ActivationFakeQuant::describe() const {
  return std::string(kKind) + "(b=" + std::to_string(bits_) + "," + quant_mode_name(mode_) + ")";
}

void ActivationFakeQuant::visit_state(const nn::StateVisitor& v) {
  v.scalar("tracked_min_biased", biased_min_);
  v.scalar("tracked_max_biased", biased_max_);
  v.scalar("iter_count", steps_);
}

QuantParams ActivationFakeQuant::params() const {
  const double correction = 1.0 - std::pow(decay_, steps_);
  const float lo = steps_ > 0 ? static_cast<float>(biased_min_ / correction) : 0.0f;
  const float hi = steps_ > 0 ? static_cast<float>(biased_max_ / correction) : 0.0f;
  if (mode_ == QuantMode::Sym) return symmetric_params(bits_, std::max(std::fabs(lo), std::fabs(hi)));
  return asymmetric_params(bits_, lo, hi, mode_ == QuantMode::AsymS);
}

Tensor ActivationFakeQuant::forward(const Tensor& x) {
  if (owner_.training()) {
    const std::vector<float> host = x.to_vector<float>();
    const auto [mn, mx] = std::minmax_element(host.begin(), host.end());
    steps_ += 1;
    biased_min_ = biased_min_ * decay_ + (1.0 - decay_) * static_cast<double>(*mn);
    biased_max_ = biased_max_ * decay_ + (1.0 - decay_) * static_cast<double>(*mx);
  }
  BMC_CHECK(steps_ > 0, "quantization-aware training: an activation range is evaluated before any training step");
  used_ = params();
  Tensor y(x.shape(), DType::F32, x.device());
  ops::fake_quant_forward(y, x, {used_}, 1);
  x_ = x.view(x.shape());
  return y;
}

Tensor ActivationFakeQuant::backward(const Tensor& dy) {
  Tensor dx(dy.shape(), DType::F32, dy.device());
  ops::fake_quant_backward(dx, dy, x_, {used_}, 1);
  x_ = Tensor();
  return dx;
}

void attach_qat(nn::Model& model, const QatConfig& config) {
  check_bits("QAT weight bits", config.bits_weights);
  check_bits("QAT activation bits", config.bits_acts);
  BMC_CHECK(config.ema_decay > 0 && config.ema_decay < 1, "QAT EMA decay must be in (0, 1), got ", config.ema_decay);
  const auto& nodes = model.graph().nodes();
  BMC_CHECK(!nodes.empty() && nodes.front().module, model.arch(), " has no first module to quantize the input at");
  if (config.quantize_inputs)
    nodes.front().module->add_transform(nn::TransformSide::Input, std::make_unique<ActivationFakeQuant>(
                                                                      config.bits_acts, config.mode, config.ema_decay, model.net()));
  for (const nn::GraphNode& n : nodes) {
    if (n.role == nn::NodeRole::ParamLayer) {
      auto& layer = dynamic_cast<nn::ParamLayer&>(*n.module);
      layer.weight().parametrizations.append(
          std::make_unique<WeightFakeQuant>(config.bits_weights, config.mode, config.per_channel));
    } else if (n.role == nn::NodeRole::Activation) {
      n.module->add_transform(nn::TransformSide::Output, std::make_unique<ActivationFakeQuant>(
                                                              config.bits_acts, config.mode, config.ema_decay, model.net()));
    }
  }
}

void detach_qat(nn::Model& model) {
  for (const nn::GraphNode& n : model.graph().nodes()) {
    if (n.role == nn::NodeRole::ParamLayer)
      dynamic_cast<nn::ParamLayer&>(*n.module).weight().parametrizations.remove(WeightFakeQuant::kKind);
    if (n.module) n.module->remove_transforms(ActivationFakeQuant::kKind);
  }
}

}  // namespace bmc::compress
