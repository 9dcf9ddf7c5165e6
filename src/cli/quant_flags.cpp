#include "cli/quant_flags.h"

#include <algorithm>
#include <sstream>

#include "cli/session.h"
#include "compress/quant/integer_inference.h"
#include "core/error.h"

namespace bmc::cli {

void declare_quant_flags(Args& args) {
  args.option("qe-bits-acts", "8", "activation bits (Distiller --qeba)");
  args.option("qe-mode", "sym", "sym, asym_u or asym_s (Distiller --qem)");
  args.flag("qe-per-channel", "weights quantized per output channel (Distiller --qepc)");
  args.option("qe-clip", "none", "activation clipping: none, avg or n_std:K (Distiller --qe-clip-acts)");
  args.option("qe-no-quant-layers", "", "comma-separated module names kept in full precision (default: none)");
  args.option("calib-batches", "20", "training batches used for the activation statistics");
  args.alias("qeba", "qe-bits-acts");
  args.alias("qem", "qe-mode");
  args.alias("qepc", "qe-per-channel");
  args.alias("qe-clip-acts", "qe-clip");
  args.alias("qeca", "qe-clip");
}

compress::QuantConfig quant_config_from_flags(const Args& args, int bits_weights) {
  compress::QuantConfig c;
  c.bits_weights = bits_weights;
  c.bits_acts = args.get_int("qe-bits-acts");
  compress::check_bits("--qe-bits-wts", c.bits_weights);
  compress::check_bits("--qe-bits-acts", c.bits_acts);
  c.mode = compress::parse_quant_mode(args.get("qe-mode"));
  c.per_channel = args.on("qe-per-channel");
  compress::parse_clip(args.get("qe-clip"), c);
  std::stringstream ss(args.get("qe-no-quant-layers"));
  for (std::string name; std::getline(ss, name, ',');)
    if (!name.empty()) c.full_precision.insert(name);
  return c;
}

nlohmann::json quant_flags_json(const compress::QuantConfig& c, int64_t calib_batches) {
  return {{"bits_weights", c.bits_weights}, {"bits_acts", c.bits_acts}, {"mode", compress::quant_mode_name(c.mode)},
          {"per_channel", c.per_channel}, {"clip", compress::clip_name(c)},
          {"full_precision", std::vector<std::string>(c.full_precision.begin(), c.full_precision.end())},
          {"calib_batches", calib_batches}};
}

std::unique_ptr<data::DataLoader> calibration_loader(const Session& session, int batch_size, uint64_t data_seed) {
  data::LoaderOptions o = session.test_loader().options();
  o.batch_size = batch_size;
  o.shuffle = true;
  o.seed = data_seed;
  o.augment = data::Augment::None;
  return std::make_unique<data::DataLoader>(session.splits().train, session.device(), o);
}

namespace {

int64_t argmax_row(const float* row, int64_t n) { return std::max_element(row, row + n) - row; }

}  // namespace

QuantEval quantize_and_evaluate(nn::Model& model, const compress::QuantConfig& config, const data::DataLoader& calib,
                                int64_t calib_batches, const data::DataLoader& test, bool integer_check) {
  compress::PostTrainQuantizer q(model, config);
  q.calibrate(calib, calib_batches);
  q.quantize();
  QuantEval r;
  Tensor sim_logits;
  r.quantized = train::evaluate(model, test, &sim_logits);
  r.params = q.describe();
  if (integer_check) {
    compress::check_integer_path(q);
    r.integer_agree = r.integer_correct = 0;
  }
  const int64_t classes = sim_logits.dim(1);
  const std::vector<float> sim = sim_logits.to_vector<float>();
  Tensor x, y;
  int64_t index = 0, strict = 0;
  for (int64_t step = 0; step < test.steps_per_epoch(); ++step) {
    test.batch(step, x, y);
    const std::vector<int32_t> labels = y.to_vector<int32_t>();
    std::vector<float> ints;
    if (integer_check) ints = compress::integer_forward(q, x).to_vector<float>();
    for (size_t i = 0; i < labels.size(); ++i, ++index) {
      const int64_t b = argmax_row(&sim[index * classes], classes);
      if (b == labels[i]) ++strict;
      if (!integer_check) continue;
      const int64_t a = argmax_row(&ints[i * classes], classes);
      if (a == b) ++r.integer_agree;
      else if (r.disagreements.size() < 20) r.disagreements.push_back(index);
      if (a == labels[i]) ++r.integer_correct;
    }
  }
  r.top1_strict = static_cast<double>(strict) / std::max<int64_t>(index, 1);
  q.restore();
  return r;
}

}  // namespace bmc::cli
