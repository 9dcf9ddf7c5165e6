// The CUDA implementations behind ops/fake_quant.h's dispatch (defined in fake_quant_cuda.cpp, built
// only with CUDA): one declaration, shared by the dispatching file and the definitions.
#pragma once

#include "ops/fake_quant.h"

namespace bmc::ops {

void fake_quant_forward_cuda(Tensor& y, const Tensor& x, const std::vector<QuantParams>& params, ChannelLayout l);
void fake_quant_backward_cuda(Tensor& dx, const Tensor& dy, const Tensor& x, const std::vector<QuantParams>& params,
                              ChannelLayout l);

void requantize_to_grid_cuda(Tensor& y, const Tensor& x, const QuantParams& in, float ratio, float acc_lo,
                             float acc_hi, float out_scale);

}  // namespace bmc::ops
