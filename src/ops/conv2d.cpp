// conv2d: validation and dispatch, to the CUDA backend or to the CPU kernels of the instruction
// set in use (ops/conv2d_cpu.cpp).
#include "ops/conv2d.h"

#if BMC_HAS_CUDA
#include "ops/conv2d_cuda.h"
#endif

#include <cstdint>

#include "ops/check.h"
#include "ops/conv2d_cpu.h"

namespace bmc::ops {

namespace {

ConvGemm g_conv_gemm = ConvGemm::Own;

int checked_int(const char* op, const char* what, int64_t v) {
  BMC_CHECK(v <= INT32_MAX, op, ": ", what, " = ", v, " exceeds the int range");
  return static_cast<int>(v);
}

ConvDims check_conv(const char* op, const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dParams& p) {
  check_dtype(op, "x", x, DType::F32);
  check_dtype(op, "w", w, DType::F32);
  check_rank(op, "x", x, 4);
  check_rank(op, "w", w, 4);
  const Shape out = conv2d_output_shape(x.shape(), w.shape(), p);
  if (b.defined()) {
    check_dtype(op, "b", b, DType::F32);
    check_shape(op, "b", b, {w.dim(0)});
  }
  ConvDims d{};
  d.n = checked_int(op, "N", x.dim(0));
  d.k = checked_int(op, "K", w.dim(0));
  d.g = {checked_int(op, "C", x.dim(1)), checked_int(op, "H", x.dim(2)), checked_int(op, "W", x.dim(3)),
         checked_int(op, "R", w.dim(2)), checked_int(op, "S", w.dim(3)), static_cast<int>(out[2]),
         static_cast<int>(out[3]), p.stride_h, p.stride_w, p.pad_h, p.pad_w};
  checked_int(op, "C*R*S", d.taps());
  checked_int(op, "P*Q", d.g.col_cols());
  return d;
}

}  // namespace

void set_conv_gemm(ConvGemm gemm) { g_conv_gemm = gemm; }

Shape conv2d_output_shape(const Shape& x, const Shape& w, const Conv2dParams& p) {
  BMC_CHECK(x.rank() == 4 && w.rank() == 4, "conv2d: x and w must have rank 4 (N, C, H, W) and (K, C, R, S), got x ",
            x.str(), " and w ", w.str());
  BMC_CHECK(x[1] == w[1], "conv2d: x has ", x[1], " channels but w expects ", w[1], " (x ", x.str(), ", w ",
            w.str(), ")");
  BMC_CHECK(p.stride_h >= 1 && p.stride_w >= 1, "conv2d: strides must be >= 1, got (", p.stride_h, ", ",
            p.stride_w, ")");
  BMC_CHECK(p.pad_h >= 0 && p.pad_w >= 0, "conv2d: padding must be >= 0, got (", p.pad_h, ", ", p.pad_w, ")");
  BMC_CHECK(w[0] >= 1 && w[2] >= 1 && w[3] >= 1, "conv2d: w must have K, R, S >= 1, got ", w.str());
  const int64_t ph = x[2] + 2 * int64_t{p.pad_h} - w[2], pw = x[3] + 2 * int64_t{p.pad_w} - w[3];
  BMC_CHECK(ph >= 0 && pw >= 0, "conv2d: the ", w[2], "x", w[3], " filter is larger than the padded input (x ",
            x.str(), ", padding (", p.pad_h, ", ", p.pad_w, "))");
  return {x[0], w[0], ph / p.stride_h + 1, pw / p.stride_w + 1};
}

void conv2d_forward(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dParams& p,
                    const ConvEpilogue* epilogue) {
  const char* op = "conv2d_forward";
  const ConvDims d = check_conv(op, x, w, b, p);
  check_shape(op, "y", y, conv2d_output_shape(x.shape(), w.shape(), p));
  check_dtype(op, "y", y, DType::F32);
  check_same_device(op, {&y, &x, &w, &b});
  check_no_alias(op, y, x);
  check_no_alias(op, y, w);
  if (epilogue) {
    BMC_CHECK(!x.device().is_cuda(), op, ": an epilogue runs on the CPU backend only");
    BMC_CHECK(epilogue->affine.size() == static_cast<size_t>(d.k), op, ": the epilogue needs ", d.k,
              " affine maps, got ", epilogue->affine.size());
    BMC_CHECK(!epilogue->residual || epilogue->relu, op, ": an epilogue adds a residual only before a ReLU");
  }
  if (x.device().is_cuda()) return BMC_DISPATCH_CUDA(conv2d_forward_cuda(y, x, w, b, p));
  if (d.n == 0) return;
  BMC_CPU_ISA_TABLE(conv2d_cpu).forward(y.data<float>(), x.data<float>(), w.data<float>(),
                                         b.defined() ? b.data<float>() : nullptr, d, epilogue, g_conv_gemm);
}

void conv2d_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x, const Tensor& w,
                     const Conv2dParams& p) {
  const char* op = "conv2d_backward";
  const ConvDims d = check_conv(op, x, w, db, p);
  check_dtype(op, "dy", dy, DType::F32);
  check_shape(op, "dy", dy, conv2d_output_shape(x.shape(), w.shape(), p));
  if (dw.defined()) {
    check_dtype(op, "dw", dw, DType::F32);
    check_shape(op, "dw", dw, w.shape());
    check_no_alias(op, dw, w);
  }
  if (dx.defined()) {
    check_dtype(op, "dx", dx, DType::F32);
    check_shape(op, "dx", dx, x.shape());
    check_no_alias(op, dx, dy);
    check_no_alias(op, dx, x);
    check_no_alias(op, dx, w);
  }
  check_same_device(op, {&dx, &dw, &db, &dy, &x, &w});
  if (dy.device().is_cuda()) return BMC_DISPATCH_CUDA(conv2d_backward_cuda(dx, dw, db, dy, x, w, p));
  if (d.n == 0) return;
  const Conv2dCpu& cpu = BMC_CPU_ISA_TABLE(conv2d_cpu);
  cpu.backward(dx.defined() ? dx.data<float>() : nullptr, dw.defined() ? dw.data<float>() : nullptr,
               dy.data<float>(), x.data<float>(), w.data<float>(), d, g_conv_gemm);
  if (db.defined()) cpu.bias_grad(db.data<float>(), dy.data<float>(), d);
}

}  // namespace bmc::ops
