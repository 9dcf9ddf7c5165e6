// LatticeQ's cores (../shared/docs/algorithms/latticeq.md, section 2.2), shared by the CPU backend
// and future kernels: weight vectors of dimension n (up to kMaxLatticeDim) rounded to the nearest
// point z * B of a lattice whose basis vectors are the rows of B, by Babai's nearest-plane
// algorithm; coordinates clamped to [-(2^(b-1) - 1), 2^(b-1)] (LatticeQ's asymmetric range),
// with the residual chain using the unclamped values.
#pragma once

#include <cmath>

#include "kernels/compat.cuh"

namespace bmc {

constexpr int kMaxLatticeDim = 4;

// Gram-Schmidt rows of B (n x n, row-major) into bt, rows processed in order: each later row is
// orthogonalised against row i of the already-updated matrix.
BMC_HD void lattice_gram_schmidt(const float* b, int n, float* bt) {
  for (int i = 0; i < n * n; ++i) bt[i] = b[i];
  for (int i = 0; i < n; ++i) {
    float norm = 0.0f;
    for (int c = 0; c < n; ++c) norm = add_rn(norm, mul_rn(bt[i * n + c], bt[i * n + c]));
    for (int k = i + 1; k < n; ++k) {
      float dot = 0.0f;
      for (int c = 0; c < n; ++c) dot = add_rn(dot, mul_rn(bt[k * n + c], bt[i * n + c]));
      const float f = dot / norm;
      for (int c = 0; c < n; ++c) bt[k * n + c] = add_rn(bt[k * n + c], -mul_rn(f, bt[i * n + c]));
    }
  }
}

BMC_HD float lattice_coord_min(int bits) { return -static_cast<float>((1 << (bits - 1)) - 1); }
BMC_HD float lattice_coord_max(int bits) { return static_cast<float>(1 << (bits - 1)); }

// Integer coordinates z (clamped) of the lattice point nearest-plane-closest to v.
BMC_HD void lattice_babai(const float* v, const float* b, const float* bt, int n, int bits, float* z) {
  float r[kMaxLatticeDim];
  for (int c = 0; c < n; ++c) r[c] = v[c];
  for (int j = n - 1; j >= 0; --j) {
    float dot = 0.0f, norm = 0.0f;
    for (int c = 0; c < n; ++c) {
      dot = add_rn(dot, mul_rn(r[c], bt[j * n + c]));
      norm = add_rn(norm, mul_rn(bt[j * n + c], bt[j * n + c]));
    }
    const float u = rintf(dot / norm);
    for (int c = 0; c < n; ++c) r[c] = add_rn(r[c], -mul_rn(u, b[j * n + c]));
    const float lo = lattice_coord_min(bits), hi = lattice_coord_max(bits);
    z[j] = u < lo ? lo : (u > hi ? hi : u);
  }
}

// The point z * B.
BMC_HD void lattice_point(const float* z, const float* b, int n, float* out) {
  for (int c = 0; c < n; ++c) {
    float s = 0.0f;
    for (int j = 0; j < n; ++j) s = add_rn(s, mul_rn(z[j], b[j * n + c]));
    out[c] = s;
  }
}

}  // namespace bmc
