// The one launch seam: the only place `<<< >>>` appears. Under nvcc it launches on the stream
// inside an NVTX range of the kernel's name and checks the launch; under the host emulator
// (BMC_EMU) it runs the grid on the CPU. Included by .cu files only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>

#include "kernels/compat.cuh"
#include "kernels/stream.h"

#if !defined(BMC_EMU)
#include <nvtx3/nvToolsExt.h>

#include "core/cuda_check.h"
#endif

namespace bmc {

// Grid size for a grid-stride kernel over n elements, capped; a positive grid_limit overrides the
// cap so tests can prove results do not depend on the grid.
inline unsigned grid_for(int64_t n, int block, int grid_limit = 0) {
  const int64_t cap = grid_limit > 0 ? grid_limit : 4096;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(ceil_div(n, block), cap)));
}

template <class... KernelArgs, class... Args>
void launch(const char* name, void (*kernel)(KernelArgs...), dim3 grid, dim3 block, StreamRef stream,
            Args&&... args) {
#if defined(BMC_EMU)
  (void)stream;
  (void)name;
  emu::run_grid(grid, block, [&] { kernel(args...); });
#else
  // An NVTX range around the launch names our kernel on the timeline's host row (free without a
  // tool attached); the device row shows the kernel itself.
  nvtxRangePushA(name);
  kernel<<<grid, block, 0, stream>>>(std::forward<Args>(args)...);
  nvtxRangePop();
  BMC_CUDA_CHECK_LAUNCH(name);
#endif
}

}  // namespace bmc
