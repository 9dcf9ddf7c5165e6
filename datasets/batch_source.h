// What the trainer, the evaluators and the calibration passes read batches from: batch(step) for
// any global step (so runs resume exactly), the number of steps per epoch, the device the batches
// land on. data::DataLoader serves in-memory datasets (MNIST, CIFAR); data::FolderLoader streams
// image folders too large to decode up front (ImageNet).
#pragma once

#include <cstdint>
#include <utility>

#include "core/tensor.h"

namespace bmc::data {

// The part of every global batch one rank of a data-parallel run reads: of a global batch of B
// rows, rank r takes rows [r * B / count, (r + 1) * B / count), so the ranks together see exactly
// the images one process with batch B sees, each augmented by its position in the epoch.
struct Shard {
  int rank = 0, count = 1;
  // [first, first + rows) of a global batch of `global_rows` rows.
  std::pair<int64_t, int64_t> rows(int64_t global_rows) const {
    const int64_t first = global_rows * rank / count;
    return {first, global_rows * (rank + 1) / count - first};
  }
};

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual int64_t steps_per_epoch() const = 0;
  virtual int64_t size() const = 0;  // examples per epoch
  virtual Device device() const = 0;
  // x: (B, C, H, W) f32 normalised, y: (B) i32, on device(); re-allocated when shapes differ.
  virtual void batch(int64_t step, Tensor& x, Tensor& y) const = 0;
  // Which shard of each global batch batch() returns (all of it unless data-parallel).
  virtual Shard shard() const { return {}; }
};

}  // namespace bmc::data
