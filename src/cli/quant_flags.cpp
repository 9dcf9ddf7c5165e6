#include "cli/quant_flags.h"

#include <sstream>

#include "core/error.h"

namespace bmc::cli {

void declare_quant_flags(Args& args) {
  args.option("qe-bits-acts", "8", "activation bits (Distiller --qeba)");
  args.option("qe-mode", "sym", "sym, asym_u or asym_s (Distiller --qem)");
  args.flag("qe-per-channel", "weights quantized per output channel (Distiller --qepc)");
  args.option("qe-clip", "none", "activation clipping: none, avg or n_std:K (Distiller --qe-clip-acts)");
  args.option("qe-no-quant-layers", "", "comma-separated module names kept in full precision (default: none)");
  args.option("calib-batches", "20", "training batches used for the activation statistics");
  args.option("calib-images", "", "calibration images instead (rounded up to whole batches)");
  args.alias("qeba", "qe-bits-acts");
  args.alias("qem", "qe-mode");
  args.alias("qepc", "qe-per-channel");
  args.alias("qe-clip-acts", "qe-clip");
  args.alias("qeca", "qe-clip");
}

compress::QuantConfig quant_config_from_flags(const Args& args, int bits_weights) {
  compress::QuantConfig c;
  c.bits_weights = bits_weights;
  c.bits_acts = args.get_int("qe-bits-acts");
  compress::check_bits("--qe-bits-wts", c.bits_weights);
  compress::check_bits("--qe-bits-acts", c.bits_acts);
  c.mode = compress::parse_quant_mode(args.get("qe-mode"));
  c.per_channel = args.on("qe-per-channel");
  compress::parse_clip(args.get("qe-clip"), c);
  std::stringstream ss(args.get("qe-no-quant-layers"));
  for (std::string name; std::getline(ss, name, ',');)
    if (!name.empty()) c.full_precision.insert(name);
  return c;
}

int64_t calib_batches_from_flags(const Args& args, int batch_size) {
  if (args.given("calib-images")) {
    if (args.given("calib-batches")) throw UsageError{"give --calib-batches or --calib-images, not both"};
    const int64_t images = args.get_int64("calib-images");
    if (images < 1) throw UsageError{"--calib-images must be at least 1"};
    return (images + batch_size - 1) / batch_size;
  }
  const int64_t batches = args.get_int64("calib-batches");
  if (batches < 1) throw UsageError{"--calib-batches must be at least 1"};
  return batches;
}

nlohmann::json quant_flags_json(const compress::QuantConfig& c, int64_t calib_batches) {
  return {{"bits_weights", c.bits_weights}, {"bits_acts", c.bits_acts}, {"mode", compress::quant_mode_name(c.mode)},
          {"per_channel", c.per_channel}, {"clip", compress::clip_name(c)},
          {"full_precision", std::vector<std::string>(c.full_precision.begin(), c.full_precision.end())},
          {"calib_batches", calib_batches}};
}

}  // namespace bmc::cli
