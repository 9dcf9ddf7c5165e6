// The CUDA implementations behind ops/batch_norm.h's dispatch (defined in batch_norm_cuda.cpp, built
// only with CUDA): one declaration, shared by the dispatching file and the definitions.
#pragma once

#include "ops/batch_norm.h"

namespace bmc::ops {

void batch_norm_forward_train_cuda(Tensor& y, Tensor& saved_mean, Tensor& saved_invstd, const Tensor& x,
                                   const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                                   Tensor& running_var, float momentum, float eps);
void batch_norm_forward_eval_cuda(Tensor& y, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                  const Tensor& running_mean, const Tensor& running_var, float eps);
void batch_norm_backward_cuda(Tensor& dx, Tensor& dgamma, Tensor& dbeta, const Tensor& dy, const Tensor& x,
                              const Tensor& gamma, const Tensor& saved_mean, const Tensor& saved_invstd, float eps);
// Synchronised batch norm (kernels/batch_norm_sync.cu), the sums reduced through `across`.
void batch_norm_forward_train_across_cuda(Tensor& y, Tensor& saved_mean, Tensor& saved_invstd, const Tensor& x,
                                          const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                                          Tensor& running_var, float momentum, float eps, const CrossShardSum& across);
void batch_norm_backward_across_cuda(Tensor& dx, Tensor& dgamma, Tensor& dbeta, const Tensor& dy, const Tensor& x,
                                     const Tensor& gamma, const Tensor& saved_mean, const Tensor& saved_invstd,
                                     const CrossShardSum& across);

}  // namespace bmc::ops
