// Adam in one launch per tensor, the math of kernels/adam.cuh. Moves 36 bytes per element: reads
// w, m, v, vmax, g (20), writes w, m, v, vmax (16).
#include "kernels/adam.h"
#include "kernels/device_compat.cuh"
#include "kernels/launch.cuh"

namespace bmc::BMC_KNS {
namespace {

constexpr int kAdamBlock = 256;

__global__ void adam_kernel(float* w, float* m, float* v, float* vmax, const float* g, int64_t n, AdamHyper hyper) {
  BMC_GRID_STRIDE_LOOP(i, n) {
    float wi = w[i], mi = m[i], vi = v[i], xi = vmax[i];
    adam_update(wi, mi, vi, xi, g[i], hyper);
    w[i] = wi;
    m[i] = mi;
    v[i] = vi;
    vmax[i] = xi;
  }
}

}  // namespace

void adam(float* w, float* m, float* v, float* vmax, const float* g, int64_t n, AdamHyper hyper, StreamRef stream,
          int grid_limit) {
  if (n == 0) return;
  launch("adam_kernel", adam_kernel, grid_for(n, kAdamBlock, grid_limit), kAdamBlock, stream, w, m, v, vmax, g, n, hyper);
}

}  // namespace bmc::BMC_KNS
