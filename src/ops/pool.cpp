// Pooling: validation, dispatch and the CPU implementation (one (n, c) plane per OpenMP
// iteration; planes are independent, so results do not depend on the thread count).
#include "ops/pool.h"

#if BMC_HAS_CUDA
#include "ops/pool_cuda.h"
#endif

#include <algorithm>
#include <vector>

#include "core/vector_loops.h"
#include "ops/check.h"

namespace bmc::ops {

namespace {

struct PoolDims {
  int64_t planes;  // N * C
  int h, w, p, q;
  Pool2dParams k;

  int64_t in_plane() const { return int64_t{h} * w; }
  int64_t out_plane() const { return int64_t{p} * q; }
};

// Window of output (op, oq) clipped to the input: rows [h0, h1), columns [w0, w1).
struct Window {
  int h0, h1, w0, w1;
};

Window window_of(const PoolDims& d, int op, int oq) {
  const int hs = op * d.k.stride_h - d.k.pad_h, ws = oq * d.k.stride_w - d.k.pad_w;
  return {std::max(hs, 0), std::min(hs + d.k.kernel_h, d.h), std::max(ws, 0), std::min(ws + d.k.kernel_w, d.w)};
}

// True if v replaces the running maximum m: larger, or the first NaN (NaN propagates as in PyTorch).
inline bool beats(float v, float m) { return v > m || (v != v && m == m); }

// Flat index into the plane of the first maximum of the window (row-major window order).
int64_t argmax_in(const float* plane, const PoolDims& d, const Window& win) {
  int64_t best = int64_t{win.h0} * d.w + win.w0;
  for (int ih = win.h0; ih < win.h1; ++ih)
    for (int iw = win.w0; iw < win.w1; ++iw) {
      const int64_t i = int64_t{ih} * d.w + iw;
      if (beats(plane[i], plane[best])) best = i;
    }
  return best;
}

// Flat index of the first window element equal to v (NaN matches NaN); the argmax if none is.
int64_t first_equal(const float* plane, const PoolDims& d, const Window& win, float v) {
  for (int ih = win.h0; ih < win.h1; ++ih)
    for (int iw = win.w0; iw < win.w1; ++iw) {
      const int64_t i = int64_t{ih} * d.w + iw;
      if (plane[i] == v || (plane[i] != plane[i] && v != v)) return i;
    }
  return argmax_in(plane, d, win);
}

// One output row of max pooling. The outputs whose windows lie inside the row's columns are
// computed together: each window element in argmax_in's order (rows, then columns) against the
// running maxima of all of them, with the same rule, so the loop over the outputs vectorizes and
// every value is the one argmax_in picks. Windows clipped at the left or right edge go through
// argmax_in itself. `maxima` holds Q floats.
void max_pool_row(float* y_row, const float* plane, const PoolDims& d, int op, float* maxima) {
  const Pool2dParams& k = d.k;
  const int hs = op * k.stride_h - k.pad_h, h0 = std::max(hs, 0), h1 = std::min(hs + k.kernel_h, d.h);
  const int q_lo = std::min(d.q, (k.pad_w + k.stride_w - 1) / k.stride_w);
  const int last_inside = d.w + k.pad_w - k.kernel_w;  // the largest window start * stride inside
  const int q_hi = last_inside < 0 ? q_lo : std::clamp(last_inside / k.stride_w + 1, q_lo, d.q);
  for (int oq = 0; oq < d.q; ++oq) {
    if (oq == q_lo) oq = q_hi;
    if (oq >= d.q) break;
    y_row[oq] = plane[argmax_in(plane, d, window_of(d, op, oq))];
  }
  const int count = q_hi - q_lo, step = k.stride_w;
  if (count <= 0) return;
  const int w_first = q_lo * step - k.pad_w;
  const float* first = plane + int64_t{h0} * d.w + w_first;
  for (int i = 0; i < count; ++i) maxima[i] = first[i * step];
  for (int ih = h0; ih < h1; ++ih)
    for (int kw = 0; kw < k.kernel_w; ++kw) {
      const float* __restrict in = plane + int64_t{ih} * d.w + w_first + kw;
      float* __restrict m = maxima;
      for (int i = 0; i < count; ++i) {
        const float v = in[i * step];
        m[i] = beats(v, m[i]) ? v : m[i];
      }
    }
  std::copy(maxima, maxima + count, y_row + q_lo);
}

BMC_VECTOR_LOOPS void max_pool_forward_cpu(float* y, const float* x, const PoolDims& d) {
#pragma omp parallel if (d.planes * d.in_plane() > 65536)
  {
    std::vector<float> maxima(static_cast<size_t>(d.q));
#pragma omp for schedule(static)
    for (int64_t pl = 0; pl < d.planes; ++pl) {
      const float* xp = x + pl * d.in_plane();
      float* yp = y + pl * d.out_plane();
      for (int op = 0; op < d.p; ++op) max_pool_row(yp + int64_t{op} * d.q, xp, d, op, maxima.data());
    }
  }
}

// The gradient of each output goes to the first window element equal to the pooled value (the
// forward's argmax), accumulating where windows overlap. y is used so the choice matches the
// forward even if a caller passes a y produced elsewhere (e.g. the GPU).
BMC_VECTOR_LOOPS void max_pool_backward_cpu(float* dx, const float* dy, const float* x, const float* y, const PoolDims& d) {
#pragma omp parallel for schedule(static) if (d.planes * d.in_plane() > 65536)
  for (int64_t pl = 0; pl < d.planes; ++pl) {
    const float* xp = x + pl * d.in_plane();
    const float* yp = y + pl * d.out_plane();
    const float* dyp = dy + pl * d.out_plane();
    float* dxp = dx + pl * d.in_plane();
    std::fill(dxp, dxp + d.in_plane(), 0.0f);
    for (int op = 0; op < d.p; ++op)
      for (int oq = 0; oq < d.q; ++oq) {
        const Window win = window_of(d, op, oq);
        const int64_t o = int64_t{op} * d.q + oq;
        const int64_t at = first_equal(xp, d, win, yp[o]);
        dxp[at] += dyp[o];
      }
  }
}

// count_include_pad: the divisor is the full kernel area (floor-mode windows never extend past
// the padding, so this equals PyTorch's clipped-to-padded-input count).
BMC_VECTOR_LOOPS void avg_pool_forward_cpu(float* y, const float* x, const PoolDims& d) {
  const float area = static_cast<float>(d.k.kernel_h * d.k.kernel_w);
#pragma omp parallel for schedule(static) if (d.planes * d.in_plane() > 65536)
  for (int64_t pl = 0; pl < d.planes; ++pl) {
    const float* xp = x + pl * d.in_plane();
    float* yp = y + pl * d.out_plane();
    for (int op = 0; op < d.p; ++op)
      for (int oq = 0; oq < d.q; ++oq) {
        const Window win = window_of(d, op, oq);
        float sum = 0.0f;
        for (int ih = win.h0; ih < win.h1; ++ih)
          for (int iw = win.w0; iw < win.w1; ++iw) sum += xp[int64_t{ih} * d.w + iw];
        yp[int64_t{op} * d.q + oq] = sum / area;
      }
  }
}

BMC_VECTOR_LOOPS void avg_pool_backward_cpu(float* dx, const float* dy, const PoolDims& d) {
  const float area = static_cast<float>(d.k.kernel_h * d.k.kernel_w);
#pragma omp parallel for schedule(static) if (d.planes * d.in_plane() > 65536)
  for (int64_t pl = 0; pl < d.planes; ++pl) {
    const float* dyp = dy + pl * d.out_plane();
    float* dxp = dx + pl * d.in_plane();
    std::fill(dxp, dxp + d.in_plane(), 0.0f);
    for (int op = 0; op < d.p; ++op)
      for (int oq = 0; oq < d.q; ++oq) {
        const Window win = window_of(d, op, oq);
        const float g = dyp[int64_t{op} * d.q + oq] / area;
        for (int ih = win.h0; ih < win.h1; ++ih)
          for (int iw = win.w0; iw < win.w1; ++iw) dxp[int64_t{ih} * d.w + iw] += g;
      }
  }
}

BMC_VECTOR_LOOPS void global_avg_pool_forward_cpu(float* y, const float* x, int64_t planes, int64_t plane) {
#pragma omp parallel for schedule(static) if (planes * plane > 65536)
  for (int64_t pl = 0; pl < planes; ++pl) {
    const float* xp = x + pl * plane;
    float sum = 0.0f;
    for (int64_t i = 0; i < plane; ++i) sum += xp[i];
    y[pl] = sum / static_cast<float>(plane);
  }
}

BMC_VECTOR_LOOPS void global_avg_pool_backward_cpu(float* dx, const float* dy, int64_t planes, int64_t plane) {
#pragma omp parallel for schedule(static) if (planes * plane > 65536)
  for (int64_t pl = 0; pl < planes; ++pl) {
    const float g = dy[pl] / static_cast<float>(plane);
    std::fill(dx + pl * plane, dx + (pl + 1) * plane, g);
  }
}

PoolDims check_pool(const char* op, const Tensor& x, const Pool2dParams& p) {
  check_dtype(op, "x", x, DType::F32);
  const Shape out = pool2d_output_shape(x.shape(), p);
  BMC_CHECK(x.dim(2) <= INT32_MAX && x.dim(3) <= INT32_MAX, op, ": spatial size exceeds the int range: ",
            x.describe());
  return {x.dim(0) * x.dim(1), static_cast<int>(x.dim(2)), static_cast<int>(x.dim(3)), static_cast<int>(out[2]),
          static_cast<int>(out[3]), p};
}

void check_output(const char* op, const char* name, const Tensor& t, const Shape& shape) {
  check_dtype(op, name, t, DType::F32);
  check_shape(op, name, t, shape);
}

}  // namespace

Shape pool2d_output_shape(const Shape& x, const Pool2dParams& p) {
  BMC_CHECK(x.rank() == 4, "pool2d: x must have rank 4 (N, C, H, W), got ", x.str());
  BMC_CHECK(p.kernel_h >= 1 && p.kernel_w >= 1, "pool2d: kernel must be >= 1, got (", p.kernel_h, ", ",
            p.kernel_w, ")");
  BMC_CHECK(p.stride_h >= 1 && p.stride_w >= 1, "pool2d: strides must be >= 1, got (", p.stride_h, ", ",
            p.stride_w, ")");
  // As PyTorch: padding at most half the kernel, so every window overlaps the input.
  BMC_CHECK(p.pad_h >= 0 && p.pad_w >= 0 && 2 * p.pad_h <= p.kernel_h && 2 * p.pad_w <= p.kernel_w,
            "pool2d: padding must be in [0, kernel/2], got padding (", p.pad_h, ", ", p.pad_w, ") for kernel (",
            p.kernel_h, ", ", p.kernel_w, ")");
  const int64_t ph = x[2] + 2 * int64_t{p.pad_h} - p.kernel_h, pw = x[3] + 2 * int64_t{p.pad_w} - p.kernel_w;
  BMC_CHECK(ph >= 0 && pw >= 0, "pool2d: the ", p.kernel_h, "x", p.kernel_w, " window is larger than the padded input ",
            x.str());
  return {x[0], x[1], ph / p.stride_h + 1, pw / p.stride_w + 1};
}

void max_pool2d_forward(Tensor& y, const Tensor& x, const Pool2dParams& p) {
  const char* op = "max_pool2d_forward";
  const PoolDims d = check_pool(op, x, p);
  check_output(op, "y", y, pool2d_output_shape(x.shape(), p));
  check_same_device(op, {&y, &x});
  check_no_alias(op, y, x);
  if (x.device().is_cuda()) return BMC_DISPATCH_CUDA(max_pool2d_forward_cuda(y, x, p));
  max_pool_forward_cpu(y.data<float>(), x.data<float>(), d);
}

void max_pool2d_backward(Tensor& dx, const Tensor& dy, const Tensor& x, const Tensor& y, const Pool2dParams& p) {
  const char* op = "max_pool2d_backward";
  const PoolDims d = check_pool(op, x, p);
  const Shape out = pool2d_output_shape(x.shape(), p);
  check_output(op, "dy", dy, out);
  check_output(op, "y", y, out);
  check_output(op, "dx", dx, x.shape());
  check_same_device(op, {&dx, &dy, &x, &y});
  check_no_alias(op, dx, x);
  check_no_alias(op, dx, dy);
  if (x.device().is_cuda()) return BMC_DISPATCH_CUDA(max_pool2d_backward_cuda(dx, dy, x, y, p));
  max_pool_backward_cpu(dx.data<float>(), dy.data<float>(), x.data<float>(), y.data<float>(), d);
}

void avg_pool2d_forward(Tensor& y, const Tensor& x, const Pool2dParams& p) {
  const char* op = "avg_pool2d_forward";
  const PoolDims d = check_pool(op, x, p);
  check_output(op, "y", y, pool2d_output_shape(x.shape(), p));
  check_same_device(op, {&y, &x});
  check_no_alias(op, y, x);
  if (x.device().is_cuda()) return BMC_DISPATCH_CUDA(avg_pool2d_forward_cuda(y, x, p));
  avg_pool_forward_cpu(y.data<float>(), x.data<float>(), d);
}

void avg_pool2d_backward(Tensor& dx, const Tensor& dy, const Pool2dParams& p) {
  const char* op = "avg_pool2d_backward";
  const PoolDims d = check_pool(op, dx, p);
  check_output(op, "dy", dy, pool2d_output_shape(dx.shape(), p));
  check_same_device(op, {&dx, &dy});
  check_no_alias(op, dx, dy);
  if (dx.device().is_cuda()) return BMC_DISPATCH_CUDA(avg_pool2d_backward_cuda(dx, dy, p));
  avg_pool_backward_cpu(dx.data<float>(), dy.data<float>(), d);
}

namespace {

// The (N, C, H, W) map and its (N, C) pooled counterpart of a global average pool.
void check_global_pool(const char* op, const char* map_name, const Tensor& map, const char* pooled_name,
                       const Tensor& pooled) {
  check_dtype(op, map_name, map, DType::F32);
  check_rank(op, map_name, map, 4);
  BMC_CHECK(map.dim(2) > 0 && map.dim(3) > 0, op, ": ", map_name, " must have a non-empty (H, W), got ",
            map.describe());
  check_output(op, pooled_name, pooled, {map.dim(0), map.dim(1)});
  check_same_device(op, {&map, &pooled});
}

}  // namespace

void global_avg_pool_forward(Tensor& y, const Tensor& x) {
  const char* op = "global_avg_pool_forward";
  check_global_pool(op, "x", x, "y", y);
  check_no_alias(op, y, x);
  if (x.device().is_cuda()) return BMC_DISPATCH_CUDA(global_avg_pool_forward_cuda(y, x));
  global_avg_pool_forward_cpu(y.data<float>(), x.data<float>(), x.dim(0) * x.dim(1), x.dim(2) * x.dim(3));
}

void global_avg_pool_backward(Tensor& dx, const Tensor& dy) {
  const char* op = "global_avg_pool_backward";
  check_global_pool(op, "dx", dx, "dy", dy);
  check_no_alias(op, dx, dy);
  if (dx.device().is_cuda()) return BMC_DISPATCH_CUDA(global_avg_pool_backward_cuda(dx, dy));
  global_avg_pool_backward_cpu(dx.data<float>(), dy.data<float>(), dx.dim(0) * dx.dim(1), dx.dim(2) * dx.dim(3));
}

}  // namespace bmc::ops
