// The cores of LatticeQ's random basis search (../shared/docs/algorithms/latticeq.md 2.4-2.5),
// shared by the CPU backend (src/compress/latticeq/lattice_search.cpp) and kernels/lattice.cu:
// a proposal is the current basis plus Philox normal noise (kernels/normal.cuh), optionally
// quantized; a channel's loss is the fixed-order sum (kernels/fixed_sum.cuh) over its vectors of
// the cubic error, bias-corrected when asked. Identical inputs give identical bits everywhere.
#pragma once

#include <cstdint>

#include "kernels/lattice.cuh"
#include "kernels/normal.cuh"

namespace bmc {

// One layer's search problem: normalized weights (channels x per, per a multiple of n).
struct LatticeSearchShape {
  int64_t channels = 0;
  int64_t per = 0;
  int n = 1;
  int bits = 4;
  bool shared_basis = false;   // one basis for the whole layer (--per-layer)
  bool quantize_basis = false; // proposals onto the basis grid of basis_bits
  int basis_bits = 8;
  bool correct = false;        // bias correction inside the loss (bits < 4 with --bias-corr)

  BMC_HD int64_t vectors() const { return per / n; }
  BMC_HD int64_t bases() const { return shared_basis ? 1 : channels; }
  BMC_HD int64_t basis_of(int64_t channel) const { return shared_basis ? 0 : channel; }
};

// Where a proposal's noise comes from: entry e of basis g draws deviate g * n^2 + e of
// (seed, stream, step), scaled by sigma (the stage's T / 2).
struct LatticeNoise {
  uint64_t seed = 0;
  uint32_t stream = 0;
  uint32_t step = 0;
  float sigma = 0.0f;
};

BMC_HD void lattice_candidate(const float* current, int64_t basis, const LatticeSearchShape& shape,
                              const LatticeNoise& noise, float* out) {
  const int nn = shape.n * shape.n;
  for (int e = 0; e < nn; ++e) {
    const float z = philox_normal(noise.seed, static_cast<uint64_t>(basis * nn + e), noise.stream, noise.step);
    out[e] = add_rn(current[e], mul_rn(noise.sigma, z));
  }
  if (shape.quantize_basis) lattice_quantize_basis(out, nn, shape.basis_bits);
}

// The per-vector terms a channel's loss sums (vector k of the channel's weights w).
enum class LatticeTerm { QuantizedSum, ResidualSum, CenteredSquares, CubeError };

BMC_HD float lattice_vector_term(LatticeTerm term, const float* w, const float* b, const float* bt, int n, int bits,
                                 float mean_q, LatticeCorrection c, bool correct) {
  float z[kMaxLatticeDim], q[kMaxLatticeDim];
  lattice_quantize_vector(w, b, bt, n, bits, z, q);
  float s = 0.0f;
  switch (term) {
    case LatticeTerm::QuantizedSum:
      for (int i = 0; i < n; ++i) s = add_rn(s, q[i]);
      return s;
    case LatticeTerm::ResidualSum:
      for (int i = 0; i < n; ++i) s = add_rn(s, add_rn(w[i], -q[i]));
      return s;
    case LatticeTerm::CenteredSquares:
      for (int i = 0; i < n; ++i) {
        const float d = add_rn(q[i], -mean_q);
        s = add_rn(s, mul_rn(d, d));
      }
      return s;
    case LatticeTerm::CubeError:
      return lattice_cube_error(w, q, n, correct, c);
  }
  return s;
}

// The channel loss from a fixed-order vector sum `sum(term, mean_q, correction)`: with the bias
// correction, two sums fix mean(q) and the residual mean, a third the centered norm of q.
template <class Sum>
BMC_HD float lattice_channel_loss(bool correct, int64_t count, float w_centered_norm, Sum sum) {
  LatticeCorrection c;
  if (correct) {
    const float mean_q = sum(LatticeTerm::QuantizedSum, 0.0f, c) / static_cast<float>(count);
    const float residual = sum(LatticeTerm::ResidualSum, 0.0f, c);
    const float squares = sum(LatticeTerm::CenteredSquares, mean_q, c);
    c = lattice_bias_correction(residual, squares, w_centered_norm, count);
  }
  return sum(LatticeTerm::CubeError, 0.0f, c);
}

}  // namespace bmc
