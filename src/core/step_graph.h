// One training step's device work captured once and replayed every step: a CUDA graph, launched
// as one unit with the same pointers each time, so the step's inputs and outputs are fixed
// tensors the caller refills before a replay and reads after it. Memory the capture allocates
// belongs to the graph until it is destroyed (MemoryPool::begin_graph_capture). On the CPU there
// is nothing to capture, except under emulation (tests of the callers): capture then keeps the
// work and each replay runs it again.
#pragma once

#include <functional>
#include <string>

#include "core/device.h"

namespace bmc {

class StepGraph {
 public:
  explicit StepGraph(Device device) : device_(device) {}
  ~StepGraph();
  StepGraph(const StepGraph&) = delete;
  StepGraph& operator=(const StepGraph&) = delete;

  // Whether steps on `device` can be captured: a CUDA device, or the CPU under emulation.
  static bool available(Device device);
  static void set_cpu_emulation(bool on);

  // Records `work` without running it. False, with the reason, when it cannot be captured (work
  // that waits for the device, or a library that refuses capture); nothing is then held.
  bool capture(const std::function<void()>& work, std::string& why_not);
  // Runs the captured work on the device's stream, in order with the work queued before it.
  void replay();

 private:
  Device device_;
  std::function<void()> emulated_;
  void* exec_ = nullptr;  // cudaGraphExec_t
};

}  // namespace bmc
