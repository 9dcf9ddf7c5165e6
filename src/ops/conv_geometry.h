// The sizes of one convolution on one image, as the CPU kernels take them.
#pragma once

#include <cstdint>

namespace bmc::ops {

struct ConvGeometry {
  int c, h, w;        // input channels and size
  int r, s;           // filter size
  int p, q;           // output size
  int stride_h, stride_w, pad_h, pad_w;

  int64_t col_rows() const { return int64_t{c} * r * s; }
  int64_t col_cols() const { return int64_t{p} * q; }
};

}  // namespace bmc::ops
