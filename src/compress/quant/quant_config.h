// Settings of range-linear post-training quantization (Distiller's PostTrainLinearQuantizer and
// its --qe-* flags): bit widths, mode, per-channel weights, activation clipping, and the layers
// kept in full precision.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "kernels/fake_quant.cuh"

namespace bmc::compress {

enum class ClipMode { None, Avg, NStd };

struct QuantConfig {
  int bits_weights = 8;
  int bits_acts = 8;
  int bits_accum = 32;  // accumulator and bias codes (always signed)
  QuantMode mode = QuantMode::Sym;
  bool per_channel = false;  // weights only, per output channel
  ClipMode clip = ClipMode::None;  // activations only; weights always use their full range
  float clip_n_stds = 0;           // for ClipMode::NStd
  // Layers (dotted module names) left in full precision. Distiller's default: none.
  std::set<std::string> full_precision;
};

QuantMode parse_quant_mode(const std::string& s);  // sym | asym_u | asym_s
const char* quant_mode_name(QuantMode mode);
// none | avg | n_std:K (K > 0)
void parse_clip(const std::string& s, QuantConfig& config);
std::string clip_name(const QuantConfig& config);
// "8,6,4" -> {8, 6, 4}; each in [2, 16].
std::vector<int> parse_bit_list(const std::string& s);
void check_bits(const char* what, int bits);

}  // namespace bmc::compress
