// Launchers for kernels/softmax_xent.cu (see there for the math).
#pragma once

#include <cstdint>

#include "kernels/stream.h"

namespace bmc::BMC_KNS {

// loss[0] = mean over rows of -log softmax(logits)[label]; probs (n, k) = softmax(logits);
// row_loss: workspace of n floats (the per-row losses). A label outside [0, k) makes its row's
// loss, and so the mean, NaN (labels are validated once by the data loader, not per step).
void softmax_xent_forward(float* loss, float* probs, float* row_loss, const float* logits,
                          const int32_t* labels, int64_t n, int64_t k, StreamRef stream, int grid_limit = 0);
// dlogits = (probs - onehot(labels)) / n. An out-of-range label has no one-hot entry.
void softmax_xent_backward(float* dlogits, const float* probs, const int32_t* labels, int64_t n, int64_t k,
                           StreamRef stream, int grid_limit = 0);

}  // namespace bmc::BMC_KNS
