// Evaluation of a model on a dataset split: mean loss, top-1 and top-5 accuracy, and optionally
// the logits of every example in dataset order.
#pragma once

#include "datasets/batch_source.h"
#include "nn/model.h"

namespace bmc::train {

struct EvalResult {
  double loss = 0;
  double top1 = 0;  // fraction in [0, 1]
  double top5 = 0;
  int64_t examples = 0;
  double seconds = 0;
  double images_per_second = 0;
};

// Runs in eval mode (running BN statistics) and restores the previous mode. When `logits` is not
// null it receives an f32 (examples, classes) CPU tensor. With a `progress_label` a progress bar
// (running top-1 and images/s) is drawn on stderr.
EvalResult evaluate(nn::Model& model, const data::BatchSource& loader, Tensor* logits = nullptr,
                    const char* progress_label = nullptr);

}  // namespace bmc::train
