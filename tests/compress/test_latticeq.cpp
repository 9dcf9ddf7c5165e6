// LatticeQ's conformance items (../shared/docs/algorithms/latticeq.md 2.12), each against a value
// computed here independently (a double-precision nearest-plane reference, hand-built bases, the
// note's tables), plus the search's reproducibility and the model-level plan on cifar_resnet_20.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "compress/latticeq/block_reconstruction.h"
#include "compress/latticeq/lattice_activations.h"
#include "compress/latticeq/lattice_search.h"
#include "compress/latticeq/lattice_weight.h"
#include "compress/latticeq/latticeq_model.h"
#include "kernels/lattice_search.cuh"
#include "models/init.h"
#include "models/registry.h"
#include "nn/param_layer.h"
#include "ops/lattice.h"
#include "tests/support/compare.h"

namespace bmc {
namespace {

// Babai's nearest plane in double: Gram-Schmidt rows in order, then the last row first, the
// residual chain on the unrounded-then-rounded (unclamped) coordinate, clamped afterwards.
std::vector<double> reference_babai(const std::vector<double>& v, const std::vector<double>& b, int n, int bits) {
  std::vector<double> bt = b;
  for (int i = 0; i < n; ++i)
    for (int k = i + 1; k < n; ++k) {
      double dot = 0, norm = 0;
      for (int c = 0; c < n; ++c) dot += bt[k * n + c] * bt[i * n + c], norm += bt[i * n + c] * bt[i * n + c];
      for (int c = 0; c < n; ++c) bt[k * n + c] -= dot / norm * bt[i * n + c];
    }
  std::vector<double> r = v, z(n);
  for (int j = n - 1; j >= 0; --j) {
    double dot = 0, norm = 0;
    for (int c = 0; c < n; ++c) dot += r[c] * bt[j * n + c], norm += bt[j * n + c] * bt[j * n + c];
    const double u = std::nearbyint(dot / norm);
    for (int c = 0; c < n; ++c) r[c] -= u * b[j * n + c];
    z[j] = std::clamp(u, -static_cast<double>((1 << (bits - 1)) - 1), static_cast<double>(1 << (bits - 1)));
  }
  return z;
}

LatticeSearchShape shape(int64_t channels, int64_t per, int n, int bits, bool shared = false) {
  LatticeSearchShape s;
  s.channels = channels;
  s.per = per;
  s.n = n;
  s.bits = bits;
  s.shared_basis = shared;
  return s;
}

// Item 1: B = delta I is per-coordinate rounding with step delta, integers in [-7, 8] at 4 bits.
TEST(LatticeqConformance, Item1ScaledIdentityIsTheUniformGrid) {
  const float delta = 0.125f;
  const LatticeSearchShape s = shape(1, 3000, 3, 4);
  const Tensor w = test::random_uniform({1, 3000}, 1, -1.5f, 1.5f);
  const Tensor b = Tensor::from_vector(std::vector<float>{delta, 0, 0, 0, delta, 0, 0, 0, delta}, Shape{1, 3, 3});
  Tensor q({1, 3000}), z({1, 3000}, DType::I32);
  ops::lattice_quantize(q, &z, w, b, 1.0f, s);
  const std::vector<float> wv = w.to_vector<float>(), qv = q.to_vector<float>();
  const std::vector<int32_t> zv = z.to_vector<int32_t>();
  for (size_t i = 0; i < wv.size(); ++i) {
    const float k = std::clamp(std::nearbyint(wv[i] / delta), -7.0f, 8.0f);
    ASSERT_EQ(zv[i], static_cast<int32_t>(k)) << wv[i];
    ASSERT_EQ(qv[i], k * delta);
  }
  EXPECT_EQ(*std::min_element(zv.begin(), zv.end()), -7);
  EXPECT_EQ(*std::max_element(zv.begin(), zv.end()), 8);
}

// Item 2: a skewed 2-D basis against the double reference; far inputs land on the bounds, and
// the residual chain uses the unclamped coordinate.
TEST(LatticeqConformance, Item2NearestPlaneMatchesTheReferenceAndClampsAfterTheChain) {
  const std::vector<double> bd = {0.1, 0.03, -0.04, 0.09};
  const std::vector<float> bf(bd.begin(), bd.end());
  float bt[4];
  lattice_gram_schmidt(bf.data(), 2, bt);
  const std::vector<float> inputs = test::random_uniform({2000}, 2, -1.2f, 1.2f).to_vector<float>();
  for (size_t i = 0; i + 1 < inputs.size(); i += 2) {
    const float v[2] = {inputs[i], inputs[i + 1]};
    float z[2];
    lattice_babai(v, bf.data(), bt, 2, 4, z);
    const std::vector<double> want = reference_babai({v[0], v[1]}, bd, 2, 4);
    EXPECT_EQ(z[0], want[0]) << v[0] << " " << v[1];
    EXPECT_EQ(z[1], want[1]) << v[0] << " " << v[1];
  }
  // v = 20 b_1 + 2 b_0: row 1 saturates at 8 while its unclamped value is 20; row 0 must be
  // rounded from the residual of the unclamped value (2), a clamped chain would give 1.
  const float far[2] = {-0.6f, 1.86f};
  float z[2], raw[2];
  lattice_babai(far, bf.data(), bt, 2, 4, z, raw);
  EXPECT_EQ(z[1], 8.0f);
  EXPECT_EQ(raw[1], 20.0f);
  EXPECT_EQ(z[0], 2.0f);
  const std::vector<double> want = reference_babai({far[0], far[1]}, bd, 2, 4);
  EXPECT_EQ(z[0], want[0]);
  double r0 = far[0] - 8.0 * bd[2], r1 = far[1] - 8.0 * bd[3];  // the clamped chain
  const double clamped_chain = std::clamp(std::nearbyint((r0 * bt[0] + r1 * bt[1]) / (bt[0] * bt[0] + bt[1] * bt[1])), -7.0, 8.0);
  EXPECT_NE(clamped_chain, want[0]) << "the test input must tell the two chains apart";
}

// Items 3 and 4: output = max|W| (z B) reshaped, z integers in range; a (O, I, 3, 3) weight's
// vector k of channel o is the kernel row (o, k / 3, k % 3, :).
TEST(LatticeqConformance, Items3And4LayerOutputIsScaledLatticePointsOfKernelRows) {
  const int64_t o = 4, in = 5;
  const Tensor w = test::random_uniform({o, in, 3, 3}, 3, -0.7f, 0.7f);
  const LatticeSearchShape s = shape(o, in * 9, 3, 4);
  std::vector<float> bv = test::random_uniform({o, 3, 3}, 4, -0.03f, 0.03f).to_vector<float>();
  for (int64_t c = 0; c < o; ++c)
    for (int i = 0; i < 3; ++i) bv[c * 9 + i * 4] += 0.13f;
  const Tensor b = Tensor::from_vector(bv, Shape{o, 3, 3});
  const std::vector<float> wv = w.to_vector<float>();
  const float d = std::fabs(*std::max_element(wv.begin(), wv.end(), [](float x, float y) { return std::fabs(x) < std::fabs(y); }));
  compress::LatticeWeight link(s, bv, false, Device::cpu());
  EXPECT_EQ(link.layer_scale(w), d);
  const Tensor q = link.forward(w);
  const std::vector<float> qv = q.to_vector<float>();
  const std::vector<int32_t> zv = link.coordinates(w).to_vector<int32_t>();
  for (int64_t c = 0; c < o; ++c)
    for (int64_t k = 0; k < in * 3; ++k) {
      const int64_t i = k / 3, kh = k % 3;
      std::vector<double> v(3), bc(bv.begin() + c * 9, bv.begin() + c * 9 + 9);
      for (int kw = 0; kw < 3; ++kw) v[kw] = wv[((c * in + i) * 3 + kh) * 3 + kw] / d;
      const std::vector<double> z = reference_babai(v, bc, 3, 4);
      for (int kw = 0; kw < 3; ++kw) {
        const int64_t at = ((c * in + i) * 3 + kh) * 3 + kw;
        ASSERT_EQ(zv[at], static_cast<int32_t>(z[kw]));
        ASSERT_GE(zv[at], -7);
        ASSERT_LE(zv[at], 8);
        double point = 0;
        for (int j = 0; j < 3; ++j) point += z[j] * bc[j * 3 + kw];
        EXPECT_NEAR(qv[at], d * point, 1e-6) << c << " " << k;
      }
    }
}

// Item 4 (plan side) and 10: dimensions and rules per layer of cifar_resnet_20.
TEST(LatticeqConformance, Items4And10PlanFollowsTheFirstAndLastLayerRules) {
  auto model = models::make_model("cifar_resnet_20", Device::cpu(), 10);
  compress::LatticeqOptions o;
  o.bits_w = 3;
  o.bias_corr = true;
  o.quant_a = true;
  o.bits_a = 4;
  const auto plans = compress::plan_latticeq(*model, o);
  ASSERT_EQ(plans.size(), 22u);  // stem, 18 block convs, 2 shortcut 1x1 convs, fc
  const auto& first = plans.front();
  EXPECT_EQ(first.kind, compress::LatticeLayerKind::First);
  EXPECT_EQ(first.shape.n, 1);
  EXPECT_EQ(first.shape.bits, 8);
  EXPECT_TRUE(first.bias_correct);
  EXPECT_FALSE(first.shape.correct) << "8 bits: no correction inside the search";
  EXPECT_EQ(first.schedule.proposals_per_restart(), 400);
  EXPECT_EQ(first.schedule.restarts, 1);
  const auto& last = plans.back();
  EXPECT_EQ(last.kind, compress::LatticeLayerKind::Last);
  EXPECT_EQ(last.shape.n, 2);
  EXPECT_EQ(last.shape.bits, 8);
  EXPECT_TRUE(last.shape.shared_basis);
  EXPECT_FALSE(last.bias_correct);
  EXPECT_EQ(last.schedule.proposals_per_restart(), 2700);
  EXPECT_EQ(last.schedule.restarts, 1);
  int shortcuts = 0;
  for (size_t i = 1; i + 1 < plans.size(); ++i) {
    const auto& p = plans[i];
    const bool one_by_one = p.weight->value.dim(2) == 1;
    shortcuts += one_by_one;
    EXPECT_EQ(p.shape.n, one_by_one ? 2 : 3) << p.name;
    EXPECT_EQ(p.shape.bits, 3);
    EXPECT_TRUE(p.shape.correct) << "below 4 bits the search loss is bias-corrected";
    EXPECT_EQ(p.schedule.proposals_per_restart(), 9 * 80);
    EXPECT_EQ(p.schedule.restarts, 5);
  }
  EXPECT_EQ(shortcuts, 2);
  // Activation quantizers: no input quantizer on the stem, 8 bits on the classifier and the pool.
  const auto acts = compress::attach_lattice_activations(*model, o);
  EXPECT_EQ(acts.count(first.name.substr(0, first.name.rfind('.'))), 0u);
  const std::string fc = last.name.substr(0, last.name.rfind('.'));
  ASSERT_EQ(acts.count(fc), 1u);
  EXPECT_EQ(acts.at(fc)->bits(), 8);
  int pools = 0, at_bits_a = 0;
  for (const auto& [name, q] : acts) {
    const nn::GraphNode& node = model->graph().node(model->graph().find(name));
    if (node.role == nn::NodeRole::Pool) {
      ++pools;
      EXPECT_EQ(q->bits(), 8);
    }
    at_bits_a += q->bits() == 4;
  }
  EXPECT_EQ(pools, 1);
  EXPECT_EQ(at_bits_a, 20);
}

// Item 5: the objective is sum |Wn_hat - Wn|^3 on weights normalized by the layer max, and a
// channel's loss never increases over proposals.
TEST(LatticeqConformance, Item5ObjectiveIsTheCubicErrorAndNeverIncreases) {
  const LatticeSearchShape s = shape(6, 48, 3, 4);
  const Tensor wn = test::random_uniform({6, 48}, 5);
  const Tensor norms = Tensor::from_vector(ops::lattice_centered_norms(wn, 6), Shape{6});
  Tensor bases = Tensor::from_vector(compress::lattice_uniform_bases(s), Shape{6, 3, 3});
  Tensor losses({6}), best({6});
  ops::lattice_losses(losses, best, bases, wn, norms, s);
  const std::vector<float> wv = wn.to_vector<float>(), lv = losses.to_vector<float>();
  for (int c = 0; c < 6; ++c) {
    double want = 0;
    for (int i = 0; i < 48; ++i) {
      const double q = std::clamp(std::nearbyint(wv[c * 48 + i] * 7.0), -7.0, 8.0) / 7.0;
      want += std::pow(std::fabs(q - wv[c * 48 + i]), 3);
    }
    EXPECT_NEAR(lv[c], want, 1e-5 * want) << c;
  }
  std::vector<float> previous = best.to_vector<float>();
  for (uint32_t step = 0; step < 200; ++step) {
    ops::lattice_search_step(bases, best, losses, wn, norms, s, LatticeNoise{3, 0, step, 0.02f});
    const std::vector<float> now = best.to_vector<float>();
    for (int c = 0; c < 6; ++c) ASSERT_LE(now[c], previous[c]) << step;
    previous = now;
  }
  // The kept loss is the loss of the kept basis.
  Tensor check({6}), check_best({6});
  ops::lattice_losses(check, check_best, bases, wn, norms, s);
  EXPECT_TRUE(test::bitwise_equal(check, best));
  EXPECT_LT(std::accumulate(previous.begin(), previous.end(), 0.0), std::accumulate(lv.begin(), lv.end(), 0.0))
      << "the search improves on the uniform grid";
}

// Item 6: proposal counts and the noise: std T/2, mean 0 (the portable normal deviates).
TEST(LatticeqConformance, Item6ScheduleAndNoiseScale) {
  const auto other = compress::lattice_schedule(compress::LatticeLayerKind::Other, 3, 4, 80, 5);
  const double sc = 1.0 / 15;
  const std::vector<double> want = {sc * 1e-4, sc, sc / 2, sc / 3, sc / 5, sc / 7, sc / 9, sc / 15, sc / 30};
  ASSERT_EQ(other.temperatures.size(), want.size());
  for (size_t k = 0; k < want.size(); ++k) EXPECT_DOUBLE_EQ(other.temperatures[k], want[k]);
  EXPECT_EQ(other.proposals_per_restart(), 720);
  const auto scalar = compress::lattice_schedule(compress::LatticeLayerKind::Other, 1, 4, 80, 5);
  EXPECT_EQ(scalar.proposals_per_restart(), 400);
  EXPECT_EQ(scalar.restarts, 5);
  EXPECT_DOUBLE_EQ(scalar.temperatures[2], sc / 4);
  const auto last = compress::lattice_schedule(compress::LatticeLayerKind::Last, 2, 8, 80, 5);
  EXPECT_EQ(last.proposals_per_restart(), 2700);
  // Candidates minus the current basis over sigma: standard normal.
  const LatticeSearchShape s = shape(20000, 3, 3, 4);
  const std::vector<float> cur(9, 0.5f);
  double sum = 0, sq = 0;
  int64_t count = 0;
  const float sigma = 0.01f;
  for (int64_t g = 0; g < s.channels; ++g) {
    float cand[9];
    lattice_candidate(cur.data(), g, s, LatticeNoise{1, 2, 3, sigma}, cand);
    for (float c : cand) {
      const double z = (static_cast<double>(c) - 0.5) / sigma;
      sum += z, sq += z * z, ++count;
    }
  }
  const double mean = sum / count, sd = std::sqrt(sq / count - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.01);
  EXPECT_NEAR(sd, 1.0, 0.01);
}

// Item 7 and reproducibility: restarts never make a channel worse than the first restart; the
// same seed repeats the same bits; another seed searches differently.
TEST(LatticeqConformance, Item7RestartsKeepTheBestAndTheSearchRepeats) {
  const LatticeSearchShape s = shape(8, 36, 3, 4);
  const Tensor wn = test::random_uniform({8, 36}, 6);
  auto sched = compress::lattice_schedule(compress::LatticeLayerKind::Other, 3, 4, 6, 1);
  const auto one = compress::lattice_search(wn, s, sched, 9, 4);
  sched.restarts = 3;
  const auto three = compress::lattice_search(wn, s, sched, 9, 4);
  const auto again = compress::lattice_search(wn, s, sched, 9, 4);
  EXPECT_EQ(three.bases, again.bases);
  EXPECT_EQ(three.losses, again.losses);
  bool improved = false;
  for (int c = 0; c < 8; ++c) {
    EXPECT_LE(three.losses[c], one.losses[c]) << c;
    improved |= three.losses[c] < one.losses[c];
  }
  EXPECT_TRUE(improved) << "later restarts found something better somewhere";
  EXPECT_NE(compress::lattice_search(wn, s, sched, 10, 4).bases, three.bases);
}

// Item 8: a quantized basis has every entry / max |entry| on the 2^bB-level symmetric grid.
TEST(LatticeqConformance, Item8QuantizedBasesLieOnTheGrid) {
  for (const int bits : {3, 8}) {
    std::vector<float> b = test::random_uniform({9}, 7 + bits, -0.3f, 0.3f).to_vector<float>();
    lattice_quantize_basis(b.data(), 9, bits);
    float t = 0;
    for (float e : b) t = std::max(t, std::fabs(e));
    const double levels = (1 << bits) - 1;
    for (float e : b) {
      const double k = (e / t + 1) * levels / 2;
      EXPECT_NEAR(k, std::nearbyint(k), 1e-4) << e;
      EXPECT_NE(e, 0.0f) << "zero is not representable";
    }
  }
  // And through the search: every kept basis of a quantized search.
  LatticeSearchShape s = shape(4, 30, 3, 4);
  s.quantize_basis = true;
  s.basis_bits = 4;
  const auto r = compress::lattice_search(test::random_uniform({4, 30}, 8), s,
                                          compress::lattice_schedule(compress::LatticeLayerKind::Other, 3, 4, 5, 1), 1, 0);
  for (int c = 0; c < 4; ++c) {
    float t = 0;
    for (int e = 0; e < 9; ++e) t = std::max(t, std::fabs(r.bases[c * 9 + e]));
    for (int e = 0; e < 9; ++e) {
      const double k = (r.bases[c * 9 + e] / t + 1) * 15 / 2;
      EXPECT_NEAR(k, std::nearbyint(k), 1e-4);
    }
  }
}

// Item 9: after the correction each channel has the centered L2 norm of W.
TEST(LatticeqConformance, Item9BiasCorrectionRestoresTheCenteredNorm) {
  const int64_t channels = 5, per = 27;
  const Tensor w = test::random_uniform({channels, per}, 9, -0.4f, 0.6f);
  const LatticeSearchShape s = shape(channels, per, 3, 3);
  Tensor q({channels, per});
  ops::lattice_quantize(q, nullptr, w, Tensor::from_vector(compress::lattice_uniform_bases(s), Shape{channels, 3, 3}), 0.6f, s);
  ops::lattice_bias_correct(q, w, channels);
  const std::vector<float> wv = w.to_vector<float>(), qv = q.to_vector<float>();
  for (int64_t c = 0; c < channels; ++c) {
    auto centered_norm = [&](const std::vector<float>& v) {
      double mean = 0, sq = 0;
      for (int64_t i = 0; i < per; ++i) mean += v[c * per + i];
      mean /= per;
      for (int64_t i = 0; i < per; ++i) sq += (v[c * per + i] - mean) * (v[c * per + i] - mean);
      return std::sqrt(sq);
    };
    const double want = centered_norm(wv);
    EXPECT_NEAR(centered_norm(qv), want, 3e-6 * want) << c;
  }
}

// Items 11 and 12: alpha is the calibration batch's max (or the bit width's quantile per channel)
// and stays; outputs are alpha k / (2^b - 1), anything above alpha clipped to alpha.
TEST(LatticeqConformance, Items11And12ActivationRangesAndLevels) {
  const Tensor calib = test::random_uniform({4, 3, 10, 10}, 10, 0.0f, 2.0f);
  compress::LatticeActQuant per_layer(4, compress::LatticeActRange::AbsMax);
  const Tensor y = per_layer.forward(calib);
  const std::vector<float> cv = calib.to_vector<float>();
  const float max = *std::max_element(cv.begin(), cv.end());
  ASSERT_EQ(per_layer.alpha(), std::vector<float>{max});
  for (float e : y.to_vector<float>()) {
    const double k = e / max * 15;
    EXPECT_NEAR(k, std::nearbyint(k), 1e-5);
  }
  const Tensor later = Tensor::full({1, 3, 2, 2}, 5.0f);
  for (float e : per_layer.forward(later).to_vector<float>()) EXPECT_FLOAT_EQ(e, max) << "clipped at alpha";
  EXPECT_EQ(per_layer.alpha(), std::vector<float>{max}) << "calibrated once";
  for (const int bits : {4, 8}) {
    compress::LatticeActQuant per_channel(bits, compress::LatticeActRange::Quantile);
    per_channel.forward(calib);
    const std::vector<float> alpha = per_channel.alpha();
    ASSERT_EQ(alpha.size(), 3u);
    const double q = bits == 4 ? 0.9997 : 1.0;
    EXPECT_EQ(compress::lattice_act_quantile(bits), q);
    for (int c = 0; c < 3; ++c) {
      std::vector<double> v;
      for (int b = 0; b < 4; ++b)
        for (int i = 0; i < 100; ++i) v.push_back(cv[(b * 3 + c) * 100 + i]);
      std::sort(v.begin(), v.end());
      const double pos = q * (v.size() - 1);
      const size_t lo = static_cast<size_t>(pos);
      const double want = lo + 1 < v.size() ? v[lo] + (v[lo + 1] - v[lo]) * (pos - lo) : v[lo];
      EXPECT_NEAR(alpha[c], want, 1e-6) << bits << " " << c;
    }
  }
}

// Item 14: block reconstruction covers the stem, every block and the classifier; only "weight"
// parameters move (biases, batch-norm shifts, bases and activation ranges stay bit-identical),
// and the units' output error drops.
TEST(LatticeqConformance, Item14BlockReconstructionLearnsOnlyWeights) {
  auto model = models::make_model("cifar_resnet_8", Device::cpu(), 10);
  auto fp = models::make_model("cifar_resnet_8", Device::cpu(), 10);
  models::initialize(*model, 3);
  models::initialize(*fp, 3);
  compress::LatticeqOptions o;
  o.bits_w = 3;
  o.quant_a = true;
  o.bits_a = 4;
  const auto plans = compress::plan_latticeq(*model, o);
  for (const auto& p : plans) compress::attach_lattice_weight(p, compress::lattice_uniform_bases(p.shape));
  compress::attach_lattice_activations(*model, o);
  const Tensor images = test::random_uniform({8, 3, 32, 32}, 11);
  model->set_training(false);
  model->forward(images);
  EXPECT_EQ(compress::reconstruction_units(*model),
            (std::vector<std::string>{"conv", "blocks.0", "blocks.1", "blocks.2", "fc"}));
  auto snapshot = [&] {
    std::map<std::string, std::vector<float>> v;
    model->net().visit_parameters([&](const std::string& n, nn::Parameter& p) { v[n] = p.value.to_vector<float>(); });
    model->visit_state([&](const std::string& n, nn::StateTensor& t) { v[n] = t.value.to_vector<float>(); });
    return v;
  };
  const auto before = snapshot();
  compress::ReconstructionOptions r;
  r.epochs = 6;
  r.slices = 2;
  r.lr = 2e-4f;
  const auto reports = compress::reconstruct_blocks(*model, *fp, images, r);
  ASSERT_EQ(reports.size(), 5u);
  const auto after = snapshot();
  int moved = 0;
  for (const auto& [name, values] : before) {
    const bool weight = name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0;
    if (weight) moved += after.at(name) != values;
    else EXPECT_EQ(after.at(name), values) << name << " must not move";
  }
  EXPECT_EQ(moved, 10 + 8) << "every conv, batch-norm and fc weight learns";
  // The 3-bit units improve; the 8-bit stem starts within rounding noise of the float output,
  // where Adam's steps of about lr per weight wander rather than descend.
  for (size_t i = 1; i < reports.size(); ++i) EXPECT_LT(reports[i].mse_last, reports[i].mse_first) << reports[i].name;
  EXPECT_EQ(reports[0].parameters, 16 * 27) << "the stem unit is its convolution";
}

// Straight-through gradient: with no clamping the quantizer's gradient is the identity; a clamped
// coordinate passes nothing along its basis direction; with the bias correction none at all.
TEST(Latticeq, StraightThroughGradient) {
  const LatticeSearchShape s = shape(1, 2, 2, 4);
  const std::vector<float> b = {0.1f, 0.02f, -0.03f, 0.08f};
  float bt[4];
  lattice_gram_schmidt(b.data(), 2, bt);
  const float v[2] = {0.21f, -0.13f}, g[2] = {0.7f, -1.1f};
  float gin[2];
  lattice_vector_ste_backward(v, b.data(), bt, 2, 4, g, gin);
  EXPECT_NEAR(gin[0], g[0], 1e-5);
  EXPECT_NEAR(gin[1], g[1], 1e-5);
  // Both coordinates saturated: no gradient.
  const float far[2] = {50.0f, 50.0f};
  lattice_vector_ste_backward(far, b.data(), bt, 2, 4, g, gin);
  EXPECT_EQ(gin[0], 0.0f);
  EXPECT_EQ(gin[1], 0.0f);
  compress::LatticeWeight corrected(s, b, true, Device::cpu());
  const Tensor w = Tensor::from_vector(std::vector<float>{0.3f, -0.2f}, Shape{1, 2});
  corrected.forward(w);
  for (float e : corrected.backward(Tensor::full({1, 2}, 1.0f)).to_vector<float>()) EXPECT_EQ(e, 0.0f);
}

}  // namespace
}  // namespace bmc
