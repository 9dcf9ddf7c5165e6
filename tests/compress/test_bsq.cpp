// BSQ against ../shared/docs/algorithms/bsq.md: one test per item of its conformance checklist
// (section 1.13, named BsqConformance.ItemN...), with expected values worked out by hand from the
// note's formulas, plus the PACT gradients, pruned weights under BSQ, and a killed BSQ run that
// resumes after a precision change bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "compress/bsq/bsq_model.h"
#include "compress/bsq/bsq_training.h"
#include "io/run_dir.h"
#include "io/safetensors.h"
#include "kernels/bit_planes.cuh"
#include "models/init.h"
#include "models/registry.h"
#include "nn/layers.h"
#include "ops/bsq.h"
#include "ops/elementwise.h"
#include "optim/lr_schedule.h"
#include "optim/sgd.h"
#include "tests/support/compare.h"
#include "tests/train/synthetic.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

namespace bmc {
namespace {

using compress::BitPlanes;

// Planes [bits, n] from per-element MSB-first bit lists.
Tensor planes_of(const std::vector<std::vector<float>>& elements) {
  const int64_t n = static_cast<int64_t>(elements.size()), bits = static_cast<int64_t>(elements[0].size());
  std::vector<float> v(static_cast<size_t>(n * bits));
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < bits; ++i) v[i * n + j] = elements[j][i];
  return Tensor::from_vector(v, {bits, n});
}

// Element j's planes, MSB first.
std::vector<float> bits_of(const Tensor& planes, int64_t j) {
  std::vector<float> out;
  const int64_t n = planes.dim(1);
  for (int64_t i = 0; i < planes.dim(0); ++i) out.push_back(planes.data<float>()[i * n + j]);
  return out;
}

BitPlanes make_planes(const std::vector<std::vector<float>>& pos, const std::vector<std::vector<float>>& neg,
                      float scale) {
  const int64_t n = static_cast<int64_t>(pos.size());
  BitPlanes p(Tensor::zeros({n}), static_cast<int>(pos[0].size()), Tensor());
  p.load_planes(planes_of(pos), planes_of(neg), scale);
  return p;
}

// |a - b| within one float rounding of their magnitude.
void expect_within_rounding(float a, float b) {
  EXPECT_LE(std::fabs(a - b), 2 * std::numeric_limits<float>::epsilon() * std::max(std::fabs(a), std::fabs(b)))
      << a << " vs " << b;
}

TEST(BsqConformance, Item1ConversionAt8Bits) {
  const float S = 0.8f;
  const std::vector<float> w = {0.8f, -0.3f, 0.1234f, -0.8f, 0.0f, 0.5f};
  BitPlanes p(Tensor::from_vector(w, {2, 3}), 8, Tensor());
  EXPECT_EQ(p.scale(), S);
  EXPECT_EQ(bits_of(p.positive(), 0), std::vector<float>(8, 1.0f));
  EXPECT_EQ(bits_of(p.negative(), 0), std::vector<float>(8, 0.0f));
  const std::vector<float> deq = p.dequantized().to_vector<float>();
  for (size_t j = 0; j < w.size(); ++j) {
    const double r = std::nearbyint(std::fabs(static_cast<double>(w[j])) * 255.0 / S);  // round half even
    const double expected = (w[j] > 0 ? 1 : -1) * r * S / 255.0;
    EXPECT_EQ(std::nearbyint(std::fabs(deq[j]) * 255.0 / S), r) << j;  // the integer is exactly R
    expect_within_rounding(deq[j], static_cast<float>(w[j] == 0 ? 0.0 : expected));
  }
}

TEST(BsqConformance, Item2SignSplit) {
  BitPlanes p(Tensor::from_vector<float>({0.0f, -0.5f, 0.5f, -1.0f}, {4}), 4, Tensor());
  for (int64_t j : {0, 1, 3}) EXPECT_EQ(bits_of(p.positive(), j), std::vector<float>(4, 0.0f)) << j;
  EXPECT_EQ(bits_of(p.negative(), 0), std::vector<float>(4, 0.0f)) << "zero: all planes zero";
  EXPECT_EQ(bits_of(p.negative(), 2), std::vector<float>(4, 0.0f));
  // 0.5 of range 1 at 4 bits: round(7.5) = 8 (half to even) = 1000.
  EXPECT_EQ(bits_of(p.positive(), 2), (std::vector<float>{1, 0, 0, 0}));
}

TEST(BsqConformance, Item3BinaryPlanesForwardTheDequantizedValue) {
  BitPlanes p(test::random_uniform({300}, 3), 6, Tensor());
  const float s = p.scale();
  const std::vector<int32_t> codes = p.codes();
  const std::vector<float> y = p.forward(Tensor::zeros({300})).to_vector<float>();
  for (size_t j = 0; j < codes.size(); ++j) {
    const float q = static_cast<float>(std::abs(codes[j])) / 63.0f;
    EXPECT_EQ(y[j], (codes[j] < 0 ? -1.0f : 1.0f) * (s * q)) << j;
  }
}

TEST(BsqConformance, Item4ClippedForwardUnmaskedGradient) {
  // N = 2, e = (2/3, 1/3): P = (1, 1) plus Nn ... w = 1.3 needs P = (1.5, 0.9): 1 + 0.3 = 1.3.
  BitPlanes p = make_planes({{1.5f, 0.9f}}, {{0.0f, 0.0f}}, 2.0f);
  EXPECT_NEAR(bit_plane_sum(p.positive().data<float>(), p.negative().data<float>(), 2, 1), 1.3f, 1e-6);
  EXPECT_EQ(p.forward(Tensor::zeros({1})).to_vector<float>()[0], 2.0f) << "s * Q(clip(1.3)) = s * 1";
  std::vector<nn::StateTensor*> grads;
  p.visit_state({[&](const std::string&, nn::StateTensor& t) { grads.push_back(&t); }, [](const std::string&, double&) {}});
  p.backward(Tensor::full({1}, 0.5f));
  // dP_i = s e_i g: 2 * (2/3) * 0.5 and 2 * (1/3) * 0.5; dNn_i the negatives; ds = g * Q = 0.5.
  const auto dpos = grads[0]->grad.to_vector<float>(), dneg = grads[1]->grad.to_vector<float>();
  EXPECT_FLOAT_EQ(dpos[0], 2.0f / 3.0f);
  EXPECT_FLOAT_EQ(dpos[1], 1.0f / 3.0f);
  EXPECT_FLOAT_EQ(dneg[0], -2.0f / 3.0f);
  EXPECT_FLOAT_EQ(grads[2]->grad.to_vector<float>()[0], 0.5f);
}

TEST(BsqConformance, Item5PlanesClampedAfterEveryStepScaleNot) {
  auto model = models::make_model("mnist_lenet_300_100", Device::cpu());
  models::initialize(*model, 1);
  auto layers = compress::attach_bit_planes(*model, 4);
  optim::Sgd sgd(*model, {0.9f, 1e-4f, false});
  model->visit_state([](const std::string& name, nn::StateTensor& t) {
    if (name.ends_with(".scale")) t.value.fill(5.0f);  // outside [0, 2]
  });
  for (int step = 0; step < 3; ++step) {
    model->zero_grad();
    model->visit_state([&](const std::string&, nn::StateTensor& t) {
      if (t.trainable) t.grad.fill(step == 1 ? 1.0f : -1.0f);  // lr 10: far past both ends
    });
    sgd.step(10.0f);
  }
  model->visit_state([](const std::string& name, nn::StateTensor& t) {
    for (const float v : t.value.to_vector<float>()) {
      if (name.ends_with(".scale")) {
        EXPECT_GT(v, 2.0f) << name << ": the clamp leaves the scale alone";
      } else {
        EXPECT_TRUE(v >= 0.0f && v <= 2.0f) << name << " " << v;
      }
    }
  });
}

TEST(BsqConformance, Item6RegularizerValueAndResnet20ParameterCount) {
  BitPlanes p = make_planes({{1.0f, 0.5f}, {0.0f, 2.0f}}, {{0.0f, 1.0f}, {0.25f, 0.0f}}, 1.0f);
  const float alpha = 0.3f, tp = 7.0f;
  // Plane 0: 1 + 0 + 0 + 0.0625; plane 1: 0.25 + 4 + 1 + 0.
  const double b = std::sqrt(1e-8 + 1.0625) + std::sqrt(1e-8 + 5.25);
  p.set_regularizer_weight(alpha * 2 * 2 / tp);
  p.forward(Tensor::zeros({2}));
  EXPECT_NEAR(p.regularizer_value().to_vector<float>()[0], alpha * 2 * 2 * b / tp, 1e-6);

  auto model = models::make_model("cifar_resnet_20", Device::cpu());
  models::initialize(*model, 1);
  auto layers = compress::attach_bit_planes(*model, 8);
  EXPECT_EQ(compress::bsq_accounting(layers, false).params, 268346);
  compress::set_bsq_regularizer(layers, 0.01f);
  // The last block conv: 64 * 64 * 9 weights at 8 bits.
  for (const auto& l : layers)
    if (l.param->name == "blocks.8.conv2.weight") {
      EXPECT_FLOAT_EQ(l.planes->regularizer_weight(), 0.01f * 8 * 36864 / 268346.0f);
    }
}

TEST(BsqConformance, Item7CarryResolved) {
  BitPlanes p = make_planes({{0, 2, 0}}, {{0, 0, 0}}, 1.0f);
  const auto c = p.requantize(8);
  EXPECT_EQ(c.after, 3);
  EXPECT_EQ(p.codes(), std::vector<int32_t>{4});
  EXPECT_EQ(bits_of(p.positive(), 0), (std::vector<float>{1, 0, 0}));
}

TEST(BsqConformance, Item8OppositeBitsNetOut) {
  BitPlanes p = make_planes({{1, 0, 0}}, {{0, 1, 0}}, 1.0f);
  p.requantize(8);
  EXPECT_EQ(bits_of(p.positive(), 0), (std::vector<float>{0, 1, 0}));
  EXPECT_EQ(bits_of(p.negative(), 0), (std::vector<float>{0, 0, 0}));
  EXPECT_FLOAT_EQ(p.dequantized().to_vector<float>()[0], 2.0f / 7.0f);
}

TEST(BsqConformance, Item9OverflowBelowMaxGrowsOneBit) {
  // N = 5: element 0 sums to 2 * (16 + 8) / 31 = 48 / 31: integer 48 > 31.
  BitPlanes p = make_planes({{2, 2, 0, 0, 0}, {0, 0, 1, 0, 1}}, {{0, 0, 0, 0, 0}, {0, 0, 0, 0, 0}}, 0.7f);
  const std::vector<float> before = {0.7f * 48 / 31, 0.7f * 5 / 31};
  const auto c = p.requantize(8);
  EXPECT_TRUE(c.grew);
  EXPECT_EQ(p.bits(), 6);
  EXPECT_FLOAT_EQ(p.scale(), 0.7f * 63 / 31);
  EXPECT_EQ(p.codes(), (std::vector<int32_t>{48, 5}));
  const auto after = p.dequantized().to_vector<float>();
  for (int j = 0; j < 2; ++j) expect_within_rounding(after[j], before[j]);
}

TEST(BsqConformance, Item10OverflowAtMaxClamps) {
  std::vector<float> two(8, 0.0f);
  two[0] = 2.0f;  // 2 * 128 = 256 > 255
  BitPlanes p = make_planes({two}, {std::vector<float>(8, 0.0f)}, 1.0f);
  const auto c = p.requantize(8);
  EXPECT_TRUE(c.clamped);
  EXPECT_EQ(p.bits(), 8);
  EXPECT_EQ(p.codes(), std::vector<int32_t>{255});
}

TEST(BsqConformance, Item11AllZeroMsbPlanesAreDropped) {
  // N = 6 with magnitudes below 16: the top two planes are zero.
  BitPlanes p(Tensor::zeros({3}), 6, Tensor());
  p.set_codes({13, -7, 2}, 6, 0.9f);
  const auto before = p.dequantized().to_vector<float>();
  const auto c = p.adjust(0.0);
  EXPECT_EQ(c.after, 4);
  EXPECT_EQ(c.msb_removed, 2);
  EXPECT_FLOAT_EQ(p.scale(), static_cast<float>(0.9 * 15 / 63));
  EXPECT_EQ(p.codes(), (std::vector<int32_t>{13, -7, 2}));
  const auto after = p.dequantized().to_vector<float>();
  for (int j = 0; j < 3; ++j) expect_within_rounding(after[j], before[j]);
  // One zero MSB: n -> n - 1, s * (2^(n-1) - 1) / (2^n - 1).
  BitPlanes q(Tensor::zeros({2}), 5, Tensor());
  q.set_codes({9, -15}, 5, 1.0f);
  q.adjust(0.0);
  EXPECT_EQ(q.bits(), 4);
  EXPECT_FLOAT_EQ(q.scale(), 15.0f / 31.0f);
}

TEST(BsqConformance, Item12AllZeroLsbPlaneIsDropped) {
  BitPlanes p(Tensor::zeros({3}), 5, Tensor());
  p.set_codes({30, -18, 4}, 5, 1.0f);  // all even, top bit used by 30
  const auto before = p.dequantized().to_vector<float>();
  const auto c = p.adjust(0.0);
  EXPECT_EQ(c.after, 4);
  EXPECT_EQ(c.lsb_removed, 1);
  EXPECT_FLOAT_EQ(p.scale(), 2.0f * 15 / 31);
  EXPECT_EQ(p.codes(), (std::vector<int32_t>{15, -9, 2}));
  const auto after = p.dequantized().to_vector<float>();
  for (int j = 0; j < 3; ++j) expect_within_rounding(after[j], before[j]);
}

TEST(BsqConformance, Item13NeverBelowOneBitAndZeroLayersCostNothing) {
  auto model = models::make_model("mnist_lenet_300_100", Device::cpu());
  models::initialize(*model, 1);
  auto layers = compress::attach_bit_planes(*model, 4);
  compress::BsqLayer& fc = layers.back();  // fc.bias, 10 values
  fc.planes->set_codes(std::vector<int32_t>(10, 0), 4, 1.0f);
  fc.planes->adjust(0.0);
  EXPECT_EQ(fc.planes->bits(), 1);
  EXPECT_TRUE(fc.planes->zero());
  EXPECT_EQ(fc.bits(false), 1);
  EXPECT_EQ(fc.bits(true), 0);
  const auto bit_mode = compress::bsq_accounting(layers, false), exported = compress::bsq_accounting(layers, true);
  EXPECT_EQ(bit_mode.bits - exported.bits, 10);
  EXPECT_EQ(fc.planes->dequantized().to_vector<float>(), std::vector<float>(10, 0.0f));
}

TEST(BsqConformance, Item14ThresholdRemovesSparsePlanesOnly) {
  // 100 elements at N = 4: three use the MSB (12 = 8 + 4), one the LSB (3), the rest are 2 or 4.
  // thre = 0 keeps all four planes. thre = 5: the MSB (3% < 5) saturates, 12 -> 7; the LSB then
  // holds 4% (the three 7s and the 3) <= 5 and is truncated.
  std::vector<int32_t> codes(100);
  for (int j = 0; j < 100; ++j) codes[j] = j < 3 ? 12 : (j == 3 ? 3 : (j % 2 ? 2 : 4));
  BitPlanes keep(Tensor::zeros({100}), 4, Tensor());
  keep.set_codes(codes, 4, 1.0f);
  EXPECT_EQ(keep.adjust(0.0).after, 4);
  BitPlanes cut(Tensor::zeros({100}), 4, Tensor());
  cut.set_codes(codes, 4, 1.0f);
  const auto c = cut.adjust(5.0);
  EXPECT_EQ(c.msb_removed, 1);
  EXPECT_EQ(c.lsb_removed, 1);
  EXPECT_EQ(cut.bits(), 2);
  const auto out = cut.codes();
  EXPECT_EQ(out[0], 3) << "12 saturates to 7 at 3 bits, then loses its LSB";
  EXPECT_EQ(out[3], 1) << "3 -> 1";
  EXPECT_EQ(out[4], 2) << "4 -> 2";
  EXPECT_EQ(out[5], 1) << "2 -> 1";
}

TEST(BsqConformance, Item15ScheduleOfAdjustmentsAndLearningRate) {
  const int64_t spe = 391;
  std::vector<int64_t> epochs;
  for (int64_t step = 0; step < 350 * spe; ++step)
    if (compress::bsq_adjusts_at(step, spe, 100)) epochs.push_back(step / spe);
  EXPECT_EQ(epochs, (std::vector<int64_t>{0, 100, 200, 300}));
  optim::LrSchedule lr;
  lr.base_lr = 0.1f;
  lr.gamma = 0.1f;
  lr.milestones = {250 * spe};
  EXPECT_FLOAT_EQ(lr.at(0), 0.1f);
  EXPECT_FLOAT_EQ(lr.at(250 * spe - 1), 0.1f);
  EXPECT_FLOAT_EQ(lr.at(250 * spe), 0.01f);
  EXPECT_FLOAT_EQ(lr.at(350 * spe - 1), 0.01f);
  // The hooks: an adjustment resets every momentum, and the end of training re-quantizes.
  auto model = models::make_model("mnist_lenet_300_100", Device::cpu());
  models::initialize(*model, 1);
  auto layers = compress::attach_bit_planes(*model, 8);
  std::map<std::string, compress::BsqActivation*> acts;
  train::TrainOptions options;
  compress::BsqTrainConfig config;
  config.prun_int = 100;
  std::vector<std::string> log;
  compress::install_bsq_hooks(options, *model, layers, acts, config, spe, [&](const std::string& l) { log.push_back(l); });
  model->momentum().fill(1.0f);
  model->visit_state([](const std::string&, nn::StateTensor& t) {
    if (t.trainable) t.momentum.fill(1.0f);
  });
  options.before_step(spe);  // epoch 1: nothing
  EXPECT_EQ(model->momentum().to_vector<float>()[0], 1.0f);
  options.before_step(100 * spe);
  EXPECT_EQ(model->momentum().to_vector<float>()[0], 0.0f);
  model->visit_state([](const std::string& name, nn::StateTensor& t) {
    if (t.trainable) {
      EXPECT_EQ(t.momentum.to_vector<float>()[0], 0.0f) << name;
    }
  });
  options.on_finish();
  EXPECT_EQ(log.size(), 2u);
}

TEST(BsqConformance, Item16EightBitResnet20IsFourTimesSmaller) {
  auto model = models::make_model("cifar_resnet_20", Device::cpu());
  models::initialize(*model, 2);
  auto layers = compress::attach_bit_planes(*model, 8);
  const auto a = compress::bsq_accounting(layers, true);
  EXPECT_EQ(a.params, 268346);
  EXPECT_EQ(a.bits, 2146768);
  EXPECT_EQ(a.compression(), 4.0);
  // The downsample convs stay float and out of the counts.
  for (const auto& l : layers) EXPECT_EQ(l.param->name.find("shortcut"), std::string::npos) << l.param->name;
}

TEST(BsqConformance, Item17FourBitActivationsOnTheBatchMaxGrid) {
  compress::BsqActivation a(4, false, Device::cpu());
  EXPECT_FALSE(a.pact());
  const Tensor x = Tensor::from_vector<float>({0.0f, 1.0f, 2.5f, 7.0f, 3.3f, 0.1f}, {1, 6});
  const auto y = a.forward(x).to_vector<float>();
  const float s = 6.0f;  // the ReLU6 output's max
  for (const float v : y) {
    const float k = v * 15 / s;
    EXPECT_NEAR(k, std::nearbyint(k), 1e-5) << v;
  }
  EXPECT_EQ(y[3], 6.0f);
  EXPECT_FLOAT_EQ(y[2], 6.0f * 6 / 15) << "2.5 * 15 / 6 = 6.25 -> 6";
  auto model = models::make_model("cifar_resnet_20", Device::cpu());
  const auto sites = compress::bsq_activation_sites(*model);
  EXPECT_EQ(sites.size(), 18u) << "relu1 and relu_out of the 9 blocks";
  EXPECT_EQ(std::count(sites.begin(), sites.end(), "relu"), 0) << "the stem output is not quantized";
  EXPECT_EQ(sites.front(), "blocks.0.relu1");
  EXPECT_EQ(sites[1], "blocks.0.relu_out");
}

TEST(BsqConformance, Item18PlaneReportMsbToLsbWithABiasLine) {
  auto model = models::make_model("mnist_lenet_300_100", Device::cpu());
  models::initialize(*model, 1);
  auto layers = compress::attach_bit_planes(*model, 3);
  layers.back().planes->set_codes({4, 4, 4, 4, 1, 0, 0, 0, 0, 0}, 3, 1.0f);  // fc.bias: MSB 40%, LSB 10%
  const std::string table = compress::bsq_plane_table(layers);
  EXPECT_NE(table.find("fc.bias (3 bits): 40.00%, 0.00%, 10.00%"), std::string::npos) << table;
  EXPECT_NE(table.find("fc.weight (3 bits):"), std::string::npos);
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), static_cast<long>(layers.size()));
}

struct Scratch {
  std::filesystem::path root = std::filesystem::temp_directory_path() / ("bmc_bsq_" + std::to_string(::getpid()));
  Scratch() { std::filesystem::create_directories(root); }
  ~Scratch() { std::filesystem::remove_all(root); }
  std::string file(const std::string& name) const { return (root / name).string(); }
};

TEST(BsqConformance, Item19FinetuneKeepsPrecisionsAndItsExportsAgree) {
  Scratch scratch;
  auto model = models::make_model("mnist_lenet_300_100", Device::cpu());
  models::initialize(*model, 1);
  auto planes = compress::attach_bit_planes(*model, 5, {{"fc.weight", 3}});
  auto layers = compress::planes_to_latent(*model, planes);
  std::vector<int> bits;
  for (const auto& l : layers) bits.push_back(l.bits(true));
  EXPECT_EQ(bits, (std::vector<int>{5, 5, 5, 5, 3, 5}));
  // A few steps of fine-tuning move the latents and scales; the precisions stay.
  optim::Sgd sgd(*model, {0.9f, 0.0f, false});
  for (int step = 0; step < 2; ++step) {
    model->zero_grad();
    const Tensor x = test::random_uniform({4, 1, 28, 28}, 10 + step);
    const Tensor y = model->forward(x);
    model->backward(test::random_uniform(y.shape(), 20 + step));
    sgd.step(0.05f);
    for (auto& l : layers) ops::clamp(l.param->value, -1.0f, 1.0f);
  }
  for (size_t i = 0; i < layers.size(); ++i) EXPECT_EQ(layers[i].bits(true), bits[i]);
  std::map<std::string, compress::BsqActivation*> acts;
  compress::save_bsq_bits(scratch.file("best_bits.safetensors"), *model, layers, -1, acts);
  compress::save_bsq_float(scratch.file("best_float.safetensors"), *model, layers, -1, acts);
  auto reloaded = models::make_model("mnist_lenet_300_100", Device::cpu());
  auto loaded = compress::load_bsq_bits(scratch.file("best_bits.safetensors"), *reloaded, false);
  const io::SafeTensors floats = io::load_safetensors(scratch.file("best_float.safetensors"));
  for (const auto& l : loaded.layers) {
    EXPECT_EQ(l.planes->bits(), bits[&l - &loaded.layers[0]]);
    // Equal values (a latent just below zero gives -0 where the planes give +0).
    EXPECT_EQ(l.planes->dequantized().to_vector<float>(), floats.at(l.param->name).to_vector<float>()) << l.param->name;
  }
}

TEST(BsqConformance, Item20SchemeReproducedAndZeroBitLayersOutputZero) {
  auto model = models::make_model("mnist_lenet_300_100", Device::cpu());
  models::initialize(*model, 1);
  const compress::BsqScheme scheme = {{"fc_layers.0.weight", 3}, {"fc_layers.1.weight", 0}, {"fc.bias", 2}};
  auto layers = compress::attach_bit_planes(*model, 8, scheme);
  const compress::BsqScheme got = compress::bsq_scheme(layers, true);
  for (const auto& [name, b] : scheme) EXPECT_EQ(got.at(name), b) << name;
  EXPECT_EQ(got.at("fc.weight"), 8) << "layers the scheme does not name keep --nbits";
  EXPECT_EQ(model->parameter("fc_layers.1.weight").effective().to_vector<float>(),
            std::vector<float>(model->parameter("fc_layers.1.weight").numel(), 0.0f));
  EXPECT_THROW(compress::attach_bit_planes(*models::make_model("mnist_lenet_300_100", Device::cpu()), 8, {{"bogus", 2}}),
               Error);
}

TEST(Bsq, ImagenetResnetsQuantizeEveryConvButTheDownsamples) {
  auto model = models::make_model("resnet50", Device::cpu());
  const auto params = compress::bsq_parameters(*model);
  EXPECT_EQ(params.size(), 49u + 2u) << "stem + 16 bottlenecks x 3 convs, fc weight and bias";
  for (const nn::Parameter* p : params) EXPECT_EQ(p->name.find("downsample"), std::string::npos) << p->name;
  const auto sites = compress::bsq_activation_sites(*model);
  EXPECT_EQ(sites.size(), 16u * 3u) << "relu1, relu2 and relu_out of every bottleneck";
}

TEST(Bsq, PactPassesInsideTheClipAndTrainsTheClipFromAbove) {
  compress::BsqActivation a(3, false, Device::cpu());
  ASSERT_TRUE(a.pact());
  a.set_clip(2.0f);
  const Tensor x = Tensor::from_vector<float>({0.5f, 2.0f, 3.0f, 0.0f}, {1, 4});
  const auto y = a.forward(x).to_vector<float>();
  EXPECT_EQ(y[2], 2.0f) << "clipped at alpha, the max of the grid";
  nn::StateTensor* alpha = nullptr;
  a.visit_state({[&](const std::string&, nn::StateTensor& t) { alpha = &t; }, [](const std::string&, double&) {}});
  ASSERT_NE(alpha, nullptr);
  const auto dx = a.backward(Tensor::from_vector<float>({1.0f, 2.0f, 4.0f, 8.0f}, {1, 4})).to_vector<float>();
  EXPECT_EQ(dx, (std::vector<float>{1.0f, 2.0f, 0.0f, 8.0f}));
  EXPECT_EQ(alpha->grad.to_vector<float>()[0], 6.0f) << "dy where x >= alpha: 2 + 4";
}

TEST(Bsq, PrunedWeightsKeepZeroPlanesAndCostNoBits) {
  auto model = models::make_model("mnist_lenet_300_100", Device::cpu());
  models::initialize(*model, 1);
  nn::Parameter& w = model->parameter("fc_layers.0.weight");
  for (int64_t j = 0; j < w.numel(); j += 2) {
    w.mask.data<float>()[j] = 0.0f;
    w.value.data<float>()[j] = 0.0f;
  }
  model->masks_changed();
  auto layers = compress::attach_bit_planes(*model, 4);
  // Every weight and bias is quantized; the pruned half of the first layer does not count.
  EXPECT_EQ(compress::bsq_accounting(layers, true).params, model->num_parameters() - w.numel() / 2);
  optim::Sgd sgd(*model, {0.9f, 1e-4f, false});
  compress::set_bsq_regularizer(layers, 0.5f);
  for (int step = 0; step < 2; ++step) {
    model->zero_grad();
    const Tensor y = model->forward(test::random_uniform({4, 1, 28, 28}, step));
    model->backward(test::random_uniform(y.shape(), 5 + step));
    sgd.step(0.1f);
  }
  const auto eff = w.effective().to_vector<float>();
  const auto& planes = *layers[0].planes;
  ASSERT_EQ(layers[0].param, &w);
  const auto p = planes.positive().to_vector<float>(), q = planes.negative().to_vector<float>();
  for (int64_t j = 0; j < w.numel(); j += 2) {
    ASSERT_EQ(eff[j], 0.0f) << j;
    for (int i = 0; i < planes.bits(); ++i) ASSERT_EQ(p[i * w.numel() + j] + q[i * w.numel() + j], 0.0f) << j;
  }
}

class BsqResume : public test::SyntheticTraining {
 protected:
  BsqResume() : SyntheticTraining("bmc_bsq_resume") {}

  // BSQ on the synthetic MLP with a regularizer strong enough to change precisions every epoch.
  std::vector<float> run(const std::string& name, int64_t stop_after, std::vector<int>* bits = nullptr) {
    auto model = test::synthetic_model(3);
    auto layers = compress::attach_bit_planes(*model, 6);
    std::map<std::string, compress::BsqActivation*> acts;
    const io::RunDir dir = io::RunDir::open(root().string(), name, "0", {{"n", name}});
    train::TrainHparams hp = hp_;
    hp.training_length = {4, true};
    train::TrainOptions options;
    options.log_every = 100;
    options.checkpoint_every = 1;
    options.stop_after_step = stop_after;
    compress::BsqTrainConfig config;
    config.alpha = 40.0f;
    config.prun_int = 1;
    compress::install_bsq_hooks(options, *model, layers, acts, config, train_.steps_per_epoch(), [](const std::string&) {});
    train::Trainer(*model, train_, test_, hp, dir, options).run();
    std::vector<float> out;
    model->visit_state([&](const std::string&, nn::StateTensor& t) {
      for (float v : t.value.to_vector<float>()) out.push_back(v);
    });
    for (float v : model->values().to_vector<float>()) out.push_back(v);
    if (bits)
      for (const auto& l : layers) bits->push_back(l.planes->bits());
    return out;
  }
};

TEST_F(BsqResume, KilledAfterAPrecisionChangeResumesBitwise) {
  std::vector<int> whole_bits, killed_bits;
  const std::vector<float> whole = run("whole", -1, &whole_bits);
  const int64_t spe = train_.steps_per_epoch();
  run("killed", spe + 2, &killed_bits);  // after the adjustment at the start of epoch 1
  EXPECT_NE(killed_bits, std::vector<int>(killed_bits.size(), 6)) << "a precision changed before the kill";
  std::vector<int> resumed_bits;
  const std::vector<float> resumed = run("killed", -1, &resumed_bits);
  EXPECT_EQ(resumed_bits, whole_bits);
  EXPECT_EQ(resumed, whole);
}

}  // namespace
}  // namespace bmc
