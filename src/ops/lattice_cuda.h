// The CUDA implementations behind ops/lattice.h's dispatch (defined in lattice_cuda.cpp, built
// only with CUDA). Arguments are checked by the dispatching functions.
#pragma once

#include "ops/lattice.h"

namespace bmc::ops {

void lattice_quantize_cuda(Tensor& out, Tensor* coords, const Tensor& w, const Tensor& bases, float scale,
                           const LatticeSearchShape& shape);
void lattice_ste_backward_cuda(Tensor& dw, const Tensor& dy, const Tensor& w, const Tensor& bases, float scale,
                               const LatticeSearchShape& shape);
void lattice_bias_correct_cuda(Tensor& q, const Tensor& w, int64_t channels);
void lattice_act_forward_cuda(Tensor& y, const Tensor& x, const Tensor& alpha, int64_t channels, int64_t inner,
                              float levels);
void lattice_act_backward_cuda(Tensor& dx, const Tensor& dy, const Tensor& x, const Tensor& alpha, int64_t channels,
                               int64_t inner);
void lattice_losses_cuda(Tensor& losses, Tensor& best, const Tensor& bases, const Tensor& wn, const Tensor& w_norms,
                         const LatticeSearchShape& shape);
void lattice_search_step_cuda(Tensor& bases, Tensor& best, Tensor& losses, const Tensor& wn, const Tensor& w_norms,
                              const LatticeSearchShape& shape, const LatticeNoise& noise);

}  // namespace bmc::ops
