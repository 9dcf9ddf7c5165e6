// A SPARQ conv's weight codes laid out for the tensor-core kernels of kernels/sparq.cu: rows
// padded to a multiple of 16 and the tap-major reduction to a multiple of 32, with zeros, and for
// 2:4 layers the compressed values and metadata of compress/sparq/sparse_storage.h. Built on the
// host, shared by the CUDA path and the emulated kernel tests.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "compress/sparq/sparse_storage.h"

namespace bmc::compress {

struct SparqOperands {
  int64_t o = 0, k = 0;    // real sizes
  int64_t op = 0, kp = 0;  // padded sizes
  std::vector<int8_t> dense;             // op x kp
  std::optional<TwoOfFourRows> sparse;   // present when every group holds at most two non-zeros
};

// codes: o x k, tap-major (compress/sparq/sparq_gemm.h).
SparqOperands sparq_operands(const std::vector<int8_t>& codes, int64_t o, int64_t k);

// Output pixels padded to the 8 columns of a tile.
inline int64_t sparq_padded_pixels(int64_t m) { return (m + 7) / 8 * 8; }

}  // namespace bmc::compress
