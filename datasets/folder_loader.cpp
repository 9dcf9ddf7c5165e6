#include "datasets/folder_loader.h"

namespace bmc::data {

FolderLoader::FolderLoader(ImageList list, StreamOptions options, Device device)
    : list_(std::move(list)), options_(std::move(options)), device_(device), x_uploader_(device), y_uploader_(device) {
  BMC_CHECK(!list_.entries.empty(), list_.dir, ": no images");
}

FolderLoader::~FolderLoader() = default;

int64_t FolderLoader::steps_per_epoch() const {
  const int64_t n = size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

void FolderLoader::batch(int64_t step, Tensor& x, Tensor& y) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!stream_ || step != expected_step_) {
    stream_.reset();  // join the old workers before starting new ones
    stream_ = std::make_unique<ImageStreamLoader>(list_, options_, step);
  }
  Tensor hx, hy;
  stream_->next(hx, hy);
  expected_step_ = step + 1;
  if (device_.is_cpu()) {
    x = std::move(hx);
    y = std::move(hy);
    return;
  }
  x_uploader_.upload(hx, x);
  y_uploader_.upload(hy, y);
}

}  // namespace bmc::data
