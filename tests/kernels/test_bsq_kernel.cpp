// kernels/bsq.cu under host emulation against the CPU ops of ops/bsq.h, bit for bit: forward,
// the straight-through backward with its fixed-order scale sum, the plane norms and regularizer
// coefficients, re-quantization codes and planes, fine-tuning latents and the activation
// quantizer, at sizes of one element, one partial chunk, exactly one chunk, one chunk plus one and
// several chunks with a tail, and (for the grid-stride kernels) several grid sizes.
#define BMC_KNS kernels_emu
#include <gtest/gtest.h>

#include <cmath>
#include <span>

#include "kernels/bsq.h"
#include "ops/bsq.h"
#include "tests/support/compare.h"

namespace bmc {
namespace {

const std::vector<int64_t> kSizes = {1, 300, kFixedSumChunk, kFixedSumChunk + 1, 2 * kFixedSumChunk + 808};

// Float planes in [0, 2] (as in training) of `bits` x n.
Tensor planes(int bits, int64_t n, uint64_t seed) { return test::random_uniform({bits, n}, seed, 0.0f, 2.0f); }

TEST(BsqKernelEmu, ForwardAndCodesAreBitwiseTheCpuOps) {
  for (const int64_t n : kSizes)
    for (const int bits : {3, 8}) {
      const Tensor p = planes(bits, n, 1 + n), q = planes(bits, n, 2 + n);
      const Tensor s = Tensor::full({1}, 0.37f);
      Tensor want({n});
      ops::bsq_forward(want, p, q, s);
      Tensor codes_want({n}, DType::I32);
      ops::bsq_codes(codes_want, p, q);
      for (const int grid_limit : {1, 3, 0}) {
        Tensor got({n});
        kernels_emu::bsq_forward(got.data<float>(), p.data<float>(), q.data<float>(), s.data<float>(), n, bits, nullptr,
                                 grid_limit);
        EXPECT_TRUE(test::bitwise_equal(got, want)) << n << " " << bits << " " << grid_limit;
        Tensor codes({n}, DType::I32);
        kernels_emu::bsq_codes(codes.data<int32_t>(), p.data<float>(), q.data<float>(), n, bits, nullptr, grid_limit);
        EXPECT_EQ(codes.to_vector<int32_t>(), codes_want.to_vector<int32_t>()) << n;
      }
    }
}

TEST(BsqKernelEmu, BackwardAndRegularizerAreBitwiseTheCpuOps) {
  for (const int64_t n : kSizes) {
    const int bits = 5;
    const Tensor p = planes(bits, n, 3 + n), q = planes(bits, n, 4 + n);
    const Tensor g = test::random_uniform({n}, 5 + n);
    Tensor mask = test::random_uniform({n}, 6 + n, 0.0f, 1.0f);
    for (float& m : std::span(mask.data<float>(), n)) m = m < 0.3f ? 0.0f : 1.0f;
    const Tensor s = Tensor::full({1}, 1.7f);
    Tensor coef({bits}), value({1});
    ops::bsq_regularizer(coef, value, p, q, 0.05f);
    Tensor dp = test::random_uniform({bits, n}, 7), dq = test::random_uniform({bits, n}, 8), ds = Tensor::full({1}, 0.5f);
    Tensor dp_emu = dp.clone(), dq_emu = dq.clone(), ds_emu = ds.clone();
    ops::bsq_backward(dp, dq, ds, g, &mask, p, q, s, coef, true);

    // The emulated kernels, step by step as ops/bsq_cuda.cpp launches them.
    const int64_t chunks = fixed_sum_chunks(n);
    Tensor partials({chunks * bits}), squares({bits}), coef_emu({bits}), value_emu({1});
    kernels_emu::bsq_plane_squares(partials.data<float>(), p.data<float>(), q.data<float>(), n, bits, nullptr);
    kernels_emu::fixed_sum(squares.data<float>(), partials.data<float>(), chunks, bits, false, nullptr);
    kernels_emu::bsq_regularizer_coefficients(coef_emu.data<float>(), value_emu.data<float>(), squares.data<float>(),
                                              bits, 0.05f, nullptr);
    EXPECT_TRUE(test::bitwise_equal(coef_emu, coef)) << n;
    EXPECT_TRUE(test::bitwise_equal(value_emu, value)) << n;
    Tensor ds_partials({chunks});
    kernels_emu::bsq_backward(dp_emu.data<float>(), dq_emu.data<float>(), ds_partials.data<float>(), g.data<float>(),
                              mask.data<float>(), p.data<float>(), q.data<float>(), s.data<float>(),
                              coef_emu.data<float>(), n, bits, true, nullptr);
    kernels_emu::fixed_sum(ds_emu.data<float>(), ds_partials.data<float>(), chunks, 1, true, nullptr);
    EXPECT_TRUE(test::bitwise_equal(dp_emu, dp)) << n;
    EXPECT_TRUE(test::bitwise_equal(dq_emu, dq)) << n;
    EXPECT_TRUE(test::bitwise_equal(ds_emu, ds)) << n;
  }
}

// The CPU's one-pass forward with the regularizer gives the emulated kernels' weights, coefficients
// and value (the GPU runs those two launches for it).
TEST(BsqKernelEmu, OnePassForwardWithRegularizerIsBitwiseTheKernels) {
  for (const int64_t n : kSizes)
    for (const int bits : {1, 7, 16}) {
      const Tensor p = planes(bits, n, 9 + n), q = planes(bits, n, 10 + n);
      const Tensor s = Tensor::full({1}, 0.61f);
      Tensor w({n}), coef({bits}), value({1});
      ops::bsq_forward_regularized(w, coef, value, p, q, s, 0.03f);

      Tensor w_emu({n});
      kernels_emu::bsq_forward(w_emu.data<float>(), p.data<float>(), q.data<float>(), s.data<float>(), n, bits,
                               nullptr, 0);
      const int64_t chunks = fixed_sum_chunks(n);
      Tensor partials({chunks * bits}), squares({bits}), coef_emu({bits}), value_emu({1});
      kernels_emu::bsq_plane_squares(partials.data<float>(), p.data<float>(), q.data<float>(), n, bits, nullptr);
      kernels_emu::fixed_sum(squares.data<float>(), partials.data<float>(), chunks, bits, false, nullptr);
      kernels_emu::bsq_regularizer_coefficients(coef_emu.data<float>(), value_emu.data<float>(),
                                                squares.data<float>(), bits, 0.03f, nullptr);
      EXPECT_TRUE(test::bitwise_equal(w, w_emu)) << n << " " << bits;
      EXPECT_TRUE(test::bitwise_equal(coef, coef_emu)) << n << " " << bits;
      EXPECT_TRUE(test::bitwise_equal(value, value_emu)) << n << " " << bits;
    }
  // No elements: every norm is sqrt(1e-8), as the separate regularizer gives.
  const Tensor p0({3, 0}), q0({3, 0}), s = Tensor::full({1}, 1.0f);
  Tensor w0({0}), coef({3}), value({1}), coef_ref({3}), value_ref({1});
  ops::bsq_forward_regularized(w0, coef, value, p0, q0, s, 0.5f);
  ops::bsq_regularizer(coef_ref, value_ref, p0, q0, 0.5f);
  EXPECT_TRUE(test::bitwise_equal(coef, coef_ref));
  EXPECT_TRUE(test::bitwise_equal(value, value_ref));
  EXPECT_FLOAT_EQ(coef.data<float>()[0], 0.5f / std::sqrt(1e-8f));
}

TEST(BsqKernelEmu, WrittenCodesAreBitwiseTheCpuOp) {
  for (const int64_t n : kSizes) {
    const int bits = 6;
    std::vector<int32_t> c(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j) c[j] = static_cast<int32_t>((j * 37) % 127) - 63;
    const Tensor codes = Tensor::from_vector(c, {n});
    Tensor p({bits, n}), q({bits, n});
    ops::bsq_write_codes(p, q, codes);
    for (const int grid_limit : {1, 2, 0}) {
      Tensor pe = Tensor::full({bits, n}, 9.0f), qe = Tensor::full({bits, n}, 9.0f);
      kernels_emu::bsq_write_codes(pe.data<float>(), qe.data<float>(), codes.data<int32_t>(), n, bits, nullptr, grid_limit);
      EXPECT_TRUE(test::bitwise_equal(pe, p)) << n;
      EXPECT_TRUE(test::bitwise_equal(qe, q)) << n;
    }
    Tensor back({n}, DType::I32);
    ops::bsq_codes(back, p, q);
    EXPECT_EQ(back.to_vector<int32_t>(), c) << "codes -> planes -> codes";
  }
}

TEST(BsqKernelEmu, LatentForwardAndBackwardAreBitwiseTheCpuOps) {
  for (const int64_t n : kSizes) {
    const Tensor u = test::random_uniform({n}, 11 + n, -1.3f, 1.3f), g = test::random_uniform({n}, 12 + n);
    const Tensor s = Tensor::full({1}, 0.9f);
    Tensor w({n});
    ops::bsq_latent_forward(w, u, s, 4);
    Tensor du = test::random_uniform({n}, 13), ds = Tensor::zeros({1});
    Tensor du_emu = du.clone(), ds_emu = ds.clone();
    ops::bsq_latent_backward(du, ds, g, u, s, 4);
    for (const int grid_limit : {1, 3, 0}) {
      Tensor we({n});
      kernels_emu::bsq_latent_forward(we.data<float>(), u.data<float>(), s.data<float>(), n, 4, nullptr, grid_limit);
      EXPECT_TRUE(test::bitwise_equal(we, w)) << n;
    }
    const int64_t chunks = fixed_sum_chunks(n);
    Tensor partials({chunks});
    kernels_emu::bsq_latent_backward(du_emu.data<float>(), partials.data<float>(), g.data<float>(), u.data<float>(),
                                     s.data<float>(), n, 4, nullptr);
    kernels_emu::fixed_sum(ds_emu.data<float>(), partials.data<float>(), chunks, 1, true, nullptr);
    EXPECT_TRUE(test::bitwise_equal(du_emu, du)) << n;
    EXPECT_TRUE(test::bitwise_equal(ds_emu, ds)) << n;
  }
}

TEST(BsqKernelEmu, ActivationQuantizerIsBitwiseTheCpuOps) {
  for (const int64_t n : kSizes)
    for (const int bits : {0, 2, 4}) {
      const bool pact = bits <= 3;
      const Tensor x = test::random_uniform({n}, 21 + n, 0.0f, 8.0f), dy = test::random_uniform({n}, 22 + n);
      const Tensor clip = Tensor::full({1}, pact ? 3.5f : 6.0f);
      Tensor y({n}), dx({n}), dclip = Tensor::zeros({1});
      ops::bsq_act_forward(y, x, clip, bits);
      ops::bsq_act_backward(dx, pact ? &dclip : nullptr, dy, x, clip, pact);
      const int64_t chunks = fixed_sum_chunks(n);
      Tensor max_abs({1 + chunks});
      if (bits > 0) kernels_emu::bsq_act_max(max_abs.data<float>(), x.data<float>(), clip.data<float>(), n, nullptr);
      for (const int grid_limit : {1, 4, 0}) {
        Tensor ye({n});
        kernels_emu::bsq_act_forward(ye.data<float>(), x.data<float>(), clip.data<float>(), max_abs.data<float>(), n,
                                     bits, nullptr, grid_limit);
        EXPECT_TRUE(test::bitwise_equal(ye, y)) << n << " " << bits;
      }
      Tensor dxe({n}), partials({chunks}), dclip_e = Tensor::zeros({1});
      kernels_emu::bsq_act_backward(dxe.data<float>(), pact ? partials.data<float>() : nullptr, dy.data<float>(),
                                    x.data<float>(), clip.data<float>(), n, pact, nullptr);
      if (pact) kernels_emu::fixed_sum(dclip_e.data<float>(), partials.data<float>(), chunks, 1, true, nullptr);
      EXPECT_TRUE(test::bitwise_equal(dxe, dx)) << n;
      EXPECT_TRUE(test::bitwise_equal(dclip_e, dclip)) << n;
    }
}

TEST(BsqOps, RejectPlanesTheyCannotHold) {
  const Tensor p17 = planes(17, 10, 1), q17 = planes(17, 10, 2), s = Tensor::full({1}, 1.0f);
  Tensor w({10}), coef17({17}), value({1});
  EXPECT_THROW(ops::bsq_regularizer(coef17, value, p17, q17, 0.1f), Error);
  EXPECT_THROW(ops::bsq_forward_regularized(w, coef17, value, p17, q17, s, 0.1f), Error);
  const Tensor p = planes(4, 10, 3), q = planes(4, 10, 4);
  Tensor coef3({3}), w9({9});
  EXPECT_THROW(ops::bsq_forward_regularized(w, coef3, value, p, q, s, 0.1f), Error);
  Tensor coef4({4});
  EXPECT_THROW(ops::bsq_forward_regularized(w9, coef4, value, p, q, s, 0.1f), Error);
}

}  // namespace
}  // namespace bmc
