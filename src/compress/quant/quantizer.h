// Quantizers as values: what a compression method decided for one tensor, as data that can be
// stored, described and applied, beside the arithmetic of its kernels/*.cuh core.
//   RangeLinear  Distiller's range-linear grid, one QuantParams per tensor or per channel
//                (kernels/fake_quant.cuh): PTQ and QAT.
//   BitWindow    SPARQ: unsigned 8-bit codes at step `step`, then an n-bit window over each code
//                (kernels/bit_window.cuh).
//   BitPlanes    BSQ: a per-layer scale and a precision; values on the N-bit grid of the
//                normalised weight (kernels/bit_planes.cuh).
//   Lattice      LatticeQ: vectors of `dim` consecutive weights of each output channel rounded to
//                the nearest point of that channel's lattice (one basis per channel, or one per
//                layer), coordinates of `bits` bits, after normalising by the layer's max
//                (kernels/lattice.cuh).
// fake_quantize() applies any of them (quantize, then dequantize). Range-linear and lattices run on
// every backend; bit windows and bit planes run their cores on the host here (a tensor on a device
// makes a round trip; their methods' own ops run on the device).
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "core/tensor.h"
#include "kernels/bit_window.cuh"
#include "kernels/fake_quant.cuh"

namespace bmc::compress {

struct RangeLinearQuantizer {
  std::vector<QuantParams> params;  // 1 (per tensor) or one per channel of `channel_axis`
  int channel_axis = 0;             // 0: weights (K, ...); 1: activations (N, C, ...)
  const QuantParams& for_channel(int64_t c) const { return params.size() == 1 ? params[0] : params.at(c); }
};

struct BitWindowQuantizer {
  float step = 1.0f;  // the 8-bit grid: code = clamp(round(x / step), 0, 255)
  BitWindow window;
};

struct BitPlaneQuantizer {
  int bits = 8;        // N (0: the layer is all zero)
  float scale = 1.0f;  // s
};

struct LatticeQuantizer {
  int dim = 1;              // n
  int bits = 4;             // coordinate bits
  float layer_scale = 1.0f; // d = max|W| of the layer
  // One n x n basis (rows are basis vectors) per output channel, or a single one for the layer.
  std::vector<float> bases;
  int64_t basis_count() const { return static_cast<int64_t>(bases.size()) / (dim * dim); }
};

using Quantizer = std::variant<RangeLinearQuantizer, BitWindowQuantizer, BitPlaneQuantizer, LatticeQuantizer>;

std::string describe(const Quantizer& q);
// Quantize-dequantize x with q. Lattice and bit-plane quantizers take weights (K, ...); a bit
// window takes non-negative activations.
Tensor fake_quantize(const Quantizer& q, const Tensor& x);

}  // namespace bmc::compress
