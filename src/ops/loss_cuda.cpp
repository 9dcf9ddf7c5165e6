// Softmax cross-entropy and top-k accuracy on CUDA: launches of kernels/softmax_xent.cu and
// kernels/topk.cu on the device's stream. Labels are not range-checked here (that would need a
// host synchronisation); an out-of-range label makes the loss NaN and its row count as wrong.
#include "core/cuda_context.h"
#include "kernels/softmax_xent.h"
#include "kernels/topk.h"
#include "ops/loss_cuda.h"

namespace bmc::ops {

void softmax_cross_entropy_forward_cuda(Tensor& loss, Tensor& probs, const Tensor& logits,
                                        const Tensor& labels) {
  auto& ctx = cuda::context(logits.device());
  const int64_t n = logits.dim(0), k = logits.dim(1);
  // Per-row losses, reduced in a fixed order by the second kernel; the pool reuses the block
  // in stream order, so this allocates nothing after the first step.
  Tensor row_loss({n}, DType::F32, logits.device());
  kernels::softmax_xent_forward(loss.data<float>(), probs.data<float>(), row_loss.data<float>(),
                                logits.data<float>(), labels.data<int32_t>(), n, k, ctx.stream);
}

void softmax_cross_entropy_backward_cuda(Tensor& dlogits, const Tensor& probs, const Tensor& labels) {
  auto& ctx = cuda::context(probs.device());
  kernels::softmax_xent_backward(dlogits.data<float>(), probs.data<float>(), labels.data<int32_t>(),
                                 probs.dim(0), probs.dim(1), ctx.stream);
}

void topk_correct_cuda(Tensor& correct, const Tensor& logits, const Tensor& labels, int k) {
  auto& ctx = cuda::context(logits.device());
  kernels::topk_correct(correct.data<int32_t>(), logits.data<float>(), labels.data<int32_t>(), logits.dim(0),
                        logits.dim(1), k, ctx.stream);
}

}  // namespace bmc::ops
