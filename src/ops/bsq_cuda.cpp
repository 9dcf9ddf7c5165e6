// BSQ on CUDA: our kernels (kernels/bsq.cu); the chunk partials of every sum live in pooled
// scratch tensors, so nothing is read back to the host.
#include <algorithm>

#include "core/cuda_context.h"
#include "kernels/bsq.h"
#include "ops/bsq_cuda.h"

namespace bmc::ops {
namespace {

StreamRef stream_of(const Tensor& t) { return cuda::context(t.device()).stream; }
int bits_of(const Tensor& planes) { return static_cast<int>(planes.dim(0)); }
int64_t elements_of(const Tensor& planes) { return planes.dim(0) == 0 ? 0 : planes.numel() / planes.dim(0); }

}  // namespace

void bsq_forward_cuda(Tensor& w, const Tensor& pos, const Tensor& neg, const Tensor& scale) {
  kernels::bsq_forward(w.data<float>(), pos.data<float>(), neg.data<float>(), scale.data<float>(), w.numel(),
                       bits_of(pos), stream_of(w));
}

void bsq_backward_cuda(Tensor& dpos, Tensor& dneg, Tensor& dscale, const Tensor& g, const Tensor* mask,
                       const Tensor& pos, const Tensor& neg, const Tensor& scale, const Tensor& coef, bool ste) {
  const int64_t n = g.numel();
  Tensor partials({std::max<int64_t>(1, fixed_sum_chunks(n))}, DType::F32, g.device());
  kernels::bsq_backward(dpos.data<float>(), dneg.data<float>(), partials.data<float>(), g.data<float>(),
                        mask ? mask->data<float>() : nullptr, pos.data<float>(), neg.data<float>(),
                        scale.data<float>(), coef.data<float>(), n, bits_of(pos), ste, stream_of(g));
  if (n > 0) kernels::fixed_sum(dscale.data<float>(), partials.data<float>(), fixed_sum_chunks(n), 1, true, stream_of(g));
}

void bsq_regularizer_cuda(Tensor& coef, Tensor& value, const Tensor& pos, const Tensor& neg, float weight) {
  const int bits = bits_of(pos);
  const int64_t n = elements_of(pos), chunks = fixed_sum_chunks(n);
  Tensor partials({std::max<int64_t>(1, chunks * bits)}, DType::F32, pos.device());
  Tensor squares = Tensor::zeros({std::max(1, bits)}, DType::F32, pos.device());
  kernels::bsq_plane_squares(partials.data<float>(), pos.data<float>(), neg.data<float>(), n, bits, stream_of(pos));
  if (chunks > 0) kernels::fixed_sum(squares.data<float>(), partials.data<float>(), chunks, bits, false, stream_of(pos));
  kernels::bsq_regularizer_coefficients(coef.data<float>(), value.data<float>(), squares.data<float>(), bits, weight,
                                        stream_of(pos));
}

void bsq_codes_cuda(Tensor& codes, const Tensor& pos, const Tensor& neg) {
  kernels::bsq_codes(codes.data<int32_t>(), pos.data<float>(), neg.data<float>(), codes.numel(), bits_of(pos),
                     stream_of(pos));
}

void bsq_write_codes_cuda(Tensor& pos, Tensor& neg, const Tensor& codes) {
  kernels::bsq_write_codes(pos.data<float>(), neg.data<float>(), codes.data<int32_t>(), codes.numel(), bits_of(pos),
                           stream_of(pos));
}

void bsq_latent_forward_cuda(Tensor& w, const Tensor& u, const Tensor& scale, int bits) {
  kernels::bsq_latent_forward(w.data<float>(), u.data<float>(), scale.data<float>(), u.numel(), bits, stream_of(u));
}

void bsq_latent_backward_cuda(Tensor& du, Tensor& dscale, const Tensor& g, const Tensor& u, const Tensor& scale,
                              int bits) {
  const int64_t n = u.numel();
  Tensor partials({std::max<int64_t>(1, fixed_sum_chunks(n))}, DType::F32, u.device());
  kernels::bsq_latent_backward(du.data<float>(), partials.data<float>(), g.data<float>(), u.data<float>(),
                               scale.data<float>(), n, bits, stream_of(u));
  if (n > 0) kernels::fixed_sum(dscale.data<float>(), partials.data<float>(), fixed_sum_chunks(n), 1, true, stream_of(u));
}

void bsq_act_forward_cuda(Tensor& y, const Tensor& x, const Tensor& clip, int bits) {
  const int64_t n = x.numel();
  Tensor max_abs({1 + fixed_sum_chunks(n)}, DType::F32, x.device());
  if (bits > 0) kernels::bsq_act_max(max_abs.data<float>(), x.data<float>(), clip.data<float>(), n, stream_of(x));
  kernels::bsq_act_forward(y.data<float>(), x.data<float>(), clip.data<float>(), max_abs.data<float>(), n, bits,
                           stream_of(x));
}

void bsq_act_backward_cuda(Tensor& dx, Tensor* dclip, const Tensor& dy, const Tensor& x, const Tensor& clip,
                           bool pact) {
  const int64_t n = x.numel(), chunks = fixed_sum_chunks(n);
  Tensor partials({std::max<int64_t>(1, chunks)}, DType::F32, x.device());
  kernels::bsq_act_backward(dx.data<float>(), dclip ? partials.data<float>() : nullptr, dy.data<float>(),
                            x.data<float>(), clip.data<float>(), n, pact, stream_of(x));
  if (dclip && chunks > 0) kernels::fixed_sum(dclip->data<float>(), partials.data<float>(), chunks, 1, true, stream_of(x));
}

}  // namespace bmc::ops
