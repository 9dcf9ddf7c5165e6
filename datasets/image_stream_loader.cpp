#include "datasets/image_stream_loader.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/log.h"
#include "datasets/data_loader.h"
#include "datasets/image.h"

namespace bmc::data {

ImageStreamLoader::ImageStreamLoader(ImageList list, StreamOptions options, int64_t start_step)
    : list_(std::move(list)), options_(std::move(options)), next_to_produce_(start_step), next_to_consume_(start_step) {
  BMC_CHECK(!list_.entries.empty(), "ImageStreamLoader: ", list_.dir, " holds no images");
  BMC_CHECK(options_.batch_size > 0 && options_.workers > 0 && options_.queue_depth > 0,
            "ImageStreamLoader: batch_size, workers and queue_depth must be positive, got ", options_.batch_size, ", ",
            options_.workers, ", ", options_.queue_depth);
  BMC_CHECK(options_.crop_size > 0 && (options_.train || options_.resize_size >= options_.crop_size),
            "ImageStreamLoader: need 0 < crop_size <= resize_size");
  BMC_CHECK(start_step >= 0, "ImageStreamLoader: start step must be non-negative");
  BMC_CHECK(steps_per_epoch() > 0, "ImageStreamLoader: no full batch in ", list_.entries.size(), " images");
  if (options_.norm.mean.empty()) options_.norm = standard_normalization("imagenet");
  BMC_CHECK(options_.norm.mean.size() == 3 && options_.norm.std.size() == 3,
            "ImageStreamLoader: normalisation needs 3 means and stds");
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ImageStreamLoader::~ImageStreamLoader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (auto& t : workers_) t.join();
}

int64_t ImageStreamLoader::steps_per_epoch() const {
  const int64_t n = static_cast<int64_t>(list_.entries.size()), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

ImageStreamLoader::Batch ImageStreamLoader::make_batch(int64_t step) const {
  const int64_t spe = steps_per_epoch(), n = static_cast<int64_t>(list_.entries.size());
  const uint64_t epoch = static_cast<uint64_t>(step / spe);
  const int64_t global_begin = (step % spe) * options_.batch_size;
  const auto [shard_first, count] = options_.shard.rows(std::min<int64_t>(options_.batch_size, n - global_begin));
  const int64_t begin = global_begin + shard_first;
  const std::vector<int64_t> order = epoch_order(n, options_.seed, epoch, options_.shuffle);
  const int s = options_.crop_size;
  const size_t per_image = size_t(3) * s * s;
  Batch out;
  out.x.resize(per_image * count);
  out.y.resize(count);
  std::vector<uint8_t> chw(per_image);
  for (int64_t b = 0; b < count; ++b) {
    const ImageEntry& e = list_.entries[order[begin + b]];
    out.y[b] = e.label;
    try {
      Image img = load_image_rgb(e.path);
      if (options_.train) {
        const CropWindow w =
            random_resized_crop_window(img.width, img.height, options_.seed, epoch, static_cast<uint64_t>(begin + b));
        img = resize(crop(img, w.x, w.y, w.w, w.h), s, s);
        if (w.flip) flip_horizontal(img);
      } else {
        img = center_crop(resize_shorter_side(img, options_.resize_size), s);
      }
      to_chw(img, chw.data());
    } catch (const Error& err) {
      if (!options_.skip_bad_images) {
        out.error = err.message();
        return out;
      }
      log_warning("skipping bad image (black in its batch): " + err.message());
      std::fill(chw.begin(), chw.end(), 0);
    }
    for (size_t i = 0; i < per_image; ++i) {
      const size_t c = i / (size_t(s) * s);
      out.x[b * per_image + i] = (static_cast<float>(chw[i]) / 255.0f - options_.norm.mean[c]) / options_.norm.std[c];
    }
  }
  return out;
}

void ImageStreamLoader::worker_loop() {
  for (;;) {
    int64_t step;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      // Bounded queue: never run more than queue_depth batches ahead of the consumer.
      changed_.wait(lock, [&] { return stopping_ || next_to_produce_ < next_to_consume_ + options_.queue_depth; });
      if (stopping_) return;
      step = next_to_produce_++;
    }
    Batch batch = make_batch(step);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.emplace(step, std::move(batch));
    }
    changed_.notify_all();
  }
}

namespace {

void to_tensors(std::vector<float>& xs, std::vector<int32_t>& ys, int s, Tensor& x, Tensor& y) {
  const int64_t b = static_cast<int64_t>(ys.size());
  const Shape xs_shape{b, 3, s, s};
  if (!x.defined() || x.shape() != xs_shape || x.dtype() != DType::F32 || !x.device().is_cpu()) x = Tensor(xs_shape);
  if (!y.defined() || y.shape() != Shape{b} || y.dtype() != DType::I32 || !y.device().is_cpu())
    y = Tensor({b}, DType::I32);
  std::memcpy(x.raw(), xs.data(), xs.size() * sizeof(float));
  std::memcpy(y.raw(), ys.data(), ys.size() * sizeof(int32_t));
}

}  // namespace

void ImageStreamLoader::next(Tensor& x, Tensor& y) {
  Batch batch;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return ready_.count(next_to_consume_) > 0; });
    auto it = ready_.find(next_to_consume_);
    batch = std::move(it->second);
    ready_.erase(it);
    ++next_to_consume_;
  }
  changed_.notify_all();
  BMC_CHECK(batch.error.empty(), batch.error, " (pass --skip-bad-images to skip bad images with a warning)");
  to_tensors(batch.x, batch.y, options_.crop_size, x, y);
}

void ImageStreamLoader::batch_at(int64_t step, Tensor& x, Tensor& y) const {
  Batch batch = make_batch(step);
  BMC_CHECK(batch.error.empty(), batch.error, " (pass --skip-bad-images to skip bad images with a warning)");
  to_tensors(batch.x, batch.y, options_.crop_size, x, y);
}

}  // namespace bmc::data
