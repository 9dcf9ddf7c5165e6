// Batches of an image folder streamed from disk (ImageNet and any class-folder dataset): the
// worker threads and bounded prefetch queue of image_stream_loader.h behind the BatchSource
// interface. Consecutive steps come from the prefetching stream; any other step (a resume, a new
// evaluation pass) restarts it there. Batches are a pure function of (list, options, step), so
// results do not depend on the number of workers. Batches for a CUDA device are uploaded through
// pinned staging buffers without waiting (core/pinned_uploader.h).
#pragma once

#include <memory>
#include <mutex>

#include "core/pinned_uploader.h"
#include "datasets/batch_source.h"
#include "datasets/image_stream_loader.h"

namespace bmc::data {

class FolderLoader : public BatchSource {
 public:
  FolderLoader(ImageList list, StreamOptions options, Device device);
  ~FolderLoader() override;

  int64_t steps_per_epoch() const override;
  int64_t size() const override { return static_cast<int64_t>(list_.entries.size()); }
  Device device() const override { return device_; }
  void batch(int64_t step, Tensor& x, Tensor& y) const override;

  const ImageList& list() const { return list_; }
  const StreamOptions& options() const { return options_; }
  Shard shard() const override { return options_.shard; }

 private:
  ImageList list_;
  StreamOptions options_;
  Device device_;
  mutable std::mutex mutex_;
  mutable std::unique_ptr<ImageStreamLoader> stream_;
  mutable int64_t expected_step_ = -1;
  mutable PinnedUploader x_uploader_, y_uploader_;
};

}  // namespace bmc::data
