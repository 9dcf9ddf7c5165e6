// Adam on CUDA: one launch of our kernel (kernels/adam.cu).
#include "core/cuda_context.h"
#include "kernels/adam.h"
#include "ops/adam_cuda.h"

namespace bmc::ops {

void adam_step_cuda(Tensor& w, Tensor& m, Tensor& v, Tensor& vmax, const Tensor& g, const AdamHyper& hyper) {
  kernels::adam(w.data<float>(), m.data<float>(), v.data<float>(), vmax.data<float>(), g.data<float>(), w.numel(), hyper,
                cuda::context(w.device()).stream);
}

}  // namespace bmc::ops
