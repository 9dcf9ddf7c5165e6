// kernels/sparq.cu under host emulation (warp-level mma.sync / mma.sp with the PTX fragment
// layouts) against the CPU reference of compress/sparq/sparq_gemm.h, bit for bit: codes and
// windows, the dense and 2:4 tensor-core GEMMs and the STC kernel, at shapes whose pixels, output
// channels and reduction all leave partial tiles, and at several grid sizes.
#define BMC_KNS kernels_emu
#include <gtest/gtest.h>

#include <random>

#include "compress/sparq/sparq_gemm.h"
#include "compress/sparq/sparq_operands.h"
#include "kernels/emu/emu.h"
#include "kernels/sparq.cuh"
#include "kernels/sparq.h"

namespace bmc {
namespace {

using compress::SparqMode;

struct Case {
  int64_t n, c, h, w, o, k, stride, pad;
};

struct Problem {
  kernels_emu::SparqConvShape s;
  std::vector<float> x, steps, bias;
  std::vector<int8_t> codes;  // o x K tap-major
  float step_x = 0;
};

Problem make_problem(const Case& cs, bool two_of_four, uint32_t seed) {
  Problem p;
  p.s.n = cs.n;
  p.s.c = cs.c;
  p.s.h = cs.h;
  p.s.w = cs.w;
  p.s.kh = p.s.kw = cs.k;
  p.s.stride = cs.stride;
  p.s.pad = cs.pad;
  p.s.oh = (cs.h + 2 * cs.pad - cs.k) / cs.stride + 1;
  p.s.ow = (cs.w + 2 * cs.pad - cs.k) / cs.stride + 1;
  p.s.o = cs.o;
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::uniform_int_distribution<int> code(-128, 127);
  p.x.resize(static_cast<size_t>(cs.n * cs.c * cs.h * cs.w));
  for (float& v : p.x) v = u(gen) < 0.35f ? 0.0f : 3.0f * u(gen);
  p.step_x = sparq_act_step(2.5f, 8);  // some inputs saturate at 255
  const int64_t k = p.s.k();
  p.codes.resize(static_cast<size_t>(cs.o * k));
  for (auto& v : p.codes) v = static_cast<int8_t>(code(gen));
  if (two_of_four)
    for (int64_t j = 0; j < cs.o; ++j)
      for (int64_t g = 0; g < k; g += 4) {
        const int keep = static_cast<int>(gen() % 3);  // 0, 1 or 2 survivors
        for (int q = 0; q < 4 && g + q < k; ++q)
          if (q >= keep) p.codes[j * k + g + q] = 0;
      }
  for (int64_t j = 0; j < cs.o; ++j) {
    p.steps.push_back(0.001f * static_cast<float>(j + 1));
    p.bias.push_back(0.01f * static_cast<float>(j) - 0.05f);
  }
  return p;
}

// The CPU reference: host codes, tap-major im2col, direct evaluation, the shared output core.
std::vector<float> reference(const Problem& p, SparqMode mode, const BitWindow& window) {
  const std::vector<uint8_t> codes = compress::act_codes_nhwc(p.x.data(), p.s.n, p.s.c, p.s.h, p.s.w, p.step_x, 8);
  ops::Conv2dParams cp;
  cp.stride_h = cp.stride_w = static_cast<int>(p.s.stride);
  cp.pad_h = cp.pad_w = static_cast<int>(p.s.pad);
  int64_t oh = 0, ow = 0;
  const auto a = compress::im2col_tap_major(codes.data(), p.s.n, p.s.c, p.s.h, p.s.w, p.s.kh, p.s.kw, cp, oh, ow);
  const int64_t m = p.s.m(), plane = oh * ow;
  std::vector<int32_t> c(static_cast<size_t>(m * p.s.o));
  compress::sparq_gemm_reference(a.data(), p.codes.data(), c.data(), m, p.s.k(), p.s.o, mode, window);
  std::vector<float> y(c.size());
  for (int64_t i = 0; i < m; ++i)
    for (int64_t o = 0; o < p.s.o; ++o)
      y[((i / plane) * p.s.o + o) * plane + i % plane] = sparq_dequantize(c[i * p.s.o + o], p.step_x, p.steps[o], p.bias[o]);
  return y;
}

enum class Gemm { Dense, Sparse, Stc };

std::vector<float> emulated(const Problem& p, SparqMode mode, const BitWindow& window, Gemm gemm, int grid_limit) {
  const compress::SparqOperands ops = compress::sparq_operands(p.codes, p.s.o, p.s.k());
  const int64_t mp = compress::sparq_padded_pixels(p.s.m());
  std::vector<uint8_t> a(static_cast<size_t>(mp * ops.kp), 0xAA);  // garbage the kernel must overwrite
  int negative = 0;
  const auto code_mode = mode == SparqMode::Window  ? kernels_emu::SparqCodeMode::Window
                         : mode == SparqMode::Pairs ? kernels_emu::SparqCodeMode::Pairs
                                                    : kernels_emu::SparqCodeMode::Exact;
  kernels_emu::sparq_codes(a.data(), p.x.data(), p.s, mp, ops.kp, p.step_x, 8, code_mode, window, &negative, nullptr,
                           grid_limit);
  EXPECT_EQ(negative, 0);
  std::vector<float> y(static_cast<size_t>(p.s.m() * p.s.o), -1.0f);
  switch (gemm) {
    case Gemm::Dense:
      kernels_emu::sparq_gemm_dense(y.data(), ops.dense.data(), a.data(), p.s, ops.op, mp, ops.kp, p.step_x,
                                    p.steps.data(), p.bias.data(), nullptr);
      break;
    case Gemm::Sparse:
      kernels_emu::sparq_gemm_sparse(y.data(), ops.sparse->values.data(), ops.sparse->metadata.data(), a.data(), p.s,
                                     ops.op, mp, ops.kp, p.step_x, p.steps.data(), p.bias.data(), nullptr);
      break;
    case Gemm::Stc:
      kernels_emu::sparq_gemm_stc(y.data(), ops.sparse->values.data(), ops.sparse->metadata.data(), a.data(), p.s,
                                  ops.kp, p.step_x, p.steps.data(), p.bias.data(), window, nullptr, grid_limit);
      break;
  }
  return y;
}

const Case kCases[] = {
    {1, 4, 5, 5, 3, 3, 1, 1},    // K = 36: one full and one partial 32-slice; 3 of 16 output rows
    {2, 16, 6, 7, 20, 3, 2, 1},  // 2 x 3 x 4 pixels (not a multiple of 8), 20 outputs (two row tiles)
    {3, 32, 4, 4, 16, 1, 1, 0},  // 1x1 conv, K = 32 exactly
    {1, 6, 9, 9, 8, 1, 2, 0},    // 1x1 stride 2 shortcut, K = 6
};

TEST(SparqKernelEmu, DenseTensorCoreGemmEqualsTheReferenceInEveryMode) {
  const BitWindow w = sparq_window(4, 3, WindowRound::Round);
  for (const Case& cs : kCases) {
    const Problem p = make_problem(cs, false, 21);
    for (SparqMode mode : {SparqMode::Exact, SparqMode::Window, SparqMode::Pairs})
      for (int grid_limit : {1, 3, 0})
        ASSERT_EQ(emulated(p, mode, w, Gemm::Dense, grid_limit), reference(p, mode, w))
            << compress::sparq_mode_name(mode) << " c=" << cs.c << " o=" << cs.o << " grid " << grid_limit;
  }
}

TEST(SparqKernelEmu, SparseTensorCoreGemmOnTwoOfFourWeightsEqualsTheReference) {
  const BitWindow w = sparq_window(3, 5, WindowRound::Raw);
  for (const Case& cs : kCases) {
    const Problem p = make_problem(cs, true, 22);
    for (SparqMode mode : {SparqMode::Exact, SparqMode::Pairs})
      ASSERT_EQ(emulated(p, mode, w, Gemm::Sparse, 0), reference(p, mode, w))
          << compress::sparq_mode_name(mode) << " c=" << cs.c << " o=" << cs.o;
  }
}

TEST(SparqKernelEmu, StcKernelEqualsTheReference) {
  for (const Case& cs : kCases)
    for (const BitWindow& w : {sparq_window(4, 5, WindowRound::Raw), sparq_window(2, 5, WindowRound::Round)}) {
      const Problem p = make_problem(cs, true, 23);
      for (int grid_limit : {1, 5, 0})
        ASSERT_EQ(emulated(p, SparqMode::Stc, w, Gemm::Stc, grid_limit), reference(p, SparqMode::Stc, w))
            << "c=" << cs.c << " o=" << cs.o << " bits " << w.bits << " grid " << grid_limit;
    }
}

TEST(SparqKernelEmu, NegativeInputsRaiseTheFlagAndBadMetadataIsCaught) {
  Problem p = make_problem(kCases[0], true, 24);
  p.x[7] = -0.5f;
  const compress::SparqOperands ops = compress::sparq_operands(p.codes, p.s.o, p.s.k());
  const int64_t mp = compress::sparq_padded_pixels(p.s.m());
  std::vector<uint8_t> a(static_cast<size_t>(mp * ops.kp));
  int negative = 0;
  kernels_emu::sparq_codes(a.data(), p.x.data(), p.s, mp, ops.kp, p.step_x, 8, kernels_emu::SparqCodeMode::Exact,
                           BitWindow{}, &negative, nullptr);
  EXPECT_EQ(negative, 1);
  // An all-zero metadata word (nibble 0x0) is undefined behaviour on a device: the emulator refuses it.
  std::vector<uint32_t> bad(ops.sparse->metadata.size(), 0u);
  std::vector<float> y(static_cast<size_t>(p.s.m() * p.s.o));
  EXPECT_THROW(kernels_emu::sparq_gemm_sparse(y.data(), ops.sparse->values.data(), bad.data(), a.data(), p.s, ops.op,
                                              mp, ops.kp, p.step_x, p.steps.data(), p.bias.data(), nullptr),
               Error);
}

}  // namespace
}  // namespace bmc
