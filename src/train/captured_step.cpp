#include "train/captured_step.h"

namespace bmc::train {

bool CapturedStep::run(const Tensor& x, const Tensor& y, float lr, Tensor& logits) {
  if (failed_) return false;
  if (graph_ && (x.shape() != x_.shape() || y.shape() != y_.shape() || x.dtype() != x_.dtype() ||
                 y.dtype() != y_.dtype()))
    return false;
  if (!graph_) {
    x_ = Tensor(x.shape(), x.dtype(), device_);
    y_ = Tensor(y.shape(), y.dtype(), device_);
  }
  x_.copy_from(x);
  y_.copy_from(y);
  lr_upload_.upload(Tensor::from_vector<float>({lr}, {}), lr_);
  if (!graph_) {
    auto graph = std::make_unique<StepGraph>(device_);
    if (!graph->capture([this] { logits_ = work_(x_, y_, lr_); }, why_failed_)) {
      failed_ = true;
      x_ = Tensor();
      y_ = Tensor();
      logits_ = Tensor();
      return false;
    }
    graph_ = std::move(graph);
  }
  graph_->replay();
  ++replays_;
  logits = logits_.view(logits_.shape());
  return true;
}

}  // namespace bmc::train
