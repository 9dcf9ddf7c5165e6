#include "datasets/data_loader.h"

#include <algorithm>
#include <mutex>
#include <utility>

#include "kernels/augment.h"
#include "ops/check.h"

namespace bmc::data {

#if BMC_HAS_CUDA
void augment_batch_cuda(kernels::AugmentBatchArgs args, Device device);
#endif

// The permutation of the most recent epoch: consecutive steps reuse it instead of reshuffling.
struct DataLoader::OrderCache {
  std::mutex mutex;
  uint64_t epoch = 0;
  bool valid = false;
  std::vector<int64_t> order;
  // CUDA: the same order on the device, uploaded once per epoch, so a step uploads nothing.
  Tensor device_order;
  uint64_t device_epoch = 0;
  bool device_valid = false;
};

namespace {

// Same core as the kernel, looped on the host (one sample per OpenMP iteration).
void augment_batch_cpu(const kernels::AugmentBatchArgs& a) {
  const int64_t plane = a.height * a.width, per_sample = a.channels * plane;
#pragma omp parallel for schedule(static) if (a.batch * per_sample > 32768)
  for (int64_t b = 0; b < a.batch; ++b) {
    const int64_t src = a.indices[b];
    const SampleTransform t =
        sample_transform(a.seed, a.epoch, a.first_position + static_cast<uint64_t>(b), a.pad, a.crop_flip);
    const uint8_t* image = a.images + src * per_sample;
    float* out = a.x + b * per_sample;
    for (int64_t c = 0; c < a.channels; ++c)
      for (int64_t y = 0; y < a.height; ++y)
        for (int64_t x = 0; x < a.width; ++x)
          out[(c * a.height + y) * a.width + x] = augmented_pixel(image, c, y, x, a.height, a.width, t, a.norm);
    a.y[b] = a.labels[src];
  }
}

void ensure_tensor(Tensor& t, const Shape& shape, DType dtype, Device device) {
  if (!t.defined() || t.shape() != shape || t.dtype() != dtype || t.device() != device) t = Tensor(shape, dtype, device);
}

}  // namespace

std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, uint64_t epoch, bool shuffle) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  if (!shuffle) return order;
  BMC_CHECK(n < (int64_t(1) << 32) && epoch < (uint64_t(1) << 32), "epoch_order: ", n, " samples / epoch ", epoch,
            " beyond the 32-bit Philox counters");
  // Fisher-Yates from the top: position i swaps with a uniform j in [0, i].
  for (int64_t i = n - 1; i > 0; --i) {
    const uint32_t r = philox_u32(seed, static_cast<uint64_t>(i), kShuffleStream, static_cast<uint32_t>(epoch));
    std::swap(order[i], order[u32_to_range(r, static_cast<uint32_t>(i + 1))]);
  }
  return order;
}

DataLoader::DataLoader(const Dataset& data, Device device, LoaderOptions options)
    : data_(&data), device_(device), options_(std::move(options)), cache_(std::make_unique<OrderCache>()) {
  validate_dataset(data, "DataLoader(" + data.name + ")");
  size_ = data.size();
  BMC_CHECK(options_.batch_size > 0, "DataLoader: batch_size must be positive, got ", options_.batch_size);
  BMC_CHECK(data.channels() <= kAugmentMaxChannels, "DataLoader: at most ", kAugmentMaxChannels,
            " channels supported, dataset '", data.name, "' has ", data.channels());
  if (options_.norm.mean.empty() && options_.norm.std.empty()) {
    options_.norm.mean.assign(static_cast<size_t>(data.channels()), 0.0f);
    options_.norm.std.assign(static_cast<size_t>(data.channels()), 1.0f);
  }
  BMC_CHECK(static_cast<int64_t>(options_.norm.mean.size()) == data.channels() &&
                static_cast<int64_t>(options_.norm.std.size()) == data.channels(),
            "DataLoader: normalisation has ", options_.norm.mean.size(), " means and ", options_.norm.std.size(),
            " stds for ", data.channels(), " channels of '", data.name, "'");
  for (float s : options_.norm.std) BMC_CHECK(s > 0.0f, "DataLoader: normalisation std must be positive, got ", s);
  BMC_CHECK(options_.augment == Augment::None || (data.height() > 0 && data.width() > 0),
            "DataLoader: cannot crop empty images");
  if (device_.is_cuda()) {
    BMC_CHECK(cuda_device_count() > 0, "DataLoader: CUDA backend unavailable: ", cuda_unavailable_reason());
    device_images_ = data.images.to(device_);
    device_labels_ = data.labels.to(device_);
  }
}

DataLoader::~DataLoader() = default;
DataLoader::DataLoader(DataLoader&&) noexcept = default;
DataLoader& DataLoader::operator=(DataLoader&&) noexcept = default;

int64_t DataLoader::steps_per_epoch() const {
  const int64_t b = options_.batch_size;
  return options_.drop_last ? size_ / b : (size_ + b - 1) / b;
}

const std::vector<int64_t>& DataLoader::order_for(uint64_t epoch) const {
  // Callers hold cache_->mutex.
  if (!cache_->valid || cache_->epoch != epoch) {
    cache_->order = epoch_order(size_, options_.seed, epoch, options_.shuffle);
    cache_->epoch = epoch;
    cache_->valid = true;
  }
  return cache_->order;
}

void DataLoader::batch(int64_t step, Tensor& x, Tensor& y) const {
  const int64_t spe = steps_per_epoch();
  BMC_CHECK(spe > 0, "DataLoader(", data_->name, "): no full batch of ", options_.batch_size, " in ", size_,
            " samples", options_.drop_last ? " with drop_last" : "");
  BMC_CHECK(step >= 0, "DataLoader::batch: step must be non-negative, got ", step);
  const uint64_t epoch = static_cast<uint64_t>(step / spe);
  const int64_t global_begin = (step % spe) * options_.batch_size;
  const auto [shard_first, count] = options_.shard.rows(std::min<int64_t>(options_.batch_size, size_ - global_begin));
  const int64_t begin = global_begin + shard_first;
  std::vector<int64_t> indices;
  const int64_t* device_indices = nullptr;
  {
    std::lock_guard<std::mutex> lock(cache_->mutex);
    const auto& order = order_for(epoch);
    if (device_.is_cuda()) {
      if (!cache_->device_valid || cache_->device_epoch != epoch) {
        cache_->device_order = Tensor::from_vector<int64_t>(order, {size_}, device_);
        cache_->device_epoch = epoch;
        cache_->device_valid = true;
      }
      device_indices = cache_->device_order.data<int64_t>() + begin;
    } else {
      indices.assign(order.begin() + begin, order.begin() + begin + count);
    }
  }
  const int64_t c = data_->channels(), h = data_->height(), w = data_->width();
  ensure_tensor(x, {count, c, h, w}, DType::F32, device_);
  ensure_tensor(y, {count}, DType::I32, device_);

  kernels::AugmentBatchArgs args{};
  args.x = x.data<float>();
  args.y = y.data<int32_t>();
  args.batch = count;
  args.channels = c;
  args.height = h;
  args.width = w;
  args.seed = options_.seed;
  args.epoch = static_cast<uint32_t>(epoch);
  args.first_position = static_cast<uint64_t>(begin);
  args.pad = kCropPadding;
  args.crop_flip = options_.augment == Augment::CropFlip;
  for (int64_t i = 0; i < c; ++i) {
    args.norm.mean[i] = options_.norm.mean[i];
    args.norm.std[i] = options_.norm.std[i];
  }
  if (device_.is_cuda()) {
    args.images = device_images_.data<uint8_t>();
    args.labels = device_labels_.data<int32_t>();
    args.indices = device_indices;
    return BMC_DISPATCH_CUDA(augment_batch_cuda(args, device_));
  }
  args.images = data_->images.data<uint8_t>();
  args.labels = data_->labels.data<int32_t>();
  args.indices = indices.data();
  augment_batch_cpu(args);
}

}  // namespace bmc::data
