// BSQ's activation quantizer (../shared/docs/algorithms/bsq.md 1.4) as an output transform of a
// ReLU: the clip (ReLU6 above 3 bits, PACT with a learnable clip alpha at 3 bits or fewer), then
// dynamic per-tensor quantization on the grid of the batch's max, straight through backward.
// Upstream places it after relu1 and after the residual add of every block; models without
// residual blocks get it after every ReLU.
#pragma once

#include <map>
#include <string>

#include "nn/activation_transform.h"
#include "nn/model.h"

namespace bmc::compress {

class BsqActivation : public nn::ActivationTransform {
 public:
  static constexpr const char* kKind = "bsq_act";
  static constexpr float kPactInitialClip = 10.0f;
  // bits > 3: ReLU6; bits <= 3 (0: no quantization): PACT. upstream_clamp: PACT's alpha is clamped
  // to [0, 2] after each step, as upstream's clamp of every parameter whose name lacks "bn".
  BsqActivation(int bits, bool upstream_clamp, Device device);
  static bool uses_pact(int bits) { return bits <= 3; }

  std::string describe() const override;
  void visit_state(const nn::StateVisitor& v) override;
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  bool pact() const { return pact_; }
  float clip() const;
  void set_clip(float value);

 private:
  int bits_;
  bool pact_;
  nn::StateTensor clip_;  // ReLU6: the constant 6 (not saved); PACT: alpha (trainable)
  Tensor x_;
};

// The ReLU nodes that get a quantizer, by graph node name.
std::vector<std::string> bsq_activation_sites(const nn::Model& model);
// Attaches one quantizer per site; returns them by node name.
std::map<std::string, BsqActivation*> attach_bsq_activations(nn::Model& model, int bits, bool upstream_clamp);

}  // namespace bmc::compress
