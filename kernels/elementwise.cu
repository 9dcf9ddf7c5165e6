// Elementwise add (y = a + b, 12 bytes per element), axpy (y += alpha * x, 12 bytes per element)
// scale (y *= alpha) and clamp (y = clamp(y, lo, hi)), 8 bytes per element, and integer counters
// (y += v): grid-stride loops over the cores of kernels/elementwise.cuh, so results never depend
// on the grid and match the CPU loops bitwise.
#include "kernels/device_compat.cuh"
#include "kernels/elementwise.cuh"
#include "kernels/elementwise.h"
#include "kernels/launch.cuh"

namespace bmc::BMC_KNS {
namespace {

constexpr int kElementwiseBlock = 256;

// --- kernels

__global__ void add_kernel(float* y, const float* a, const float* b, int64_t n) {
  BMC_GRID_STRIDE_LOOP(i, n) { y[i] = add_value(a[i], b[i]); }
}

__global__ void axpy_kernel(float* y, float alpha, const float* x, int64_t n) {
  BMC_GRID_STRIDE_LOOP(i, n) { y[i] = axpy_value(y[i], alpha, x[i]); }
}

__global__ void scale_kernel(float* y, float alpha, int64_t n) {
  BMC_GRID_STRIDE_LOOP(i, n) { y[i] = scale_value(y[i], alpha); }
}

__global__ void clamp_kernel(float* y, float lo, float hi, int64_t n) {
  BMC_GRID_STRIDE_LOOP(i, n) { y[i] = clamp_value(y[i], lo, hi); }
}

__global__ void add_i64_kernel(int64_t* y, int64_t v, int64_t n) {
  BMC_GRID_STRIDE_LOOP(i, n) { y[i] += v; }
}

}  // namespace

// --- launchers

void add(float* y, const float* a, const float* b, int64_t n, StreamRef stream, int grid_limit) {
  if (n == 0) return;
  launch("add_kernel", add_kernel, grid_for(n, kElementwiseBlock, grid_limit), kElementwiseBlock, stream, y,
         a, b, n);
}

void axpy(float* y, float alpha, const float* x, int64_t n, StreamRef stream, int grid_limit) {
  if (n == 0) return;
  launch("axpy_kernel", axpy_kernel, grid_for(n, kElementwiseBlock, grid_limit), kElementwiseBlock, stream, y,
         alpha, x, n);
}

void scale(float* y, float alpha, int64_t n, StreamRef stream, int grid_limit) {
  if (n == 0) return;
  launch("scale_kernel", scale_kernel, grid_for(n, kElementwiseBlock, grid_limit), kElementwiseBlock, stream,
         y, alpha, n);
}

void clamp(float* y, float lo, float hi, int64_t n, StreamRef stream, int grid_limit) {
  if (n == 0) return;
  launch("clamp_kernel", clamp_kernel, grid_for(n, kElementwiseBlock, grid_limit), kElementwiseBlock, stream,
         y, lo, hi, n);
}

void add_i64(int64_t* y, int64_t v, int64_t n, StreamRef stream, int grid_limit) {
  if (n == 0) return;
  launch("add_i64_kernel", add_i64_kernel, grid_for(n, kElementwiseBlock, grid_limit), kElementwiseBlock, stream,
         y, v, n);
}

}  // namespace bmc::BMC_KNS
