// kernels/lattice.cu under host emulation against the CPU ops of ops/lattice.h, bit for bit: the
// quantizer (with its coordinates), the straight-through gradient, the bias correction and the
// activation quantizer at several grid sizes, and the search's losses and proposal steps, per
// channel and with a shared basis, with and without basis quantization and bias correction, for
// channels of one vector, of a partial chunk and of more than one fixed-sum chunk (tail included).
#define BMC_KNS kernels_emu
#include <gtest/gtest.h>

#include "kernels/fixed_sum.cuh"
#include "kernels/lattice.h"
#include "ops/lattice.h"
#include "tests/support/compare.h"

namespace bmc {
namespace {

struct Case {
  int64_t channels, per;
  int n;
};

const std::vector<Case> kCases = {{3, 1, 1}, {5, 300, 2}, {2, 3 * (kFixedSumChunk + 5), 3}, {7, 18, 3}};

LatticeSearchShape shape_of(const Case& c, int bits, bool shared, bool quant, bool correct) {
  LatticeSearchShape s;
  s.channels = c.channels;
  s.per = c.per;
  s.n = c.n;
  s.bits = bits;
  s.shared_basis = shared;
  s.quantize_basis = quant;
  s.basis_bits = 6;
  s.correct = correct;
  return s;
}

// Well-conditioned bases near (1 / 2^(b-1)) I with off-diagonal terms.
Tensor bases_for(const LatticeSearchShape& s, uint64_t seed) {
  std::vector<float> b = test::random_uniform({s.bases(), s.n, s.n}, seed, -0.02f, 0.02f).to_vector<float>();
  for (int64_t g = 0; g < s.bases(); ++g)
    for (int i = 0; i < s.n; ++i) b[static_cast<size_t>(g * s.n * s.n + i * s.n + i)] += 1.0f / static_cast<float>(1 << (s.bits - 1));
  return Tensor::from_vector(b, Shape{s.bases(), s.n, s.n});
}

TEST(LatticeKernelEmu, QuantizeGradientAndBiasCorrectionAreBitwiseTheCpuOps) {
  for (const Case& c : kCases)
    for (const bool shared : {false, true}) {
      const LatticeSearchShape s = shape_of(c, 4, shared, false, false);
      const Tensor w = test::random_uniform({c.channels, c.per}, 11 + c.per, -0.3f, 0.3f);
      const Tensor dy = test::random_uniform({c.channels, c.per}, 12 + c.per);
      const Tensor b = bases_for(s, 13 + c.per);
      Tensor want({c.channels, c.per}), coords_want({c.channels, c.per}, DType::I32), dw_want({c.channels, c.per});
      ops::lattice_quantize(want, &coords_want, w, b, 0.3f, s);
      ops::lattice_ste_backward(dw_want, dy, w, b, 0.3f, s);
      Tensor corrected_want = want.clone();
      ops::lattice_bias_correct(corrected_want, w, c.channels);
      for (const int grid_limit : {1, 3, 0}) {
        Tensor got({c.channels, c.per}), coords({c.channels, c.per}, DType::I32), dw({c.channels, c.per});
        kernels_emu::lattice_quantize(got.data<float>(), coords.data<int32_t>(), w.data<float>(), b.data<float>(), 0.3f, s,
                                      nullptr, grid_limit);
        EXPECT_TRUE(test::bitwise_equal(got, want)) << c.per << " " << shared << " " << grid_limit;
        EXPECT_EQ(coords.to_vector<int32_t>(), coords_want.to_vector<int32_t>());
        kernels_emu::lattice_ste_backward(dw.data<float>(), dy.data<float>(), w.data<float>(), b.data<float>(), 0.3f, s,
                                          nullptr, grid_limit);
        EXPECT_TRUE(test::bitwise_equal(dw, dw_want)) << c.per << " " << grid_limit;
        kernels_emu::lattice_bias_correct(got.data<float>(), w.data<float>(), c.channels, c.per, nullptr, grid_limit);
        EXPECT_TRUE(test::bitwise_equal(got, corrected_want)) << c.per << " " << grid_limit;
      }
    }
}

TEST(LatticeKernelEmu, ActivationQuantizerIsBitwiseTheCpuOp) {
  for (const Shape& shape : {Shape{3, 5, 7, 9}, Shape{6, 300}, Shape{1, 1}})
    for (const bool per_channel : {false, true}) {
      const Tensor x = test::random_uniform(shape, 31 + shape.numel(), -0.2f, 2.5f);
      const Tensor dy = test::random_uniform(shape, 32);
      const int64_t channels = shape[1];
      const Tensor alpha = per_channel ? test::random_uniform({channels}, 33, 0.5f, 2.0f) : Tensor::full({1}, 1.7f);
      Tensor y_want(shape), dx_want(shape);
      ops::lattice_act_forward(y_want, x, alpha, 3);
      ops::lattice_act_backward(dx_want, dy, x, alpha);
      const int64_t inner = shape.numel() / (shape[0] * channels);
      for (const int grid_limit : {1, 3, 0}) {
        Tensor y(shape), dx(shape);
        kernels_emu::lattice_act_forward(y.data<float>(), x.data<float>(), alpha.data<float>(), shape.numel(), channels,
                                         inner, per_channel, 7.0f, nullptr, grid_limit);
        kernels_emu::lattice_act_backward(dx.data<float>(), dy.data<float>(), x.data<float>(), alpha.data<float>(),
                                          shape.numel(), channels, inner, per_channel, nullptr, grid_limit);
        EXPECT_TRUE(test::bitwise_equal(y, y_want)) << shape.str() << " " << per_channel << " " << grid_limit;
        EXPECT_TRUE(test::bitwise_equal(dx, dx_want)) << shape.str() << " " << per_channel << " " << grid_limit;
      }
    }
}

TEST(LatticeKernelEmu, SearchStepsAreBitwiseTheCpuOps) {
  for (const Case& c : kCases)
    for (const bool shared : {false, true})
      for (const bool quant : {false, true})
        for (const bool correct : {false, true}) {
          if (c.per > kFixedSumChunk && quant != correct) continue;  // time: two of four combinations
          const LatticeSearchShape s = shape_of(c, 3, shared, quant, correct);
          const Tensor wn = test::random_uniform({c.channels, c.per}, 21 + c.per);
          const Tensor norms = Tensor::from_vector(ops::lattice_centered_norms(wn, c.channels), Shape{c.channels});
          Tensor b_cpu = bases_for(s, 22), losses_cpu({c.channels}), best_cpu({s.bases()});
          ops::lattice_losses(losses_cpu, best_cpu, b_cpu, wn, norms, s);
          for (const int grid_limit : {2, 0}) {
            if (c.per > kFixedSumChunk && grid_limit != 0) continue;
            Tensor b = bases_for(s, 22), losses({c.channels}), best({s.bases()});
            kernels_emu::lattice_losses(losses.data<float>(), best.data<float>(), b.data<float>(), wn.data<float>(),
                                        norms.data<float>(), s, nullptr, grid_limit);
            EXPECT_TRUE(test::bitwise_equal(losses, losses_cpu)) << c.per << shared << quant << correct;
            EXPECT_TRUE(test::bitwise_equal(best, best_cpu)) << c.per << shared << quant << correct;
            Tensor bc = b_cpu.clone(), best_c = best_cpu.clone(), lc({c.channels});
            for (uint32_t step = 0; step < 3; ++step) {
              const LatticeNoise noise{7, 5, step, 0.05f};
              ops::lattice_search_step(bc, best_c, lc, wn, norms, s, noise);
              kernels_emu::lattice_search_step(b.data<float>(), best.data<float>(), losses.data<float>(), wn.data<float>(),
                                               norms.data<float>(), s, noise, nullptr, grid_limit);
            }
            EXPECT_TRUE(test::bitwise_equal(b, bc)) << c.per << shared << quant << correct << grid_limit;
            EXPECT_TRUE(test::bitwise_equal(best, best_c)) << c.per << shared << quant << correct << grid_limit;
          }
        }
}

}  // namespace
}  // namespace bmc
