#include "io/provenance.h"

#include <omp.h>

#include <fstream>

#include "core/cpu_isa.h"
#include "core/system_info.h"
#include "core/version.h"

// Set by the Makefile for this file only (a stamp rebuilds it when the commit changes).
#ifndef BMC_GIT_COMMIT
#define BMC_GIT_COMMIT "unknown"
#endif
#ifndef BMC_GIT_DIRTY
#define BMC_GIT_DIRTY 0
#endif
#ifndef BMC_BUILD_FLAGS
#define BMC_BUILD_FLAGS "unknown"
#endif

namespace bmc::io {
namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "unknown";
}

nlohmann::json isa_offered() {
  nlohmann::json isa = nlohmann::json::array();
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) isa.push_back("avx2");
  if (__builtin_cpu_supports("fma")) isa.push_back("fma");
  if (__builtin_cpu_supports("avx512f")) isa.push_back("avx512f");
  if (__builtin_cpu_supports("avx512vnni")) isa.push_back("avx512vnni");
  if (__builtin_cpu_supports("avx512bf16")) isa.push_back("avx512bf16");
  return isa;
}

}  // namespace

nlohmann::json provenance() {
  const SystemInfo s = system_info();
  nlohmann::json gpus = nlohmann::json::array();
  for (const CudaDeviceInfo& d : s.devices)
    gpus.push_back(d.name + " (sm_" + std::to_string(d.compute_major) + std::to_string(d.compute_minor) + ")");
  return {{"bmc_version", kVersion},
          {"git_commit", BMC_GIT_COMMIT},
          {"git_dirty", BMC_GIT_DIRTY != 0},
          {"compiler", "g++ " __VERSION__},
          {"build_flags", BMC_BUILD_FLAGS},
          {"cuda_compiled", s.cuda_compiled},
          {"cuda_runtime", s.cuda_runtime_version},
          {"cuda_driver", s.cuda_driver_version},
          {"cudnn", s.cudnn_version},
          {"cublas", s.cublas_version},
          {"blas", s.blas},
          {"cpu_model", cpu_model()},
          {"cpu_isa", isa_offered()},
          {"kernel_isa", cpu_isa_name(cpu_isa())},
          {"gpus", gpus},
          {"threads", omp_get_max_threads()}};
}

std::vector<std::string> provenance_differences(const nlohmann::json& a, const nlohmann::json& b) {
  std::vector<std::string> out;
  for (const char* key : {"git_commit", "git_dirty", "compiler", "build_flags", "blas", "cpu_model", "kernel_isa",
                          "threads", "gpus", "cudnn", "cublas"}) {
    const auto va = a.find(key), vb = b.find(key);
    const nlohmann::json x = va == a.end() ? nlohmann::json() : *va, y = vb == b.end() ? nlohmann::json() : *vb;
    if (x != y) out.push_back(std::string(key) + ": " + x.dump() + " vs " + y.dump());
  }
  return out;
}

std::string provenance_line(const nlohmann::json& p) {
  auto str = [&](const char* k) { return p.contains(k) && p[k].is_string() ? p[k].get<std::string>() : std::string("?"); };
  std::string commit = str("git_commit").substr(0, 10);
  if (p.value("git_dirty", false)) commit += ", dirty";
  std::string gpus;
  if (p.contains("gpus") && p["gpus"].is_array())
    for (const auto& g : p["gpus"]) gpus += ", " + g.get<std::string>();
  return "bmc " + str("bmc_version") + " (" + commit + "), " + str("compiler") + ", " + str("cpu_model") + ", " +
         str("kernel_isa") + " kernels, " + std::to_string(p.value("threads", 0)) + " threads" + gpus;
}

}  // namespace bmc::io
