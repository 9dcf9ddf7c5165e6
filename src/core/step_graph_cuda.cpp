// CUDA graphs behind core/step_graph.h: stream capture of the device's one stream (relaxed mode,
// so the pool may still call cudaMalloc on a miss), instantiation, launch.
#include <cuda_runtime_api.h>

#include <exception>

#include "core/cuda_check.h"
#include "core/cuda_context.h"
#include "core/memory_pool.h"
#include "core/step_graph.h"

namespace bmc::cuda {

void* capture_graph(Device device, const std::function<void()>& work, std::string& why_not) {
  if (detail::sync_after_launch()) {
    why_not = "BMC_CUDA_SYNC=1 waits for the device after every launch, which a capture cannot";
    return nullptr;
  }
  Context& ctx = context(device);
  MemoryPool& pool = MemoryPool::get(device);
  pool.begin_graph_capture();
  cudaError_t status = cudaStreamBeginCapture(ctx.stream, cudaStreamCaptureModeRelaxed);
  if (status != cudaSuccess) {
    pool.release_graph_blocks();
    why_not = std::string("cudaStreamBeginCapture: ") + cudaGetErrorString(status);
    (void)cudaGetLastError();
    return nullptr;
  }
  try {
    work();
  } catch (const std::exception& e) {
    why_not = e.what();
  }
  cudaGraph_t graph = nullptr;
  status = cudaStreamEndCapture(ctx.stream, &graph);
  pool.end_graph_capture();
  if (why_not.empty() && status != cudaSuccess)
    why_not = std::string("cudaStreamEndCapture: ") + cudaGetErrorString(status);
  cudaGraphExec_t exec = nullptr;
  if (why_not.empty()) {
    status = cudaGraphInstantiate(&exec, graph, 0);
    if (status != cudaSuccess) {
      why_not = std::string("cudaGraphInstantiate: ") + cudaGetErrorString(status);
      exec = nullptr;
    }
  }
  if (graph) BMC_CUDA_WARN(cudaGraphDestroy(graph));
  if (!exec) {
    // A refused capture leaves its error as the runtime's last one; it belongs to no later launch.
    (void)cudaGetLastError();
    pool.release_graph_blocks();
  }
  return exec;
}

void replay_graph(Device device, void* exec) {
  BMC_CUDA_CHECK(cudaGraphLaunch(static_cast<cudaGraphExec_t>(exec), context(device).stream));
}

void destroy_graph(Device device, void* exec) noexcept {
  // An executable graph still running is freed when it completes; the blocks it writes are reused
  // only by work queued after it on the same stream.
  BMC_CUDA_WARN(cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(exec)));
  MemoryPool::get(device).release_graph_blocks();
}

}  // namespace bmc::cuda
