// LatticeQ's ops (../shared/docs/algorithms/latticeq.md 2.2-2.6) on either backend: the weight
// quantizer and its straight-through gradient, the weight-only bias correction, and the two
// steps of the random basis search. Weights are (channels, ...) f32 tensors read as
// shape.channels x shape.per; bases f32 [bases, n, n]. The math is kernels/lattice.cuh and
// kernels/lattice_search.cuh, every sum the fixed-order one of kernels/fixed_sum.cuh: CPU and
// CUDA results are bitwise equal.
#pragma once

#include "core/tensor.h"
#include "kernels/lattice_search.cuh"

namespace bmc::ops {

// out = scale * lattice point of w / scale, vector by vector; coords (I32, optional) the integer
// coordinates.
void lattice_quantize(Tensor& out, Tensor* coords, const Tensor& w, const Tensor& bases, float scale,
                      const LatticeSearchShape& shape);
// dw = the straight-through gradient of lattice_quantize at w for dy.
void lattice_ste_backward(Tensor& dw, const Tensor& dy, const Tensor& w, const Tensor& bases, float scale,
                          const LatticeSearchShape& shape);
// q <- xi_c * (q + mu_c) for every output channel (Banner et al.'s correction towards w).
void lattice_bias_correct(Tensor& q, const Tensor& w, int64_t channels);

// The activation quantizer: y = alpha * k / (2^bits - 1) (kernels/lattice.cuh) for x of shape
// (N, C, ...) or (N, C); alpha [1] or [C]. Backward: dx = dy where 0 <= x <= alpha.
void lattice_act_forward(Tensor& y, const Tensor& x, const Tensor& alpha, int bits);
void lattice_act_backward(Tensor& dx, const Tensor& dy, const Tensor& x, const Tensor& alpha);

// The centered L2 norm of every channel of w (host values: an input of the search).
std::vector<float> lattice_centered_norms(const Tensor& w, int64_t channels);
// losses[c] = channel c's search loss with the current bases; best = losses for per-channel
// bases, best[0] = their fixed-order sum for a shared one. w_norms: lattice_centered_norms of wn (read when
// shape.correct).
void lattice_losses(Tensor& losses, Tensor& best, const Tensor& bases, const Tensor& wn, const Tensor& w_norms,
                    const LatticeSearchShape& shape);
// One proposal (kernels/lattice.h, lattice_search_step): bases and best updated where the
// candidate is strictly better.
void lattice_search_step(Tensor& bases, Tensor& best, Tensor& losses, const Tensor& wn, const Tensor& w_norms,
                         const LatticeSearchShape& shape, const LatticeNoise& noise);

}  // namespace bmc::ops
