// batch norm, softmax cross-entropy and top-k accuracy against PyTorch fixtures
// (tests/golden/gen_bn_loss.py).
#include <gtest/gtest.h>

#include <string>

#include "ops/batch_norm.h"
#include "ops/loss.h"
#include "tests/support/fixtures.h"

namespace bmc {
namespace {

class BatchNormGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(BatchNormGolden, TrainStepEvalAndBackwardMatchPyTorch) {
  const io::SafeTensors f = test::load_fixture(GetParam());
  const float momentum = std::stof(f.metadata.at("momentum")), eps = std::stof(f.metadata.at("eps"));
  const Tensor &x = f.at("x"), &gamma = f.at("gamma"), &beta = f.at("beta");
  const Shape channels = gamma.shape();
  Tensor running_mean = f.at("running_mean_before").clone(), running_var = f.at("running_var_before").clone();
  Tensor y(x.shape()), saved_mean(channels), saved_invstd(channels);
  ops::batch_norm_forward_train(y, saved_mean, saved_invstd, x, gamma, beta, running_mean, running_var,
                                momentum, eps);
  EXPECT_GOLDEN(y, f, "y");
  EXPECT_GOLDEN(saved_mean, f, "saved_mean");
  EXPECT_GOLDEN(saved_invstd, f, "saved_invstd");
  EXPECT_GOLDEN(running_mean, f, "running_mean_after");
  EXPECT_GOLDEN(running_var, f, "running_var_after");

  Tensor dx(x.shape()), dgamma = Tensor::zeros(channels), dbeta = Tensor::zeros(channels);
  ops::batch_norm_backward(dx, dgamma, dbeta, f.at("dy"), x, gamma, saved_mean, saved_invstd, eps);
  EXPECT_GOLDEN(dx, f, "dx");
  EXPECT_GOLDEN(dgamma, f, "dgamma");
  EXPECT_GOLDEN(dbeta, f, "dbeta");

  Tensor y_eval(x.shape());
  ops::batch_norm_forward_eval(y_eval, f.at("x_eval"), gamma, beta, running_mean, running_var, eps);
  EXPECT_GOLDEN(y_eval, f, "y_eval");
}

INSTANTIATE_TEST_SUITE_P(Fixtures, BatchNormGolden, ::testing::Values("bn_nchw", "bn_nc"));

class CrossEntropyGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(CrossEntropyGolden, ForwardAndBackwardMatchPyTorch) {
  const io::SafeTensors f = test::load_fixture(GetParam());
  const Tensor &logits = f.at("logits"), &labels = f.at("labels");
  Tensor loss(Shape{}), probs(logits.shape()), dlogits(logits.shape());
  ops::softmax_cross_entropy_forward(loss, probs, logits, labels);
  EXPECT_GOLDEN(loss, f, "loss");
  EXPECT_GOLDEN(probs, f, "probs");
  ops::softmax_cross_entropy_backward(dlogits, probs, labels);
  EXPECT_GOLDEN(dlogits, f, "dlogits");
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CrossEntropyGolden, ::testing::Values("xent_batch3", "xent_batch5"));

TEST(TopkGolden, CorrectCountsMatchTorchTopk) {
  const io::SafeTensors f = test::load_fixture("topk_batch40");
  for (int k : {1, 3, 5}) {
    Tensor correct(Shape{}, DType::I32);
    ops::topk_correct(correct, f.at("logits"), f.at("labels"), k);
    const std::string key = "correct_top" + std::to_string(k);
    EXPECT_EQ(correct.to_vector<int32_t>(), f.at(key).to_vector<int32_t>()) << key;
  }
}

}  // namespace
}  // namespace bmc
