#include "compress/quant/model_size.h"

#include <algorithm>
#include <set>

namespace bmc::compress {

namespace {

// "a.b.weight" -> "a.b".
std::string module_of(const std::string& param) {
  const size_t dot = param.rfind('.');
  return dot == std::string::npos ? std::string() : param.substr(0, dot);
}

}  // namespace

ModelSize quantized_model_size(nn::Model& model, int bits_weights, int bits_accum, bool per_channel,
                               const std::map<std::string, std::string>& folded_norms) {
  ModelSize s;
  std::set<std::string> with_bias;
  for (nn::Parameter* p : model.parameters())
    if (p->kind == nn::ParamKind::Bias) with_bias.insert(module_of(p->name));
  for (nn::Parameter* p : model.parameters()) {
    const auto folded = folded_norms.find(module_of(p->name));
    if (folded != folded_norms.end()) {
      // The norm's weight (one per channel) stands for the bias folding gives a bias-free layer.
      if (p->name == folded->first + ".weight" && !with_bias.count(folded->second))
        s.bias_bits += p->numel() * bits_accum;
      continue;
    }
    switch (p->kind) {
      case nn::ParamKind::Weight: {
        const auto mask = p->mask.to_vector<float>();
        const int64_t kept = std::count_if(mask.begin(), mask.end(), [](float m) { return m != 0.0f; });
        s.weight_bits += kept * bits_weights;
        if (kept < p->numel()) s.mask_bits += p->numel();
        s.scale_bits += 64 * (per_channel ? p->shape[0] : 1);
        break;
      }
      case nn::ParamKind::Bias: s.bias_bits += p->numel() * bits_accum; break;
      default: s.other_bits += p->numel() * 32; break;
    }
  }
  return s;
}

int64_t float_model_bits(const nn::Model& model) { return model.num_parameters() * 32; }

}  // namespace bmc::compress
