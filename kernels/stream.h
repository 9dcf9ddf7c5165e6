// The stream type in launcher signatures. cudaStream_t is `CUstream_st*`; naming the struct here
// lets launcher declarations be read by g++ without the CUDA headers (emulated launchers ignore it).
#pragma once

struct CUstream_st;

namespace bmc {
using StreamRef = CUstream_st*;
}  // namespace bmc

// Launchers are declared and defined inside this namespace: bmc::kernels for the GPU build,
// bmc::kernels_emu when a .cu file is compiled for the host emulator, so both link side by side.
#ifndef BMC_KNS
#if defined(BMC_EMU)
#define BMC_KNS kernels_emu
#else
#define BMC_KNS kernels
#endif
#endif
