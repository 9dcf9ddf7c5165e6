// The training step as one captured graph (core/step_graph.h). The graph always reads the same
// tensors, so each step's batch and learning rate are first copied into fixed ones, and its
// logits are the tensor the capture produced. The first call captures (the work runs only when
// the graph is replayed right after); a batch of another shape cannot be replayed, and neither
// can anything once a capture has failed: the caller runs those steps op by op.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/pinned_uploader.h"
#include "core/step_graph.h"
#include "core/tensor.h"

namespace bmc::train {

class CapturedStep {
 public:
  // The step's device work on (x, y) with the learning rate read from `lr` as it runs; returns
  // the logits.
  using Work = std::function<Tensor(const Tensor& x, const Tensor& y, const Tensor& lr)>;
  CapturedStep(Device device, Work work) : device_(device), work_(std::move(work)), lr_upload_(device) {}

  // Runs the step by replaying the graph (capturing it first when there is none); logits then
  // refer to its output. False when this step must run op by op instead.
  bool run(const Tensor& x, const Tensor& y, float lr, Tensor& logits);

  bool failed() const { return failed_; }
  const std::string& why_failed() const { return why_failed_; }
  int64_t replays() const { return replays_; }

 private:
  Device device_;
  Work work_;
  PinnedUploader lr_upload_;
  std::unique_ptr<StepGraph> graph_;
  Tensor x_, y_, lr_, logits_;
  bool failed_ = false;
  std::string why_failed_;
  int64_t replays_ = 0;
};

}  // namespace bmc::train
