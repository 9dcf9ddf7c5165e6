// LatticeQ on a CUDA device against the CPU backend, bit for bit: the quantizer with its
// coordinates, the straight-through gradient, the bias correction, and whole searches (per
// channel with quantized bases and bias correction; a shared basis) of layers whose channels span
// more than one fixed-sum chunk. Skips (counted) without a device.
#include <gtest/gtest.h>

#include "compress/latticeq/lattice_search.h"
#include "ops/lattice.h"
#include "tests/support/compare.h"
#include "tests/support/gpu_env.h"

namespace bmc {
namespace {

Tensor on_gpu(const Tensor& t) { return t.to(Device::cuda(0)); }

LatticeSearchShape layer(int64_t channels, int64_t per, int n, int bits) {
  LatticeSearchShape s;
  s.channels = channels;
  s.per = per;
  s.n = n;
  s.bits = bits;
  return s;
}

TEST(LatticeqGpu, OpsAreBitwiseTheCpuOps) {
  BMC_REQUIRE_CUDA_DEVICE();
  const LatticeSearchShape s = layer(64, 3 * 4099, 3, 4);
  const Tensor w = test::random_uniform({64, 3 * 4099}, 1, -0.5f, 0.5f), dy = test::random_uniform({64, 3 * 4099}, 2);
  std::vector<float> bv = test::random_uniform({64, 3, 3}, 3, -0.02f, 0.02f).to_vector<float>();
  for (int c = 0; c < 64; ++c)
    for (int i = 0; i < 3; ++i) bv[c * 9 + i * 4] += 0.125f;
  const Tensor b = Tensor::from_vector(bv, Shape{64, 3, 3});
  Tensor q(w.shape()), z(w.shape(), DType::I32), dw(w.shape());
  ops::lattice_quantize(q, &z, w, b, 0.5f, s);
  ops::lattice_ste_backward(dw, dy, w, b, 0.5f, s);
  Tensor qg(w.shape(), DType::F32, Device::cuda(0)), zg(w.shape(), DType::I32, Device::cuda(0)),
      dwg(w.shape(), DType::F32, Device::cuda(0));
  const Tensor wg = on_gpu(w), bg = on_gpu(b);
  ops::lattice_quantize(qg, &zg, wg, bg, 0.5f, s);
  ops::lattice_ste_backward(dwg, on_gpu(dy), wg, bg, 0.5f, s);
  EXPECT_TRUE(test::bitwise_equal(qg.to(Device::cpu()), q));
  EXPECT_EQ(zg.to_vector<int32_t>(), z.to_vector<int32_t>());
  EXPECT_TRUE(test::bitwise_equal(dwg.to(Device::cpu()), dw));
  ops::lattice_bias_correct(q, w, 64);
  ops::lattice_bias_correct(qg, wg, 64);
  EXPECT_TRUE(test::bitwise_equal(qg.to(Device::cpu()), q));
}

TEST(LatticeqGpu, ActivationQuantizerIsBitwiseTheCpuOp) {
  BMC_REQUIRE_CUDA_DEVICE();
  const Shape shape{64, 32, 17, 19};
  const Tensor x = test::random_uniform(shape, 7, -0.2f, 3.0f), dy = test::random_uniform(shape, 8);
  const Tensor alpha = test::random_uniform({32}, 9, 0.5f, 2.0f);
  Tensor y(shape), dx(shape), yg(shape, DType::F32, Device::cuda(0)), dxg(shape, DType::F32, Device::cuda(0));
  ops::lattice_act_forward(y, x, alpha, 4);
  ops::lattice_act_backward(dx, dy, x, alpha);
  const Tensor xg = on_gpu(x), ag = on_gpu(alpha);
  ops::lattice_act_forward(yg, xg, ag, 4);
  ops::lattice_act_backward(dxg, on_gpu(dy), xg, ag);
  EXPECT_TRUE(test::bitwise_equal(yg.to(Device::cpu()), y));
  EXPECT_TRUE(test::bitwise_equal(dxg.to(Device::cpu()), dx));
}

TEST(LatticeqGpu, SearchesAreBitwiseTheCpuSearches) {
  BMC_REQUIRE_CUDA_DEVICE();
  for (const bool shared : {false, true}) {
    LatticeSearchShape s = layer(32, 2 * 4100, 2, 3);
    s.shared_basis = shared;
    s.quantize_basis = !shared;
    s.basis_bits = 6;
    s.correct = !shared;
    const Tensor wn = test::random_uniform({32, 2 * 4100}, 4);
    const auto sched = compress::lattice_schedule(compress::LatticeLayerKind::Other, 2, 3, 4, 2);
    const auto cpu = compress::lattice_search(wn, s, sched, 5, 6);
    const auto gpu = compress::lattice_search(on_gpu(wn), s, sched, 5, 6);
    EXPECT_EQ(gpu.bases, cpu.bases) << shared;
    EXPECT_EQ(gpu.losses, cpu.losses) << shared;
    EXPECT_EQ(gpu.uniform_loss, cpu.uniform_loss) << shared;
  }
}

}  // namespace
}  // namespace bmc
