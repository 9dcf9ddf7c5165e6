// LatticeQ kernels (../shared/docs/algorithms/latticeq.md 2.2-2.6). The quantizer and its gradient
// run one thread per weight vector (the Gram-Schmidt rows of its basis recomputed per vector:
// n^3 flops against a vector's n^2, cheaper than a pass of its own). A search step runs one block
// per output channel: thread 0 draws the channel's candidate basis, the block sums the
// channel's cubic error in the fixed order, thread 0 accepts or rejects, so one launch carries a
// proposal for every channel.
#include "kernels/block_fixed_sum.cuh"
#include "kernels/device_compat.cuh"
#include "kernels/lattice.h"
#include "kernels/launch.cuh"

namespace bmc::BMC_KNS {
namespace {

constexpr int kBlock = 256;
static_assert(kFixedSumLanes == kBlock, "one thread per fixed-sum lane");
constexpr int kMaxBasis = kMaxLatticeDim * kMaxLatticeDim;

__global__ void lattice_quantize_kernel(float* out, int32_t* coords, const float* w, const float* bases, float scale,
                                        LatticeSearchShape shape) {
  const int n = shape.n;
  const int64_t m = shape.vectors();
  BMC_GRID_STRIDE_LOOP(k, shape.channels * m) {
    const float* b = bases + shape.basis_of(k / m) * n * n;
    float bt[kMaxBasis], v[kMaxLatticeDim], z[kMaxLatticeDim], q[kMaxLatticeDim];
    lattice_gram_schmidt(b, n, bt);
    for (int i = 0; i < n; ++i) v[i] = w[k * n + i] / scale;
    lattice_quantize_vector(v, b, bt, n, shape.bits, z, q);
    for (int i = 0; i < n; ++i) {
      out[k * n + i] = mul_rn(q[i], scale);
      if (coords) coords[k * n + i] = static_cast<int32_t>(z[i]);
    }
  }
}

__global__ void lattice_ste_backward_kernel(float* dw, const float* dy, const float* w, const float* bases,
                                            float scale, LatticeSearchShape shape) {
  const int n = shape.n;
  const int64_t m = shape.vectors();
  BMC_GRID_STRIDE_LOOP(k, shape.channels * m) {
    const float* b = bases + shape.basis_of(k / m) * n * n;
    float bt[kMaxBasis], v[kMaxLatticeDim], g[kMaxLatticeDim];
    lattice_gram_schmidt(b, n, bt);
    for (int i = 0; i < n; ++i) v[i] = w[k * n + i] / scale;
    lattice_vector_ste_backward(v, b, bt, n, shape.bits, dy + k * n, g);
    for (int i = 0; i < n; ++i) dw[k * n + i] = g[i];
  }
}

BMC_DEVICE float alpha_of(const float* alpha, int64_t i, int64_t channels, int64_t inner, bool per_channel) {
  return per_channel ? alpha[(i / inner) % channels] : alpha[0];
}

__global__ void lattice_act_forward_kernel(float* y, const float* x, const float* alpha, int64_t n, int64_t channels,
                                           int64_t inner, bool per_channel, float levels) {
  BMC_GRID_STRIDE_LOOP(i, n) { y[i] = lattice_act_quantize(x[i], alpha_of(alpha, i, channels, inner, per_channel), levels); }
}

__global__ void lattice_act_backward_kernel(float* dx, const float* dy, const float* x, const float* alpha, int64_t n,
                                            int64_t channels, int64_t inner, bool per_channel) {
  BMC_GRID_STRIDE_LOOP(i, n) {
    const float a = alpha_of(alpha, i, channels, inner, per_channel);
    dx[i] = x[i] < 0.0f || x[i] > a ? 0.0f : dy[i];
  }
}

__global__ void lattice_bias_correct_kernel(float* q, const float* w, int64_t channels, int64_t per) {
  for (int64_t c = blockIdx.x; c < channels; c += gridDim.x) {
    float* qc = q + c * per;
    const float* wc = w + c * per;
    const LatticeCorrection corr =
        lattice_channel_correction(wc, qc, per, [&](auto value) { return block_fixed_sum_range(per, value); });
    for (int64_t i = threadIdx.x; i < per; i += blockDim.x) qc[i] = lattice_corrected(qc[i], corr);
    __syncthreads();
  }
}

// propose = false: the current bases' losses into losses[c] (and best[c] for per-channel bases). propose = true: a candidate per
// channel; per-channel bases accept in place, a shared basis leaves its channel losses in losses.
__global__ void lattice_step_kernel(float* bases, float* best, float* losses, const float* wn, const float* w_norms,
                                    LatticeSearchShape shape, LatticeNoise noise, bool propose) {
  __shared__ float cand[kMaxBasis], bt[kMaxBasis];
  const int n = shape.n, nn = n * n;
  for (int64_t c = blockIdx.x; c < shape.channels; c += gridDim.x) {
    const int64_t g = shape.basis_of(c);
    if (threadIdx.x == 0) {
      if (propose) {
        lattice_candidate(bases + g * nn, g, shape, noise, cand);
      } else {
        for (int e = 0; e < nn; ++e) cand[e] = bases[g * nn + e];
      }
      lattice_gram_schmidt(cand, n, bt);
    }
    __syncthreads();
    const float* wc = wn + c * shape.per;
    auto sum = [&](LatticeTerm term, float mean_q, LatticeCorrection corr) {
      return block_fixed_sum_range(shape.vectors(), [&](int64_t k) {
        return lattice_vector_term(term, wc + k * n, cand, bt, n, shape.bits, mean_q, corr, shape.correct);
      });
    };
    const float loss = lattice_channel_loss(shape.correct, shape.per, shape.correct ? w_norms[c] : 0.0f, sum);
    if (threadIdx.x == 0) {
      if (!propose) {
        losses[c] = loss;
        if (!shape.shared_basis) best[c] = loss;
      } else if (shape.shared_basis) {
        losses[c] = loss;
      } else if (loss < best[c]) {  // a NaN loss (a singular candidate) is rejected
        best[c] = loss;
        for (int e = 0; e < nn; ++e) bases[c * nn + e] = cand[e];
      }
    }
    __syncthreads();
  }
}

// The shared basis: the candidate's total against best[0] (init: the total becomes best[0]).
__global__ void lattice_accept_shared_kernel(float* bases, float* best, const float* losses, LatticeSearchShape shape,
                                             LatticeNoise noise, bool init) {
  const float total = block_fixed_sum_range(shape.channels, [&](int64_t c) { return losses[c]; });
  if (threadIdx.x != 0) return;
  if (init) {
    best[0] = total;
  } else if (total < best[0]) {
    float cand[kMaxBasis];
    lattice_candidate(bases, 0, shape, noise, cand);
    best[0] = total;
    for (int e = 0; e < shape.n * shape.n; ++e) bases[e] = cand[e];
  }
}

unsigned channel_grid(int64_t channels, int grid_limit) {
  const int64_t cap = grid_limit > 0 ? grid_limit : 65535;
  return static_cast<unsigned>(channels < cap ? channels : cap);
}

}  // namespace

void lattice_quantize(float* out, int32_t* coords, const float* w, const float* bases, float scale,
                      const LatticeSearchShape& shape, StreamRef stream, int grid_limit) {
  launch("lattice_quantize_kernel", lattice_quantize_kernel, grid_for(shape.channels * shape.vectors(), kBlock, grid_limit),
         kBlock, stream, out, coords, w, bases, scale, shape);
}

void lattice_ste_backward(float* dw, const float* dy, const float* w, const float* bases, float scale,
                          const LatticeSearchShape& shape, StreamRef stream, int grid_limit) {
  launch("lattice_ste_backward_kernel", lattice_ste_backward_kernel,
         grid_for(shape.channels * shape.vectors(), kBlock, grid_limit), kBlock, stream, dw, dy, w, bases, scale, shape);
}

void lattice_bias_correct(float* q, const float* w, int64_t channels, int64_t per, StreamRef stream, int grid_limit) {
  launch("lattice_bias_correct_kernel", lattice_bias_correct_kernel, channel_grid(channels, grid_limit), kBlock, stream, q,
         w, channels, per);
}

void lattice_act_forward(float* y, const float* x, const float* alpha, int64_t n, int64_t channels, int64_t inner,
                         bool per_channel, float levels, StreamRef stream, int grid_limit) {
  if (n == 0) return;
  launch("lattice_act_forward_kernel", lattice_act_forward_kernel, grid_for(n, kBlock, grid_limit), kBlock, stream, y, x,
         alpha, n, channels, inner, per_channel, levels);
}

void lattice_act_backward(float* dx, const float* dy, const float* x, const float* alpha, int64_t n, int64_t channels,
                          int64_t inner, bool per_channel, StreamRef stream, int grid_limit) {
  if (n == 0) return;
  launch("lattice_act_backward_kernel", lattice_act_backward_kernel, grid_for(n, kBlock, grid_limit), kBlock, stream, dx,
         dy, x, alpha, n, channels, inner, per_channel);
}

void lattice_losses(float* losses, float* best, const float* bases, const float* wn, const float* w_norms,
                    const LatticeSearchShape& shape, StreamRef stream, int grid_limit) {
  launch("lattice_step_kernel", lattice_step_kernel, channel_grid(shape.channels, grid_limit), kBlock, stream,
         const_cast<float*>(bases), best, losses, wn, w_norms, shape, LatticeNoise{}, false);
  if (shape.shared_basis)
    launch("lattice_accept_shared_kernel", lattice_accept_shared_kernel, 1u, kBlock, stream, const_cast<float*>(bases),
           best, static_cast<const float*>(losses), shape, LatticeNoise{}, true);
}

void lattice_search_step(float* bases, float* best, float* losses, const float* wn, const float* w_norms,
                         const LatticeSearchShape& shape, const LatticeNoise& noise, StreamRef stream, int grid_limit) {
  launch("lattice_step_kernel", lattice_step_kernel, channel_grid(shape.channels, grid_limit), kBlock, stream, bases, best,
         losses, wn, w_norms, shape, noise, true);
  if (shape.shared_basis)
    launch("lattice_accept_shared_kernel", lattice_accept_shared_kernel, 1u, kBlock, stream, bases, best,
           static_cast<const float*>(losses), shape, noise, false);
}

}  // namespace bmc::BMC_KNS
