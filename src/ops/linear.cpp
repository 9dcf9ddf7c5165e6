#include "ops/linear.h"

#if BMC_HAS_CUDA
#include "ops/linear_cuda.h"
#endif

#include <cblas.h>

#include "ops/check.h"

namespace bmc::ops {

namespace {

void linear_forward_cpu(float* y, const float* x, const float* w, const float* b, int n, int in, int out) {
  if (n == 0) return;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in, 1.0f, x, in, w, in, 0.0f, y, out);
  if (!b) return;
#pragma omp parallel for schedule(static) if (int64_t{n} * out > 65536)
  for (int i = 0; i < n; ++i)
    for (int o = 0; o < out; ++o) y[int64_t{i} * out + o] += b[o];
}

void linear_backward_cpu(float* dx, float* dw, float* db, const float* dy, const float* x,
                         const float* w, int n, int in, int out) {
  if (n == 0) return;
  if (dx) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in, out, 1.0f, dy, out, w, in, 0.0f, dx, in);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, n, 1.0f, dy, out, x, in, 1.0f, dw, in);
  if (!db) return;
  for (int i = 0; i < n; ++i)
    for (int o = 0; o < out; ++o) db[o] += dy[int64_t{i} * out + o];
}

struct LinearDims {
  int n, in, out;
};

LinearDims check_linear(const char* op, const Tensor& x, const Tensor& w, const Tensor& b) {
  check_dtype(op, "x", x, DType::F32);
  check_dtype(op, "w", w, DType::F32);
  check_rank(op, "x", x, 2);
  check_rank(op, "w", w, 2);
  BMC_CHECK(x.dim(1) == w.dim(1), op, ": x has ", x.dim(1), " features but w expects ", w.dim(1),
            " (x ", x.describe(), ", w ", w.describe(), ")");
  if (b.defined()) {
    check_dtype(op, "b", b, DType::F32);
    check_shape(op, "b", b, {w.dim(0)});
  }
  BMC_CHECK(x.dim(0) <= INT32_MAX && w.dim(0) <= INT32_MAX && w.dim(1) <= INT32_MAX, op,
            ": dimensions exceed the BLAS int range");
  return {static_cast<int>(x.dim(0)), static_cast<int>(w.dim(1)), static_cast<int>(w.dim(0))};
}

}  // namespace

void linear_forward(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b) {
  const LinearDims d = check_linear("linear_forward", x, w, b);
  check_shape("linear_forward", "y", y, {d.n, d.out});
  check_same_device("linear_forward", {&y, &x, &w, &b});
  check_no_alias("linear_forward", y, x);
  if (x.device().is_cuda()) return BMC_DISPATCH_CUDA(linear_forward_cuda(y, x, w, b));
  linear_forward_cpu(y.data<float>(), x.data<float>(), w.data<float>(),
                     b.defined() ? b.data<float>() : nullptr, d.n, d.in, d.out);
}

void linear_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x,
                     const Tensor& w) {
  const LinearDims d = check_linear("linear_backward", x, w, db);
  check_shape("linear_backward", "dy", dy, {d.n, d.out});
  check_shape("linear_backward", "dw", dw, w.shape());
  if (dx.defined()) check_shape("linear_backward", "dx", dx, x.shape());
  check_same_device("linear_backward", {&dx, &dw, &db, &dy, &x, &w});
  if (dy.device().is_cuda()) return BMC_DISPATCH_CUDA(linear_backward_cuda(dx, dw, db, dy, x, w));
  linear_backward_cpu(dx.defined() ? dx.data<float>() : nullptr, dw.data<float>(),
                      db.defined() ? db.data<float>() : nullptr, dy.data<float>(), x.data<float>(),
                      w.data<float>(), d.n, d.in, d.out);
}

}  // namespace bmc::ops
