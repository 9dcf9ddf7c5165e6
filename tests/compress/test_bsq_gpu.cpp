// BSQ on a CUDA device against the CPU backend, bit for bit: every op of ops/bsq.h at a size of
// several chunks with a tail, and a whole BSQ training step of a small model (forward with the
// regularizer, backward, update, clamp, re-quantization with a precision change). Skips (counted)
// without a device.
#include <gtest/gtest.h>

#include <cmath>

#include "compress/bsq/bsq_model.h"
#include "models/init.h"
#include "models/registry.h"
#include "ops/bsq.h"
#include "optim/sgd.h"
#include "tests/support/compare.h"
#include "tests/support/gpu_env.h"

namespace bmc {
namespace {

constexpr int64_t kN = 3 * 4096 + 77;

Tensor on_gpu(const Tensor& t) { return t.to(Device::cuda(0)); }

TEST(BsqGpu, OpsAreBitwiseTheCpuOps) {
  BMC_REQUIRE_CUDA_DEVICE();
  const int bits = 7;
  const Tensor p = test::random_uniform({bits, kN}, 1, 0.0f, 2.0f), q = test::random_uniform({bits, kN}, 2, 0.0f, 2.0f);
  const Tensor g = test::random_uniform({kN}, 3), s = Tensor::full({1}, 0.6f);
  Tensor w({kN}), wg({kN}, DType::F32, Device::cuda(0));
  ops::bsq_forward(w, p, q, s);
  ops::bsq_forward(wg, on_gpu(p), on_gpu(q), on_gpu(s));
  EXPECT_TRUE(test::bitwise_equal(wg.to(Device::cpu()), w));

  Tensor coef({bits}), value({1});
  ops::bsq_regularizer(coef, value, p, q, 0.02f);
  Tensor coef_g({bits}, DType::F32, Device::cuda(0)), value_g({1}, DType::F32, Device::cuda(0));
  ops::bsq_regularizer(coef_g, value_g, on_gpu(p), on_gpu(q), 0.02f);
  EXPECT_TRUE(test::bitwise_equal(coef_g.to(Device::cpu()), coef));
  EXPECT_TRUE(test::bitwise_equal(value_g.to(Device::cpu()), value));

  Tensor w1({kN}), coef1({bits}), value1({1});
  ops::bsq_forward_regularized(w1, coef1, value1, p, q, s, 0.02f);
  Tensor w1_g({kN}, DType::F32, Device::cuda(0)), coef1_g({bits}, DType::F32, Device::cuda(0)),
      value1_g({1}, DType::F32, Device::cuda(0));
  ops::bsq_forward_regularized(w1_g, coef1_g, value1_g, on_gpu(p), on_gpu(q), on_gpu(s), 0.02f);
  EXPECT_TRUE(test::bitwise_equal(w1_g.to(Device::cpu()), w1));
  EXPECT_TRUE(test::bitwise_equal(coef1_g.to(Device::cpu()), coef1));
  EXPECT_TRUE(test::bitwise_equal(value1_g.to(Device::cpu()), value1));

  Tensor dp = Tensor::zeros({bits, kN}), dq = Tensor::zeros({bits, kN}), ds = Tensor::zeros({1});
  Tensor dpg = on_gpu(dp), dqg = on_gpu(dq), dsg = on_gpu(ds);
  ops::bsq_backward(dp, dq, ds, g, nullptr, p, q, s, coef, true);
  const Tensor gg = on_gpu(g), pg = on_gpu(p), qg = on_gpu(q), sg = on_gpu(s);
  ops::bsq_backward(dpg, dqg, dsg, gg, nullptr, pg, qg, sg, coef_g, true);
  EXPECT_TRUE(test::bitwise_equal(dpg.to(Device::cpu()), dp));
  EXPECT_TRUE(test::bitwise_equal(dqg.to(Device::cpu()), dq));
  EXPECT_TRUE(test::bitwise_equal(dsg.to(Device::cpu()), ds));

  Tensor codes({kN}, DType::I32), codes_g({kN}, DType::I32, Device::cuda(0));
  ops::bsq_codes(codes, p, q);
  ops::bsq_codes(codes_g, pg, qg);
  EXPECT_EQ(codes_g.to_vector<int32_t>(), codes.to_vector<int32_t>());

  const Tensor x = test::random_uniform({kN}, 4, 0.0f, 9.0f), clip = Tensor::full({1}, 2.5f);
  Tensor y({kN}), yg({kN}, DType::F32, Device::cuda(0)), dx({kN}), dxg({kN}, DType::F32, Device::cuda(0));
  Tensor dclip = Tensor::zeros({1}), dclip_g = Tensor::zeros({1}, DType::F32, Device::cuda(0));
  ops::bsq_act_forward(y, x, clip, 3);
  ops::bsq_act_forward(yg, on_gpu(x), on_gpu(clip), 3);
  EXPECT_TRUE(test::bitwise_equal(yg.to(Device::cpu()), y));
  ops::bsq_act_backward(dx, &dclip, g, x, clip, true);
  ops::bsq_act_backward(dxg, &dclip_g, gg, on_gpu(x), on_gpu(clip), true);
  EXPECT_TRUE(test::bitwise_equal(dxg.to(Device::cpu()), dx));
  EXPECT_TRUE(test::bitwise_equal(dclip_g.to(Device::cpu()), dclip));

  const Tensor u = test::random_uniform({kN}, 5, -1.2f, 1.2f);
  Tensor lw({kN}), lwg({kN}, DType::F32, Device::cuda(0)), du = Tensor::zeros({kN}), dug = on_gpu(du);
  Tensor lds = Tensor::zeros({1}), ldsg = on_gpu(lds);
  ops::bsq_latent_forward(lw, u, s, 5);
  ops::bsq_latent_forward(lwg, on_gpu(u), sg, 5);
  EXPECT_TRUE(test::bitwise_equal(lwg.to(Device::cpu()), lw));
  ops::bsq_latent_backward(du, lds, g, u, s, 5);
  ops::bsq_latent_backward(dug, ldsg, gg, on_gpu(u), sg, 5);
  EXPECT_TRUE(test::bitwise_equal(dug.to(Device::cpu()), du));
  EXPECT_TRUE(test::bitwise_equal(ldsg.to(Device::cpu()), lds));
}

// One BSQ step of LeNet-5 on each backend from the same weights, then re-quantization. cuDNN's and
// the CPU's convolution gradients differ in rounding, so the states agree to a tolerance (a plane
// entry next to a rounding boundary may re-quantize the other way: at most 0.1% of them).
std::vector<float> bsq_step(Device device) {
  auto model = models::make_model("mnist_lenet5", device);
  models::initialize(*model, 4);
  auto layers = compress::attach_bit_planes(*model, 6);
  compress::set_bsq_regularizer(layers, 0.5f);
  optim::Sgd sgd(*model, {0.9f, 1e-4f, false});
  model->zero_grad();
  const Tensor x = test::random_uniform({8, 1, 28, 28}, 9).to(device);
  const Tensor y = model->forward(x);
  model->backward(test::random_uniform(y.shape(), 10).to(device));
  sgd.step(0.5f);
  compress::requantize_and_adjust(layers, 8, 0.0);
  std::vector<float> out;
  model->visit_state([&](const std::string&, nn::StateTensor& t) {
    for (float v : t.value.to_vector<float>()) out.push_back(v);
  });
  return out;
}

TEST(BsqGpu, ATrainingStepAndRequantizationMatchTheCpu) {
  BMC_REQUIRE_CUDA_DEVICE();
  const std::vector<float> gpu = bsq_step(Device::cuda(0)), cpu = bsq_step(Device::cpu());
  ASSERT_EQ(gpu.size(), cpu.size()) << "the precisions differ";
  size_t off = 0;
  for (size_t i = 0; i < gpu.size(); ++i) off += std::fabs(gpu[i] - cpu[i]) > 1e-4f * (1 + std::fabs(cpu[i]));
  EXPECT_LE(off, cpu.size() / 1000) << off << " of " << cpu.size() << " state values differ";
}

}  // namespace
}  // namespace bmc
