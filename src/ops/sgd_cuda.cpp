// Masked SGD on CUDA: one launch of our fused kernel (kernels/sgd.cu).
#include "core/cuda_context.h"
#include "kernels/sgd.h"
#include "ops/sgd_cuda.h"

namespace bmc::ops {

void masked_sgd_step_cuda(Tensor& w, Tensor& m, const Tensor& g, const Tensor& mask, const SgdHyper& hyper) {
  kernels::masked_sgd(w.data<float>(), m.data<float>(), g.data<float>(), mask.data<float>(), w.numel(), hyper,
                      cuda::context(w.device()).stream);
}

void clamped_sgd_step_cuda(Tensor& w, Tensor& m, const Tensor& g, const SgdHyper& hyper, float lo, float hi) {
  kernels::clamped_sgd(w.data<float>(), m.data<float>(), g.data<float>(), w.numel(), hyper, lo, hi,
                       cuda::context(w.device()).stream);
}

}  // namespace bmc::ops
