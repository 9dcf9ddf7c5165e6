#include "compress/bsq/bsq_training.h"

#include <cstdio>

#include "ops/elementwise.h"

namespace bmc::compress {

bool bsq_adjusts_at(int64_t step, int64_t steps_per_epoch, int64_t prun_int) {
  return step % steps_per_epoch == 0 && (step / steps_per_epoch) % prun_int == 0;
}

std::string describe_precision_changes(const std::vector<BsqLayer>& layers, const std::vector<PrecisionChange>& changes) {
  std::string text;
  for (size_t i = 0; i < layers.size() && i < changes.size(); ++i) {
    const PrecisionChange& c = changes[i];
    if (c.before == c.after && !c.clamped) continue;
    text += " " + layers[i].param->name + " " + std::to_string(c.before) + "->" + std::to_string(c.after) +
            (c.grew ? "(+)" : "") + (c.clamped ? "(clamped)" : "");
  }
  const BsqAccounting a = bsq_accounting(layers, true);
  char buf[160];
  std::snprintf(buf, sizeof(buf), "; %lld bits over %lld weights, %.2fx, %.3f bits on average",
                static_cast<long long>(a.bits), static_cast<long long>(a.params), a.compression(), a.average_bits());
  return (text.empty() ? std::string("no precision changed") : "precisions" + text) + buf;
}

std::string bsq_bits_path(const std::string& float_path) {
  const std::string suffix = ".safetensors";
  const bool has = float_path.size() > suffix.size() &&
                   float_path.compare(float_path.size() - suffix.size(), suffix.size(), suffix) == 0;
  return (has ? float_path.substr(0, float_path.size() - suffix.size()) : float_path) + "_bits" + suffix;
}

void install_bsq_hooks(train::TrainOptions& options, nn::Model& model, std::vector<BsqLayer>& layers,
                       const std::map<std::string, BsqActivation*>& acts, const BsqTrainConfig& config,
                       int64_t steps_per_epoch, std::function<void(const std::string&)> log) {
  const std::vector<nn::Parameter*> quirk = config.upstream_clamp ? bsq_upstream_clamped(model) : std::vector<nn::Parameter*>{};
  if (config.finetune) {
    // Upstream clamps every parameter named "weight" (not "bn") to [-1, 1]: the latents, and with
    // the quirk the shortcut convs and shortcut batch-norm scales.
    options.after_update = [&layers, quirk] {
      for (BsqLayer& l : layers) ops::clamp(l.param->value, -1.0f, 1.0f);
      for (nn::Parameter* p : quirk)
        if (p->kind == nn::ParamKind::Weight || p->kind == nn::ParamKind::BnWeight) ops::clamp(p->value, -1.0f, 1.0f);
    };
  } else {
    options.before_step = [&model, &layers, config, steps_per_epoch, log](int64_t step) {
      if (bsq_adjusts_at(step, steps_per_epoch, config.prun_int)) {
        const auto changes = requantize_and_adjust(layers, config.max_bits, config.threshold);
        model.reset_momentum();  // upstream re-creates the optimizer
        log("epoch " + std::to_string(step / steps_per_epoch) + ": " + describe_precision_changes(layers, changes));
      }
      set_bsq_regularizer(layers, config.alpha);
    };
    if (!quirk.empty())
      options.after_update = [quirk] {
        for (nn::Parameter* p : quirk) ops::clamp(p->value, 0.0f, 2.0f);
      };
    options.before_checkpoint = [&layers] { store_dequantized(layers); };
    options.on_finish = [&layers, config, log] {
      const auto changes = requantize_and_adjust(layers, config.max_bits, config.threshold);
      adjust_precisions(layers, 0.0);
      log("after the last epoch: " + describe_precision_changes(layers, changes));
    };
  }
  options.write_model = [&model, &layers, &acts, config](const std::string& path) {
    save_bsq_float(path, model, layers, config.act_bits, acts);
    save_bsq_bits(bsq_bits_path(path), model, layers, config.act_bits, acts);
  };
}

}  // namespace bmc::compress
