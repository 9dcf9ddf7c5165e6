// Streaming batches from an image folder too large to decode up front (ImageNet): worker threads
// decode and transform whole batches ahead of the consumer into a bounded queue. Each batch is a
// pure function of (list, options, step), so the order and content are the same for any worker
// count, and a loader can start (resume) at any step.
//   train: RandomResizedCrop(size, scale 0.08-1, ratio 3/4-4/3) + horizontal flip
//   eval:  resize shorter side to resize_size + center crop crop_size
// then per-channel normalisation, as f32 (B, 3, S, S) on the CPU; y is i32 (B).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "core/tensor.h"
#include "datasets/batch_source.h"
#include "datasets/image_folder.h"
#include "datasets/normalization.h"

namespace bmc::data {

struct StreamOptions {
  int batch_size = 256;
  bool train = true;  // RandomResizedCrop + flip; false: resize + center crop
  int crop_size = 224, resize_size = 256;
  bool shuffle = true;
  bool drop_last = false;
  uint64_t seed = 0;
  int workers = 4;
  int queue_depth = 4;  // batches decoded ahead of the consumer
  bool skip_bad_images = false;  // a bad image becomes a black image with a warning instead of an error
  Normalization norm;            // empty: ImageNet statistics
  Shard shard;                   // the rows of each batch this loader returns
};

class ImageStreamLoader {
 public:
  ImageStreamLoader(ImageList list, StreamOptions options, int64_t start_step = 0);
  ~ImageStreamLoader();  // stops and joins the workers
  ImageStreamLoader(const ImageStreamLoader&) = delete;
  ImageStreamLoader& operator=(const ImageStreamLoader&) = delete;

  int64_t steps_per_epoch() const;
  // The batch of the next step (start_step, start_step + 1, ...); rethrows a worker's error.
  void next(Tensor& x, Tensor& y);
  // The batch of `step`, computed on the calling thread (reference for tests and resumption).
  void batch_at(int64_t step, Tensor& x, Tensor& y) const;

 private:
  struct Batch {
    std::vector<float> x;
    std::vector<int32_t> y;
    std::string error;
  };
  Batch make_batch(int64_t step) const;
  void worker_loop();

  ImageList list_;
  StreamOptions options_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<int64_t, Batch> ready_;
  int64_t next_to_produce_, next_to_consume_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace bmc::data
