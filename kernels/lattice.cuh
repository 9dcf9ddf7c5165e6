// LatticeQ's cores (../shared/docs/algorithms/latticeq.md, sections 2.2-2.6), shared by the CPU
// backend and kernels/lattice.cu: weight vectors of dimension n (up to kMaxLatticeDim) rounded to
// the nearest point z * B of a lattice whose basis vectors are the rows of B, by Babai's
// nearest-plane algorithm; coordinates clamped to [-(2^(b-1) - 1), 2^(b-1)] (LatticeQ's
// asymmetric range), with the residual chain using the unclamped values. Also: the basis
// quantizer, the cubic search error, the weight-only bias correction and the straight-through
// gradient of the rounding.
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

// Integer coordinates z (clamped) of the lattice point nearest-plane-closest to v; `raw`, when
// given, receives the unclamped roundings.
BMC_HD void lattice_babai(const float* v, const float* b, const float* bt, int n, int bits, float* z,
                          float* raw = nullptr) {
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
    if (raw) raw[j] = u;
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

// v (n values) replaced by its lattice point, z receiving the coordinates.
BMC_HD void lattice_quantize_vector(const float* v, const float* b, const float* bt, int n, int bits, float* z,
                                    float* out) {
  lattice_babai(v, b, bt, n, bits, z);
  lattice_point(z, b, n, out);
}

// Basis quantization (section 2.3): every entry onto the symmetric 2^bits-level grid over
// [-t, t], t = max |entry| of the `count` entries (+-t exact, zero not representable).
BMC_HD void lattice_quantize_basis(float* b, int count, int bits) {
  float t = 0.0f;
  for (int i = 0; i < count; ++i) t = fmaxf(t, fabsf(b[i]));
  const float levels = static_cast<float>((1 << bits) - 1);
  for (int i = 0; i < count; ++i) {
    const float u = mul_rn(add_rn(b[i] / t, 1.0f), 0.5f);
    const float q = rintf(mul_rn(levels, u)) / levels;
    b[i] = mul_rn(add_rn(mul_rn(2.0f, q), -1.0f), t);
  }
}

// Banner et al.'s weight-only correction of one output channel (section 2.6): q <- xi * (q + mu).
struct LatticeCorrection {
  float xi = 1.0f;
  float mu = 0.0f;
};

BMC_HD float lattice_corrected(float q, LatticeCorrection c) { return mul_rn(c.xi, add_rn(q, c.mu)); }

// From the channel's `count` elements: sum(w - q), sum((q - mean q)^2) and ||w - mean w||.
BMC_HD LatticeCorrection lattice_bias_correction(float sum_w_minus_q, float q_centered_squares,
                                                 float w_centered_norm, int64_t count) {
  LatticeCorrection c;
  c.mu = sum_w_minus_q / static_cast<float>(count);
  c.xi = w_centered_norm / add_rn(sqrtf(q_centered_squares), 1e-6f);
  return c;
}

// The correction of one channel of `count` elements (float weights w, quantized q) from a
// fixed-order sum: sum(value) adds value(i) over the channel's elements.
template <class Sum>
BMC_HD LatticeCorrection lattice_channel_correction(const float* w, const float* q, int64_t count, Sum sum) {
  const float n = static_cast<float>(count);
  const float residual = sum([&](int64_t i) { return add_rn(w[i], -q[i]); });
  const float mean_q = sum([&](int64_t i) { return q[i]; }) / n;
  const float mean_w = sum([&](int64_t i) { return w[i]; }) / n;
  const float q_squares = sum([&](int64_t i) {
    const float d = add_rn(q[i], -mean_q);
    return mul_rn(d, d);
  });
  const float w_squares = sum([&](int64_t i) {
    const float d = add_rn(w[i], -mean_w);
    return mul_rn(d, d);
  });
  return lattice_bias_correction(residual, q_squares, sqrtf(w_squares), count);
}

// The search objective's term for one vector: sum_i |corrected(q_i) - w_i|^3.
BMC_HD float lattice_cube_error(const float* w, const float* q, int n, bool correct, LatticeCorrection c) {
  float e = 0.0f;
  for (int i = 0; i < n; ++i) {
    const float d = fabsf(add_rn(correct ? lattice_corrected(q[i], c) : q[i], -w[i]));
    e = add_rn(e, mul_rn(mul_rn(d, d), d));
  }
  return e;
}

// The straight-through gradient of v -> lattice point (section 2.2, item 7): each rounding passes
// its gradient unchanged, a clamped coordinate passes none, and the residual chain is
// differentiated as it runs. g_out: gradient of the point; g_in: gradient of v.
BMC_HD void lattice_vector_ste_backward(const float* v, const float* b, const float* bt, int n, int bits,
                                        const float* g_out, float* g_in) {
  float z[kMaxLatticeDim], raw[kMaxLatticeDim], g_u[kMaxLatticeDim], g_r[kMaxLatticeDim];
  lattice_babai(v, b, bt, n, bits, z, raw);
  for (int j = 0; j < n; ++j) {
    float g = 0.0f;
    for (int c = 0; c < n; ++c) g = add_rn(g, mul_rn(g_out[c], b[j * n + c]));
    g_u[j] = z[j] == raw[j] ? g : 0.0f;
    g_r[j] = 0.0f;
  }
  // Forward order was j = n-1 .. 0 (r <- r - u_j b_j after u_j = <r, bt_j> / |bt_j|^2): reverse it.
  for (int j = 0; j < n; ++j) {
    float dot = 0.0f, norm = 0.0f;
    for (int c = 0; c < n; ++c) {
      dot = add_rn(dot, mul_rn(g_r[c], b[j * n + c]));
      norm = add_rn(norm, mul_rn(bt[j * n + c], bt[j * n + c]));
    }
    const float gu = add_rn(g_u[j], -dot);
    for (int c = 0; c < n; ++c) g_r[c] = add_rn(g_r[c], mul_rn(gu, bt[j * n + c] / norm));
  }
  for (int c = 0; c < n; ++c) g_in[c] = g_r[c];
}

// LatticeQ's activation quantizer (section 2.7) for a non-negative input: alpha * k / (2^b - 1),
// k = round(clamp(x / alpha, 0, 1) (2^b - 1)). A negative x clips to zero (every quantized input of
// the supported models follows a ReLU or a pool of ReLUs).
BMC_HD float lattice_act_quantize(float x, float alpha, float levels) {
  float t = x / alpha;
  t = t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t);
  return mul_rn(mul_rn(1.0f / levels, rintf(mul_rn(t, levels))), alpha);
}

}  // namespace bmc
