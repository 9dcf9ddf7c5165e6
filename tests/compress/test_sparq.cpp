// SPARQ against the conformance checklist of ../shared/docs/algorithms/sparq.md (section 12): the
// 8-bit step (Q1-Q8), the window forms (B1, B11; the fingerprints and worked examples are in
// test_quantizers.cpp), vSPARQ and STC with the note's worked GEMMs (V1-V9), ASP 2:4 pruning
// (A1-A4) and the 2:4 storage (F1, F2). Expected values come from the note, never from the code.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "compress/prune/model_pruning.h"
#include "compress/prune/two_of_four.h"
#include "compress/sparq/sparq_model.h"
#include "compress/sparq/sparse_storage.h"
#include "kernels/sparq.cuh"
#include "models/init.h"
#include "models/registry.h"
#include "nn/batch_norm.h"
#include "ops/conv2d.h"
#include "optim/sgd.h"

namespace bmc {
namespace {

using compress::IntGemmPath;
using compress::SparqMode;

std::vector<IntGemmPath> supported_paths() {
  std::vector<IntGemmPath> paths;
  for (IntGemmPath p : {IntGemmPath::Portable, IntGemmPath::Avx2, IntGemmPath::Avx512Vnni})
    if (compress::int_gemm_path_supported(p)) paths.push_back(p);
  return paths;
}

struct WindowConfig {
  int bits, shift_opt;
};
const WindowConfig kConfigs[] = {{4, 5}, {4, 3}, {4, 2}, {3, 5}, {2, 5}, {6, 3}};

TEST(Sparq, WeightCodesFollowTheFloat32OrderQ1) {
  const float step1 = sparq_weight_step(1.0f, 8);
  EXPECT_EQ(step1, 0.0078431377f);
  EXPECT_EQ(sparq_weight_code(1.0f, step1, 8), 127);
  EXPECT_EQ(sparq_weight_code(-1.0f, step1, 8), -127);
  const float step03 = sparq_weight_step(0.3f, 8);
  EXPECT_EQ(sparq_weight_code(0.3f, step03, 8), 127) << "128 is clamped";
  EXPECT_EQ(sparq_weight_code(-0.3f, step03, 8), -128) << "the ratio is exactly -127.5 in float32, which rounds to even";
}

TEST(Sparq, CalibrationBatchCountIsUpstreamsQ4) {
  EXPECT_EQ(compress::upstream_calibration_batches(128), 17);
  EXPECT_EQ(compress::upstream_calibration_batches(32), 65);
  EXPECT_EQ(compress::upstream_calibration_batches(100), -1) << "2048 / 100 is never reached: a whole epoch";
}

// One 1x1 conv, 2 input and 2 output channels, wrapped as the only layer of a kernel.
struct TinyConv {
  nn::Conv2d conv{2, 2, 1, 1, 0, false};
  TinyConv(const std::vector<float>& w) {
    conv.weight().value = Tensor::from_vector(w, {2, 2, 1, 1});
    conv.weight().grad = Tensor::zeros({2, 2, 1, 1});
    conv.weight().mask = Tensor::full({2, 2, 1, 1}, 1.0f);
  }
};

TEST(Sparq, RangeIsTheRunningMeanOfPerImageMaximaQ3Q2) {
  TinyConv t({1.0f, -0.5f, 0.25f, 0.3f});
  compress::SparqConvKernel k(t.conv, "conv", 8, 8);
  k.set_calibrating(true);
  // Image 0 peaks at 2.0, image 1 at 4.0.
  Tensor x = Tensor::from_vector(std::vector<float>{2.0f, 0.0f, 1.0f, 0.5f, 0.0f, 4.0f, 3.0f, 0.0f}, {2, 2, 1, 2});
  k.forward(x);
  EXPECT_EQ(k.range(), 3.0f);
  EXPECT_EQ(k.range_images(), 2);
  EXPECT_EQ(sparq_act_step(k.range(), 8), 3.0f / 255.0f);
  // One more image peaking at 6.0: (3 * 2 + 6) / 3 = 4.
  k.forward(Tensor::from_vector(std::vector<float>{6.0f, 0.0f}, {1, 2, 1, 1}));
  EXPECT_EQ(k.range(), 4.0f);
  // Per-output-channel steps: 1.0 and 0.3 are the channels' largest magnitudes.
  EXPECT_EQ(k.weight_steps()[0], sparq_weight_step(1.0f, 8));
  EXPECT_EQ(k.weight_steps()[1], sparq_weight_step(0.3f, 8));
  EXPECT_EQ(k.weight_codes(), (std::vector<int8_t>{127, -64, 106, 127}));
}

TEST(Sparq, SignedInputsAreRefusedQ5) {
  TinyConv t({1.0f, 0.0f, 0.0f, 1.0f});
  compress::SparqConvKernel k(t.conv, "blocks.0.conv1", 8, 8);
  k.set_range(1.0f, 1);
  try {
    k.forward(Tensor::from_vector(std::vector<float>{0.5f, -0.25f}, {1, 2, 1, 1}));
    FAIL() << "a negative input was accepted";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("signed activations are not supported"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("blocks.0.conv1"), std::string::npos) << e.message();
  }
}

TEST(Sparq, StemAndClassifierStayFloatEveryOtherConvIsQuantizedQ6) {
  auto model = models::make_model("cifar_resnet_20", Device::cpu());
  const auto kernels = compress::attach_sparq(*model, 8, 8);
  // 18 block convs and the 2 shortcut 1x1 convs; not the stem, not fc.
  EXPECT_EQ(kernels.size(), 20u);
  int shortcuts = 0;
  for (const auto* k : kernels) {
    EXPECT_NE(k->name(), "conv");
    shortcuts += k->name().find("shortcut") != std::string::npos;
  }
  EXPECT_EQ(shortcuts, 2);
  compress::detach_sparq(*model);
}

// The 8-bit integer path equals the float convolution of the dequantized tensors within float
// rounding (Q8), and the output is C * step_x * step_w[o] exactly (V8).
TEST(Sparq, IntegerConvMatchesTheDequantizedFloatConvQ8V8) {
  const int64_t n = 2, c = 6, h = 7, w = 5, o = 5;
  nn::Conv2d conv(c, o, 3, 2, 1, false);
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> wd(-0.5f, 0.5f), xd(0.0f, 2.0f);
  std::vector<float> wv(static_cast<size_t>(o * c * 9)), xv(static_cast<size_t>(n * c * h * w));
  for (float& v : wv) v = wd(gen);
  for (float& v : xv) v = xd(gen) < 0.6f ? 0.0f : xd(gen);
  conv.weight().value = Tensor::from_vector(wv, {o, c, 3, 3});
  conv.weight().mask = Tensor::full({o, c, 3, 3}, 1.0f);
  compress::SparqConvKernel k(conv, "conv", 8, 8);
  k.set_range(2.0f, 1);
  const Tensor x = Tensor::from_vector(xv, {n, c, h, w});
  const std::vector<float> y = k.forward(x).to_vector<float>();

  const float sx = sparq_act_step(2.0f, 8);
  std::vector<float> xq(xv.size()), wq(wv.size());
  for (size_t i = 0; i < xv.size(); ++i) xq[i] = static_cast<float>(sparq_act_code(xv[i], sx, 8)) * sx;
  for (int64_t j = 0; j < o; ++j) {
    float m = 0;
    for (int64_t i = 0; i < c * 9; ++i) m = std::max(m, std::fabs(wv[j * c * 9 + i]));
    const float sw = sparq_weight_step(m, 8);
    for (int64_t i = 0; i < c * 9; ++i) wq[j * c * 9 + i] = sparq_weight_code(wv[j * c * 9 + i], sw, 8) * sw;
  }
  ops::Conv2dParams p;
  p.stride_h = p.stride_w = 2;
  p.pad_h = p.pad_w = 1;
  const Tensor wt = Tensor::from_vector(wq, {o, c, 3, 3});
  const Tensor xt = Tensor::from_vector(xq, {n, c, h, w});
  Tensor ref(ops::conv2d_output_shape(xt.shape(), wt.shape(), p));
  ops::conv2d_forward(ref, xt, wt, Tensor(), p);
  const std::vector<float> r = ref.to_vector<float>();
  ASSERT_EQ(r.size(), y.size());
  float scale = 0;
  for (float v : r) scale = std::max(scale, std::fabs(v));
  for (size_t i = 0; i < r.size(); ++i) EXPECT_NEAR(y[i], r[i], 1e-5f * scale) << i;
}

TEST(Sparq, MaskFormEqualsClosedFormOnEveryCodeB1B11) {
  for (const WindowConfig& cfg : kConfigs)
    for (WindowRound round : {WindowRound::Raw, WindowRound::Round}) {
      const BitWindow w = sparq_window(cfg.bits, cfg.shift_opt, round);
      for (int a = 0; a < 256; ++a) {
        const int h = bit_window_value(a, w);
        ASSERT_EQ(bit_window_value_masked(a, w), h) << cfg.bits << " bits opt" << cfg.shift_opt << " a=" << a;
        ASSERT_GE(h, 0);
        ASSERT_LE(h, 255);
        if (a < (1 << cfg.bits)) {
          ASSERT_EQ(h, a) << "codes below 2^n are exact";
        }
      }
    }
  // B6 / B9 values not in the fingerprint test.
  EXPECT_EQ(bit_window_value(23, sparq_window(4, 2, WindowRound::Round)), 16);
  EXPECT_EQ(bit_window_value(248, sparq_window(4, 2, WindowRound::Round)), 240);
  EXPECT_EQ(bit_window_value(203, sparq_window(6, 3, WindowRound::Raw)), 200);
  EXPECT_EQ(bit_window_value(109, sparq_window(6, 3, WindowRound::Round)), 108);
}

int32_t dot(const std::vector<uint8_t>& a, const std::vector<int8_t>& b, SparqMode mode, const BitWindow& w,
            IntGemmPath path, bool reference) {
  int32_t c = 0;
  const auto k = static_cast<int64_t>(a.size());
  if (reference)
    compress::sparq_gemm_reference(a.data(), b.data(), &c, 1, k, 1, mode, w);
  else
    compress::sparq_gemm(a.data(), b.data(), &c, 1, k, 1, mode, w, path);
  return c;
}

TEST(Sparq, WorkedGemmExampleOneV1V2) {
  const std::vector<uint8_t> a = {0, 200, 109, 183, 7, 0, 5, 19};
  const std::vector<int8_t> b = {3, -2, 1, 1, -4, 9, 2, 1};
  struct Row {
    int bits, shift_opt, raw, round;
  };
  // sparq.md section 4.4, example 1.
  const Row rows[] = {{4, 5, -120, -110}, {4, 3, -130, -110}, {4, 2, -130, -114}, {3, 5, -146, -94}, {2, 5, -164, -100}};
  for (bool reference : {true, false})
    for (IntGemmPath path : supported_paths())
      for (const Row& r : rows) {
        EXPECT_EQ(dot(a, b, SparqMode::Pairs, sparq_window(r.bits, r.shift_opt, WindowRound::Raw), path, reference), r.raw)
            << r.bits << " bits opt" << r.shift_opt;
        EXPECT_EQ(dot(a, b, SparqMode::Pairs, sparq_window(r.bits, r.shift_opt, WindowRound::Round), path, reference),
                  r.round)
            << r.bits << " bits opt" << r.shift_opt;
      }
  EXPECT_EQ(dot(a, b, SparqMode::Exact, sparq_window(4, 5, WindowRound::Raw), IntGemmPath::Portable, true), -107);
}

TEST(Sparq, WorkedGemmExampleTwoStcV5) {
  const std::vector<uint8_t> a = {50, 0, 77, 201, 9, 250, 4, 4};
  const std::vector<int8_t> b = {0, -2, 0, 5, 3, 0, 0, 0};
  const BitWindow w = sparq_window(4, 5, WindowRound::Raw);
  for (bool reference : {true, false})
    for (IntGemmPath path : supported_paths()) {
      EXPECT_EQ(dot(a, b, SparqMode::Stc, w, path, reference), 1032);
      EXPECT_EQ(dot(a, b, SparqMode::Pairs, w, path, reference), 987);
      // Activations at pruned positions play no part in STC.
      std::vector<uint8_t> other = a;
      other[0] = 255;
      other[2] = 1;
      other[6] = 99;
      EXPECT_EQ(dot(other, b, SparqMode::Stc, w, path, reference), 1032);
    }
}

TEST(Sparq, OddReductionPairsTheLastCodeWithAPhantomZeroV4) {
  const std::vector<uint8_t> a = {109, 183, 109};
  const std::vector<int8_t> b = {1, 1, 1};
  const BitWindow w = sparq_window(4, 5, WindowRound::Raw);
  for (IntGemmPath path : supported_paths()) {
    EXPECT_EQ(dot(a, b, SparqMode::Pairs, w, path, true), 104 + 176 + 109);
    EXPECT_EQ(dot(a, b, SparqMode::Pairs, w, path, false), 104 + 176 + 109);
  }
}

TEST(Sparq, StcRefusesDenseGroupsAndKeepsLoneSurvivorsV6V7) {
  const BitWindow w3 = sparq_window(3, 5, WindowRound::Round);
  const std::vector<uint8_t> a = {183, 0, 7, 9};
  EXPECT_THROW(dot(a, {1, 1, 1, 0}, SparqMode::Stc, w3, IntGemmPath::Portable, true), Error);
  EXPECT_THROW(dot(a, {1, 1, 1, 0}, SparqMode::Stc, w3, IntGemmPath::Portable, false), Error);
  for (bool reference : {true, false}) {
    // A lone survivor gets the 6-bit window of a 3-bit group: 183 -> 184 (ROUND).
    EXPECT_EQ(dot(a, {1, 0, 0, 0}, SparqMode::Stc, w3, IntGemmPath::Portable, reference), 184);
    EXPECT_EQ(dot(a, {0, 0, 0, 0}, SparqMode::Stc, w3, IntGemmPath::Portable, reference), 0);
    // Slot order: the survivors swapped (positions 0 and 3 exchange activation and weight).
    const int32_t ab = dot({183, 0, 7, 23}, {2, 0, 0, -3}, SparqMode::Stc, w3, IntGemmPath::Portable, reference);
    const int32_t ba = dot({23, 0, 7, 183}, {-3, 0, 0, 2}, SparqMode::Stc, w3, IntGemmPath::Portable, reference);
    EXPECT_EQ(ab, ba);
    EXPECT_EQ(ab, 192 * 2 + 24 * -3);
  }
}

TEST(Sparq, TapMajorIm2colOrdersTapsThenChannelsV3) {
  // x (1, 4, 3, 3) with the value 50 * c + 10 * y + x + 1 at each position, channels-last; 3x3
  // conv, pad 1.
  const int64_t c = 4;
  std::vector<uint8_t> x(static_cast<size_t>(c * 9));
  for (int64_t ch = 0; ch < c; ++ch)
    for (int y = 0; y < 3; ++y)
      for (int xx = 0; xx < 3; ++xx) x[(y * 3 + xx) * c + ch] = static_cast<uint8_t>(50 * ch + 10 * y + xx + 1);
  ops::Conv2dParams p;
  p.pad_h = p.pad_w = 1;
  int64_t oh = 0, ow = 0;
  const auto a = compress::im2col_tap_major(x.data(), 1, c, 3, 3, 3, 3, p, oh, ow);
  ASSERT_EQ(oh, 3);
  ASSERT_EQ(ow, 3);
  const int64_t k = 9 * c;
  // Output pixel (1, 1) reads input (r, s) at tap (r, s): k = (r * 3 + s) * C + c.
  const uint8_t* centre = a.data() + 4 * k;
  for (int r = 0; r < 3; ++r)
    for (int s = 0; s < 3; ++s)
      for (int64_t ch = 0; ch < c; ++ch) EXPECT_EQ(centre[(r * 3 + s) * c + ch], 50 * ch + 10 * r + s + 1);
  // Output pixel (0, 0): the taps of row -1 and column -1 are padding zeros.
  for (int64_t ch = 0; ch < c; ++ch) {
    EXPECT_EQ(a[(0 * 3 + 0) * c + ch], 0);
    EXPECT_EQ(a[(1 * 3 + 1) * c + ch], 50 * ch + 1);
  }
  // A pair of a 3x3 conv is channels (2j, 2j + 1) at one tap.
  EXPECT_EQ(centre[(0 * 3 + 2) * c + 2], 50 * 2 + 2 + 1);
  EXPECT_EQ(centre[(0 * 3 + 2) * c + 3], 50 * 3 + 2 + 1);
  // Codes of NCHW floats come out channels-last.
  const std::vector<float> xf = {0.0f, 1.0f, 2.0f, 3.0f, 10.0f, 11.0f, 12.0f, 13.0f};  // (1, 2, 2, 2)
  EXPECT_EQ(compress::act_codes_nhwc(xf.data(), 1, 2, 2, 2, 1.0f, 8), (std::vector<uint8_t>{0, 10, 1, 11, 2, 12, 3, 13}));
  const std::vector<int8_t> w = {1, 2, 3, 4, 5, 6, 7, 8};  // (1, 2, 2, 2)
  EXPECT_EQ(compress::weights_tap_major(w, 1, 2, 2, 2), (std::vector<int8_t>{1, 5, 2, 6, 3, 7, 4, 8}));
}

// Fast path (dense int GEMM on transformed operands) against the direct evaluation, every mode,
// every CPU path, shapes with tails (V9 for the non-STC modes; STC through its 16-slot expansion).
TEST(Sparq, FastPathsEqualTheReferenceV9) {
  std::mt19937 gen(11);
  std::uniform_int_distribution<int> code(0, 255), wcode(-128, 127), coin(0, 3);
  for (auto [m, k, o] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 1}, {3, 7, 5}, {17, 36, 9}, {64, 144, 16},
                         {5, 130, 33}, {9, 576, 7}}) {
    std::vector<uint8_t> a(static_cast<size_t>(m * k));
    std::vector<int8_t> b(static_cast<size_t>(o * k)), b24(b.size());
    for (auto& v : a) v = coin(gen) == 0 ? 0 : static_cast<uint8_t>(code(gen));
    for (auto& v : b) v = static_cast<int8_t>(wcode(gen));
    // A 2:4 copy: the two lowest positions of each group zeroed, the tail group thinned too.
    b24 = b;
    for (int64_t j = 0; j < o; ++j)
      for (int64_t g = 0; g < k; g += 4)
        for (int q = 0; q < 2 && g + q < k; ++q) b24[j * k + g + q] = 0;
    for (const WindowConfig& cfg : kConfigs) {
      if (cfg.bits == 6) continue;
      const BitWindow w = sparq_window(cfg.bits, cfg.shift_opt, WindowRound::Round);
      for (SparqMode mode : {SparqMode::Exact, SparqMode::Window, SparqMode::Pairs, SparqMode::Stc}) {
        const auto& bw = mode == SparqMode::Stc ? b24 : b;
        std::vector<int32_t> ref(static_cast<size_t>(m * o)), got(ref.size());
        compress::sparq_gemm_reference(a.data(), bw.data(), ref.data(), m, k, o, mode, w);
        for (IntGemmPath path : supported_paths()) {
          compress::sparq_gemm(a.data(), bw.data(), got.data(), m, k, o, mode, w, path);
          ASSERT_EQ(got, ref) << compress::sparq_mode_name(mode) << " " << compress::int_gemm_path_name(path) << " m=" << m
                              << " k=" << k << " o=" << o;
        }
      }
    }
  }
}

TEST(Sparq, StcIsNotAPrecomputedActivationTensorV9) {
  // Activation pair (77, 201) with weights only at positions 1 and 3: STC pairs 0 with 201
  // (201 exact) where a precomputed X_eff windows 201 against its neighbour 77 (-> 192).
  const std::vector<uint8_t> a = {50, 0, 77, 201};
  const std::vector<int8_t> b = {0, -2, 0, 5};
  const BitWindow w = sparq_window(4, 5, WindowRound::Raw);
  EXPECT_EQ(dot(a, b, SparqMode::Stc, w, IntGemmPath::Portable, true), 201 * 5);
  EXPECT_EQ(dot(a, b, SparqMode::Pairs, w, IntGemmPath::Portable, true), 192 * 5);
}

TEST(Sparq, IntGemmIsExactAtTheExtremes) {
  // 255 * -128 summed over K = 4608 (a ResNet 3x3 conv of 512 channels) needs all 32 bits' range.
  const int64_t k = 4608;
  std::vector<uint8_t> a(static_cast<size_t>(3 * k), 255);
  std::vector<int8_t> b(static_cast<size_t>(2 * k), -128);
  for (int64_t t = 0; t < k; ++t) b[k + t] = 127;
  for (IntGemmPath path : supported_paths()) {
    std::vector<int32_t> c(6);
    compress::int_gemm_u8s8(a.data(), b.data(), c.data(), 3, k, 2, path);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(c[i * 2], -255 * 128 * k) << compress::int_gemm_path_name(path);
      EXPECT_EQ(c[i * 2 + 1], 255 * 127 * k) << compress::int_gemm_path_name(path);
    }
  }
}

TEST(TwoOfFour, AspMaskKeepsTheTwoLargestA1A2) {
  EXPECT_EQ(compress::two_of_four_mask({0.1f, -0.9f, 0.5f, 0.2f}, Shape{1, 4}), (std::vector<float>{0, 1, 1, 0}));
  const int8_t group[4] = {0, -9, 5, 0};
  EXPECT_EQ(sparse_group_nibble(group), 0x9);
  // Ties go to the lower channel.
  EXPECT_EQ(compress::two_of_four_mask({0.5f, 0.5f, 0.5f, 0.5f}, Shape{1, 4}), (std::vector<float>{1, 1, 0, 0}));
  // Conv (K, C, R, S): groups of 4 input channels at each (o, r, s); after masking every aligned
  // group of the tap-major reduction holds at most 2 non-zeros.
  const int64_t ko = 2, c = 8, r = 3;
  std::mt19937 gen(5);
  std::normal_distribution<float> nd;
  std::vector<float> w(static_cast<size_t>(ko * c * r * r));
  for (float& v : w) v = nd(gen);
  const auto mask = compress::two_of_four_mask(w, Shape{ko, c, r, r});
  std::vector<int8_t> codes(w.size());
  for (size_t i = 0; i < w.size(); ++i) codes[i] = mask[i] != 0 ? 1 : 0;
  for (int64_t o = 0; o < ko; ++o)
    for (int64_t t = 0; t < r * r; ++t)
      for (int64_t g = 0; g < c; g += 4) {
        int kept = 0;
        for (int q = 0; q < 4; ++q) kept += codes[((o * c + g + q) * r * r) + t];
        EXPECT_EQ(kept, 2);
      }
  const auto tap_major = compress::weights_tap_major(codes, ko, c, r, r);
  EXPECT_TRUE(compress::two_of_four(tap_major.data(), ko, c * r * r));
}

TEST(TwoOfFour, AspEligibilityA3) {
  EXPECT_FALSE(compress::asp_prunable(Shape{64, 3, 7, 7})) << "a ResNet stem (C = 3)";
  EXPECT_TRUE(compress::asp_prunable(Shape{1000, 512}));
  EXPECT_FALSE(compress::asp_prunable(Shape{10, 64})) << "10 outputs: not a multiple of 8";
  EXPECT_TRUE(compress::asp_prunable(Shape{16, 16, 3, 3}));
  auto model = models::make_model("cifar_resnet_20", Device::cpu());
  models::initialize(*model, 1);
  const auto result = compress::prune_two_of_four(*model, {});
  EXPECT_EQ(result.dense, (std::vector<std::string>{"conv.weight", "fc.weight"}));
  EXPECT_EQ(result.pruned.size(), 20u);
}

TEST(TwoOfFour, FineTuningKeepsPrunedWeightsZeroA4) {
  auto model = models::make_model("cifar_resnet_8", Device::cpu());
  models::initialize(*model, 2);
  compress::prune_two_of_four(*model, {});
  optim::Sgd sgd(*model, {0.9f, 1e-4f, false});
  Tensor x = Tensor::full({2, 3, 8, 8}, 0.5f);
  for (int step = 0; step < 3; ++step) {
    model->zero_grad();
    Tensor y = model->forward(x);
    model->backward(Tensor::full(y.shape(), 1.0f));
    model->grads().fill(0.25f);  // every gradient non-zero, masked ones included
    sgd.step(0.1f);
  }
  for (nn::Parameter* p : compress::prunable_parameters(*model, {})) {
    if (!compress::asp_prunable(p->shape)) continue;
    const auto v = p->value.to_vector<float>(), m = p->mask.to_vector<float>();
    for (size_t i = 0; i < v.size(); ++i)
      if (m[i] == 0) {
        ASSERT_EQ(v[i], 0.0f) << p->name << "[" << i << "]";
      }
  }
}

TEST(TwoOfFour, MetadataNibblesAndRoundTripF1F2) {
  const int pairs[6][2] = {{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}};
  const int nibbles[6] = {0x4, 0x8, 0xC, 0x9, 0xD, 0xE};
  for (int i = 0; i < 6; ++i) {
    int8_t g[4] = {0, 0, 0, 0};
    g[pairs[i][0]] = 3;
    g[pairs[i][1]] = -7;
    EXPECT_EQ(sparse_group_nibble(g), nibbles[i]);
  }
  // [0, 0, 1, 1] everywhere: 0xEEEE per 16 bits.
  std::vector<int8_t> b(32);
  for (int g = 0; g < 8; ++g) b[4 * g + 2] = b[4 * g + 3] = 1;
  const auto s = compress::compress_two_of_four(b.data(), 1, 32);
  ASSERT_EQ(s.metadata.size(), 1u);
  EXPECT_EQ(s.metadata[0], 0xEEEEEEEEu);
  // Random <= 2:4 rows with empty and single-survivor groups round-trip; never an invalid nibble.
  std::mt19937 gen(9);
  std::uniform_int_distribution<int> v(-128, 127), pos(0, 3), count(0, 2);
  const int64_t rows = 5, k = 72;
  std::vector<int8_t> m(static_cast<size_t>(rows * k), 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < k / 4; ++g)
      for (int n = count(gen); n > 0; --n) m[r * k + 4 * g + pos(gen)] = static_cast<int8_t>(v(gen) | 1);
  const auto sm = compress::compress_two_of_four(m.data(), rows, k);
  EXPECT_EQ(compress::decompress_two_of_four(sm), m);
  for (uint32_t word : sm.metadata)
    for (int g = 0; g < 8; ++g) {
      const int nib = (word >> (4 * g)) & 0xF;
      if (nib == 0) continue;  // the unused tail of the last word
      EXPECT_TRUE(nib != 0x5 && nib != 0xA && nib != 0xF) << std::hex << nib;
    }
  std::vector<int8_t> dense(4, 1);
  EXPECT_THROW(compress::compress_two_of_four(dense.data(), 1, 4), Error);
}

// Calibration in train mode updates batch-norm running statistics as PyTorch's train mode does
// (momentum 0.1); eval mode leaves them alone (Q7).
TEST(Sparq, TrainModePassesReestimateBatchNormQ7) {
  auto model = models::make_model("cifar_resnet_8", Device::cpu());
  models::initialize(*model, 4);
  const auto before = model->buffers().front()->value.to_vector<float>();
  struct Source : data::BatchSource {
    int64_t steps_per_epoch() const override { return 4; }
    int64_t size() const override { return 8; }
    Device device() const override { return Device::cpu(); }
    void batch(int64_t step, Tensor& x, Tensor& y) const override {
      x = Tensor::full({2, 3, 8, 8}, 0.25f * static_cast<float>(step + 1));
      y = Tensor::zeros({2}, DType::I32);
    }
  } source;
  compress::calibration_passes(*model, source, 0, 2, false, "eval-mode pass");
  EXPECT_EQ(model->buffers().front()->value.to_vector<float>(), before);
  compress::calibration_passes(*model, source, 0, 1, true, "train-mode pass");
  const auto after = model->buffers().front()->value.to_vector<float>();
  EXPECT_NE(after, before);
  EXPECT_TRUE(model->net().training()) << "the previous mode is restored";
}

}  // namespace
}  // namespace bmc
