// The CPU convolution's entry points (ops/conv2d_cpu.cpp), one table per instruction set
// (core/cpu_isa.h); ops/conv2d.cpp validates and calls the one in use.
#pragma once

#include "core/cpu_isa.h"
#include "ops/conv2d.h"
#include "ops/conv_geometry.h"

namespace bmc::ops {

struct ConvDims {
  int n, k;
  ConvGeometry g;

  int64_t x_image() const { return int64_t{g.c} * g.h * g.w; }
  int64_t y_image() const { return int64_t{k} * g.p * g.q; }
  int64_t taps() const { return g.col_rows(); }  // C*R*S, the GEMM's inner dimension
  // The image is its own column matrix.
  bool pointwise() const {
    return g.r == 1 && g.s == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 0 && g.pad_w == 0;
  }
};

struct Conv2dCpu {
  // y (N, K, P, Q) written, then the epilogue (null: none) applied.
  void (*forward)(float* y, const float* x, const float* w, const float* b, const ConvDims& d,
                  const ConvEpilogue* epilogue, ConvGemm gemm);
  // dx overwritten and dw accumulated, each skipped when null.
  void (*backward)(float* dx, float* dw, const float* dy, const float* x, const float* w, const ConvDims& d,
                   ConvGemm gemm);
  // db (K) accumulated.
  void (*bias_grad)(float* db, const float* dy, const ConvDims& d);
};

BMC_DECLARE_CPU_ISA_TABLE(Conv2dCpu, conv2d_cpu)

}  // namespace bmc::ops
