// Host-to-device uploads through page-locked (pinned) staging buffers: the bytes are copied into
// the next of `slots` pinned buffers and the transfer is queued on the device's stream without
// waiting for it, so it overlaps the work already queued there. Before a buffer is refilled, the
// upload that last read it is waited for (`slots` uploads back: two for batches, normally long
// done; more for the small per-layer uploads of a step, so the host may run that far ahead of the
// GPU). Without CUDA, or for a CPU destination, an upload is a plain copy.
#pragma once

#include <cstddef>
#include <vector>

#include "core/tensor.h"

namespace bmc {

class PinnedUploader {
 public:
  explicit PinnedUploader(Device device, int slots = 2) : device_(device), slots_(static_cast<size_t>(slots)) {}
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
  std::vector<Slot> slots_;
  size_t next_ = 0;
};

}  // namespace bmc
