// Quantizers as values and their cores: SPARQ's bit windows against the method note's LUT
// fingerprints and worked examples, BSQ's bit planes, LatticeQ's nearest-plane rounding, and
// fake_quantize for each (expected values from ../shared/docs/algorithms and by hand).
#include <gtest/gtest.h>

#include <set>

#include "compress/quant/quantizer.h"
#include "kernels/bit_planes.cuh"
#include "kernels/sparq.cuh"
#include "kernels/lattice.cuh"

namespace bmc {
namespace {

struct Fingerprint {
  int64_t sum = 0, hash = 0;
  size_t distinct = 0;
};

Fingerprint fingerprint(const BitWindow& w) {
  Fingerprint f;
  std::set<int> seen;
  for (int a = 0; a < 256; ++a) {
    const int h = bit_window_value(a, w);
    f.sum += h;
    f.hash = (f.hash * 131 + h) % 1000000007;
    seen.insert(h);
  }
  f.distinct = seen.size();
  return f;
}

TEST(BitWindow, LutFingerprintsOfEveryConfiguration) {
  struct Row {
    int bits, shift_opt;
    int64_t raw_sum, raw_hash, round_sum, round_hash;
    size_t distinct;
  };
  // sparq.md section 3.1.
  const Row rows[] = {{4, 5, 31400, 16861353, 32470, 894292737, 48}, {4, 3, 31128, 796593370, 32504, 795924684, 40},
                      {4, 2, 30840, 91019612, 32520, 808452562, 31},  {3, 5, 30036, 454946761, 31958, 999711915, 28},
                      {2, 5, 27306, 347110910, 29910, 114891445, 16}, {6, 3, 32416, 627886433, 32630, 409929935, 128}};
  for (const Row& r : rows) {
    const Fingerprint raw = fingerprint(sparq_window(r.bits, r.shift_opt, WindowRound::Raw));
    const Fingerprint round = fingerprint(sparq_window(r.bits, r.shift_opt, WindowRound::Round));
    EXPECT_EQ(raw.sum, r.raw_sum) << r.bits << " bits opt" << r.shift_opt;
    EXPECT_EQ(raw.hash, r.raw_hash) << r.bits << " bits opt" << r.shift_opt;
    EXPECT_EQ(round.sum, r.round_sum) << r.bits << " bits opt" << r.shift_opt;
    EXPECT_EQ(round.hash, r.round_hash) << r.bits << " bits opt" << r.shift_opt;
    EXPECT_EQ(raw.distinct, r.distinct);
    EXPECT_EQ(round.distinct, r.distinct);
  }
}

TEST(BitWindow, WorkedExamples) {
  auto raw = [](int bits, int opt, int a) { return bit_window_value(a, sparq_window(bits, opt, WindowRound::Raw)); };
  auto rnd = [](int bits, int opt, int a) { return bit_window_value(a, sparq_window(bits, opt, WindowRound::Round)); };
  EXPECT_EQ(raw(4, 5, 183), 176);  // B3
  EXPECT_EQ(raw(4, 5, 109), 104);
  EXPECT_EQ(rnd(4, 5, 109), 112);  // B4
  EXPECT_EQ(rnd(4, 5, 127), 120);
  EXPECT_EQ(rnd(4, 5, 31), 30);
  EXPECT_EQ(rnd(4, 5, 255), 240);
  EXPECT_EQ(rnd(4, 5, 232), 224);
  EXPECT_EQ(rnd(4, 5, 233), 240);
  EXPECT_EQ(raw(4, 3, 109), 96);  // B5
  EXPECT_EQ(rnd(4, 3, 127), 128);
  EXPECT_EQ(rnd(4, 3, 62), 60);
  EXPECT_EQ(rnd(4, 2, 24), 32);  // B6
  EXPECT_EQ(raw(4, 2, 62), 48);
  EXPECT_EQ(rnd(3, 5, 183), 192);  // B7
  EXPECT_EQ(rnd(3, 5, 15), 14);
  EXPECT_EQ(raw(2, 5, 183), 128);  // B8
  EXPECT_EQ(rnd(2, 5, 109), 96);
  EXPECT_EQ(rnd(6, 3, 183), 184);  // B9
  EXPECT_EQ(rnd(6, 3, 203), 204);
  for (int opt : {5, 3, 2})  // B10: the option is ignored below 4 bits
    for (int a = 0; a < 256; ++a) ASSERT_EQ(rnd(3, opt, a), rnd(3, 5, a));
  EXPECT_EQ(sparq_act_code(1.0f, 3.0f / 255.0f, 8), 85);
  EXPECT_EQ(sparq_act_code(10.0f, 3.0f / 255.0f, 8), 255);
}

TEST(BitWindow, VsparqPairRule) {
  const BitWindow w4 = sparq_window(4, 5, WindowRound::Round);
  int h1 = -1, h2 = -1;
  vsparq_pair(0, 200, w4, h1, h2);
  EXPECT_EQ(h1, 0);
  EXPECT_EQ(h2, 200) << "a lone survivor of a 4-bit pair keeps all 8 bits";
  vsparq_pair(109, 183, w4, h1, h2);
  EXPECT_EQ(h1, 112);
  EXPECT_EQ(h2, 176);
  vsparq_pair(183, 0, sparq_window(3, 5, WindowRound::Round), h1, h2);
  EXPECT_EQ(h1, 184) << "3-bit pair: the survivor gets the 6-bit window";
  vsparq_pair(0, 23, sparq_window(2, 5, WindowRound::Round), h1, h2);
  EXPECT_EQ(h2, 24) << "2-bit pair: the survivor gets the 4-bit opt5 window";
}

TEST(BitPlanes, ConversionAndForwardOnTheGrid) {
  // bsq.md checklist 1 and 3: S = max|W|, N = 8; an element equal to S has every P bit set.
  const float s = 0.5f;
  EXPECT_EQ(bit_plane_integer(0.5f, s, 8), 255);
  float planes[8];
  bit_plane_digits(255, 8, planes, 1);
  for (float p : planes) EXPECT_EQ(p, 1.0f);
  const float zeros[8] = {};
  EXPECT_FLOAT_EQ(bit_plane_sum(planes, zeros, 8, 1), 1.0f);  // sum of e_i is 1 up to float rounding
  // Checklist 7: planes P = [0, 2, 0] at N = 3 hold 2 * 2/7 = 4/7: integer 4, digits [1, 0, 0].
  const float p3[3] = {0, 2, 0}, n3[3] = {0, 0, 0};
  EXPECT_EQ(bit_plane_integer(bit_plane_sum(p3, n3, 3, 1), 1.0f, 3), 4);
  // Checklist 8: P = [1, 0, 0] and Nn = [0, 1, 0] net out to +2/7.
  const float p8[3] = {1, 0, 0}, n8[3] = {0, 1, 0};
  EXPECT_FLOAT_EQ(bit_plane_sum(p8, n8, 3, 1), 2.0f / 7.0f);
  // Checklist 4: a plane sum of 1.3 is clipped to 1 in the forward.
  EXPECT_EQ(bit_plane_quantize(1.3f, 4), 1.0f);
  EXPECT_FLOAT_EQ(bit_plane_quantize(-0.5f, 2), -2.0f / 3.0f) << "0.5 * 3 = 1.5 rounds half to even to 2";
}

TEST(BitPlanes, FakeQuantizeIsSignRoundTimesScale) {
  const compress::Quantizer q = compress::BitPlaneQuantizer{8, 2.0f};
  const Tensor w = Tensor::from_vector<float>({2.0f, -1.0f, 0.01f, 0.0f}, {4});
  const auto y = compress::fake_quantize(q, w).to_vector<float>();
  // sign(W) * round(|W| * 255 / S) * S / 255: 255, 128 (127.5 -> 128), 1 (1.275), 0.
  EXPECT_EQ(y[0], 2.0f);
  EXPECT_FLOAT_EQ(y[1], -128.0f * 2.0f / 255.0f);
  EXPECT_FLOAT_EQ(y[2], 2.0f / 255.0f);
  EXPECT_EQ(y[3], 0.0f);
  EXPECT_EQ(compress::describe(q), "bit_planes(8 bits, scale 2)");
}

TEST(Lattice, ScaledIdentityIsUniformRoundingWithTheAsymmetricRange) {
  const float b[4] = {0.25f, 0, 0, 0.25f};
  float bt[4], z[2];
  lattice_gram_schmidt(b, 2, bt);
  const float v[2] = {0.6f, -0.3f};  // 2.4 -> 2, -1.2 -> -1
  lattice_babai(v, b, bt, 2, 4, z);
  EXPECT_EQ(z[0], 2.0f);
  EXPECT_EQ(z[1], -1.0f);
  const float far[2] = {100.0f, -100.0f};
  lattice_babai(far, b, bt, 2, 4, z);
  EXPECT_EQ(z[0], 8.0f) << "4-bit coordinates span [-7, 8]";
  EXPECT_EQ(z[1], -7.0f);
}

TEST(Lattice, NonOrthogonalBasisNearestPlaneByHand) {
  // Rows (1, 0) and (0.5, 1): Gram-Schmidt rows (1, 0), (0, 1).
  const float b[4] = {1, 0, 0.5f, 1};
  float bt[4], z[2], p[2];
  lattice_gram_schmidt(b, 2, bt);
  EXPECT_EQ(bt[2], 0.0f);
  EXPECT_EQ(bt[3], 1.0f);
  // v = (1.3, 2.2): u1 = round(2.2) = 2, r = (0.3, 0.2), u0 = round(0.3) = 0: point (1, 2).
  const float v[2] = {1.3f, 2.2f};
  lattice_babai(v, b, bt, 2, 4, z);
  lattice_point(z, b, 2, p);
  EXPECT_EQ(z[0], 0.0f);
  EXPECT_EQ(z[1], 2.0f);
  EXPECT_EQ(p[0], 1.0f);
  EXPECT_EQ(p[1], 2.0f);
  // Far out: u1 = -100 (clamped to -7), the residual uses -100: r = (150, 0), u0 = 150 -> 8.
  const float far[2] = {100.0f, -100.0f};
  lattice_babai(far, b, bt, 2, 4, z);
  EXPECT_EQ(z[1], -7.0f);
  EXPECT_EQ(z[0], 8.0f);
}

TEST(Lattice, FakeQuantizeVectorsOfEachChannel) {
  compress::LatticeQuantizer l;
  l.dim = 2;
  l.bits = 4;
  l.layer_scale = 2.0f;
  l.bases = {0.25f, 0, 0, 0.25f, 0.5f, 0, 0, 0.5f};  // channel 0: step 0.25, channel 1: step 0.5
  const Tensor w = Tensor::from_vector<float>({1.2f, -0.6f, 1.2f, -0.6f}, {2, 2});
  const auto y = compress::fake_quantize(l, w).to_vector<float>();
  // normalised (0.6, -0.3): channel 0 -> (2, -1) * 0.25 = (0.5, -0.25), x2 = (1, -0.5);
  // channel 1 -> round(1.2) = 1, round(-0.6) = -1 -> (0.5, -0.5), x2 = (1, -1).
  EXPECT_EQ(y, (std::vector<float>{1.0f, -0.5f, 1.0f, -1.0f}));
  l.bases.resize(6);
  EXPECT_THROW(compress::fake_quantize(l, w), Error);
}

TEST(Quantizer, RangeLinearAndBitWindowFakeQuantize) {
  const compress::Quantizer r = compress::RangeLinearQuantizer{{symmetric_params(8, 1.0f)}, 0};
  const auto y = compress::fake_quantize(r, Tensor::from_vector<float>({0.5f, -1.0f}, {2})).to_vector<float>();
  EXPECT_FLOAT_EQ(y[0], 64.0f / 127.0f);  // 63.5 -> 64
  EXPECT_EQ(y[1], -1.0f);
  compress::BitWindowQuantizer b;
  b.step = 1.0f;
  b.window = sparq_window(4, 5, WindowRound::Round);
  const auto h = compress::fake_quantize(b, Tensor::from_vector<float>({109.0f, 5.0f}, {2})).to_vector<float>();
  EXPECT_EQ(h, (std::vector<float>{112.0f, 5.0f}));
  EXPECT_THROW(compress::fake_quantize(b, Tensor::from_vector<float>({-1.0f}, {1})), Error);
  EXPECT_EQ(compress::describe(b), "bit_window(4 bits, shift step 1, round, step 1)");
}

}  // namespace
}  // namespace bmc
