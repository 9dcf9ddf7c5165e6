// Batches from an in-memory Dataset, addressed by global step so training can rewind and resume:
// batch(step) is a pure function of (dataset, options, step). Epoch e = step / steps_per_epoch
// visits the samples in the order of a Fisher-Yates permutation driven by Philox(seed, e); the
// crop/flip draws of a sample depend only on (seed, epoch, position in the epoch). On a CUDA
// device the u8 dataset is uploaded once, the epoch's order once per epoch, and each batch is one
// gather kernel (kernels/augment.cu);
// on the CPU the same core runs in an OpenMP loop, bit-identical for the same seed.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/tensor.h"
#include "datasets/batch_source.h"
#include "datasets/dataset.h"
#include "datasets/normalization.h"

namespace bmc::data {

// CropFlip: random crop with 4-pixel zero padding + horizontal flip (CIFAR); None: as stored.
enum class Augment { None, CropFlip };

constexpr int kCropPadding = 4;

struct LoaderOptions {
  int batch_size = 128;
  bool shuffle = true;
  bool drop_last = false;
  uint64_t seed = 0;
  Augment augment = Augment::None;
  Normalization norm;  // empty: mean 0, std 1 (pixels / 255)
  Shard shard;         // the rows of each batch this loader returns
};

// The order in which epoch `epoch` visits samples 0..n-1 (identity when shuffle is off).
std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, uint64_t epoch, bool shuffle);

class DataLoader : public BatchSource {
 public:
  // Keeps a pointer to `data` for the CPU path (it must outlive the loader); on CUDA it uploads
  // the u8 images and labels once.
  DataLoader(const Dataset& data, Device device, LoaderOptions options);
  ~DataLoader() override;
  DataLoader(DataLoader&&) noexcept;
  DataLoader& operator=(DataLoader&&) noexcept;

  int64_t steps_per_epoch() const override;
  int64_t size() const override { return size_; }
  Device device() const override { return device_; }
  const LoaderOptions& options() const { return options_; }
  Shard shard() const override { return options_.shard; }

  // x: (B, C, H, W) f32 normalised, y: (B) i32, both on the loader's device; B is the batch size
  // except for a smaller last batch when drop_last is off. Re-allocates x/y when their shape,
  // dtype or device differ.
  void batch(int64_t step, Tensor& x, Tensor& y) const override;

 private:
  struct OrderCache;
  const std::vector<int64_t>& order_for(uint64_t epoch) const;

  const Dataset* data_ = nullptr;
  Device device_;
  LoaderOptions options_;
  int64_t size_ = 0;
  Tensor device_images_, device_labels_;  // CUDA only
  std::unique_ptr<OrderCache> cache_;
};

}  // namespace bmc::data
