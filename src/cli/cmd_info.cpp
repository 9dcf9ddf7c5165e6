// `bmc info`: devices, CUDA/cuDNN/cuBLAS versions (or why the CUDA backend is unavailable),
// CPU threads, the BLAS in use and the instruction set of bmc's own CPU kernels (core/cpu_isa.h).
#include <cstdio>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/cpu_isa.h"
#include "core/system_info.h"
#include "core/version.h"

namespace bmc::cli {

int run_info(const std::vector<std::string>& argv) {
  Args args("info", "Print the devices, libraries and threads this bmc build can use.");
  if (!args.parse(argv)) return 0;
  const SystemInfo info = system_info();
  std::printf("bmc %s\n", kVersion);
  std::printf("cpu backend:  available, %d OpenMP threads, BLAS %s, %s kernels (this CPU runs up to %s)\n",
              info.cpu_threads, info.blas.c_str(), cpu_isa_name(cpu_isa()), cpu_isa_name(best_cpu_isa()));
  if (!info.cuda_compiled) {
    std::printf("cuda backend: unavailable: %s\n", info.cuda_unavailable_reason.c_str());
    return 0;
  }
  std::printf("cuda build:   CUDA runtime %s, driver %s, cuDNN %s, cuBLAS %s\n", info.cuda_runtime_version.c_str(),
              info.cuda_driver_version.c_str(), info.cudnn_version.c_str(), info.cublas_version.c_str());
  if (info.devices.empty()) {
    std::printf("cuda backend: unavailable: %s\n", info.cuda_unavailable_reason.c_str());
    return 0;
  }
  std::printf("cuda backend: available\n");
  for (const auto& d : info.devices)
    std::printf("  cuda:%d  %s  sm_%d%d  %.1f GiB\n", d.index, d.name.c_str(), d.compute_major, d.compute_minor,
                d.memory_bytes / double(1u << 30));
  return 0;
}

}  // namespace bmc::cli
