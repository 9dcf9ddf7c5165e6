// The CUDA path of a SPARQ conv (compiled with the CUDA backend only): the weight operands on the
// device, and one forward through kernels/sparq.cu (codes, then the dense mma.sync GEMM, the 2:4
// mma.sp GEMM or the STC kernel).
#pragma once

#include "compress/sparq/sparq_gemm.h"
#include "compress/sparq/sparq_operands.h"
#include "core/tensor.h"

namespace bmc::compress {

struct SparqDeviceWeights {
  int64_t o = 0, k = 0, op = 0, kp = 0;
  Tensor dense, values, metadata, steps, bias;  // bias undefined without one; values/metadata for 2:4
  bool sparse() const { return values.defined(); }
};

SparqDeviceWeights upload_sparq_weights(const SparqOperands& ops, const std::vector<float>& steps,
                                        const std::vector<float>& bias, Device device);

enum class SparqCudaKernel { Dense, Sparse, Stc };
const char* sparq_cuda_kernel_name(SparqCudaKernel k);

// x (N, C, H, W) on the weights' device; returns (N, O, OH, OW). Throws on a negative input.
Tensor sparq_conv_forward_cuda(const Tensor& x, const SparqDeviceWeights& w, int64_t kh, int64_t kw,
                               const ops::Conv2dParams& p, float step_x, int bits, SparqMode mode,
                               const BitWindow& window, SparqCudaKernel kernel, const std::string& name);

}  // namespace bmc::compress
