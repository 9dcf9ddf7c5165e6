#include "ops/loss.h"

#if BMC_HAS_CUDA
#include "ops/loss_cuda.h"
#endif

#include <cmath>
#include <vector>

#include "kernels/softmax_xent.cuh"
#include "kernels/topk.cuh"
#include "ops/check.h"

namespace bmc::ops {

namespace {

// Labels can only be checked where they are readable without a device synchronisation: on the
// CPU. (CUDA labels are validated once by the data loader; see kernels/softmax_xent.h.)
void check_labels_in_range(const char* op, const int32_t* labels, int64_t n, int64_t k) {
  for (int64_t i = 0; i < n; ++i)
    BMC_CHECK(labels[i] >= 0 && labels[i] < k, op, ": label ", labels[i], " of row ", i, " is outside [0, ",
              k, ")");
}

// The row reductions follow the lane order of kernels/softmax_xent.cuh (see there), so this
// reference and the kernel agree bitwise. The row max is order-independent (fmaxf).
void softmax_xent_forward_cpu(float* loss, float* probs, const float* logits, const int32_t* labels,
                              int64_t n, int64_t k) {
  std::vector<float> row_loss(static_cast<size_t>(n));
#pragma omp parallel for schedule(static) if (n * k > 65536)
  for (int64_t i = 0; i < n; ++i) {
    const float* x = logits + i * k;
    float row_max = -INFINITY;
    for (int64_t j = 0; j < k; ++j) row_max = fmaxf(row_max, x[j]);
    float lanes[kXentLanes];
    for (int l = 0; l < kXentLanes; ++l) lanes[l] = xent_lane_exp_sum(x, k, l, row_max);
    const float sum = lane_butterfly_sum(lanes);
    for (int64_t j = 0; j < k; ++j) probs[i * k + j] = xent_prob(x[j], row_max, sum);
    row_loss[static_cast<size_t>(i)] = xent_row_loss(x, k, labels[i], row_max, sum);
  }
  float partial[kXentMeanThreads] = {};
  for (int t = 0; t < kXentMeanThreads; ++t)
    for (int64_t i = t; i < n; i += kXentMeanThreads) partial[t] += row_loss[static_cast<size_t>(i)];
  loss[0] = tree_sum(partial) / static_cast<float>(n);
}

void softmax_xent_backward_cpu(float* dlogits, const float* probs, const int32_t* labels, int64_t n,
                               int64_t k) {
#pragma omp parallel for schedule(static) if (n * k > 65536)
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < k; ++j) dlogits[i * k + j] = xent_grad(probs[i * k + j], j == labels[i], n);
}

int32_t topk_correct_cpu(const float* logits, const int32_t* labels, int64_t n, int64_t k, int top_k) {
  int32_t correct = 0;
#pragma omp parallel for schedule(static) reduction(+ : correct) if (n * k > 65536)
  for (int64_t i = 0; i < n; ++i) correct += topk_row_correct(logits + i * k, k, labels[i], top_k) ? 1 : 0;
  return correct;
}

// logits: (N, K) f32 with N, K >= 1; labels: (N) i32.
void check_logits_labels(const char* op, const Tensor& logits, const Tensor& labels) {
  check_dtype(op, "logits", logits, DType::F32);
  check_rank(op, "logits", logits, 2);
  BMC_CHECK(logits.dim(0) > 0 && logits.dim(1) > 0, op,
            ": logits must have at least one row and one class, got ", logits.describe());
  check_dtype(op, "labels", labels, DType::I32);
  check_shape(op, "labels", labels, {logits.dim(0)});
}

}  // namespace

void softmax_cross_entropy_forward(Tensor& loss, Tensor& probs, const Tensor& logits, const Tensor& labels) {
  const char* op = "softmax_cross_entropy_forward";
  check_logits_labels(op, logits, labels);
  check_dtype(op, "loss", loss, DType::F32);
  check_shape(op, "loss", loss, Shape{});
  check_dtype(op, "probs", probs, DType::F32);
  check_shape(op, "probs", probs, logits.shape());
  check_same_device(op, {&loss, &probs, &logits, &labels});
  check_no_alias(op, probs, logits);
  if (logits.device().is_cuda())
    return BMC_DISPATCH_CUDA(softmax_cross_entropy_forward_cuda(loss, probs, logits, labels));
  const int64_t n = logits.dim(0), k = logits.dim(1);
  check_labels_in_range(op, labels.data<int32_t>(), n, k);
  softmax_xent_forward_cpu(loss.data<float>(), probs.data<float>(), logits.data<float>(),
                           labels.data<int32_t>(), n, k);
}

void softmax_cross_entropy_backward(Tensor& dlogits, const Tensor& probs, const Tensor& labels) {
  const char* op = "softmax_cross_entropy_backward";
  check_logits_labels(op, probs, labels);
  check_dtype(op, "dlogits", dlogits, DType::F32);
  check_shape(op, "dlogits", dlogits, probs.shape());
  check_same_device(op, {&dlogits, &probs, &labels});
  if (probs.device().is_cuda())
    return BMC_DISPATCH_CUDA(softmax_cross_entropy_backward_cuda(dlogits, probs, labels));
  const int64_t n = probs.dim(0), k = probs.dim(1);
  check_labels_in_range(op, labels.data<int32_t>(), n, k);
  softmax_xent_backward_cpu(dlogits.data<float>(), probs.data<float>(), labels.data<int32_t>(), n, k);
}

void topk_correct(Tensor& correct, const Tensor& logits, const Tensor& labels, int k) {
  const char* op = "topk_correct";
  check_logits_labels(op, logits, labels);
  check_dtype(op, "correct", correct, DType::I32);
  check_shape(op, "correct", correct, Shape{});
  BMC_CHECK(k >= 1 && k <= logits.dim(1), op, ": k must be in [1, ", logits.dim(1),
            "] (the number of classes), got ", k);
  check_same_device(op, {&correct, &logits, &labels});
  if (logits.device().is_cuda()) return BMC_DISPATCH_CUDA(topk_correct_cuda(correct, logits, labels, k));
  const int64_t n = logits.dim(0), classes = logits.dim(1);
  check_labels_in_range(op, labels.data<int32_t>(), n, classes);
  correct.data<int32_t>()[0] = topk_correct_cpu(logits.data<float>(), labels.data<int32_t>(), n, classes, k);
}

}  // namespace bmc::ops
