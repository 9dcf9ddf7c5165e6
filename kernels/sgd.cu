// Masked SGD over a model's flat parameter arena in one launch: weight decay, momentum/Nesterov
// and the update, keeping masked weights and momentum at exactly 0. The math is the shared core
// masked_sgd_update (kernels/sgd.cuh). Moves 24 bytes per element: reads w, m, g, mask (16),
// writes w, m (8). The clamped form, for trainable state with bounds (BSQ's planes), reads no mask:
// 20 bytes per element.
#include "kernels/device_compat.cuh"
#include "kernels/launch.cuh"
#include "kernels/sgd.h"

namespace bmc::BMC_KNS {
namespace {

constexpr int kSgdBlock = 256;

// --- kernels

__global__ void masked_sgd_kernel(float* w, float* m, const float* g, const float* mask, int64_t n,
                                  SgdHyper hyper) {
  hyper = resolved(hyper);
  BMC_GRID_STRIDE_LOOP(i, n) {
    float wi = w[i], mi = m[i];
    masked_sgd_update(wi, mi, g[i], mask[i], hyper);
    w[i] = wi;
    m[i] = mi;
  }
}

__global__ void clamped_sgd_kernel(float* w, float* m, const float* g, int64_t n, SgdHyper hyper, float lo,
                                   float hi) {
  hyper = resolved(hyper);
  BMC_GRID_STRIDE_LOOP(i, n) {
    float wi = w[i], mi = m[i];
    clamped_sgd_update(wi, mi, g[i], hyper, lo, hi);
    w[i] = wi;
    m[i] = mi;
  }
}

}  // namespace

// --- launchers

void masked_sgd(float* w, float* m, const float* g, const float* mask, int64_t n, SgdHyper hyper,
                StreamRef stream, int grid_limit) {
  if (n == 0) return;
  launch("masked_sgd_kernel", masked_sgd_kernel, grid_for(n, kSgdBlock, grid_limit), kSgdBlock, stream, w, m, g,
         mask, n, hyper);
}

void clamped_sgd(float* w, float* m, const float* g, int64_t n, SgdHyper hyper, float lo, float hi,
                 StreamRef stream, int grid_limit) {
  if (n == 0) return;
  launch("clamped_sgd_kernel", clamped_sgd_kernel, grid_for(n, kSgdBlock, grid_limit), kSgdBlock, stream, w, m, g,
         n, hyper, lo, hi);
}

}  // namespace bmc::BMC_KNS
