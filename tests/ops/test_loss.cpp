// softmax cross-entropy and top-k accuracy: closed forms, stability, gradient checks, tie and NaN
// rules, bad inputs, and GPU parity (skipped without a device).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "ops/elementwise.h"
#include "ops/loss.h"
#include "tests/support/compare.h"
#include "tests/support/gpu_env.h"
#include "tests/support/gradcheck.h"
#include "tests/support/tolerance.h"

namespace bmc {
namespace {

using test::tol::kElementwiseAtol;
using test::tol::kElementwiseRtol;

struct XentResult {
  Tensor loss, probs;
};

XentResult xent(const Tensor& logits, const Tensor& labels) {
  XentResult r{Tensor(Shape{}), Tensor(logits.shape())};
  ops::softmax_cross_entropy_forward(r.loss, r.probs, logits, labels);
  return r;
}

Tensor labels_of(const std::vector<int32_t>& v) {
  return Tensor::from_vector<int32_t>(v, {static_cast<int64_t>(v.size())});
}

Tensor random_labels(int64_t n, int64_t k, uint64_t seed) {
  std::vector<int32_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<int32_t>((i * 7919 + seed) % k);
  return labels_of(v);
}

float scalar(const Tensor& t) { return t.to_vector<float>()[0]; }

TEST(SoftmaxCrossEntropy, ClosedForms) {
  // Row 0: uniform logits, loss log 4. Row 1: logits log(1..4), probs (1, 2, 3, 4) / 10.
  const Tensor logits =
      Tensor::from_vector<float>({0, 0, 0, 0, 0, std::log(2.0f), std::log(3.0f), std::log(4.0f)}, {2, 4});
  const XentResult r = xent(logits, labels_of({1, 2}));
  EXPECT_TRUE(test::all_close(r.probs.to_vector<float>(),
                              {0.25f, 0.25f, 0.25f, 0.25f, 0.1f, 0.2f, 0.3f, 0.4f}, kElementwiseAtol,
                              kElementwiseRtol));
  const float expected = static_cast<float>((std::log(4.0) - std::log(0.3)) / 2);
  EXPECT_NEAR(scalar(r.loss), expected, 1e-6f);
}

TEST(SoftmaxCrossEntropy, StableForHugeLogits) {
  const Tensor logits = Tensor::from_vector<float>({1000, 0, -1000, 2000, 2000, 0}, {2, 3});
  const XentResult r = xent(logits, labels_of({1, 0}));
  // Row 0: loss 1000 (log(1 + e^-1000 + e^-2000) rounds away); row 1: loss log 2.
  EXPECT_NEAR(scalar(r.loss), (1000 + std::log(2.0f)) / 2, 1e-3f);
  for (float p : r.probs.to_vector<float>()) EXPECT_TRUE(std::isfinite(p));
}

TEST(SoftmaxCrossEntropy, NaNLogitPropagatesToTheLoss) {
  const Tensor logits = Tensor::from_vector<float>({1, NAN, 2, 0, 1, 2}, {2, 3});
  const XentResult r = xent(logits, labels_of({0, 2}));
  EXPECT_TRUE(std::isnan(scalar(r.loss)));
  const auto p = r.probs.to_vector<float>();
  EXPECT_TRUE(std::isnan(p[0]));
  EXPECT_TRUE(std::isfinite(p[3]));  // other rows are unaffected
}

TEST(SoftmaxCrossEntropy, MeanOverManyRowsMatchesADoubleReference) {
  // 600 rows: more than the 256 strided partials of the batch-mean reduction.
  const int64_t n = 600, k = 37;
  const Tensor logits = test::random_uniform({n, k}, 60, -5, 5);
  const Tensor labels = random_labels(n, k, 3);
  const XentResult r = xent(logits, labels);
  const float* x = logits.data<float>();
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    double m = x[i * k], s = 0;
    for (int64_t j = 0; j < k; ++j) m = std::max(m, double(x[i * k + j]));
    for (int64_t j = 0; j < k; ++j) s += std::exp(x[i * k + j] - m);
    total += std::log(s) - (x[i * k + labels.data<int32_t>()[i]] - m);
  }
  EXPECT_NEAR(scalar(r.loss), total / n, 1e-5 * total / n);
  const auto p = r.probs.to_vector<float>();
  for (int64_t i = 0; i < n; ++i)
    EXPECT_NEAR(std::accumulate(p.begin() + i * k, p.begin() + (i + 1) * k, 0.0), 1.0, 1e-5) << "row " << i;
}

TEST(SoftmaxCrossEntropy, BackwardIsProbsMinusOneHotOverN) {
  const Tensor logits = test::random_uniform({3, 4}, 61);
  const Tensor labels = labels_of({3, 0, 2});
  const XentResult r = xent(logits, labels);
  Tensor dlogits({3, 4});
  ops::softmax_cross_entropy_backward(dlogits, r.probs, labels);
  const auto p = r.probs.to_vector<float>(), d = dlogits.to_vector<float>();
  const int32_t label[] = {3, 0, 2};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      EXPECT_EQ(d[i * 4 + j], (p[i * 4 + j] - (j == label[i] ? 1.0f : 0.0f)) / 3.0f) << i << "," << j;
}

TEST(SoftmaxCrossEntropy, GradientMatchesFiniteDifferences) {
  for (const Shape& shape : {Shape{3, 10}, Shape{5, 7}, Shape{2, 40}}) {
    Tensor logits = test::random_uniform(shape, 62, -2, 2);
    const Tensor labels = random_labels(shape[0], shape[1], 5);
    // dL/dloss large enough that the |a - n| <= tol * max(|a|, |n|, 1) test is relative.
    const Tensor r = Tensor::from_vector<float>({30.0f}, Shape{});
    const XentResult fwd = xent(logits, labels);
    Tensor analytic(shape);
    ops::softmax_cross_entropy_backward(analytic, fwd.probs, labels);
    ops::scale(analytic, 30.0f);
    auto forward = [&] { return xent(logits, labels).loss; };
    EXPECT_TRUE(test::check_gradient(forward, logits, analytic, r)) << shape.str();
  }
}

TEST(SoftmaxCrossEntropy, OutOfRangeLabelNamesRowAndLabel) {
  const Tensor logits = test::random_uniform({3, 5}, 63);
  Tensor loss(Shape{}), probs({3, 5}), dlogits({3, 5});
  for (int32_t bad : {5, -1}) {
    try {
      ops::softmax_cross_entropy_forward(loss, probs, logits, labels_of({0, bad, 4}));
      ADD_FAILURE() << "label " << bad << " accepted";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("label " + std::to_string(bad) + " of row 1"), std::string::npos) << message;
    }
    EXPECT_THROW(ops::softmax_cross_entropy_backward(dlogits, probs, labels_of({0, bad, 4})), Error);
  }
}

TEST(SoftmaxCrossEntropy, RejectsBadShapesAndTypes) {
  Tensor loss(Shape{}), probs({3, 5});
  const Tensor logits({3, 5}), labels = labels_of({0, 1, 2});
  EXPECT_THROW(ops::softmax_cross_entropy_forward(loss, probs, Tensor({15}), labels), Error);
  EXPECT_THROW(ops::softmax_cross_entropy_forward(loss, probs, logits, labels_of({0, 1})), Error);
  EXPECT_THROW(ops::softmax_cross_entropy_forward(loss, probs, logits, Tensor({3})), Error);  // f32 labels
  Tensor wrong_probs({3, 4}), vector_loss({1});
  EXPECT_THROW(ops::softmax_cross_entropy_forward(loss, wrong_probs, logits, labels), Error);
  EXPECT_THROW(ops::softmax_cross_entropy_forward(vector_loss, probs, logits, labels), Error);
  Tensor empty_probs({0, 5}), no_labels({0}, DType::I32);
  EXPECT_THROW(ops::softmax_cross_entropy_forward(loss, empty_probs, Tensor({0, 5}), no_labels), Error);
  Tensor dlogits({3, 4});
  EXPECT_THROW(ops::softmax_cross_entropy_backward(dlogits, probs, labels), Error);
}

int32_t topk(const Tensor& logits, const Tensor& labels, int k) {
  Tensor correct(Shape{}, DType::I32);
  ops::topk_correct(correct, logits, labels, k);
  return correct.to_vector<int32_t>()[0];
}

TEST(TopkCorrect, TiesResolveInFavourOfTheLabel) {
  const Tensor row = Tensor::from_vector<float>({1, 2, 2, 0}, {1, 4});
  EXPECT_EQ(topk(row, labels_of({1}), 1), 1);
  EXPECT_EQ(topk(row, labels_of({2}), 1), 1);
  EXPECT_EQ(topk(row, labels_of({0}), 1), 0);
  EXPECT_EQ(topk(row, labels_of({0}), 2), 0);
  EXPECT_EQ(topk(row, labels_of({0}), 3), 1);
  EXPECT_EQ(topk(row, labels_of({3}), 4), 1);
}

TEST(TopkCorrect, NaNOutranksTheLabelAndANaNLabelIsWrong) {
  const Tensor row = Tensor::from_vector<float>({NAN, 2, 1}, {1, 3});
  EXPECT_EQ(topk(row, labels_of({1}), 1), 0);
  EXPECT_EQ(topk(row, labels_of({1}), 2), 1);
  EXPECT_EQ(topk(row, labels_of({0}), 3), 0);
}

TEST(TopkCorrect, MatchesASortingReference) {
  const int64_t n = 97, k = 13;
  const Tensor logits = test::random_uniform({n, k}, 64);
  const Tensor labels = random_labels(n, k, 11);
  for (int top : {1, 3, 5, 13}) {
    int32_t expected = 0;
    for (int64_t i = 0; i < n; ++i) {
      std::vector<int> order(static_cast<size_t>(k));
      std::iota(order.begin(), order.end(), 0);
      const float* x = logits.data<float>() + i * k;
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return x[a] > x[b]; });
      expected +=
          std::find(order.begin(), order.begin() + top, labels.data<int32_t>()[i]) != order.begin() + top;
    }
    EXPECT_EQ(topk(logits, labels, top), expected) << "k " << top;
  }
}

TEST(TopkCorrect, RejectsBadInputs) {
  const Tensor logits({3, 5});
  Tensor correct(Shape{}, DType::I32), float_correct(Shape{});
  EXPECT_THROW(ops::topk_correct(correct, logits, labels_of({0, 1, 2}), 0), Error);
  EXPECT_THROW(ops::topk_correct(correct, logits, labels_of({0, 1, 2}), 6), Error);
  EXPECT_THROW(ops::topk_correct(correct, logits, labels_of({0, 5, 2}), 1), Error);
  EXPECT_THROW(ops::topk_correct(correct, logits, labels_of({0, 1}), 1), Error);
  EXPECT_THROW(ops::topk_correct(float_correct, logits, labels_of({0, 1, 2}), 1), Error);
}

// The GPU loss, gradient and top-k of random logits of `shape` against the CPU's. expf/logf differ
// by a few ulps between glibc and CUDA: ulp-scale elementwise tolerances; the batch mean takes
// loss_rtol (it sums the rows in another order).
void expect_gpu_loss_matches(const Shape& shape, uint64_t seed, float loss_rtol) {
  const Device gpu = Device::cuda(0);
  const Tensor logits = test::random_uniform(shape, seed, -8, 8);
  const Tensor labels = random_labels(shape[0], shape[1], seed + 1);
  const XentResult cpu = xent(logits, labels);
  Tensor dlogits(shape);
  ops::softmax_cross_entropy_backward(dlogits, cpu.probs, labels);
  const Tensor glogits = logits.to(gpu), glabels = labels.to(gpu);
  Tensor gloss(Shape{}, DType::F32, gpu), gprobs(shape, DType::F32, gpu), gdlogits(shape, DType::F32, gpu);
  ops::softmax_cross_entropy_forward(gloss, gprobs, glogits, glabels);
  ops::softmax_cross_entropy_backward(gdlogits, gprobs, glabels);
  EXPECT_TRUE(test::all_close(gprobs, cpu.probs, kElementwiseAtol, kElementwiseRtol)) << shape.str();
  EXPECT_TRUE(test::all_close(gloss, cpu.loss, kElementwiseAtol, loss_rtol)) << shape.str();
  EXPECT_TRUE(test::all_close(gdlogits, dlogits, kElementwiseAtol, kElementwiseRtol)) << shape.str();
  for (int k : {1, 5}) {
    if (k > shape[1]) continue;
    Tensor gcorrect(Shape{}, DType::I32, gpu);
    ops::topk_correct(gcorrect, glogits, glabels, k);
    EXPECT_EQ(gcorrect.to_vector<int32_t>()[0], topk(logits, labels, k)) << shape.str() << " k " << k;
  }
}

TEST(LossGpu, MatchesCpu) {
  BMC_REQUIRE_CUDA_DEVICE();
  for (const Shape& shape : {Shape{3, 10}, Shape{300, 10}, Shape{129, 37}, Shape{7, 1000}, Shape{1, 1}})
    expect_gpu_loss_matches(shape, 65, kElementwiseRtol);
}

// 600,000 rows of 2: past every kernel's grid cap (softmax rows: 4096 blocks of 4 rows; top-k:
// 4096 blocks of 128 rows; gradient: 4096 blocks of 256 elements), so each grid-stride loop runs
// more than once. The batch mean sums 600,000 losses: 1e-4 relative.
TEST(LossGpu, GridStrideLoopsIterateBeyondTheGridCap) {
  BMC_REQUIRE_CUDA_DEVICE();
  expect_gpu_loss_matches(Shape{600000, 2}, 67, 1e-4f);
}

TEST(LossGpu, OutOfRangeLabelGivesNaNLossAndAWrongRow) {
  BMC_REQUIRE_CUDA_DEVICE();
  const Device gpu = Device::cuda(0);
  const Tensor logits = test::random_uniform({3, 5}, 66).to(gpu), labels = labels_of({0, 9, 4}).to(gpu);
  Tensor loss(Shape{}, DType::F32, gpu), probs({3, 5}, DType::F32, gpu), correct(Shape{}, DType::I32, gpu);
  ops::softmax_cross_entropy_forward(loss, probs, logits, labels);
  EXPECT_TRUE(std::isnan(scalar(loss)));
  ops::topk_correct(correct, logits, labels, 5);
  EXPECT_EQ(correct.to_vector<int32_t>()[0], 2);
}

}  // namespace
}  // namespace bmc
