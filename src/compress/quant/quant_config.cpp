#include "compress/quant/quant_config.h"

#include <cstdlib>
#include <sstream>

#include "core/error.h"

namespace bmc::compress {

QuantMode parse_quant_mode(const std::string& s) {
  if (s == "sym") return QuantMode::Sym;
  if (s == "asym_u") return QuantMode::AsymU;
  if (s == "asym_s") return QuantMode::AsymS;
  BMC_CHECK(false, "quantization mode must be sym, asym_u or asym_s, got '", s, "'");
  return QuantMode::Sym;
}

const char* quant_mode_name(QuantMode mode) {
  switch (mode) {
    case QuantMode::Sym: return "sym";
    case QuantMode::AsymU: return "asym_u";
    case QuantMode::AsymS: return "asym_s";
  }
  return "?";
}

void parse_clip(const std::string& s, QuantConfig& config) {
  config.clip_n_stds = 0;
  if (s == "none") {
    config.clip = ClipMode::None;
  } else if (s == "avg") {
    config.clip = ClipMode::Avg;
  } else if (s.rfind("n_std:", 0) == 0) {
    const std::string k = s.substr(6);
    char* end = nullptr;
    const double v = std::strtod(k.c_str(), &end);
    BMC_CHECK(!k.empty() && end && *end == '\0' && v > 0, "clip mode n_std:K needs a number K > 0, got '", s, "'");
    config.clip = ClipMode::NStd;
    config.clip_n_stds = static_cast<float>(v);
  } else {
    BMC_CHECK(false, "clip mode must be none, avg or n_std:K, got '", s, "'");
  }
}

std::string clip_name(const QuantConfig& config) {
  switch (config.clip) {
    case ClipMode::None: return "none";
    case ClipMode::Avg: return "avg";
    case ClipMode::NStd: {
      std::ostringstream os;
      os << "n_std:" << config.clip_n_stds;
      return os.str();
    }
  }
  return "?";
}

void check_bits(const char* what, int bits) {
  BMC_CHECK(bits >= 2 && bits <= 16, what, " must be between 2 and 16 bits, got ", bits);
}

std::vector<int> parse_bit_list(const std::string& s) {
  std::vector<int> bits;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    BMC_CHECK(!item.empty() && end && *end == '\0', "bit list must be comma-separated integers, got '", s, "'");
    check_bits("each bit width", static_cast<int>(v));
    bits.push_back(static_cast<int>(v));
  }
  BMC_CHECK(!bits.empty(), "empty bit list");
  return bits;
}

}  // namespace bmc::compress
