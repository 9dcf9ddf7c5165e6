#include "compress/quant/model_size.h"

#include <algorithm>

namespace bmc::compress {

ModelSize quantized_model_size(nn::Model& model, int bits_weights, int bits_accum, bool per_channel) {
  ModelSize s;
  for (nn::Parameter* p : model.parameters()) {
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
