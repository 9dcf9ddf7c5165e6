// Host-to-device uploads of batches through page-locked (pinned) staging buffers: the bytes are
// copied into one of two pinned buffers and the transfer is queued on the device's stream without
// waiting for it, so it overlaps the work already queued there. Before a buffer is refilled, the
// upload that last read it is waited for (two batches back: normally long done). Without CUDA, or
// for a CPU destination, an upload is a plain copy.
#pragma once

#include <cstddef>

#include "core/tensor.h"

namespace bmc {

class PinnedUploader {
 public:
  explicit PinnedUploader(Device device) : device_(device) {}
  ~PinnedUploader();
  PinnedUploader(const PinnedUploader&) = delete;
  PinnedUploader& operator=(const PinnedUploader&) = delete;

  // dst: re-allocated on the device when its shape or dtype differ from src (a CPU tensor).
  void upload(const Tensor& src, Tensor& dst);

 private:
  struct Slot {
    void* host = nullptr;   // pinned bytes
    size_t bytes = 0;
    void* event = nullptr;  // cudaEvent_t of the last upload that read `host`
  };
  Device device_;
  Slot slots_[2];
  int next_ = 0;
};

}  // namespace bmc
