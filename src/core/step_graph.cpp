#include "core/step_graph.h"

#include <atomic>

#include "core/error.h"

namespace bmc {

#if BMC_HAS_CUDA
namespace cuda {
// step_graph_cuda.cpp
void* capture_graph(Device device, const std::function<void()>& work, std::string& why_not);
void replay_graph(Device device, void* exec);
void destroy_graph(Device device, void* exec) noexcept;
}  // namespace cuda
#endif

namespace {
std::atomic<bool> g_cpu_emulation{false};
}  // namespace

bool StepGraph::available(Device device) { return device.is_cuda() ? cuda_compiled() : g_cpu_emulation.load(); }

void StepGraph::set_cpu_emulation(bool on) { g_cpu_emulation = on; }

StepGraph::~StepGraph() {
#if BMC_HAS_CUDA
  if (exec_) cuda::destroy_graph(device_, exec_);
#endif
}

bool StepGraph::capture(const std::function<void()>& work, std::string& why_not) {
  BMC_CHECK(!exec_ && !emulated_, "StepGraph: already captured");
  BMC_CHECK(available(device_), "StepGraph: no graphs on ", device_.str());
  if (device_.is_cpu()) {
    emulated_ = work;
    return true;
  }
#if BMC_HAS_CUDA
  exec_ = cuda::capture_graph(device_, work, why_not);
#else
  why_not = "this build has no CUDA";
#endif
  return exec_ != nullptr;
}

void StepGraph::replay() {
  if (emulated_) return emulated_();
  BMC_CHECK(exec_, "StepGraph: replay before a successful capture");
#if BMC_HAS_CUDA
  cuda::replay_graph(device_, exec_);
#endif
}

}  // namespace bmc
