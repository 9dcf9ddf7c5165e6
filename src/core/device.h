// Device: where a tensor's bytes live. Ops dispatch on the device of their tensors, never on
// global state; whether the CUDA backend exists is a property of the build and the machine.
#pragma once

#include <string>

namespace bmc {

struct Device {
  enum class Kind : unsigned char { Cpu, Cuda };

  Kind kind = Kind::Cpu;
  int index = 0;

  static Device cpu() { return {Kind::Cpu, 0}; }
  static Device cuda(int index = 0) { return {Kind::Cuda, index}; }

  bool is_cpu() const { return kind == Kind::Cpu; }
  bool is_cuda() const { return kind == Kind::Cuda; }
  std::string str() const;

  bool operator==(const Device& o) const { return kind == o.kind && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
};

// True when this binary was built with nvcc, cuDNN and cuBLAS.
bool cuda_compiled();
// Number of usable CUDA devices; 0 when not compiled in or when no driver/device is present.
int cuda_device_count();
// Why the CUDA backend cannot be used, or "" when it can.
std::string cuda_unavailable_reason();

// Parses "cpu", "cuda", "cuda:N" or "auto" (the first CUDA device when one exists, else CPU).
Device parse_device(const std::string& text);

}  // namespace bmc
