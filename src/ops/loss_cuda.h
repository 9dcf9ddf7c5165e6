// The CUDA implementations behind ops/loss.h's dispatch (defined in loss_cuda.cpp, built
// only with CUDA): one declaration, shared by the dispatching file and the definitions.
#pragma once

#include "ops/loss.h"

namespace bmc::ops {

void softmax_cross_entropy_forward_cuda(Tensor& loss, Tensor& probs, const Tensor& logits,
                                        const Tensor& labels);
void softmax_cross_entropy_backward_cuda(Tensor& dlogits, const Tensor& probs, const Tensor& labels);
void topk_correct_cuda(Tensor& correct, const Tensor& logits, const Tensor& labels, int k);

}  // namespace bmc::ops
