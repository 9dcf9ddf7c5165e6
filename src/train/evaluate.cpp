#include "train/evaluate.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <vector>

#include "dist/communicator.h"
#include "ops/loss.h"
#include "train/progress.h"

namespace bmc::train {

EvalResult evaluate(nn::Model& model, const data::BatchSource& loader, Tensor* logits_out, const char* progress_label) {
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  std::optional<Progress> progress;
  if (progress_label) progress.emplace(progress_label, loader.steps_per_epoch(), 0);
  // The shards of a data-parallel run's ranks are evaluated apart and their counts summed.
  const bool sharded = loader.shard().count > 1;
  BMC_CHECK(!sharded || !logits_out, "evaluate: the logits of a sharded evaluation are not gathered");
  const bool was_training = model.net().training();
  model.set_training(false);
  const Device device = model.device();
  EvalResult result;
  double loss_sum = 0;
  int64_t top1 = 0, top5 = 0;
  std::vector<float> all_logits;
  int64_t classes = 0;
  Tensor x, y;
  Tensor loss({}, DType::F32, device), correct({}, DType::I32, device);
  for (int64_t step = 0; step < loader.steps_per_epoch(); ++step) {
    loader.batch(step, x, y);
    const int64_t b = x.dim(0);
    if (b == 0) continue;  // a rank whose shard of a short last batch is empty
    Tensor logits = model.forward(x);
    Tensor probs(logits.shape(), DType::F32, device);
    ops::softmax_cross_entropy_forward(loss, probs, logits, y);
    loss_sum += static_cast<double>(loss.to_vector<float>()[0]) * b;
    ops::topk_correct(correct, logits, y, 1);
    top1 += correct.to_vector<int32_t>()[0];
    classes = logits.dim(1);
    ops::topk_correct(correct, logits, y, std::min<int64_t>(5, classes));
    top5 += correct.to_vector<int32_t>()[0];
    result.examples += b;
    if (progress && ((step + 1) % 10 == 0 || step + 1 == loader.steps_per_epoch())) {
      char acc[48];
      std::snprintf(acc, sizeof(acc), "top-1 %.2f%%", 100.0 * static_cast<double>(top1) / result.examples);
      progress->update(step + 1, loss_sum / result.examples, acc, result.examples / std::max(1e-9, elapsed()));
    }
    if (logits_out) {
      const auto host = logits.to_vector<float>();
      all_logits.insert(all_logits.end(), host.begin(), host.end());
    }
  }
  model.set_training(was_training);
  if (sharded) {
    double sums[4] = {loss_sum, static_cast<double>(top1), static_cast<double>(top5), static_cast<double>(result.examples)};
    dist::world().all_reduce_sum(sums, 4);
    loss_sum = sums[0];
    top1 = static_cast<int64_t>(sums[1]);
    top5 = static_cast<int64_t>(sums[2]);
    result.examples = static_cast<int64_t>(sums[3]);
  }
  if (progress) progress->finish();
  result.seconds = elapsed();
  result.images_per_second = result.examples / std::max(1e-9, result.seconds);
  if (result.examples > 0) {
    result.loss = loss_sum / result.examples;
    result.top1 = static_cast<double>(top1) / result.examples;
    result.top5 = static_cast<double>(top5) / result.examples;
  }
  if (logits_out) *logits_out = Tensor::from_vector<float>(all_logits, {result.examples, classes});
  return result;
}

}  // namespace bmc::train
