// LatticeQ on CUDA: our kernels (kernels/lattice.cu), on the tensors' stream.
#include "core/cuda_context.h"
#include "kernels/lattice.h"
#include "ops/lattice_cuda.h"

namespace bmc::ops {
namespace {

StreamRef stream_of(const Tensor& t) { return cuda::context(t.device()).stream; }

}  // namespace

void lattice_quantize_cuda(Tensor& out, Tensor* coords, const Tensor& w, const Tensor& bases, float scale,
                           const LatticeSearchShape& shape) {
  kernels::lattice_quantize(out.data<float>(), coords ? coords->data<int32_t>() : nullptr, w.data<float>(),
                            bases.data<float>(), scale, shape, stream_of(w));
}

void lattice_ste_backward_cuda(Tensor& dw, const Tensor& dy, const Tensor& w, const Tensor& bases, float scale,
                               const LatticeSearchShape& shape) {
  kernels::lattice_ste_backward(dw.data<float>(), dy.data<float>(), w.data<float>(), bases.data<float>(), scale, shape,
                                stream_of(w));
}

void lattice_bias_correct_cuda(Tensor& q, const Tensor& w, int64_t channels) {
  kernels::lattice_bias_correct(q.data<float>(), w.data<float>(), channels, w.numel() / channels, stream_of(w));
}

void lattice_act_forward_cuda(Tensor& y, const Tensor& x, const Tensor& alpha, int64_t channels, int64_t inner,
                              float levels) {
  kernels::lattice_act_forward(y.data<float>(), x.data<float>(), alpha.data<float>(), x.numel(), channels, inner,
                               alpha.numel() > 1, levels, stream_of(x));
}

void lattice_act_backward_cuda(Tensor& dx, const Tensor& dy, const Tensor& x, const Tensor& alpha, int64_t channels,
                               int64_t inner) {
  kernels::lattice_act_backward(dx.data<float>(), dy.data<float>(), x.data<float>(), alpha.data<float>(), x.numel(),
                                channels, inner, alpha.numel() > 1, stream_of(x));
}

void lattice_losses_cuda(Tensor& losses, Tensor& best, const Tensor& bases, const Tensor& wn, const Tensor& w_norms,
                         const LatticeSearchShape& shape) {
  kernels::lattice_losses(losses.data<float>(), best.data<float>(), bases.data<float>(), wn.data<float>(),
                          w_norms.data<float>(), shape, stream_of(wn));
}

void lattice_search_step_cuda(Tensor& bases, Tensor& best, Tensor& losses, const Tensor& wn, const Tensor& w_norms,
                              const LatticeSearchShape& shape, const LatticeNoise& noise) {
  kernels::lattice_search_step(bases.data<float>(), best.data<float>(), losses.data<float>(), wn.data<float>(),
                               w_norms.data<float>(), shape, noise, stream_of(wn));
}

}  // namespace bmc::ops
