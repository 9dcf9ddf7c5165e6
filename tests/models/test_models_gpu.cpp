// GPU parity of a whole model: one training forward/backward of cifar_resnet_20 on the GPU
// against the CPU from the same weights (skipped without a device).
#include <gtest/gtest.h>

#include "io/state_dict.h"
#include "models/init.h"
#include "models/registry.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/gpu_env.h"
#include "tests/support/tolerance.h"

namespace bmc {
namespace {

// 20 convolution + batch-norm layers compound the per-op reduction error (tol::kReductionNmse).
constexpr double kWholeModelNmse = 10 * test::tol::kReductionNmse;

TEST(ModelsGpu, CifarResnet20ForwardBackwardMatchesCpu) {
  BMC_REQUIRE_CUDA_DEVICE();
  auto cpu = models::make_model("cifar_resnet_20", Device::cpu());
  auto gpu = models::make_model("cifar_resnet_20", Device::cuda(0));
  models::initialize(*cpu, 21);
  models::initialize(*gpu, 21);
  const Tensor x = test::random_uniform({4, 3, 32, 32}, 22);
  const Tensor dy = test::random_uniform({4, 10}, 23);
  for (nn::Model* m : {cpu.get(), gpu.get()}) {
    m->set_training(true);
    m->zero_grad();
  }
  const Tensor y_cpu = cpu->forward(x);
  const Tensor y_gpu = gpu->forward(x.to(Device::cuda(0)));
  EXPECT_TRUE(test::nmse_below(y_gpu.to(Device::cpu()), y_cpu, kWholeModelNmse));
  const Tensor dx_cpu = cpu->backward(dy);
  const Tensor dx_gpu = gpu->backward(dy.to(Device::cuda(0)));
  EXPECT_TRUE(test::nmse_below(dx_gpu.to(Device::cpu()), dx_cpu, kWholeModelNmse));
  EXPECT_TRUE(test::nmse_below(gpu->grads().to(Device::cpu()), cpu->grads(), kWholeModelNmse));
  // Running statistics and the batch counter after one training step.
  const auto sd_cpu = io::state_dict(*cpu), sd_gpu = io::state_dict(*gpu);
  ASSERT_EQ(sd_cpu.size(), sd_gpu.size());
  for (size_t i = 0; i < sd_cpu.size(); ++i) {
    if (sd_cpu[i].second->dtype() == DType::I64) {
      EXPECT_EQ(sd_gpu[i].second->to_vector<int64_t>(), sd_cpu[i].second->to_vector<int64_t>()) << sd_cpu[i].first;
    } else {
      EXPECT_TRUE(test::nmse_below(sd_gpu[i].second->to(Device::cpu()), *sd_cpu[i].second, kWholeModelNmse))
          << sd_cpu[i].first;
    }
  }
}

TEST(ModelsGpu, LoadedCheckpointGivesPyTorchLogits) {
  BMC_REQUIRE_CUDA_DEVICE();
  auto model = models::make_model("cifar_resnet_20", Device::cuda(0));
  io::load_state_dict(*model, test::load_fixture("model_cifar_resnet_20"));
  const io::SafeTensors io = test::load_fixture("model_cifar_resnet_20_io");
  model->set_training(false);
  EXPECT_GOLDEN(model->forward(io.at("x").to(Device::cuda(0))), io, "logits");
}

}  // namespace
}  // namespace bmc
