// Launchers for kernels/lattice.cu: LatticeQ's weight quantizer, its straight-through gradient,
// the weight-only bias correction and the random basis search, on the cores of kernels/lattice.cuh
// and kernels/lattice_search.cuh. Bases are (bases x n x n) row-major, weights (channels x per);
// every sum is the fixed-order one of kernels/fixed_sum.cuh, so results equal the CPU backend's
// bitwise.
#pragma once

#include <cstdint>

#include "kernels/lattice_search.cuh"
#include "kernels/stream.h"

namespace bmc::BMC_KNS {

// out = scale * lattice point of (w / scale), vector by vector; coords (optional) receives the
// integer coordinates.
void lattice_quantize(float* out, int32_t* coords, const float* w, const float* bases, float scale,
                      const LatticeSearchShape& shape, StreamRef stream, int grid_limit = 0);
// dw = the straight-through gradient of lattice_quantize for dy.
void lattice_ste_backward(float* dw, const float* dy, const float* w, const float* bases, float scale,
                          const LatticeSearchShape& shape, StreamRef stream, int grid_limit = 0);
// q <- xi_c * (q + mu_c) per output channel, from q and the float weights w.
void lattice_bias_correct(float* q, const float* w, int64_t channels, int64_t per, StreamRef stream,
                          int grid_limit = 0);

// The activation quantizer (kernels/lattice.cuh) over x of `channels` channels of `inner` values
// each, repeated (N, C, ...): alpha[0] for all, or alpha[c] per channel; levels = 2^b - 1.
void lattice_act_forward(float* y, const float* x, const float* alpha, int64_t n, int64_t channels, int64_t inner,
                         bool per_channel, float levels, StreamRef stream, int grid_limit = 0);
// dx = dy where 0 <= x <= alpha, else 0.
void lattice_act_backward(float* dx, const float* dy, const float* x, const float* alpha, int64_t n, int64_t channels,
                          int64_t inner, bool per_channel, StreamRef stream, int grid_limit = 0);

// losses[c] = channel c's loss with the current bases, and best = losses for per-channel bases,
// best[0] = their fixed-order sum for a shared one. w_norms: the centered norm of every channel of wn (read
// when shape.correct).
void lattice_losses(float* losses, float* best, const float* bases, const float* wn, const float* w_norms,
                    const LatticeSearchShape& shape, StreamRef stream, int grid_limit = 0);
// One proposal of the search. Per-channel bases: every channel whose candidate's loss is strictly
// below best[c] takes it (one launch). Shared basis: losses[c] receives the candidate's channel
// losses, and the candidate replaces bases[0] when their sum is below best[0] (a second launch).
void lattice_search_step(float* bases, float* best, float* losses, const float* wn, const float* w_norms,
                         const LatticeSearchShape& shape, const LatticeNoise& noise, StreamRef stream,
                         int grid_limit = 0);

}  // namespace bmc::BMC_KNS
