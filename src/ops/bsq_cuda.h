// The CUDA implementations behind ops/bsq.h's dispatch (defined in bsq_cuda.cpp, built only with
// CUDA). Arguments are checked by the dispatching functions.
#pragma once

#include "ops/bsq.h"

namespace bmc::ops {

void bsq_forward_cuda(Tensor& w, const Tensor& pos, const Tensor& neg, const Tensor& scale);
void bsq_backward_cuda(Tensor& dpos, Tensor& dneg, Tensor& dscale, const Tensor& g, const Tensor* mask,
                       const Tensor& pos, const Tensor& neg, const Tensor& scale, const Tensor& coef, bool ste);
void bsq_regularizer_cuda(Tensor& coef, Tensor& value, const Tensor& pos, const Tensor& neg, float weight);
void bsq_codes_cuda(Tensor& codes, const Tensor& pos, const Tensor& neg);
void bsq_write_codes_cuda(Tensor& pos, Tensor& neg, const Tensor& codes);
void bsq_latent_forward_cuda(Tensor& w, const Tensor& u, const Tensor& scale, int bits);
void bsq_latent_backward_cuda(Tensor& du, Tensor& dscale, const Tensor& g, const Tensor& u, const Tensor& scale, int bits);
void bsq_act_forward_cuda(Tensor& y, const Tensor& x, const Tensor& clip, int bits);
void bsq_act_backward_cuda(Tensor& dx, Tensor* dclip, const Tensor& dy, const Tensor& x, const Tensor& clip, bool pact);

}  // namespace bmc::ops
