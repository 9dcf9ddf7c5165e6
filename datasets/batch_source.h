// What the trainer, the evaluators and the calibration passes read batches from: batch(step) for
// any global step (so runs resume exactly), the number of steps per epoch, the device the batches
// land on. data::DataLoader serves in-memory datasets (MNIST, CIFAR); data::FolderLoader streams
// image folders too large to decode up front (ImageNet).
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace bmc::data {

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual int64_t steps_per_epoch() const = 0;
  virtual int64_t size() const = 0;  // examples per epoch
  virtual Device device() const = 0;
  // x: (B, C, H, W) f32 normalised, y: (B) i32, on device(); re-allocated when shapes differ.
  virtual void batch(int64_t step, Tensor& x, Tensor& y) const = 0;
};

}  // namespace bmc::data
