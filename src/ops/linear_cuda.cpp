// Linear on CUDA: cuBLAS SGEMM (row-major tensors seen as transposed column-major matrices) and
// our channel-bias kernels.
#include "core/cuda_context.h"
#include "kernels/bias.h"
#include "ops/linear_cuda.h"

namespace bmc::ops {

void linear_forward_cuda(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b) {
  const int n = static_cast<int>(x.dim(0)), in = static_cast<int>(w.dim(1)), out = static_cast<int>(w.dim(0));
  if (n == 0) return;
  auto& ctx = cuda::context(x.device());
  const float one = 1.0f, zero = 0.0f;
  // Column-major view: Y_cm (out x n) = W_cm^T (out x in) * X_cm (in x n).
  BMC_CUBLAS_CHECK(cublasSgemm(ctx.cublas, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, &one,
                               w.data<float>(), in, x.data<float>(), in, &zero, y.data<float>(), out));
  if (b.defined()) kernels::add_channel_bias(y.data<float>(), b.data<float>(), n, out, 1, ctx.stream);
}

void linear_backward_cuda(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x,
                          const Tensor& w) {
  const int n = static_cast<int>(x.dim(0)), in = static_cast<int>(w.dim(1)), out = static_cast<int>(w.dim(0));
  if (n == 0) return;
  auto& ctx = cuda::context(dy.device());
  const float one = 1.0f, zero = 0.0f;
  if (dx.defined())  // dX_cm (in x n) = W_cm (in x out) * dY_cm (out x n)
    BMC_CUBLAS_CHECK(cublasSgemm(ctx.cublas, CUBLAS_OP_N, CUBLAS_OP_N, in, n, out, &one,
                                 w.data<float>(), in, dy.data<float>(), out, &zero, dx.data<float>(), in));
  // dW_cm (in x out) += X_cm (in x n) * dY_cm^T (n x out)
  BMC_CUBLAS_CHECK(cublasSgemm(ctx.cublas, CUBLAS_OP_N, CUBLAS_OP_T, in, out, n, &one, x.data<float>(),
                               in, dy.data<float>(), out, &one, dw.data<float>(), in));
  if (db.defined()) kernels::channel_bias_grad(db.data<float>(), dy.data<float>(), n, out, 1, ctx.stream);
}

}  // namespace bmc::ops
