#include "compress/quant/ptq_pipeline.h"

#include <algorithm>

#include "compress/quant/integer_inference.h"
#include "core/error.h"

namespace bmc::compress {

std::unique_ptr<data::DataLoader> calibration_loader(const data::Dataset& train, const data::LoaderOptions& base,
                                                     Device device, int batch_size, uint64_t seed) {
  data::LoaderOptions o = base;
  o.batch_size = batch_size;
  o.shuffle = true;
  o.seed = seed;
  o.augment = data::Augment::None;
  return std::make_unique<data::DataLoader>(train, device, o);
}

namespace {

int64_t argmax_row(const float* row, int64_t n) { return std::max_element(row, row + n) - row; }

}  // namespace

int64_t strict_top1_hits(const std::vector<float>& logits, int64_t classes, const std::vector<int32_t>& labels,
                         int64_t first_row) {
  BMC_CHECK(classes > 0 && static_cast<int64_t>(logits.size()) >= (first_row + static_cast<int64_t>(labels.size())) * classes,
            "strict_top1_hits: ", logits.size(), " logits for ", labels.size(), " labels of ", classes, " classes");
  int64_t hits = 0;
  for (size_t i = 0; i < labels.size(); ++i)
    if (argmax_row(&logits[(first_row + static_cast<int64_t>(i)) * classes], classes) == labels[i]) ++hits;
  return hits;
}

double strict_top1(nn::Model& model, const data::BatchSource& test) {
  Tensor logits;
  train::evaluate(model, test, &logits);
  const std::vector<float> all = logits.to_vector<float>();
  Tensor x, y;
  int64_t index = 0, hits = 0;
  for (int64_t step = 0; step < test.steps_per_epoch(); ++step) {
    test.batch(step, x, y);
    const std::vector<int32_t> labels = y.to_vector<int32_t>();
    hits += strict_top1_hits(all, logits.dim(1), labels, index);
    index += static_cast<int64_t>(labels.size());
  }
  return static_cast<double>(hits) / std::max<int64_t>(index, 1);
}

QuantEval quantize_and_evaluate(nn::Model& model, const QuantConfig& config, const data::BatchSource& calib,
                                int64_t calib_batches, const data::BatchSource& test, bool integer_check) {
  PostTrainQuantizer q(model, config);
  q.calibrate(calib, calib_batches);
  q.quantize();
  QuantEval r;
  Tensor sim_logits;
  r.quantized = train::evaluate(model, test, &sim_logits);
  r.params = q.describe();
  r.folded_norms = q.folded_norms();
  if (integer_check) {
    check_integer_path(q);
    r.integer_agree = r.integer_correct = 0;
  }
  const int64_t classes = sim_logits.dim(1);
  const std::vector<float> sim = sim_logits.to_vector<float>();
  Tensor x, y;
  int64_t index = 0, strict = 0;
  for (int64_t step = 0; step < test.steps_per_epoch(); ++step) {
    test.batch(step, x, y);
    const std::vector<int32_t> labels = y.to_vector<int32_t>();
    strict += strict_top1_hits(sim, classes, labels, index);
    if (!integer_check) {
      index += static_cast<int64_t>(labels.size());
      continue;
    }
    const std::vector<float> ints = integer_forward(q, x).to_vector<float>();
    for (size_t i = 0; i < labels.size(); ++i, ++index) {
      const int64_t b = argmax_row(&sim[index * classes], classes);
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

}  // namespace bmc::compress
