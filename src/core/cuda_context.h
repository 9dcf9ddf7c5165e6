// Per-device CUDA context: one stream and the cuBLAS and cuDNN handles bound to it. Every op on a
// device runs on that device's stream, which makes stream-ordered reuse of pooled memory safe.
// Created lazily on first use of a device; never a process-wide "current device" mode.
#pragma once

#include "core/cuda_handles.h"
#include "core/device.h"

namespace bmc::cuda {

struct Context {
  int device = 0;
  Stream stream;
  CublasHandle cublas;
  CudnnHandle cudnn;
  // When set, ops choose deterministic algorithms (e.g. cuDNN's backward convolutions) so that
  // repeated runs give bitwise-identical gradients, at some cost in speed.
  bool deterministic = false;
};

// The context of a CUDA device; also makes that device current on the calling thread.
Context& context(Device device);
void synchronize(Device device);

}  // namespace bmc::cuda
