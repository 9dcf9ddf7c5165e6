// SPARQ convs on a CUDA device against the CPU path, bit for bit: the dense mma.sync GEMM in
// every non-STC mode, the 2:4 mma.sp GEMM (which also checks the metadata lane placement of the
// PTX ISA as kernels/emu implements it) and the STC kernel, on shapes with partial tiles. Skips
// (counted) without a device.
#include <gtest/gtest.h>

#include <random>

#include "compress/prune/two_of_four.h"
#include "compress/sparq/sparq_conv.h"
#include "tests/support/gpu_env.h"

namespace bmc {
namespace {

using compress::SparqMode;

struct Layer {
  int64_t c, o, k, stride, pad, h;
};

std::unique_ptr<nn::Conv2d> make_conv(const Layer& l, bool two_of_four, uint32_t seed) {
  auto conv = std::make_unique<nn::Conv2d>(l.c, l.o, static_cast<int>(l.k), static_cast<int>(l.stride),
                                           static_cast<int>(l.pad), false);
  std::mt19937 gen(seed);
  std::normal_distribution<float> nd(0.0f, 0.1f);
  std::vector<float> w(static_cast<size_t>(l.o * l.c * l.k * l.k));
  for (float& v : w) v = nd(gen);
  const Shape shape{l.o, l.c, l.k, l.k};
  if (two_of_four) {
    const auto mask = compress::two_of_four_mask(w, shape);
    for (size_t i = 0; i < w.size(); ++i) w[i] *= mask[i];
  }
  conv->weight().value = Tensor::from_vector(w, shape);
  conv->weight().mask = Tensor::full(shape, 1.0f);
  return conv;
}

Tensor relu_input(int64_t n, const Layer& l, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n * l.c * l.h * l.h));
  for (float& v : x) v = u(gen) < 0.4f ? 0.0f : 2.0f * u(gen);
  return Tensor::from_vector(x, {n, l.c, l.h, l.h});
}

void expect_device_equals_cpu(const Layer& l, bool two_of_four, SparqMode mode, const BitWindow& w,
                              const char* expected_kernel) {
  auto conv = make_conv(l, two_of_four, 7);
  compress::SparqConvKernel cpu(*conv, "conv", 8, 8), gpu(*conv, "conv", 8, 8);
  for (auto* k : {&cpu, &gpu}) {
    k->set_range(1.5f, 1);
    k->set_mode(mode, w);
  }
  const Tensor x = relu_input(3, l, 8);
  const std::vector<float> want = cpu.forward(x).to_vector<float>();
  const std::vector<float> got = gpu.forward(x.to(Device::cuda(0))).to_vector<float>();
  EXPECT_EQ(gpu.cuda_kernel(), expected_kernel);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(got[i], want[i]) << compress::sparq_mode_name(mode) << " " << i;
}

const Layer kLayers[] = {{16, 16, 3, 1, 1, 8}, {32, 24, 3, 2, 1, 9}, {64, 40, 1, 1, 0, 5}, {16, 32, 1, 2, 0, 7}};

TEST(SparqGpu, DenseTensorCoreGemmMatchesTheCpuInEveryMode) {
  BMC_REQUIRE_CUDA_DEVICE();
  for (const Layer& l : kLayers)
    for (SparqMode mode : {SparqMode::Exact, SparqMode::Window, SparqMode::Pairs})
      expect_device_equals_cpu(l, false, mode, sparq_window(4, 5, WindowRound::Round), "cuda mma.sync int8");
}

TEST(SparqGpu, SparseTensorCoreGemmMatchesTheCpuOnTwoOfFourWeights) {
  BMC_REQUIRE_CUDA_DEVICE();
  for (const Layer& l : kLayers)
    for (SparqMode mode : {SparqMode::Exact, SparqMode::Pairs})
      expect_device_equals_cpu(l, true, mode, sparq_window(3, 5, WindowRound::Raw), "cuda mma.sp 2:4 int8");
}

TEST(SparqGpu, StcKernelMatchesTheCpu) {
  BMC_REQUIRE_CUDA_DEVICE();
  for (const Layer& l : kLayers)
    expect_device_equals_cpu(l, true, SparqMode::Stc, sparq_window(4, 2, WindowRound::Round), "cuda stc 2:4");
}

}  // namespace
}  // namespace bmc
