// Softmax cross-entropy (PyTorch's F.cross_entropy with mean reduction) and top-k accuracy.
// Results stay on the tensors' device (no host synchronisation inside a training step).
#pragma once

#include "core/tensor.h"

namespace bmc::ops {

// loss: () scalar, mean over the batch of -log softmax(logits)[label]; probs: (N, K) the softmax
// (kept for the backward). logits: (N, K) f32; labels: (N) i32 in [0, K).
void softmax_cross_entropy_forward(Tensor& loss, Tensor& probs, const Tensor& logits, const Tensor& labels);
// dlogits = (probs - onehot(labels)) / N  (the gradient of the mean loss).
void softmax_cross_entropy_backward(Tensor& dlogits, const Tensor& probs, const Tensor& labels);

// correct: () i32 scalar, the number of rows whose label is among the k largest logits. A row
// counts as correct when fewer than k logits are strictly greater than the label's logit (ties
// resolve in favour of the label). logits: (N, K) f32; labels: (N) i32.
void topk_correct(Tensor& correct, const Tensor& logits, const Tensor& labels, int k);

}  // namespace bmc::ops
