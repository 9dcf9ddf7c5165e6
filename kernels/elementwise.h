// Launchers for kernels/elementwise.cu (see there for the math). Pointers may alias exactly
// (y == a, y == x): every element is read before it is written by the same thread.
#pragma once

#include <cstdint>

#include "kernels/stream.h"

namespace bmc::BMC_KNS {

// y[i] = a[i] + b[i]
void add(float* y, const float* a, const float* b, int64_t n, StreamRef stream, int grid_limit = 0);
// y[i] = y[i] + alpha * x[i]
void axpy(float* y, float alpha, const float* x, int64_t n, StreamRef stream, int grid_limit = 0);
// y[i] = y[i] * alpha
void scale(float* y, float alpha, int64_t n, StreamRef stream, int grid_limit = 0);
// y[i] = clamp(y[i], lo, hi)
void clamp(float* y, float lo, float hi, int64_t n, StreamRef stream, int grid_limit = 0);
// y[i] = y[i] + v: counters that live on the device, so a replayed step advances them too
void add_i64(int64_t* y, int64_t v, int64_t n, StreamRef stream, int grid_limit = 0);

}  // namespace bmc::BMC_KNS
