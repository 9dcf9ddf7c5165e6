// Launchers for kernels/bsq.cu: BSQ's bit-plane training and its dynamic activation quantizer.
// Planes are plane-major (plane i of an n-element layer at [i * n, (i + 1) * n)); scale, coef and
// clip are device arrays, so a training step never reads a value back to the host. Every sum is
// the fixed-order one of kernels/fixed_sum.cuh: bitwise equal to the CPU backend.
#pragma once

#include <cstdint>

#include "kernels/bit_planes.cuh"
#include "kernels/fixed_sum.cuh"
#include "kernels/stream.h"

namespace bmc::BMC_KNS {

// w[j] = s * Q(sum_i (P_i - Nn_i) e_i).
void bsq_forward(float* w, const float* pos, const float* neg, const float* scale, int64_t n, int bits,
                 StreamRef stream, int grid_limit = 0);
// Plane gradients (accumulated; mask may be null, ste = false drops the loss term) and
// ds_partials[fixed_sum_chunks(n)], the chunk sums of g * Q(w).
void bsq_backward(float* dpos, float* dneg, float* ds_partials, const float* g, const float* mask, const float* pos,
                  const float* neg, const float* scale, const float* coef, int64_t n, int bits, bool ste,
                  StreamRef stream);
// partials[i * chunks + c]: chunk c's sum of P_i^2 + Nn_i^2.
void bsq_plane_squares(float* partials, const float* pos, const float* neg, int64_t n, int bits, StreamRef stream);
// out[g] (+)= the fixed-order sum of partials[g * count, (g + 1) * count), g < groups.
void fixed_sum(float* out, const float* partials, int64_t count, int groups, bool accumulate, StreamRef stream);
// coef[i] = weight / sqrt(1e-8 + squares[i]); value[0] = weight * sum_i sqrt(1e-8 + squares[i]).
void bsq_regularizer_coefficients(float* coef, float* value, const float* squares, int bits, float weight,
                                  StreamRef stream);
// codes[j] = the signed re-quantized integer of element j.
void bsq_codes(int32_t* codes, const float* pos, const float* neg, int64_t n, int bits, StreamRef stream,
               int grid_limit = 0);
// Binary planes of the codes.
void bsq_write_codes(float* pos, float* neg, const int32_t* codes, int64_t n, int bits, StreamRef stream,
                     int grid_limit = 0);

// Fine-tuning at a fixed precision (bsq.md 1.10): w = s * Q(clip(u, -1, 1)) from the normalized
// latent u; du += s * g (straight through), ds_partials as bsq_backward's.
void bsq_latent_forward(float* w, const float* u, const float* scale, int64_t n, int bits, StreamRef stream,
                        int grid_limit = 0);
void bsq_latent_backward(float* du, float* ds_partials, const float* g, const float* u, const float* scale, int64_t n,
                         int bits, StreamRef stream);

// max_abs[0] = max_j |min(x_j, clip[0])|; max_abs holds 1 + fixed_sum_chunks(n) floats, the rest
// being scratch for the chunk maxima.
void bsq_act_max(float* max_abs, const float* x, const float* clip, int64_t n, StreamRef stream);
// y = Q(min(x, clip[0])) on the grid of max_abs[0] (bits 0: the clip only).
void bsq_act_forward(float* y, const float* x, const float* clip, const float* max_abs, int64_t n, int bits,
                     StreamRef stream, int grid_limit = 0);
// dx = the clip's input gradient; with dclip_partials (PACT), the chunk sums of dy where x >= clip.
void bsq_act_backward(float* dx, float* dclip_partials, const float* dy, const float* x, const float* clip, int64_t n,
                      bool pact, StreamRef stream);

}  // namespace bmc::BMC_KNS
