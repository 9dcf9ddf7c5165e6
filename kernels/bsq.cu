// BSQ kernels (../shared/docs/algorithms/bsq.md 1.3-1.6, math in kernels/bit_planes.cuh). Bytes per
// element of an N-bit layer: forward reads 8N and writes 4; backward reads 4 (g) + 4 (mask) + 8N
// and reads and writes 8N of gradients; the plane norms read 8N; the activation quantizer reads 4
// for the max and 4 + writes 4 for the values. Reductions follow kernels/fixed_sum.cuh: one block
// of kFixedSumLanes threads per chunk, a fixed thread-to-element map, a fixed tree.
#include "kernels/bsq.h"
#include "kernels/block_fixed_sum.cuh"
#include "kernels/device_compat.cuh"
#include "kernels/launch.cuh"

namespace bmc::BMC_KNS {
namespace {

constexpr int kBlock = 256;
static_assert(kFixedSumLanes == kBlock, "one thread per fixed-sum lane");

__global__ void bsq_forward_kernel(float* w, const float* pos, const float* neg, const float* scale, int64_t n,
                                   int bits) {
  const float s = *scale;
  BMC_GRID_STRIDE_LOOP(j, n) { w[j] = bit_plane_effective(pos, neg, j, n, bits, s); }
}

__global__ void bsq_backward_kernel(float* dpos, float* dneg, float* ds_partials, const float* g, const float* mask,
                                    const float* pos, const float* neg, const float* scale, const float* coef,
                                    int64_t n, int bits, bool ste) {
  const float s = *scale;
  const int64_t begin = static_cast<int64_t>(blockIdx.x) * kFixedSumChunk;
  float lane = 0.0f;
  for (int64_t j = begin + threadIdx.x; j < begin + kFixedSumChunk && j < n; j += kFixedSumLanes) {
    const float gj = ste ? (mask ? mul_rn(g[j], mask[j]) : g[j]) : 0.0f;
    bit_plane_grads(dpos, dneg, pos, neg, coef, j, n, bits, s, gj);
    lane = add_rn(lane, mul_rn(gj, bit_plane_quantize(bit_plane_sum(pos + j, neg + j, bits, n), bits)));
  }
  const float total = block_fixed_sum(lane);
  if (threadIdx.x == 0) ds_partials[blockIdx.x] = total;
}

__global__ void bsq_plane_squares_kernel(float* partials, const float* pos, const float* neg, int64_t n) {
  const int64_t begin = static_cast<int64_t>(blockIdx.x) * kFixedSumChunk;
  const float* p = pos + static_cast<int64_t>(blockIdx.y) * n;
  const float* q = neg + static_cast<int64_t>(blockIdx.y) * n;
  float lane = 0.0f;
  for (int64_t j = begin + threadIdx.x; j < begin + kFixedSumChunk && j < n; j += kFixedSumLanes)
    lane = add_rn(lane, add_rn(mul_rn(p[j], p[j]), mul_rn(q[j], q[j])));
  const float total = block_fixed_sum(lane);
  if (threadIdx.x == 0) partials[static_cast<int64_t>(blockIdx.y) * gridDim.x + blockIdx.x] = total;
}

__global__ void fixed_sum_kernel(float* out, const float* partials, int64_t count, bool accumulate) {
  const float* p = partials + static_cast<int64_t>(blockIdx.x) * count;
  float lane = 0.0f;
  for (int64_t i = threadIdx.x; i < count; i += kFixedSumLanes) lane = add_rn(lane, p[i]);
  const float total = block_fixed_sum(lane);
  if (threadIdx.x == 0) out[blockIdx.x] = accumulate ? add_rn(out[blockIdx.x], total) : total;
}

__global__ void bsq_regularizer_coefficients_kernel(float* coef, float* value, const float* squares, int bits,
                                                    float weight) {
  if (threadIdx.x != 0 || blockIdx.x != 0) return;
  float sum = 0.0f;
  for (int i = 0; i < bits; ++i) {
    const float norm = sqrtf(add_rn(1e-8f, squares[i]));
    coef[i] = weight / norm;
    sum = add_rn(sum, norm);
  }
  value[0] = mul_rn(weight, sum);
}

__global__ void bsq_codes_kernel(int32_t* codes, const float* pos, const float* neg, int64_t n, int bits) {
  BMC_GRID_STRIDE_LOOP(j, n) { codes[j] = bit_plane_code(pos, neg, j, n, bits); }
}

__global__ void bsq_write_codes_kernel(float* pos, float* neg, const int32_t* codes, int64_t n, int bits) {
  BMC_GRID_STRIDE_LOOP(j, n) { bit_plane_write_code(pos, neg, codes[j], j, n, bits); }
}

__global__ void bsq_latent_forward_kernel(float* w, const float* u, const float* scale, int64_t n, int bits) {
  const float s = *scale;
  BMC_GRID_STRIDE_LOOP(j, n) { w[j] = mul_rn(s, bit_plane_quantize(u[j], bits)); }
}

__global__ void bsq_latent_backward_kernel(float* du, float* ds_partials, const float* g, const float* u,
                                           const float* scale, int64_t n, int bits) {
  const float s = *scale;
  const int64_t begin = static_cast<int64_t>(blockIdx.x) * kFixedSumChunk;
  float lane = 0.0f;
  for (int64_t j = begin + threadIdx.x; j < begin + kFixedSumChunk && j < n; j += kFixedSumLanes) {
    du[j] = add_rn(du[j], mul_rn(s, g[j]));
    lane = add_rn(lane, mul_rn(g[j], bit_plane_quantize(u[j], bits)));
  }
  const float total = block_fixed_sum(lane);
  if (threadIdx.x == 0) ds_partials[blockIdx.x] = total;
}

// Chunk maxima of |clip(x)|, then their max (order-free: exact in any order).
__global__ void bsq_act_max_kernel(float* partials, const float* x, const float* clip, int64_t n) {
  __shared__ float lanes[kFixedSumLanes];
  const float c = *clip;
  const int64_t begin = static_cast<int64_t>(blockIdx.x) * kFixedSumChunk;
  float m = 0.0f;
  for (int64_t j = begin + threadIdx.x; j < begin + kFixedSumChunk && j < n; j += kFixedSumLanes)
    m = fmaxf(m, fabsf(bsq_act_clip(x[j], c)));
  lanes[threadIdx.x] = m;
  __syncthreads();
  for (int stride = kFixedSumLanes / 2; stride > 0; stride >>= 1) {
    if (static_cast<int>(threadIdx.x) < stride) lanes[threadIdx.x] = fmaxf(lanes[threadIdx.x], lanes[threadIdx.x + stride]);
    __syncthreads();
  }
  if (threadIdx.x == 0) partials[blockIdx.x] = lanes[0];
}

__global__ void max_partials_kernel(float* out, const float* partials, int64_t count) {
  if (threadIdx.x != 0 || blockIdx.x != 0) return;
  float m = 0.0f;
  for (int64_t i = 0; i < count; ++i) m = fmaxf(m, partials[i]);
  out[0] = m;
}

__global__ void bsq_act_forward_kernel(float* y, const float* x, const float* clip, const float* max_abs, int64_t n,
                                       int bits) {
  const float c = *clip;
  const float m = bits > 0 ? *max_abs : 0.0f;
  BMC_GRID_STRIDE_LOOP(j, n) {
    const float v = bsq_act_clip(x[j], c);
    y[j] = bits > 0 ? bsq_act_quantize(v, m, bits) : v;
  }
}

__global__ void bsq_act_backward_kernel(float* dx, float* dclip_partials, const float* dy, const float* x,
                                        const float* clip, int64_t n, bool pact) {
  const float c = *clip;
  const int64_t begin = static_cast<int64_t>(blockIdx.x) * kFixedSumChunk;
  float lane = 0.0f;
  for (int64_t j = begin + threadIdx.x; j < begin + kFixedSumChunk && j < n; j += kFixedSumLanes) {
    const float d = dy[j];
    if (x[j] >= c) lane = add_rn(lane, d);
    dx[j] = bsq_act_clip_grad(d, x[j], c, pact);
  }
  const float total = block_fixed_sum(lane);
  if (threadIdx.x == 0 && dclip_partials) dclip_partials[blockIdx.x] = total;
}

unsigned chunks_of(int64_t n) { return static_cast<unsigned>(fixed_sum_chunks(n)); }

}  // namespace

void bsq_forward(float* w, const float* pos, const float* neg, const float* scale, int64_t n, int bits,
                 StreamRef stream, int grid_limit) {
  if (n == 0) return;
  launch("bsq_forward_kernel", bsq_forward_kernel, grid_for(n, kBlock, grid_limit), kBlock, stream, w, pos, neg, scale,
         n, bits);
}

void bsq_backward(float* dpos, float* dneg, float* ds_partials, const float* g, const float* mask, const float* pos,
                  const float* neg, const float* scale, const float* coef, int64_t n, int bits, bool ste,
                  StreamRef stream) {
  if (n == 0) return;
  launch("bsq_backward_kernel", bsq_backward_kernel, chunks_of(n), kBlock, stream, dpos, dneg, ds_partials, g, mask,
         pos, neg, scale, coef, n, bits, ste);
}

void bsq_plane_squares(float* partials, const float* pos, const float* neg, int64_t n, int bits, StreamRef stream) {
  if (n == 0 || bits == 0) return;
  launch("bsq_plane_squares_kernel", bsq_plane_squares_kernel, dim3(chunks_of(n), static_cast<unsigned>(bits)), kBlock,
         stream, partials, pos, neg, n);
}

void fixed_sum(float* out, const float* partials, int64_t count, int groups, bool accumulate, StreamRef stream) {
  if (groups == 0) return;
  launch("fixed_sum_kernel", fixed_sum_kernel, static_cast<unsigned>(groups), kBlock, stream, out, partials, count,
         accumulate);
}

void bsq_regularizer_coefficients(float* coef, float* value, const float* squares, int bits, float weight,
                                  StreamRef stream) {
  launch("bsq_regularizer_coefficients_kernel", bsq_regularizer_coefficients_kernel, 1, 1, stream, coef, value,
         squares, bits, weight);
}

void bsq_codes(int32_t* codes, const float* pos, const float* neg, int64_t n, int bits, StreamRef stream,
               int grid_limit) {
  if (n == 0) return;
  launch("bsq_codes_kernel", bsq_codes_kernel, grid_for(n, kBlock, grid_limit), kBlock, stream, codes, pos, neg, n,
         bits);
}

void bsq_write_codes(float* pos, float* neg, const int32_t* codes, int64_t n, int bits, StreamRef stream,
                     int grid_limit) {
  if (n == 0) return;
  launch("bsq_write_codes_kernel", bsq_write_codes_kernel, grid_for(n, kBlock, grid_limit), kBlock, stream, pos, neg,
         codes, n, bits);
}

void bsq_latent_forward(float* w, const float* u, const float* scale, int64_t n, int bits, StreamRef stream,
                        int grid_limit) {
  if (n == 0) return;
  launch("bsq_latent_forward_kernel", bsq_latent_forward_kernel, grid_for(n, kBlock, grid_limit), kBlock, stream, w, u,
         scale, n, bits);
}

void bsq_latent_backward(float* du, float* ds_partials, const float* g, const float* u, const float* scale, int64_t n,
                         int bits, StreamRef stream) {
  if (n == 0) return;
  launch("bsq_latent_backward_kernel", bsq_latent_backward_kernel, chunks_of(n), kBlock, stream, du, ds_partials, g, u,
         scale, n, bits);
}

void bsq_act_max(float* max_abs, const float* x, const float* clip, int64_t n, StreamRef stream) {
  // One chunk's partial lands directly in max_abs; several need a scratch row, which the caller's
  // max_abs buffer provides after its first element (it holds 1 + chunks floats).
  const unsigned chunks = chunks_of(n);
  if (chunks == 0) {
    launch("max_partials_kernel", max_partials_kernel, 1, 1, stream, max_abs, max_abs + 1, int64_t{0});
    return;
  }
  launch("bsq_act_max_kernel", bsq_act_max_kernel, chunks, kBlock, stream, max_abs + 1, x, clip, n);
  launch("max_partials_kernel", max_partials_kernel, 1, 1, stream, max_abs, max_abs + 1, static_cast<int64_t>(chunks));
}

void bsq_act_forward(float* y, const float* x, const float* clip, const float* max_abs, int64_t n, int bits,
                     StreamRef stream, int grid_limit) {
  if (n == 0) return;
  launch("bsq_act_forward_kernel", bsq_act_forward_kernel, grid_for(n, kBlock, grid_limit), kBlock, stream, y, x, clip,
         max_abs, n, bits);
}

void bsq_act_backward(float* dx, float* dclip_partials, const float* dy, const float* x, const float* clip, int64_t n,
                      bool pact, StreamRef stream) {
  if (n == 0) return;
  launch("bsq_act_backward_kernel", bsq_act_backward_kernel, chunks_of(n), kBlock, stream, dx, dclip_partials, dy, x,
         clip, n, pact);
}

}  // namespace bmc::BMC_KNS
