// Range-linear post-training quantization (Distiller semantics): known values per mode, zero-point
// rounding and clamping, clip modes, per-channel vs per-tensor weights, bias codes at in x w
// scale, calibration statistics and determinism, ReLU fusion, pruned zeros, restore, bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "compress/quant/act_stats.h"
#include "compress/quant/model_size.h"
#include "compress/quant/range_linear.h"
#include "nn/layers.h"
#include "tests/support/compare.h"

namespace bmc {
namespace {

using compress::ActStats;
using compress::ClipMode;

std::unique_ptr<nn::Model> small_mlp(uint64_t seed = 3) {
  auto net = std::make_unique<nn::Sequential>();
  net->append(std::make_unique<nn::Linear>(12, 16));
  net->append(std::make_unique<nn::ReLU>());
  net->append(std::make_unique<nn::Linear>(16, 5));
  auto model = std::make_unique<nn::Model>("test_mlp", std::move(net), Device::cpu());
  model->values().copy_from(test::random_uniform({model->num_parameters()}, seed));
  return model;
}

std::vector<Tensor> batches(int n, uint64_t seed = 11) {
  std::vector<Tensor> out;
  for (int i = 0; i < n; ++i) out.push_back(test::random_uniform({7, 12}, seed + i));
  return out;
}

ActStats stats(double mn, double mx) {
  ActStats s;
  s.min = mn;
  s.max = mx;
  return s;
}

TEST(PtqParams, SymmetricKnownValues) {
  const QuantParams p = compress::activation_params(stats(-1, 2), 8, QuantMode::Sym, ClipMode::None, 0);
  EXPECT_FLOAT_EQ(p.scale, 127.0f / 2.0f);
  EXPECT_EQ(p.zero_point, 0.0f);
  EXPECT_EQ(p.qmin, -128.0f);
  EXPECT_EQ(p.qmax, 127.0f);
  EXPECT_EQ(quantize(2.0f, p), 127.0f);
  EXPECT_EQ(quantize(-5.0f, p), -128.0f) << "clamped to the signed range";
  EXPECT_EQ(fake_quant(0.0f, p), 0.0f);
}

TEST(PtqParams, AsymmetricKnownValuesAndZeroPoint) {
  const QuantParams u = compress::activation_params(stats(-1, 3), 8, QuantMode::AsymU, ClipMode::None, 0);
  EXPECT_FLOAT_EQ(u.scale, 255.0f / 4.0f);
  EXPECT_EQ(u.zero_point, -64.0f) << "round(63.75 * -1)";
  EXPECT_EQ(u.qmin, 0.0f);
  EXPECT_EQ(u.qmax, 255.0f);
  EXPECT_EQ(quantize(0.0f, u), 64.0f);
  EXPECT_EQ(fake_quant(0.0f, u), 0.0f) << "zero is exactly representable";
  const QuantParams s = compress::activation_params(stats(-1, 3), 8, QuantMode::AsymS, ClipMode::None, 0);
  EXPECT_EQ(s.zero_point, 64.0f) << "asym_s shifts the zero point by 2^(b-1)";
  EXPECT_EQ(quantize(-1.0f, s), -128.0f);
  EXPECT_EQ(fake_quant(0.0f, s), 0.0f);
  // A positive-only range is widened to include 0.
  const QuantParams w = compress::activation_params(stats(2, 4), 8, QuantMode::AsymU, ClipMode::None, 0);
  EXPECT_FLOAT_EQ(w.scale, 255.0f / 4.0f);
  EXPECT_EQ(w.zero_point, 0.0f);
}

TEST(PtqParams, ZeroPointRoundsHalfToEvenAndCodesClamp) {
  // 2 bits: n = 3, range [-2.5, 0.5] -> scale 1, zero point round(-2.5) = -2 (half to even).
  const QuantParams p = asymmetric_params(2, -2.5f, 0.5f, false);
  EXPECT_EQ(p.scale, 1.0f);
  EXPECT_EQ(p.zero_point, -2.0f);
  EXPECT_EQ(quantize(10.0f, p), 3.0f);
  EXPECT_EQ(quantize(-10.0f, p), 0.0f);
  EXPECT_EQ(quantize(0.5f, p), 2.0f) << "0.5 + 2 = 2.5 rounds to even 2";
}

TEST(PtqParams, ClipModesPickTheRange) {
  ActStats s = stats(-10, 10);
  s.avg_min = -1;
  s.avg_max = 4;
  s.mean = 0.5;
  s.std = 1;
  EXPECT_FLOAT_EQ(compress::activation_params(s, 8, QuantMode::Sym, ClipMode::None, 0).scale, 12.7f);
  EXPECT_FLOAT_EQ(compress::activation_params(s, 8, QuantMode::Sym, ClipMode::Avg, 0).scale, 127.0f / 4.0f);
  // n_std: [max(min, mean - 2 std), min(max, mean + 2 std)] = [-1.5, 2.5]
  const QuantParams a = compress::activation_params(s, 8, QuantMode::AsymU, ClipMode::NStd, 2);
  EXPECT_FLOAT_EQ(a.scale, 255.0f / 4.0f);
  EXPECT_EQ(a.zero_point, std::rint(-1.5f * (255.0f / 4.0f)));
}

TEST(PtqParams, PerChannelVersusPerTensorWeights) {
  const std::vector<float> w = {1.0f, -2.0f, 0.5f, 0.25f};  // (2, 2)
  const auto t = compress::weight_params(w, 2, 8, QuantMode::Sym, false).params;
  const auto c = compress::weight_params(w, 2, 8, QuantMode::Sym, true).params;
  ASSERT_EQ(t.size(), 1u);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_FLOAT_EQ(t[0].scale, 63.5f);
  EXPECT_FLOAT_EQ(c[0].scale, 63.5f);
  EXPECT_FLOAT_EQ(c[1].scale, 254.0f);
  EXPECT_EQ(quantize(0.25f, c[1]), 64.0f);
  EXPECT_EQ(quantize(0.25f, t[0]), 16.0f) << "15.875 rounds to 16";
  const auto u = compress::weight_params(w, 2, 4, QuantMode::AsymU, true).params;
  EXPECT_FLOAT_EQ(u[1].scale, 15.0f / 0.5f) << "row 1 widened to [0, 0.5]";
}

TEST(PtqParams, BiasCodeAtAccumulatorScaleClamps) {
  EXPECT_EQ(compress::bias_code(0.3f, 100.0f, 32), std::rint(100.0f * 0.3f));
  EXPECT_EQ(compress::bias_code(1000.0f, 100.0f, 16), 32767.0f);
  EXPECT_EQ(compress::bias_code(-1000.0f, 100.0f, 16), -32768.0f);
}

TEST(PtqStats, KnownValuesAndReluVariant) {
  compress::ActStatsAccumulator acc, relu;
  acc.add({1, 2, -3, 4}, 2);
  relu.add({1, 2, -3, 4}, 2, true);
  const ActStats s = acc.stats();
  EXPECT_EQ(s.min, -3);
  EXPECT_EQ(s.max, 4);
  EXPECT_EQ(s.avg_min, -1) << "mean of per-sample minima (1, -3)";
  EXPECT_EQ(s.avg_max, 3);
  EXPECT_EQ(s.mean, 1);
  EXPECT_DOUBLE_EQ(s.std, std::sqrt(7.5 - 1.0));
  const ActStats r = relu.stats();
  EXPECT_EQ(r.min, 0);
  EXPECT_EQ(r.avg_min, 0.5);
  EXPECT_EQ(r.mean, 7.0 / 4.0);
  // One value per sample: per-batch extremes are averaged.
  compress::ActStatsAccumulator single;
  single.add({1, 5}, 2);
  single.add({-1, 3}, 2);
  EXPECT_EQ(single.stats().avg_min, 0);
  EXPECT_EQ(single.stats().avg_max, 4);
  EXPECT_EQ(single.stats().batches, 2);
}

// small_mlp's output computed with loops from its parameters: W2 relu(W1 x + b1) + b2.
std::vector<float> float_output(nn::Model& model, const Tensor& x) {
  const auto w1 = model.parameter("0.weight").value.to_vector<float>(), b1 = model.parameter("0.bias").value.to_vector<float>();
  const auto w2 = model.parameter("2.weight").value.to_vector<float>(), b2 = model.parameter("2.bias").value.to_vector<float>();
  const auto xs = x.to_vector<float>();
  const int64_t n = x.dim(0);
  std::vector<float> y(static_cast<size_t>(n) * 5);
  for (int64_t r = 0; r < n; ++r) {
    float h[16];
    for (int k = 0; k < 16; ++k) {
      double a = b1[k];
      for (int j = 0; j < 12; ++j) a += static_cast<double>(w1[k * 12 + j]) * xs[r * 12 + j];
      h[k] = static_cast<float>(std::max(a, 0.0));
    }
    for (int k = 0; k < 5; ++k) {
      double a = b2[k];
      for (int j = 0; j < 16; ++j) a += static_cast<double>(w2[k * 16 + j]) * h[j];
      y[r * 5 + k] = static_cast<float>(a);
    }
  }
  return y;
}

std::vector<float> quantized_output(nn::Model& model, const compress::QuantConfig& config, const Tensor& probe,
                                    std::string* params = nullptr) {
  compress::PostTrainQuantizer q(model, config);
  for (const Tensor& x : batches(4)) q.observe(x);
  q.quantize();
  model.set_training(false);
  const auto y = model.forward(probe).to_vector<float>();
  if (params) *params = q.describe().dump();
  return y;
}

TEST(PtqQuantizer, CalibrationIsDeterministicAndRestoreIsExact) {
  auto model = small_mlp();
  const auto before = model->values().to_vector<float>();
  const Tensor probe = test::random_uniform({9, 12}, 99);
  compress::QuantConfig config;
  std::string p1, p2;
  const auto y1 = quantized_output(*model, config, probe, &p1);
  EXPECT_EQ(model->values().to_vector<float>(), before) << "destructor restores the float weights";
  const auto y2 = quantized_output(*model, config, probe, &p2);
  EXPECT_EQ(y1, y2);
  EXPECT_EQ(p1, p2);
  model->set_training(false);
  const auto y_float = model->forward(probe).to_vector<float>();
  EXPECT_NE(y_float, y1) << "the fake-quant transforms are removed after restore";
  const auto want = float_output(*model, probe);
  ASSERT_EQ(y_float.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(y_float[i], want[i], 1e-5f) << "restore gives the float model back";
}

TEST(PtqQuantizer, OutputsLieOnTheOutputGridAndBiasUsesInTimesWeightScale) {
  for (const QuantMode mode : {QuantMode::Sym, QuantMode::AsymU, QuantMode::AsymS}) {
    auto model = small_mlp();
    const auto b0 = model->parameter("0.bias").value.to_vector<float>();
    compress::QuantConfig config;
    config.mode = mode;
    config.bits_weights = 4;
    config.per_channel = true;
    compress::PostTrainQuantizer q(*model, config);
    for (const Tensor& x : batches(3)) q.observe(x);
    q.quantize();
    const compress::LayerQuant* l0 = nullptr;
    for (const auto& l : q.layers())
      if (l.name == "0") l0 = &l;
    ASSERT_NE(l0, nullptr);
    EXPECT_TRUE(l0->fused_relu) << "Linear followed by a ReLU module takes the ReLU's range";
    EXPECT_GE(l0->output.min, 0.0);
    ASSERT_EQ(l0->accum_scale.size(), 16u);
    const auto bq = model->parameter("0.bias").value.to_vector<float>();
    for (size_t k = 0; k < 16; ++k) {
      EXPECT_EQ(l0->accum_scale[k], l0->in.scale * l0->weights.params[k].scale);
      EXPECT_EQ(l0->b_codes[k], std::rint(l0->accum_scale[k] * b0[k]));
      EXPECT_EQ(bq[k], l0->b_codes[k] / l0->accum_scale[k]);
    }
    model->set_training(false);
    const auto y = model->forward(test::random_uniform({5, 12}, 7)).to_vector<float>();
    const QuantParams out = q.layers().back().out;
    for (const float v : y) {
      const float code = v * out.scale - out.zero_point;
      EXPECT_NEAR(code, std::rint(code), 1e-3) << compress::quant_mode_name(mode);
      EXPECT_GE(std::rint(code), out.qmin);
      EXPECT_LE(std::rint(code), out.qmax);
    }
  }
}

TEST(PtqQuantizer, PrunedWeightsStayExactlyZeroInEveryMode) {
  for (const QuantMode mode : {QuantMode::Sym, QuantMode::AsymU, QuantMode::AsymS})
    for (const int bits : {8, 3, 2}) {
      auto model = small_mlp();
      nn::Parameter& w = model->parameter("0.weight");
      auto mask = w.mask.to_vector<float>();
      auto values = w.value.to_vector<float>();
      for (size_t i = 0; i < mask.size(); ++i)
        if (i % 3 != 0) mask[i] = values[i] = 0.0f;
      w.mask.copy_from(Tensor::from_vector(mask, w.shape));
      w.value.copy_from(Tensor::from_vector(values, w.shape));
      compress::QuantConfig config;
      config.mode = mode;
      config.bits_weights = bits;
      compress::PostTrainQuantizer q(*model, config);
      q.observe(batches(1)[0]);
      q.quantize();  // throws if a pruned weight became non-zero
      const auto after = w.value.to_vector<float>();
      for (size_t i = 0; i < mask.size(); ++i)
        if (mask[i] == 0.0f) {
          ASSERT_EQ(after[i], 0.0f) << compress::quant_mode_name(mode) << " " << bits << " bits";
        }
    }
}

TEST(PtqQuantizer, FullPrecisionLayersAreLeftAlone) {
  auto model = small_mlp();
  const auto w0 = model->parameter("0.weight").value.to_vector<float>();
  const auto w2 = model->parameter("2.weight").value.to_vector<float>();
  compress::QuantConfig config;
  config.full_precision = {"2"};
  compress::PostTrainQuantizer q(*model, config);
  q.observe(batches(1)[0]);
  q.quantize();
  EXPECT_EQ(model->parameter("2.weight").value.to_vector<float>(), w2);
  // Layer 0 is quantized: 8-bit symmetric per tensor, scale 127 / max|w|, each weight replaced by
  // round(scale * w) / scale.
  float max_abs = 0;
  for (const float v : w0) max_abs = std::max(max_abs, std::fabs(v));
  const float scale = 127.0f / max_abs;
  const auto q0 = model->parameter("0.weight").value.to_vector<float>();
  for (size_t i = 0; i < w0.size(); ++i) EXPECT_NEAR(q0[i], std::rint(w0[i] * scale) / scale, 1e-6f) << i;
}

// One Linear(2 -> 1), weights (0.5, -1), bias 0.25, calibrated on x = (1, -0.5) and (-1, 1), W8A8
// symmetric, worked by hand:
//   input range 1: in scale 127; weight range 1: w scale 127; w codes (64, -127) (63.5 -> 64, half
//   to even); accumulator scale 127 * 127 = 16129; bias code round(16129 * 0.25) = 4032;
//   float outputs 1.25 and -1.25: out scale 127 / 1.25 = 101.6.
//   Probe x = (0.25, 0.75): codes (32, 95) (31.75, 95.25); sum 32*64 - 95*127 + 4032 = -5985;
//   y = -5985 / 16129 = -0.37107; output code round(-0.37107 * 101.6) = round(-37.70) = -38;
//   y_q = -38 / 101.6 = -0.374016 (float model: -0.375).
TEST(PtqQuantizer, OneLinearWorkedByHand) {
  auto net = std::make_unique<nn::Sequential>();
  net->append(std::make_unique<nn::Linear>(2, 1));
  nn::Model model("one_linear", std::move(net), Device::cpu());
  model.values().copy_from(Tensor::from_vector<float>({0.5f, -1.0f, 0.25f}, {3}));
  compress::PostTrainQuantizer q(model, compress::QuantConfig{});
  q.observe(Tensor::from_vector<float>({1.0f, -0.5f, -1.0f, 1.0f}, {2, 2}));
  q.quantize();
  const compress::LayerQuant& l = q.layers().at(0);
  EXPECT_EQ(l.in.scale, 127.0f);
  EXPECT_EQ(l.weights.params.at(0).scale, 127.0f);
  EXPECT_EQ(l.w_codes, (std::vector<int32_t>{64, -127}));
  EXPECT_EQ(l.b_codes, std::vector<float>{4032.0f});
  EXPECT_FLOAT_EQ(l.out.scale, 101.6f);
  model.set_training(false);
  const float y = model.forward(Tensor::from_vector<float>({0.25f, 0.75f}, {1, 2})).to_vector<float>()[0];
  EXPECT_NEAR(y, -38.0f / 101.6f, 1e-6f);
}

TEST(PtqQuantizer, BadInputThrows) {
  auto model = small_mlp();
  compress::QuantConfig config;
  config.full_precision = {"nope"};
  EXPECT_THROW(compress::PostTrainQuantizer(*model, config), Error);
  config.full_precision.clear();
  config.bits_weights = 1;
  EXPECT_THROW(compress::PostTrainQuantizer(*model, config), Error);
  config.bits_weights = 8;
  compress::PostTrainQuantizer q(*model, config);
  EXPECT_THROW(q.quantize(), Error) << "no calibration";
  EXPECT_THROW(compress::parse_quant_mode("asym"), Error);
  compress::QuantConfig c;
  EXPECT_THROW(compress::parse_clip("n_std:-1", c), Error);
  EXPECT_THROW(compress::parse_clip("n_std:", c), Error);
  EXPECT_THROW(compress::parse_clip("laplace", c), Error);
  compress::parse_clip("n_std:2.5", c);
  EXPECT_EQ(c.clip, ClipMode::NStd);
  EXPECT_EQ(c.clip_n_stds, 2.5f);
  EXPECT_THROW(compress::parse_bit_list("8,x"), Error);
  EXPECT_THROW(compress::parse_bit_list("8,1"), Error);
  EXPECT_EQ(compress::parse_bit_list("8,6,4,3,2"), (std::vector<int>{8, 6, 4, 3, 2}));
}

TEST(PtqModelSize, CountsKeptWeightsMaskBiasesAndScales) {
  auto model = small_mlp();
  nn::Parameter& w = model->parameter("0.weight");  // (16, 12)
  auto mask = w.mask.to_vector<float>();
  for (size_t i = 0; i < 92; ++i) mask[i] = 0.0f;
  w.mask.copy_from(Tensor::from_vector(mask, w.shape));
  const compress::ModelSize s = compress::quantized_model_size(*model, 4, 32, false);
  EXPECT_EQ(s.weight_bits, (192 - 92) * 4 + 80 * 4);
  EXPECT_EQ(s.mask_bits, 192) << "only the pruned tensor carries a bitmap";
  EXPECT_EQ(s.bias_bits, (16 + 5) * 32);
  EXPECT_EQ(s.scale_bits, 2 * 64);
  EXPECT_EQ(compress::quantized_model_size(*model, 4, 32, true).scale_bits, (16 + 5) * 64);
  EXPECT_EQ(compress::float_model_bits(*model), model->num_parameters() * 32);
}

}  // namespace
}  // namespace bmc
