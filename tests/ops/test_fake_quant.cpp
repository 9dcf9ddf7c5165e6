// Fake quantization: Distiller-formula golden values (bitwise), exhaustive core checks, zero
// preservation, the straight-through gradient, the emulated kernel (bitwise), and GPU parity;
// the same for the residual add's re-scaling onto the sum's grid.
#define BMC_KNS kernels_emu
#include "kernels/fake_quant.h"

#include <gtest/gtest.h>

#include <cmath>

#include "ops/fake_quant.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/gpu_env.h"

namespace bmc {
namespace {

QuantParams params_for(QuantMode mode, int bits, float lo, float hi) {
  if (mode == QuantMode::Sym) return symmetric_params(bits, std::max(std::fabs(lo), std::fabs(hi)));
  return asymmetric_params(bits, lo, hi, mode == QuantMode::AsymS);
}

std::vector<QuantParams> params_from_data(const Tensor& x, QuantMode mode, int bits, bool per_channel) {
  const int64_t channels = per_channel ? x.dim(0) : 1, inner = x.numel() / channels;
  const float* p = x.data<float>();
  std::vector<QuantParams> out;
  for (int64_t c = 0; c < channels; ++c) {
    float lo = p[c * inner], hi = p[c * inner];
    for (int64_t i = 0; i < inner; ++i) {
      lo = std::min(lo, p[c * inner + i]);
      hi = std::max(hi, p[c * inner + i]);
    }
    out.push_back(params_for(mode, bits, lo, hi));
  }
  return out;
}

TEST(FakeQuantGolden, MatchesDistillerFormulasBitwise) {
  const io::SafeTensors f = test::load_fixture("fake_quant");
  const Tensor& x = f.at("x");
  const std::pair<const char*, QuantMode> modes[] = {
      {"sym", QuantMode::Sym}, {"asym_u", QuantMode::AsymU}, {"asym_s", QuantMode::AsymS}};
  for (const auto& [name, mode] : modes)
    for (int bits : {8, 4, 2})
      for (bool per_channel : {false, true}) {
        const std::string tag = std::string(name) + "_" + std::to_string(bits) + (per_channel ? "_pc" : "_pt");
        const auto params = params_from_data(x, mode, bits, per_channel);
        Tensor y(x.shape());
        ops::fake_quant_forward(y, x, params, 0);
        EXPECT_TRUE(test::bitwise_equal(y, f.at("y_" + tag))) << tag;
        EXPECT_EQ(y.data<float>()[3 * 5 * 7], 0.0f) << tag << ": a zero (pruned) weight must stay exactly zero";
      }
}

TEST(FakeQuantCore, EveryInt8CodeRoundTripsInEachMode) {
  for (QuantMode mode : {QuantMode::Sym, QuantMode::AsymU, QuantMode::AsymS}) {
    const QuantParams p = params_for(mode, 8, -1.0f, 1.0f);
    for (int q = static_cast<int>(p.qmin); q <= static_cast<int>(p.qmax); ++q) {
      const float x = dequantize(static_cast<float>(q), p);
      EXPECT_EQ(quantize(x, p), static_cast<float>(q)) << "mode " << static_cast<int>(mode) << " code " << q;
    }
  }
}

TEST(FakeQuantCore, KnownValuesRoundingAndClamping) {
  const QuantParams s = symmetric_params(8, 1.0f);  // scale 127
  EXPECT_FLOAT_EQ(s.scale, 127.0f);
  EXPECT_EQ(quantize(0.5f / 127.0f, s), 0.0f) << "0.5 rounds half to even";
  EXPECT_EQ(quantize(1.5f / 127.0f, s), 2.0f);
  EXPECT_EQ(quantize(5.0f, s), 127.0f) << "clamped";
  EXPECT_EQ(quantize(-5.0f, s), -128.0f) << "clamped to the signed range";
  EXPECT_TRUE(std::isnan(fake_quant(std::nanf(""), s))) << "NaN propagates, as torch.clamp";
  const QuantParams u = asymmetric_params(8, -0.5f, 1.5f, false);  // scale 255/2, zp round(-63.75) = -64
  EXPECT_FLOAT_EQ(u.scale, 127.5f);
  EXPECT_EQ(u.zero_point, -64.0f);
  EXPECT_EQ(quantize(0.0f, u), 64.0f);
  EXPECT_EQ(fake_quant(0.0f, u), 0.0f);
  const QuantParams a = asymmetric_params(8, -0.5f, 1.5f, true);
  EXPECT_EQ(a.zero_point, 64.0f);
  EXPECT_EQ(quantize(0.0f, a), -64.0f);
  EXPECT_EQ(quantize(100.0f, a), 127.0f);
  const QuantParams z = symmetric_params(4, 0.0f);  // all-zero tensor: scale 1
  EXPECT_EQ(z.scale, 1.0f);
  EXPECT_EQ(fake_quant(0.0f, z), 0.0f);
}

TEST(FakeQuant, StraightThroughGradientMasksClampedValues) {
  const Tensor x = Tensor::from_vector<float>({-3.0f, -0.5f, 0.0f, 0.9f, 2.5f}, {5});
  const Tensor dy = Tensor::from_vector<float>({1, 2, 3, 4, 5}, {5});
  Tensor dx({5});
  ops::fake_quant_backward(dx, dy, x, {symmetric_params(8, 1.0f)});
  EXPECT_EQ(dx.to_vector<float>(), (std::vector<float>{0, 2, 3, 4, 0}));
}

TEST(FakeQuant, PerChannelUsesEachChannelsParameters) {
  Tensor x = test::random_uniform({4, 3, 2, 2}, 3);
  const auto per_channel = params_from_data(x, QuantMode::Sym, 4, true);
  Tensor y(x.shape());
  ops::fake_quant_forward(y, x, per_channel, 0);
  for (int64_t c = 0; c < 4; ++c) {
    Tensor xc = x.slice(c * 12, {12}), yc({12});
    ops::fake_quant_forward(yc, xc, {per_channel[c]});
    EXPECT_TRUE(test::bitwise_equal(yc, y.slice(c * 12, {12}))) << "channel " << c;
  }
  Tensor act = test::random_uniform({2, 3, 4}, 4), ya({2, 3, 4});
  std::vector<QuantParams> three = {symmetric_params(8, 1), symmetric_params(8, 0.5f), symmetric_params(8, 0.25f)};
  ops::fake_quant_forward(ya, act, three, 1);
  EXPECT_EQ(ya.to_vector<float>()[4], fake_quant(act.to_vector<float>()[4], three[1]));
  EXPECT_THROW(ops::fake_quant_forward(ya, act, three, 0), Error);
  EXPECT_THROW(ops::fake_quant_forward(ya, act, {QuantParams{0.0f, 0, -1, 1}}), Error);
}

TEST(FakeQuantKernelEmu, BitwiseEqualToCpuPerTensorAndPerChannel) {
  const Tensor x = test::random_uniform({5, 3, 7}, 8);
  const Tensor dy = test::random_uniform({5, 3, 7}, 9);
  const std::vector<QuantParams> channels = {asymmetric_params(4, -0.7f, 0.2f, false), symmetric_params(3, 0.5f),
                                             asymmetric_params(6, -0.1f, 0.9f, true)};
  Tensor y_cpu(x.shape()), dx_cpu(x.shape());
  ops::fake_quant_forward(y_cpu, x, channels, 1);
  ops::fake_quant_backward(dx_cpu, dy, x, channels, 1);
  for (int grid_limit : {1, 2, 9, 0}) {
    Tensor y(x.shape()), dx(x.shape());
    kernels_emu::fake_quant_forward(y.data<float>(), x.data<float>(), channels.data(), 5, 3, 7, nullptr, grid_limit);
    kernels_emu::fake_quant_backward(dx.data<float>(), dy.data<float>(), x.data<float>(), channels.data(), 5, 3, 7,
                                     nullptr, grid_limit);
    EXPECT_TRUE(test::bitwise_equal(y, y_cpu)) << "grid " << grid_limit;
    EXPECT_TRUE(test::bitwise_equal(dx, dx_cpu)) << "grid " << grid_limit;
  }
}

TEST(FakeQuantGpu, BitwiseEqualToCpu) {
  BMC_REQUIRE_CUDA_DEVICE();
  const Device gpu = Device::cuda(0);
  const Tensor x = test::random_uniform({64, 3, 3, 3}, 10), dy = test::random_uniform({64, 3, 3, 3}, 11);
  for (QuantMode mode : {QuantMode::Sym, QuantMode::AsymU, QuantMode::AsymS})
    for (bool per_channel : {false, true}) {
      const auto params = params_from_data(x, mode, 5, per_channel);
      Tensor y(x.shape()), dx(x.shape()), gy(x.shape(), DType::F32, gpu), gdx(x.shape(), DType::F32, gpu);
      ops::fake_quant_forward(y, x, params);
      ops::fake_quant_backward(dx, dy, x, params);
      const Tensor gx = x.to(gpu), gdy = dy.to(gpu);
      ops::fake_quant_forward(gy, gx, params);
      ops::fake_quant_backward(gdx, gdy, gx, params);
      EXPECT_TRUE(test::bitwise_equal(gy, y));
      EXPECT_TRUE(test::bitwise_equal(gdx, dx));
    }
}

// Worked by hand: input grid 10 codes per unit, sum grid 4 (ratio 0.4), 8-bit accumulator range.
TEST(RequantizeToGrid, KnownValuesHalfToEvenAndZeroPoint) {
  const QuantParams in{10.0f, 0.0f, -128.0f, 127.0f};
  const float ratio = 4.0f / 10.0f;
  EXPECT_EQ(requantize_to_grid(0.5f, in, ratio, -128, 127, 4.0f), 0.5f);    // code 5 -> 2.0 -> 2
  EXPECT_EQ(requantize_to_grid(0.3f, in, ratio, -128, 127, 4.0f), 0.25f);   // code 3 -> 1.2 -> 1
  EXPECT_EQ(requantize_to_grid(1.25f, in, ratio, -128, 127, 4.0f), 1.25f);  // code 12 (12.5 to even) -> 4.8 -> 5
  EXPECT_EQ(requantize_to_grid(-0.3f, in, ratio, -128, 127, 4.0f), -0.25f);
  EXPECT_EQ(requantize_to_grid(13.0f, in, ratio, -128, 127, 4.0f), 51.0f / 4.0f);  // input clamps at 127 -> 50.8 -> 51
  EXPECT_EQ(requantize_to_grid(13.0f, in, ratio, -16, 15, 4.0f), 15.0f / 4.0f);    // the accumulator clamps
  // asym_u input: codes q with x = (q + zp) / scale; the re-scaling applies to q + zp.
  const QuantParams asym{10.0f, -20.0f, 0.0f, 255.0f};
  EXPECT_EQ(requantize_to_grid(0.3f, asym, ratio, -128, 127, 4.0f), 0.25f);
  EXPECT_EQ(requantize_to_grid(-2.5f, asym, ratio, -128, 127, 4.0f), -2.0f);  // clamps at code 0: -20 -> -8
}

TEST(RequantizeToGrid, OpAndEmulatedKernelAreBitwiseTheCore) {
  const Tensor x = test::random_uniform({3, 5, 67}, 12, -2.0f, 2.0f);
  const QuantParams in = asymmetric_params(8, -1.5f, 1.8f, true);
  const float ratio = 37.0f / in.scale;
  std::vector<float> want(static_cast<size_t>(x.numel()));
  for (int64_t i = 0; i < x.numel(); ++i)
    want[static_cast<size_t>(i)] = requantize_to_grid(x.data<float>()[i], in, ratio, -2147483648.0f, 2147483648.0f, 37.0f);
  Tensor y(x.shape());
  ops::requantize_to_grid(y, x, in, ratio, -2147483648.0f, 2147483648.0f, 37.0f);
  EXPECT_EQ(y.to_vector<float>(), want);
  for (int grid_limit : {1, 3, 8, 0}) {
    Tensor ye(x.shape());
    kernels_emu::requantize_to_grid(ye.data<float>(), x.data<float>(), in, ratio, -2147483648.0f, 2147483648.0f,
                                    37.0f, x.numel(), nullptr, grid_limit);
    EXPECT_EQ(ye.to_vector<float>(), want) << "grid " << grid_limit;
  }
  EXPECT_THROW(ops::requantize_to_grid(y, x, in, 0.0f, -1, 1, 37.0f), Error);
}

TEST(RequantizeToGridGpu, BitwiseEqualToCpu) {
  BMC_REQUIRE_CUDA_DEVICE();
  const Device gpu = Device::cuda(0);
  // 600,000 elements: the grid-stride loop iterates.
  const Tensor x = test::random_uniform({600, 1000}, 13, -3.0f, 3.0f);
  const QuantParams in = symmetric_params(8, 2.5f);
  const float ratio = 20.0f / in.scale;
  Tensor y(x.shape()), gy(x.shape(), DType::F32, gpu);
  ops::requantize_to_grid(y, x, in, ratio, -2147483648.0f, 2147483648.0f, 20.0f);
  ops::requantize_to_grid(gy, x.to(gpu), in, ratio, -2147483648.0f, 2147483648.0f, 20.0f);
  EXPECT_TRUE(test::bitwise_equal(gy, y));
}

}  // namespace
}  // namespace bmc
